"""Drug quality feedback and quality queries (R3.1, R3.3, R3.5) and counterfeit/substandard
drugs (R3.4): their clocks, their steps to the end, and the head of pharmacy's signature."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from qloop.cases.actions import ContactData, Registration, register_case
from qloop.cases.models import Case
from qloop.pharmacy.models import PharmacySettings
from qloop.process.engine import take_transition
from qloop.process.errors import Conflict
from qloop.process.models import ClockState
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

# Monday 2026-11-02, 10:00 Beijing time.
MONDAY = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)


def feedback(pharmacy: dict[str, Any], **detail: Any) -> Case:
    values = {
        "drug_id": pharmacy["drug"].pk,
        "batch_number": pharmacy["batch"].batch_number,
        "problem": "mould",
        "description": "颗粒结块并有霉点。",
        "source": "collected",
        "patient_name": "李秀英",
        "patient_phone": "13912345678",
        **detail,
    }
    return register_case(
        Registration(
            kind="drug_feedback",
            channel="visit",
            contact=ContactData(name=""),
            symptom="",
            detail=values,
        ),
        actor=pharmacy["pharm"],
    )


def counterfeit(pharmacy: dict[str, Any]) -> Case:
    return register_case(
        Registration(
            kind="counterfeit",
            channel="visit",
            contact=ContactData(name=""),
            symptom="",
            detail={
                "approval_number": pharmacy["drug"].approval_number,
                "manufacturer": pharmacy["drug"].manufacturer,
                "batch_number": "FAKE0001",
                "where_found": "门诊药房",
                "how_found": "患者反映包装印刷模糊，与同批次正品比对不一致。",
                "criteria": ["cf_passed_off", "ss_batch"],
                "holds": [
                    {"store": "药库", "quantity": 120, "unit": "盒"},
                    {"store": "门诊药房", "quantity": 8},
                ],
            },
        ),
        actor=pharmacy["pharm"],
    )


def test_feedback_is_numbered_and_answered_within_two_working_days(
    pharmacy: dict[str, Any],
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        case = feedback(pharmacy)
    assert case.number.startswith("DQ-2026-") and case.department.code == "PHARM"
    answer = case.clocks.get(name="dq_answer")
    # Two working days from Monday 10:00 is Wednesday 10:00.
    assert answer.due_at == MONDAY + dt.timedelta(days=2)
    assert not case.clocks.filter(name="dq_regulator").exists()
    case = take_transition(case, "investigate", {}, actor=pharmacy["pharm"])
    case = take_transition(
        case, "answer", {"answer": "已电话告知患者更换同品种另一批号。"}, actor=pharmacy["pharm"]
    )
    assert case.clocks.get(name="dq_answer").state == ClockState.STOPPED
    with pytest.raises(Conflict):  # not resolved yet
        take_transition(case, "archive_for_inspection", {}, actor=pharmacy["pharm"])
    case = take_transition(
        case,
        "resolve",
        {"cause": "储存受潮。", "resolution": "该批次下架并退货。"},
        actor=pharmacy["pharm"],
    )
    case = take_transition(case, "archive_for_inspection", {}, actor=pharmacy["pharm"])
    assert case.state == "closed" and case.drug_feedback.archived_for_inspection_at is not None


def test_a_major_problem_must_reach_the_regulator_within_24_hours_first(
    pharmacy: dict[str, Any],
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        case = feedback(pharmacy)
        case = take_transition(
            case, "flag_major", {"reason": "同批次多例霉变"}, actor=pharmacy["pharm"]
        )
    clock = case.clocks.get(name="dq_regulator")
    assert clock.due_at == MONDAY + dt.timedelta(hours=24)
    take_transition(case, "answer", {"answer": "已答复。"}, actor=pharmacy["pharm"])
    take_transition(case, "resolve", {"cause": "c", "resolution": "r"}, actor=pharmacy["pharm"])
    with pytest.raises(ValidationError) as refused:
        take_transition(case, "archive_for_inspection", {}, actor=pharmacy["pharm"])
    assert "record_sending" in refused.value.message_dict
    # A sending to the committee does not stop the regulator's clock; one to the regulator does.
    take_transition(
        case,
        "record_sending",
        {"channel": "paper", "recipient": "committee"},
        actor=pharmacy["pharm"],
    )
    assert case.clocks.get(name="dq_regulator").state == ClockState.RUNNING
    take_transition(
        case,
        "record_sending",
        {"channel": "email", "recipient": "regulator", "reference": "SZ-YJ-2026-113"},
        actor=pharmacy["pharm"],
    )
    assert case.clocks.get(name="dq_regulator").state == ClockState.STOPPED
    case = take_transition(case, "archive_for_inspection", {}, actor=pharmacy["pharm"])
    assert case.state == "closed"


def test_a_problem_type_set_as_major_starts_the_regulator_clock_at_registration(
    pharmacy: dict[str, Any],
) -> None:
    settings = PharmacySettings.current()
    settings.major_problems = ["particles"]
    settings.save()
    case = feedback(pharmacy, problem="particles")
    assert case.drug_feedback.major
    assert case.clocks.get(name="dq_regulator").state == ClockState.RUNNING
    assert not feedback(pharmacy).drug_feedback.major


def test_feedback_needs_a_drug_a_problem_and_a_description(pharmacy: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as refused:
        feedback(pharmacy, drug_id=None, batch_number="", problem="smell", description="")
    assert {"detail.drug_id", "detail.problem", "detail.description"} <= set(
        refused.value.message_dict
    )
    assert not Case.objects.filter(kind="drug_feedback").exists()


def test_a_counterfeit_case_holds_the_stock_reports_tests_disposes_and_is_signed_closed(
    pharmacy: dict[str, Any],
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        case = counterfeit(pharmacy)
    assert case.number.startswith("JL-2026-")
    assert case.counterfeit.criteria == ["cf_passed_off", "ss_batch"]
    # A batch number not yet in the catalogue is added under the drug.
    assert case.counterfeit.batch.batch_number == "FAKE0001"
    assert case.counterfeit.batch.drug == pharmacy["drug"]
    assert sorted(case.stock_holds.values_list("store", "quantity")) == [
        ("药库", 120),
        ("门诊药房", 8),
    ]
    assert case.clocks.get(name="counterfeit_report").due_at == MONDAY + dt.timedelta(hours=24)
    pharm = pharmacy["pharm"]
    case = take_transition(case, "hold_stock", {"store": "急诊药房", "quantity": "3"}, actor=pharm)
    assert case.stock_holds.count() == 3
    case = take_transition(
        case,
        "send_sample",
        {"institute": "苏州市药品检验检测研究中心", "sent_on": "2026-11-02", "quantity": "2盒"},
        actor=pharm,
    )
    case = take_transition(
        case,
        "record_sending",
        {"channel": "paper", "recipient": "regulator", "reference": "苏药监稽〔2026〕88号"},
        actor=pharm,
    )
    assert case.clocks.get(name="counterfeit_report").state == ClockState.STOPPED
    case = take_transition(
        case,
        "record_test_result",
        {"report_number": "JY2026-1102", "finding": "counterfeit", "result": "含量 0%"},
        actor=pharm,
    )
    assert case.counterfeit.finding == "counterfeit"
    case = take_transition(
        case, "record_disposal", {"disposal": "移交市局封存销毁", "quantity": "131盒"}, actor=pharm
    )
    assert not case.stock_holds.filter(released_at__isnull=True).exists()
    # Only the head of pharmacy closes it, and with an e-signature.
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied
        take_transition(case, "close", {}, actor=pharm)
    with pytest.raises(ValidationError):
        take_transition(case, "close", {}, actor=pharmacy["pharm_head"], signature={})
    case = take_transition(
        case,
        "close",
        {},
        actor=pharmacy["pharm_head"],
        signature={"password": PASSWORD, "meaning": "approved"},
    )
    assert case.state == "closed"
    signed = case.events.get(verb="transition", data__transition="close").data["signature"]
    assert signed["signer"] == "pharm_head" and signed["meaning"] == "approved"


def test_a_counterfeit_case_needs_a_catalogue_drug_a_batch_and_its_stock_on_hold(
    pharmacy: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError) as refused:
        register_case(
            Registration(
                kind="counterfeit",
                channel="visit",
                contact=ContactData(name=""),
                symptom="",
                detail={
                    "approval_number": "国药准字Z0",
                    "where_found": "",
                    "how_found": "x",
                    "criteria": ["nonsense"],
                },
            ),
            actor=pharmacy["pharm"],
        )
    assert {
        "detail.approval_number",
        "detail.where_found",
        "detail.criteria",
        "detail.holds",
    } <= set(refused.value.message_dict)
