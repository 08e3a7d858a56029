"""Document 1's process from registration to closing, both dispositions (R1.3–R1.7)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from qloop.process.engine import decide_approval, take_transition
from qloop.process.errors import Conflict
from qloop.process.models import Approval
from tests.conftest import PASSWORD


def sig(meaning: str) -> dict[str, str]:
    return {"password": PASSWORD, "meaning": meaning}


def test_not_ours_needs_the_quality_heads_signature_and_lands_with_cs(
    make_case: Any, users: Any
) -> None:
    case = make_case()
    case = take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    assert (case.state, case.handler) == ("cs_review", users["cs"])
    case = take_transition(
        case,
        "forward_to_quality",
        {"analysis": "疑似密封件问题", "departments": ["PROD"]},
        actor=users["cs"],
    )
    assert case.state == "investigating"
    assert case.clocks.get(name="investigation").state == "running"
    with pytest.raises(PermissionDenied):
        take_transition(
            case,
            "dispose_not_ours",
            {"findings": "x"},
            actor=users["qe"],
            signature=sig("approved"),
        )
    with pytest.raises(ValidationError):
        take_transition(
            case,
            "dispose_not_ours",
            {"findings": "安装不当"},
            actor=users["qa_head"],
            signature={"password": "wrong", "meaning": "approved"},
        )
    case.refresh_from_db()
    assert case.state == "investigating"
    case = take_transition(
        case,
        "dispose_not_ours",
        {"findings": "安装不当"},
        actor=users["qa_head"],
        signature=sig("approved"),
    )
    assert case.state == "cs_handling"
    assert case.clocks.get(name="investigation").state == "stopped"
    event = case.events.filter(verb="transition").last()
    assert event.data["signature"]["printed_name"] == users["qa_head"].printed_name
    case = take_transition(
        case, "close", {"answer": "已电话说明", "answer_channel": "phone"}, actor=users["cs"]
    )
    assert case.state == "closed"
    assert case.clocks.get(name="customer_answer").state == "stopped"


def test_ours_runs_through_corrective_action_with_onsite_approval(
    make_case: Any, users: Any
) -> None:
    case = make_case()
    case = take_transition(case, "assign", {"handler": "cs"}, actor=users["cs"])
    case = take_transition(case, "forward_to_quality", {"analysis": "批量漏水"}, actor=users["cs"])
    case = take_transition(case, "request_onsite", {"reason": "需到现场"}, actor=users["qe"])
    with pytest.raises(Conflict):
        take_transition(case, "record_onsite", {"findings": "x"}, actor=users["qe"])
    approval = Approval.objects.get(case=case)
    with pytest.raises(PermissionDenied):
        decide_approval(approval, "approve", actor=users["qa_head"], signature=sig("approved"))
    decide_approval(approval, "approve", actor=users["gm"], signature=sig("approved"))
    case = take_transition(case, "record_onsite", {"findings": "密封圈材质不符"}, actor=users["qe"])
    case = take_transition(
        case, "dispose_ours", {"findings": "外购件", "root_cause": "来料"}, actor=users["qe"]
    )
    assert case.state == "corrective_action"
    case = take_transition(
        case,
        "submit_plan",
        {"plan": "更换供应商", "owner": "prod", "due": "2026-12-31"},
        actor=users["qe"],
    )
    case = take_transition(case, "record_progress", {"note": "已下单"}, actor=users["prod"])
    case = take_transition(
        case,
        "verify_effectiveness",
        {"result": "ineffective", "evidence": "仍漏"},
        actor=users["qe"],
        signature=sig("verified"),
    )
    assert case.state == "implementing"
    case = take_transition(
        case,
        "verify_effectiveness",
        {"result": "effective", "evidence": "三个月无复发"},
        actor=users["qe"],
        signature=sig("verified"),
    )
    assert case.state == "standardising"
    case = take_transition(
        case, "standardise", {"changes": "更新作业指导书 WI-12"}, actor=users["qe"]
    )
    case = take_transition(
        case, "close", {"answer": "已整改", "answer_channel": "email"}, actor=users["cs"]
    )
    assert case.state == "closed"
    with pytest.raises(Conflict):
        take_transition(
            case, "close", {"answer": "x", "answer_channel": "email"}, actor=users["cs"]
        )
