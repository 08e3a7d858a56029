"""What the steps of the feedback process write (R2.3, R2.8, R2.11).

Named as effects in ``FEEDBACK_V1`` and run by the process engine inside the step's
transaction, on the locked case, after the inputs have been checked.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop.cases.models import Case, Event, FeedbackDetail
from qloop.process.errors import Conflict

if TYPE_CHECKING:
    from qloop.org.models import User


def detail_of(case: Case) -> FeedbackDetail:
    detail, _created = FeedbackDetail.objects.get_or_create(case=case)
    return detail


def record_feedback_handling(
    case: Case, data: dict[str, Any], actor: User, at: dt.datetime
) -> None:
    """Each entry is kept with its date, so the handling record reads as a diary."""
    detail = detail_of(case)
    entry = f"{timezone.localtime(at):%Y-%m-%d} {data['handling']}"
    detail.handling = f"{detail.handling}\n{entry}".strip()
    detail.handled_at = at
    detail.save(update_fields=["handling", "handled_at"])


def escalate_feedback(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    detail = detail_of(case)
    detail.escalated_at, detail.escalated_by = at, actor
    detail.escalation_reason = data["reason"]
    detail.save(update_fields=["escalated_at", "escalated_by", "escalation_reason"])


def instruct_feedback(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    detail = detail_of(case)
    detail.instructions, detail.instructed_by, detail.instructed_at = (
        data["instructions"],
        actor,
        at,
    )
    detail.save(update_fields=["instructions", "instructed_by", "instructed_at"])


def close_feedback(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    """The result goes into the handling record; no case closes without an answer (R2.3)."""
    from qloop.capa.effects import record_answer
    from qloop.capa.models import Investigation

    answer = data.get("answer") or ""
    if answer and not data.get("answer_channel"):
        raise ValidationError({"answer_channel": [_("Say how the customer was answered.")]})
    if answer:
        record_answer(case, data, actor, at)
    elif not Investigation.objects.filter(case=case).exclude(answer="").exists():
        raise ValidationError(
            {"answer": [_("The customer has not been answered yet: give the answer here.")]}
        )
    detail = detail_of(case)
    detail.result = data["result"]
    detail.save(update_fields=["result"])


def raise_complaint(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    """Register a market quality complaint with this feedback's contact, product and
    description, linked both ways, with an event on each (R2.8 → R1.1)."""
    from qloop.cases.actions import ContactData, ProductData, Registration, register_case

    raised = case.raised_cases.first()
    if raised is not None:
        raise Conflict(
            _("A complaint case has already been raised from this feedback: %(number)s.")
            % {"number": raised.number}
        )
    contact = case.contact
    product = getattr(case, "product", None)
    reg = Registration(
        kind="complaint",
        channel=case.channel,
        contact=ContactData(
            name=contact.name if contact else "",
            gender=contact.gender if contact else "",
            phone=contact.phone if contact else "",
            email=contact.email if contact else "",
            qq=contact.qq if contact else "",
            organisation=contact.organisation if contact else "",
        ),
        known_contact=contact,
        product=ProductData(
            specification=product.specification if product else "",
            model=product.model if product else "",
            quantity=product.quantity if product else None,
            serial_number=product.serial_number if product else "",
        ),
        symptom=product.symptom if product else case.title,
        current_status=product.current_status if product else "",
        title=case.title,
        received_at=at,
        severity=case.severity,
        category_code=case.category.code if case.category else "",
    )
    complaint = register_case(reg, actor=actor, source_case=case, registered_at=at)
    Event.objects.create(
        case=complaint,
        actor=actor,
        verb="raised_from",
        at=at,
        comment=data["reason"],
        data={"feedback": case.number},
    )
    Event.objects.create(
        case=case,
        actor=actor,
        verb="complaint_raised",
        at=at,
        comment=data["reason"],
        data={"complaint": complaint.number},
    )


# The feedback process's steps (R2.3, R2.8); registered by CasesConfig.ready.
FEEDBACK_EFFECTS = (
    record_feedback_handling,
    escalate_feedback,
    instruct_feedback,
    close_feedback,
    raise_complaint,
)
