"""Findings fed back to the clinician (R5.1, R5.5): each rule opens one, names who must be
told, runs the clinician_ack clock, and only a signature or a matching read-back stops it."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from qloop.clinical.models import CallAttempt, Finding, FindingRule
from qloop.process.engine import take_transition
from qloop.process.models import Clock
from tests.clocktime import T0
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_normal_result_opens_nothing(report: Callable[..., Any]) -> None:
    entry, opened = report(result_value="4.1")
    assert opened == []
    assert entry.number.startswith("LR-")
    assert entry.versions.get().values["result_value"] == "4.1"


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"result_value": "2.5"}, "血钾危急值"),  # below the rule's 2.8
        ({"result_value": "6.8"}, "血钾危急值"),  # above 6.2
        ({"result_value": "4.0", "abnormal_flag": "HH"}, "HH"),  # the sender's flag
        ({"result_value": "4.0", "abnormal_flag": "LL"}, "LL"),
        ({"result_value": "4.0", "abnormal_flag": "AA"}, "AA"),
        # Sex: 55 g/L is critical for a man (below 60), not for a woman (below 50).
        ({"test_code": "HGB", "test_name": "血红蛋白", "result_value": "55"}, "（男）"),
        # Age: a glucose of 2.5 is critical for an adult (below 2.8), not for a child.
        ({"test_code": "GLU", "test_name": "血糖", "result_value": "2.5"}, "成人"),
    ],
)
def test_each_critical_rule_opens_a_finding(
    report: Callable[..., Any], overrides: dict[str, Any], why: str
) -> None:
    _entry, opened = report(**overrides)
    assert len(opened) == 1
    finding = Finding.objects.get(case=opened[0])
    assert finding.kind == "critical"
    assert why in finding.reason
    assert opened[0].number.startswith("FN-")
    # The patient stays out of the title: it travels in messages.
    assert "王建华" not in opened[0].title


@pytest.mark.parametrize(
    "overrides",
    [
        {"test_code": "HGB", "test_name": "血红蛋白", "result_value": "55", "sex": "F"},
        {"test_code": "GLU", "test_name": "血糖", "result_value": "2.5", "age_years": Decimal(8)},
        {"result_value": "3.0"},
    ],
)
def test_results_inside_the_limits_for_this_patient_open_nothing(
    report: Callable[..., Any], overrides: dict[str, Any]
) -> None:
    assert report(**overrides)[1] == []


def test_a_positive_culture_is_an_infectious_finding_and_a_negative_one_is_not(
    report: Callable[..., Any],
) -> None:
    _entry, none = report(test_code="17576-0", test_name="志贺菌", result_value="Not Isolated")
    assert none == []
    _entry, opened = report(test_code="17576-0", test_name="志贺菌", result_value="检出宋内志贺菌")
    assert [c.finding.kind for c in opened] == ["infectious"]
    assert opened[0].finding.disease.code == "bacillary_dysentery"


def test_a_rule_added_as_data_takes_effect(
    hospital: dict[str, Any], report: Callable[..., Any]
) -> None:
    assert report(test_code="CRP", test_name="C反应蛋白", result_value="250")[1] == []
    FindingRule.objects.create(
        register=hospital["registers"]["lab"],
        kind="critical",
        name="CRP 危急值",
        test_code="CRP",
        high_limit=Decimal(200),
        ack_minutes=30,
    )
    opened = report(test_code="CRP", test_name="C反应蛋白", result_value="250")[1]
    assert opened[0].finding.limit_minutes == 30


def test_the_finding_names_the_doctor_else_the_ward_else_the_department(
    hospital: dict[str, Any], report: Callable[..., Any]
) -> None:
    by_doctor = report(result_value="2.1")[1][0].finding
    assert by_doctor.recipient_user == hospital["doctor"]
    by_ward = report(result_value="2.1", ordering_doctor="")[1][0].finding
    assert by_ward.recipient_user is None and by_ward.recipient_ward.code == "IM1"
    by_dept = report(result_value="2.1", ordering_doctor="", ward="")[1][0].finding
    assert by_dept.recipient_ward is None
    assert by_dept.ordering_department.code == "IM"
    from qloop.clinical.actions import recipients_of

    assert recipients_of(by_ward) == [hospital["nurse_im"]]
    assert set(recipients_of(by_dept)) >= {hospital["doctor"], hospital["im_head"]}


def test_the_clock_runs_fifteen_minutes_by_default_and_per_register(
    hospital: dict[str, Any], report: Callable[..., Any], at: Callable[..., None]
) -> None:
    at(T0)
    case = report(result_value="2.1", reported_at=T0)[1][0]
    clock = Clock.objects.get(case=case, name="clinician_ack")
    assert (clock.due_at - T0).total_seconds() == 15 * 60
    lab = hospital["registers"]["lab"]
    lab.ack_minutes = 10
    lab.save()
    case = report(result_value="2.1", reported_at=T0)[1][0]
    assert (Clock.objects.get(case=case).due_at - T0).total_seconds() == 10 * 60


def _call(case: Any, actor: Any, **data: Any) -> Any:
    return take_transition(case, "record_call", data, actor=actor)


CONFIRMED = {
    "receiver_name": "郑国华",
    "receiver_role": "physician",
    "outcome": "confirmed",
    "readback_name": "王建华",
    "readback_patient_id": "880123",
    "readback_result": "2.1 mmol/L",
}


def test_a_read_back_with_a_wrong_identifier_does_not_stop_the_clock(
    hospital: dict[str, Any], report: Callable[..., Any], at: Callable[..., None]
) -> None:
    at(T0)
    case = report(result_value="2.1", reported_at=T0)[1][0]
    case = _call(case, hospital["lab"], **{**CONFIRMED, "readback_patient_id": "880132"})
    assert case.state == "awaiting_ack"
    assert Clock.objects.get(case=case).state == "running"
    wrong = CallAttempt.objects.get(finding__case=case)
    assert wrong.outcome_given == "confirmed"
    assert wrong.outcome == "reached_no_readback"
    assert wrong.name_matches and wrong.result_matches and not wrong.patient_id_matches
    # A wrong result read back does not stop it either; nor does an unreached call.
    case = _call(case, hospital["lab"], **{**CONFIRMED, "readback_result": "2.7"})
    case = _call(case, hospital["lab"], outcome="not_reached")
    assert Clock.objects.get(case=case).state == "running"
    # The right read-back (Traditional spelling of the name is the same name) stops it.
    case = _call(case, hospital["lab"], **{**CONFIRMED, "readback_name": "王建華"})
    assert case.state == "acknowledged"
    assert Clock.objects.get(case=case).state == "stopped"
    finding = Finding.objects.get(case=case)
    assert finding.ack_method == "readback" and finding.acknowledged_by == "郑国华"
    # Every attempt is kept.
    assert CallAttempt.objects.filter(finding=finding).count() == 4


def test_the_doctor_signs_as_received_and_nobody_else_may(
    hospital: dict[str, Any], report: Callable[..., Any]
) -> None:
    case = report(result_value="2.1")[1][0]
    signature = {"meaning": "received", "password": PASSWORD}
    # Another department's physician does not see the finding: not there (issue 9.4).
    with pytest.raises(Http404):
        take_transition(
            case,
            "acknowledge",
            {},
            actor=hospital["im_head"].__class__.objects.get(username="surg_doctor"),
            signature=signature,
        )
    with pytest.raises(ValidationError):  # wrong password: nothing signed
        take_transition(
            case,
            "acknowledge",
            {},
            actor=hospital["doctor"],
            signature={**signature, "password": "x"},
        )
    case = take_transition(case, "acknowledge", {}, actor=hospital["doctor"], signature=signature)
    assert case.state == "acknowledged"
    finding = Finding.objects.get(case=case)
    assert finding.ack_method == "signature"
    assert finding.ack_seconds is not None
    event = case.events.get(data__transition="acknowledge")
    assert event.data["signature"]["meaning"] == "received"


def test_a_correction_is_a_new_version_and_a_now_critical_result_opens_a_finding(
    hospital: dict[str, Any], report: Callable[..., Any]
) -> None:
    from qloop.clinical.actions import correct_result
    from tests.clinical.conftest import result

    entry, opened = report(result_value="4.1")
    assert opened == []
    with pytest.raises(ValidationError):
        correct_result(entry, result(result_value="2.2"), reason=" ", actor=hospital["lab"])
    entry, opened = correct_result(
        entry, result(result_value="2.2"), reason="标本溶血，重新测定", actor=hospital["lab"]
    )
    assert entry.version == 2
    versions = list(entry.versions.order_by("version"))
    assert [v.values["result_value"] for v in versions] == ["4.1", "2.2"]
    assert versions[1].reason == "标本溶血，重新测定"
    assert len(opened) == 1
    with pytest.raises(PermissionDenied):
        correct_result(entry, result(result_value="2.0"), reason="x", actor=hospital["doctor"])
