"""Adverse drug reactions (R3.6): the deadline rules of Order 81 as versioned data counted
from the awareness date, the validity rule, sendings that stop the ``adr_report`` clock, the
follow-up, and group events found by the system."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from qloop.cases.actions import ContactData, Registration, register_case
from qloop.cases.models import Case
from qloop.notify.models import Message
from qloop.pharmacy.actions import update_adr
from qloop.pharmacy.models import AdrDeadlineRule, PharmacySettings
from qloop.process import clocks
from qloop.process.engine import take_transition
from qloop.process.models import ClockState
from tests.pharmacy.conftest import adr_detail

pytestmark = pytest.mark.django_db

AWARE = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def report(pharmacy: dict[str, Any], actor: str = "doctor", **overrides: Any) -> Case:
    return register_case(
        Registration(
            kind="adr",
            channel="visit",
            contact=ContactData(name=""),
            symptom="",
            detail=adr_detail(pharmacy, **overrides),
        ),
        actor=pharmacy[actor],
    )


def deadline(case: Case) -> Any:
    return case.clocks.get(name="adr_report")


SENT = {"channel": "national_system", "recipient": "regulator", "reference": "ADR2026-0001"}


@pytest.mark.parametrize(
    ("overrides", "category", "due"),
    [
        ({"seriousness": "general"}, "general", dt.timedelta(days=30)),
        ({"seriousness": "serious"}, "new_serious", dt.timedelta(days=15)),
        ({"seriousness": "new"}, "new_serious", dt.timedelta(days=15)),
        (
            {
                "seriousness": "serious",
                "outcome": "death",
                "death_cause": "过敏性休克",
                "death_at": "2026-11-02T08:00:00",
            },
            "death",
            dt.timedelta(hours=24),
        ),
    ],
)
def test_each_deadline_rule_counts_from_the_awareness_date(
    pharmacy: dict[str, Any], overrides: dict[str, Any], category: str, due: dt.timedelta
) -> None:
    with time_machine.travel(AWARE + dt.timedelta(hours=5), tick=False):
        case = report(
            pharmacy, aware_at=AWARE.isoformat(), onset_at="2026-11-01T10:00:00", **overrides
        )
    rule = case.adr.rule
    assert rule is not None and rule.category == category and rule.version == 1
    assert "第81号" in rule.source and "第二十一条" in rule.source
    clock = deadline(case)
    assert clock.started_at == AWARE and clock.due_at == AWARE + due
    # Just before the deadline nothing is breached; just after, the sweep says it is.
    with time_machine.travel(AWARE + due - dt.timedelta(minutes=1), tick=False):
        clocks.sweep()
    assert deadline(case).state == ClockState.RUNNING
    with time_machine.travel(AWARE + due + dt.timedelta(minutes=1), tick=False):
        clocks.sweep()
    assert deadline(case).state == ClockState.BREACHED


def test_the_awareness_date_defaults_to_the_registration_time(pharmacy: dict[str, Any]) -> None:
    with time_machine.travel(AWARE, tick=False):
        case = report(pharmacy)
    assert case.adr.aware_at == AWARE
    assert deadline(case).due_at == AWARE + dt.timedelta(days=30)


def test_a_new_rule_version_applies_from_its_date_and_old_reports_keep_theirs(
    pharmacy: dict[str, Any],
) -> None:
    AdrDeadlineRule.objects.create(
        category="general",
        version=2,
        valid_from=dt.date(2026, 11, 15),
        days=20,
        source="假设的新规定 第十条",
    )
    with time_machine.travel(AWARE, tick=False):
        old = report(pharmacy)
    with time_machine.travel(AWARE + dt.timedelta(days=20), tick=False):
        new = report(pharmacy)
    assert old.adr.rule is not None and new.adr.rule is not None
    assert old.adr.rule.version == 1 and deadline(old).due_at == AWARE + dt.timedelta(days=30)
    assert new.adr.rule.version == 2
    assert deadline(new).due_at == AWARE + dt.timedelta(days=40)


def test_a_follow_up_is_due_promptly_under_its_own_rule(pharmacy: dict[str, Any]) -> None:
    with time_machine.travel(AWARE, tick=False):
        first = report(pharmacy)
    with time_machine.travel(AWARE + dt.timedelta(days=3), tick=False):
        follow = report(pharmacy, report_type="follow_up", follow_up_of=first.number)
    assert follow.adr.rule is not None
    assert follow.adr.follow_up_of == first and follow.adr.rule.category == "follow_up"
    assert deadline(follow).due_at == AWARE + dt.timedelta(days=3 + 15)
    with pytest.raises(ValidationError) as refused:
        report(pharmacy, report_type="follow_up", follow_up_of="ADR-1999-000001")
    assert "detail.follow_up_of" in refused.value.message_dict


def test_a_report_cannot_be_sent_until_it_is_valid_and_each_gap_is_named(
    pharmacy: dict[str, Any],
) -> None:
    case = report(
        pharmacy,
        patient_name="",
        record_number="",
        age_years=None,
        reporter_name="",
        reaction="",
        drugs=[{"role": "concomitant", "generic_name": "维生素C"}],
    )
    assert set(case.adr.missing()) == {"patient", "reporter", "suspect_drugs", "reaction"}
    with pytest.raises(ValidationError) as refused:
        take_transition(case, "record_sending", SENT, actor=pharmacy["adr_officer"])
    assert set(refused.value.message_dict) == {"patient", "reporter", "suspect_drugs", "reaction"}
    assert not case.sendings.exists() and deadline(case).state == ClockState.RUNNING
    # Completed, it goes; the sending required by the setting stops the clock.
    update_adr(case, adr_detail(pharmacy), actor=pharmacy["doctor"])
    case = take_transition(case, "record_sending", SENT, actor=pharmacy["adr_officer"])
    assert case.state == "reported" and deadline(case).state == ClockState.STOPPED
    sending = case.sendings.get()
    assert sending.by == pharmacy["adr_officer"] and sending.reference == "ADR2026-0001"


def test_the_setting_says_where_reports_go_and_only_all_of_them_stop_the_clock(
    pharmacy: dict[str, Any],
) -> None:
    settings = PharmacySettings.current()
    settings.adr_destination = "both"
    settings.save()
    case = report(pharmacy)
    case = take_transition(case, "record_sending", SENT, actor=pharmacy["adr_officer"])
    assert deadline(case).state == ClockState.RUNNING
    case = take_transition(
        case,
        "record_sending",
        {"channel": "paper", "recipient": "committee"},
        actor=pharmacy["adr_officer"],
    )
    assert deadline(case).state == ClockState.STOPPED and case.sendings.count() == 2


def test_a_death_needs_the_phone_or_fax_call_on_record(pharmacy: dict[str, Any]) -> None:
    case = report(pharmacy, seriousness="serious", outcome="death", death_cause="过敏性休克")
    assert case.adr.rule is not None and case.adr.rule.needs_call
    # The death is told to the ADR officer and the head of pharmacy at once.
    assert Message.objects.filter(user=pharmacy["pharm_head"], kind="pharmacy_adr_death").exists()
    case = take_transition(case, "record_sending", SENT, actor=pharmacy["adr_officer"])
    assert deadline(case).state == ClockState.RUNNING
    case = take_transition(
        case,
        "record_sending",
        {"channel": "phone", "recipient": "regulator", "note": "电话报告市局药品科 王科长"},
        actor=pharmacy["adr_officer"],
    )
    assert deadline(case).state == ClockState.STOPPED


def test_changing_the_seriousness_moves_the_deadline_to_the_new_rule(
    pharmacy: dict[str, Any],
) -> None:
    with time_machine.travel(AWARE, tick=False):
        case = report(pharmacy)
        assert deadline(case).due_at == AWARE + dt.timedelta(days=30)
        update_adr(case, adr_detail(pharmacy, seriousness="serious"), actor=pharmacy["pharm"])
    case.refresh_from_db()
    assert case.adr.rule is not None and case.adr.rule.category == "new_serious"
    assert deadline(case).due_at == AWARE + dt.timedelta(days=15)
    assert case.events.filter(verb="updated").exists()


def test_three_patients_on_one_batch_within_seven_days_open_a_group_event(
    pharmacy: dict[str, Any],
) -> None:
    start = timezone.now() - dt.timedelta(days=20)
    with time_machine.travel(start, tick=False):
        first = report(pharmacy, patient_name="甲")
    with time_machine.travel(start + dt.timedelta(days=3), tick=False):
        report(pharmacy, patient_name="乙")
    assert not Case.objects.filter(kind="adr_group").exists()
    # Another batch does not count.
    other = pharmacy["drug"].batches.exclude(pk=pharmacy["batch"].pk).first()
    with time_machine.travel(start + dt.timedelta(days=4), tick=False):
        drugs = adr_detail(pharmacy)["drugs"]
        drugs[0]["batch_number"] = other.batch_number
        report(pharmacy, patient_name="丙", drugs=drugs)
    assert not Case.objects.filter(kind="adr_group").exists()
    with time_machine.travel(start + dt.timedelta(days=6), tick=False):
        third = report(pharmacy, patient_name="丁", seriousness="serious")
    group = Case.objects.get(kind="adr_group")
    assert group.number.startswith("ADRG-") and group.adr_group.detected
    assert group.adr_group.batch == pharmacy["batch"] and group.adr_group.affected == 3
    assert group.adr_group.serious == 1
    assert set(group.group_members.values_list("case__number", flat=True)) >= {
        first.number,
        third.number,
    }
    # The immediate clock runs; the head of pharmacy and 医务科 hear of it at once.
    assert group.clocks.get(name="adr_group_report").due_at == group.received_at + dt.timedelta(
        hours=24
    )
    assert Message.objects.filter(user=pharmacy["pharm_head"], kind="pharmacy_adr_group").exists()
    # A fourth report joins the open group, no second group.
    with time_machine.travel(start + dt.timedelta(days=7), tick=False):
        report(pharmacy, patient_name="戊")
    assert Case.objects.filter(kind="adr_group").count() == 1
    group.adr_group.refresh_from_db()
    assert group.adr_group.affected == 4
    # Reporting it by phone stops its clock.
    group = take_transition(
        group,
        "record_sending",
        {"channel": "phone", "recipient": "regulator"},
        actor=pharmacy["adr_officer"],
    )
    assert group.clocks.get(name="adr_group_report").state == ClockState.STOPPED


def test_reports_further_apart_than_the_window_make_no_group(pharmacy: dict[str, Any]) -> None:
    start = timezone.now() - dt.timedelta(days=40)
    for day in (0, 8, 16):
        with time_machine.travel(start + dt.timedelta(days=day), tick=False):
            report(pharmacy)
    assert not Case.objects.filter(kind="adr_group").exists()


def test_a_report_marked_as_part_of_a_group_opens_one_at_once(pharmacy: dict[str, Any]) -> None:
    case = report(pharmacy, part_of_group=True)
    group = Case.objects.get(kind="adr_group")
    assert not group.adr_group.detected
    case.adr.refresh_from_db()
    assert case.adr.group == group


def test_an_unreported_group_event_escalates_to_the_head_and_medical_affairs(
    pharmacy: dict[str, Any],
) -> None:
    with time_machine.travel(AWARE, tick=False):
        report(pharmacy, part_of_group=True)
    group = Case.objects.get(kind="adr_group")
    Message.objects.all().delete()
    with time_machine.travel(AWARE + dt.timedelta(hours=25), tick=False):
        clocks.sweep()
    assert group.clocks.get(name="adr_group_report").state == ClockState.BREACHED
    told = set(Message.objects.filter(case=group).values_list("user__username", flat=True))
    assert {"pharm_head", "med_affairs"} <= told


def test_a_quality_suspicion_opens_a_linked_counterfeit_case(pharmacy: dict[str, Any]) -> None:
    case = report(pharmacy, quality_suspected=True)
    take_transition(
        case,
        "open_quality_case",
        {"kind": "counterfeit", "where_found": "住院药房"},
        actor=pharmacy["pharm"],
    )
    linked = Case.objects.get(kind="counterfeit")
    assert linked.source_case == case and linked.counterfeit.batch == pharmacy["batch"]
    assert linked.number.startswith("JL-")
