"""The clinician_ack clock's escalation with time travel (X3, R5.5), and the infectious-disease
report card with its versioned reporting rule and repeat positives (R5.5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from qloop.clinical.models import DiseaseReport, ReportingRule
from qloop.notify.models import Notification
from qloop.process import clocks
from qloop.process.engine import take_transition
from qloop.process.models import Clock
from tests.clocktime import MINUTE, T0

pytestmark = pytest.mark.django_db


def _told(user: Any, kind: str) -> bool:
    return Notification.objects.filter(user=user, kind=kind).exists()


def test_nobody_acknowledging_goes_to_the_heads_then_to_medical_affairs(
    hospital: dict[str, Any], report: Callable[..., Any], at: Callable[..., None]
) -> None:
    at(T0)
    case = report(result_value="2.1", reported_at=T0)[1][0]
    assert _told(hospital["doctor"], "finding_opened")
    at(T0 + 7 * MINUTE + 31 * dt.timedelta(seconds=1))
    clocks.sweep()
    # Half-way the technologist who reported it is reminded to call again.
    assert _told(hospital["lab"], "clock_reminder")
    at(T0 + 14 * MINUTE)
    assert clocks.sweep().breached == 0
    at(T0 + 16 * MINUTE)
    assert clocks.sweep().breached == 1
    assert _told(hospital["im_head"], "clock_breached")  # the ordering department's head
    assert _told(hospital["lab_head"], "clock_breached")  # the laboratory's head
    assert not _told(hospital["med_affairs"], "clock_escalated")
    at(T0 + 31 * MINUTE)
    clocks.sweep()
    assert _told(hospital["med_affairs"], "clock_escalated")
    # Manufacturer people hear nothing of the hospital's patients.
    assert not Notification.objects.filter(user=hospital["gm"]).exists()
    # A late acknowledgement still stops the clock and is on record as late.
    at(T0 + 40 * MINUTE)
    case = take_transition(
        case,
        "record_call",
        {
            "receiver_name": "黄志明",
            "outcome": "confirmed",
            "readback_name": "王建华",
            "readback_patient_id": "880123",
            "readback_result": "2.1",
        },
        actor=hospital["lab"],
    )
    clock = Clock.objects.get(case=case)
    assert clock.state == "stopped" and clock.breached_at is not None
    assert case.finding.on_time is False
    assert case.finding.ack_seconds == 40 * 60


def _positive(report: Callable[..., Any], **overrides: Any) -> Any:
    return report(
        test_code="17576-0",
        test_name="粪便培养（志贺菌）",
        result_value="检出福氏志贺菌",
        **overrides,
    )[1][0]


def test_a_notifiable_disease_opens_a_report_card_for_infection_control(
    hospital: dict[str, Any], report: Callable[..., Any], at: Callable[..., None]
) -> None:
    at(T0)
    finding = _positive(report, reported_at=T0)
    card_case = finding.finding.disease_report
    assert card_case is not None and card_case.number.startswith("IDR-")
    card = DiseaseReport.objects.get(case=card_case)
    # Pre-filled from the register.
    assert (card.patient_name, card.patient_id, card.sex) == ("王建华", "880123", "M")
    assert card.reporting_department.code == "IM"
    assert "福氏志贺菌" in card.lab_result
    assert card.rule.hours == 24 and "传染病防治法" in card.rule.source
    assert card_case.department.code == "IC"
    assert _told(hospital["ic"], "disease_report_opened")
    clock = Clock.objects.get(case=card_case, name="disease_report")
    assert clock.due_at == T0 + dt.timedelta(hours=24)
    take_transition(
        card_case,
        "record_report",
        {"network_report_id": "320500-2026-0001", "classification": "confirmed"},
        actor=hospital["ic"],
    )
    card.refresh_from_db()
    assert card.network_report_id == "320500-2026-0001"


def test_class_a_is_reported_within_two_hours_under_the_rule_in_force(
    hospital: dict[str, Any], report: Callable[..., Any], at: Callable[..., None]
) -> None:
    at(T0)
    case = report(
        test_code="VIBRIO",
        test_name="霍乱弧菌培养",
        result_value="检出 O1 群霍乱弧菌",
        reported_at=T0,
    )[1][0]
    clock = Clock.objects.get(case=case.finding.disease_report, name="disease_report")
    assert clock.due_at == T0 + dt.timedelta(hours=2)
    # A newer version of the rule applies to cards made after it comes into force only.
    ReportingRule.objects.create(
        disease_class="B", version=2, hours=12, source="测试用新规", valid_from=dt.date(2026, 3, 3)
    )
    early = _positive(report, reported_at=T0, patient_id="100001")
    assert early.finding.disease_report.disease_report.rule.version == 1
    at(T0 + dt.timedelta(days=2))
    later = _positive(report, reported_at=T0 + dt.timedelta(days=2), patient_id="100002")
    card = later.finding.disease_report.disease_report
    assert (card.rule.version, card.rule.hours) == (2, 12)


def test_a_repeat_positive_joins_the_earlier_card(
    hospital: dict[str, Any], report: Callable[..., Any], at: Callable[..., None]
) -> None:
    at(T0)
    first = _positive(report, reported_at=T0)
    at(T0 + dt.timedelta(days=3))
    again = _positive(report, reported_at=T0 + dt.timedelta(days=3))
    assert again.finding.disease_report == first.finding.disease_report
    assert DiseaseReport.objects.count() == 1
    assert first.finding.disease_report.events.filter(verb="repeat_positive").exists()
    # Past the disease's window (30 days) it is a new report.
    at(T0 + dt.timedelta(days=40))
    late = _positive(report, reported_at=T0 + dt.timedelta(days=40))
    assert late.finding.disease_report != first.finding.disease_report
    # Another patient is another card.
    other = _positive(report, reported_at=T0 + dt.timedelta(days=40), patient_id="555555")
    assert other.finding.disease_report != late.finding.disease_report
