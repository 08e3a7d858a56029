"""Where a customer's or patient's case stands, for the public status page (issue 12.22).

The person who told us gives the case number and the last four digits of the phone number they
gave; the answer says the state in plain words, when an answer is due and the answer once
given — nothing else of the case. A wrong pair, an unknown number and a case of a kind that has
no contact all look the same to the asker (same result, same work done).
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qloop.cases.kinds import KINDS
from qloop.cases.models import Case, Event
from qloop.process.definitions import CLOSED_STATES
from qloop.process.models import Clock

# The clocks that measure our answer to the person (R2.3).
ANSWER_CLOCKS = ("customer_answer",)
# What the person is told, by stage; the staff's state names mean nothing to him.
STAGES = {
    "received": _("Received: we have registered your case and are assigning it."),
    "handling": _("Being handled: the people responsible are looking into it."),
    "answered": _("Answered: our answer is below; the case stays open until it is finished."),
    "closed": _("Finished: the case is closed."),
}
NUMBER = re.compile(r"^[A-Z]{1,6}-\d{4}-\d{1,9}$")
# Compared with when no case matches, so that an unknown number costs the same comparison.
_NOBODY = "\0\0\0\0"


@dataclass(frozen=True)
class CaseStatus:
    """What the status page shows: nothing that names anyone or describes the problem."""

    number: str
    kind: str
    stage: str
    stage_text: str
    received_on: dt.date
    answer_due: dt.datetime | None
    answer: str
    answered_at: dt.datetime | None


def normalise_number(raw: str) -> str:
    return "".join(raw.split()).upper().replace("—", "-").replace("–", "-")


def last_four(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return digits[-4:] if len(digits) >= 4 else ""


def contact_kinds() -> list[str]:
    """Every kind of case with a person who told us and his phone: a contact
    (KindSpec.has_contact), or a phone in the detail record (KindSpec.status_phone)."""
    return [kind for kind, spec in KINDS.items() if spec.has_contact or spec.status_phone]


def _phone_of(case: Case) -> str:
    spec = KINDS[case.kind]
    if spec.status_phone is not None:
        try:
            return spec.status_phone(case) or ""
        except ObjectDoesNotExist:  # a case registered without its detail record
            return ""
    return case.contact.phone if case.contact else ""


def look_up(number: str, phone_last_four: str) -> CaseStatus | None:
    """The case's status if the number and the phone's last four digits belong together;
    None otherwise, whatever was wrong."""
    number = normalise_number(number)
    given = phone_last_four.strip()
    wellformed = bool(NUMBER.match(number)) and bool(re.fullmatch(r"\d{4}", given))
    # One query whether or not the input is well-formed, so timing does not tell them apart.
    case = (
        Case.objects.filter(Q(number=number if wellformed else ""), kind__in=contact_kinds())
        .select_related("contact")
        .first()
    )
    expected = last_four(_phone_of(case)) if case is not None else ""
    matches = hmac.compare_digest(
        (expected or _NOBODY).encode(), (given if wellformed else "").encode()
    )
    if case is None or not matches or not expected:
        return None
    return status_of(case)


def status_of(case: Case) -> CaseStatus:
    answer_event = (
        Event.objects.filter(case=case, verb="transition", data__inputs__answer__isnull=False)
        .exclude(data__inputs__answer="")
        .order_by("-at", "-pk")
        .first()
    )
    answer = str(answer_event.data["inputs"]["answer"]) if answer_event else ""
    if case.state in CLOSED_STATES:
        stage = "closed"
    elif answer:
        stage = "answered"
    elif case.state == "new":
        stage = "received"
    else:
        stage = "handling"
    due = None
    if stage not in ("closed", "answered"):
        clock = (
            Clock.objects.filter(case=case, name__in=ANSWER_CLOCKS, stopped_at__isnull=True)
            .order_by("due_at")
            .first()
        )
        due = clock.due_at if clock else None
    return CaseStatus(
        number=case.number,
        kind=str(KINDS[case.kind].label),
        stage=stage,
        stage_text=str(STAGES[stage]),
        received_on=case.received_at.date(),
        answer_due=due,
        answer=answer,
        answered_at=answer_event.at if answer_event else None,
    )
