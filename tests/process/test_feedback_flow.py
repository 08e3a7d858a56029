"""Document 2's feedback process: handling, the two-day answer, escalation to the superior, and
a complaint case raised from feedback (R2.3, R2.4, R2.5, R2.8, R2.11)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from qloop.cases.models import Case, FeedbackDetail
from qloop.notify.models import Notification
from qloop.process.engine import available_transitions, take_transition
from qloop.process.errors import Conflict


@pytest.fixture
def feedback(make_case: Any) -> Case:
    """A complaint-type piece of feedback registered by Supply and Sales."""
    return make_case(actor="sales", kind="feedback", feedback_type="complaint", category_code="1A")


def handling(case: Case, users: Any) -> Case:
    return take_transition(case, "assign", {"handler": "sales"}, actor=users["sales"])


def test_feedback_registers_with_its_type_recorder_and_two_day_clock(
    feedback: Case, users: Any
) -> None:
    """R2.3, R2.4, R2.11: a named recorder, the type, the category and the answer clock."""
    assert feedback.number.startswith("FB-")
    assert feedback.department.code == "SALES"
    assert feedback.registered_by == users["sales"]
    assert FeedbackDetail.objects.get(case=feedback).feedback_type == "complaint"
    assert feedback.category.code == "1A"
    assert feedback.clocks.get(name="customer_answer").state == "running"


def test_an_unknown_feedback_type_is_refused_and_nothing_is_registered(
    make_case: Any,
) -> None:
    """R2.4: the type is one of the six; a wrong one is a field error."""
    before = Case.objects.count()
    with pytest.raises(ValidationError) as exc:
        make_case(actor="sales", kind="feedback", feedback_type="gossip")
    assert "feedback_type" in exc.value.message_dict
    assert Case.objects.count() == before


def test_feedback_from_a_survey_is_an_opinion_unless_it_says_otherwise(make_case: Any) -> None:
    """R2.4 a: low survey scores come in as feedback through the same action."""
    case = make_case(actor="sales", kind="feedback", channel="survey")
    assert case.feedback.feedback_type == "opinion"


def test_sales_take_the_feedback_steps_and_customer_service_does_not(
    feedback: Case, users: Any
) -> None:
    """R2.1: Supply and Sales own feedback; CS's roles do not move it."""
    assert [t.name for t in available_transitions(feedback, users["sales"])] == [
        "assign",
        "answer_customer",
        "escalate",
        "raise_complaint",
    ]
    with pytest.raises(PermissionDenied):
        take_transition(feedback, "assign", {"handler": "cs"}, actor=users["cs"])
    assert Case.objects.get(pk=feedback.pk).state == "new"


def test_handling_is_kept_as_a_dated_diary_and_the_answer_stops_the_clock(
    feedback: Case, users: Any
) -> None:
    """R2.3, R2.11: handling and the answer within two days are recorded."""
    case = handling(feedback, users)
    case = take_transition(
        case, "record_handling", {"handling": "已电话了解情况"}, actor=users["sales"]
    )
    case = take_transition(
        case, "record_handling", {"handling": "安排服务工程师上门"}, actor=users["sales"]
    )
    detail = FeedbackDetail.objects.get(case=case)
    lines = detail.handling.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["已电话了解情况", "安排服务工程师上门"]
    case = take_transition(
        case,
        "answer_customer",
        {"answer": "已答复将于本周内上门", "answer_channel": "phone"},
        actor=users["sales"],
    )
    assert case.state == "handling"
    assert case.clocks.get(name="customer_answer").state == "stopped"


def test_closing_needs_a_result_and_an_answer(feedback: Case, users: Any) -> None:
    """R2.3: no feedback is closed without an answer to the customer; the result is kept."""
    case = handling(feedback, users)
    with pytest.raises(ValidationError) as exc:
        take_transition(case, "close", {"result": "已更换配件"}, actor=users["sales"])
    assert "answer" in exc.value.message_dict
    assert Case.objects.get(pk=case.pk).state == "handling"
    with pytest.raises(ValidationError) as exc:
        take_transition(
            case, "close", {"result": "已更换配件", "answer": "已更换"}, actor=users["sales"]
        )
    assert "answer_channel" in exc.value.message_dict

    case = take_transition(
        case,
        "close",
        {"result": "已更换配件，客户满意", "answer": "已上门更换", "answer_channel": "visit"},
        actor=users["sales"],
    )
    assert case.state == "closed"
    assert case.closed_at is not None
    assert FeedbackDetail.objects.get(case=case).result == "已更换配件，客户满意"
    assert case.investigation.answer == "已上门更换"
    assert case.clocks.get(name="customer_answer").state == "stopped"


def test_what_cannot_be_handled_at_once_goes_to_the_general_manager(
    feedback: Case, users: Any
) -> None:
    """R2.8: escalation notifies the superior at once; the superior's instructions send the
    case back to handling; nobody else may give them."""
    case = take_transition(
        feedback, "escalate", {"reason": "涉及批量退货，需总经理决定"}, actor=users["sales"]
    )
    assert case.state == "escalated"
    detail = FeedbackDetail.objects.get(case=case)
    assert (detail.escalated_by, detail.escalation_reason) == (
        users["sales"],
        "涉及批量退货，需总经理决定",
    )
    assert Notification.objects.filter(user=users["gm"], case=case).exists()
    with pytest.raises(PermissionDenied):
        take_transition(case, "instruct", {"instructions": "同意退货"}, actor=users["sales"])

    case = take_transition(
        case, "instruct", {"instructions": "同意退货并分析原因"}, actor=users["gm"]
    )
    assert case.state == "handling"
    assert FeedbackDetail.objects.get(case=case).instructed_by == users["gm"]


def test_raising_a_complaint_case_copies_the_feedback_and_links_both_ways(
    feedback: Case, users: Any
) -> None:
    """R2.8 → R1.1: a complaint about the product goes to Customer Service's complaint process,
    with the same contact, product and description, and each case names the other."""
    case = handling(feedback, users)
    take_transition(case, "raise_complaint", {"reason": "产品质量问题"}, actor=users["sales"])

    complaint = Case.objects.get(source_case=case)
    assert complaint.kind == "complaint"
    assert complaint.number.startswith("QC-")
    assert complaint.department.code == "CS"
    assert complaint.contact_id == case.contact_id
    assert complaint.product.symptom == case.product.symptom
    assert complaint.product.model == case.product.model
    assert list(case.raised_cases.all()) == [complaint]
    assert complaint.events.filter(verb="raised_from", data__feedback=case.number).exists()
    assert case.events.filter(verb="complaint_raised", data__complaint=complaint.number).exists()
    assert Notification.objects.filter(user=users["cs"], case=case).exists()
    assert Case.objects.get(pk=case.pk).state == "handling"


def test_a_second_complaint_from_the_same_feedback_is_refused(feedback: Case, users: Any) -> None:
    """R2.8: one complaint case per piece of feedback; the second attempt changes nothing."""
    take_transition(feedback, "raise_complaint", {"reason": "产品质量问题"}, actor=users["sales"])
    with pytest.raises(Conflict):
        take_transition(feedback, "raise_complaint", {"reason": "再次"}, actor=users["sales"])
    assert Case.objects.filter(source_case=feedback).count() == 1
