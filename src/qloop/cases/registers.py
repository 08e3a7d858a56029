"""The two named registers of document 2, for any period (R2.2, R2.3, R2.5, R2.8, R2.11, X4).

《顧客反饋處理記錄表》 (Customer Feedback Handling Record): every piece of feedback with its
handler, how it was handled, the answer within two days and the result (R2.3, R2.8).

《顧客投訴與反饋記錄表》 (Customer Complaint and Feedback Record): every complaint and piece of
feedback as it was recorded and reported to the head of Supply and Sales, escalated, and
followed up (R2.5 a, R2.11). Market quality complaints registered directly with Customer
Service are listed too; one raised from a feedback case shows on the feedback's row instead.

The printed page and the workbook read the same rows; personal data is masked as on the case
page (``access.contact_details``), and a person sees the rows of the cases they may see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from qloop.cases import access
from qloop.cases.models import Case
from qloop.inputs import clamp_date
from qloop.process.models import Clock, ClockName, ClockState

if TYPE_CHECKING:
    from qloop.org.models import User

MAX_ROWS = 5000


class PeriodError(ValueError):
    """A period that cannot be understood; carries the parameter name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    width: int = 12  # in the workbook, characters
    wrap: bool = False


@dataclass(frozen=True)
class RegisterSpec:
    code: str
    title: str | Promise  # the form's name, as printed
    columns: tuple[Column, ...]
    kinds: tuple[str, ...]


HANDLING_RECORD = RegisterSpec(
    "handling",
    gettext_lazy("Customer Feedback Handling Record"),
    (
        Column("number", gettext_lazy("No."), 16),
        Column("received", gettext_lazy("Date received"), 16),
        Column("customer", gettext_lazy("Customer"), 18, True),
        Column("contact", gettext_lazy("Contact"), 10),
        Column("phone", gettext_lazy("Phone"), 14),
        Column("type", gettext_lazy("Type"), 10),
        Column("category", gettext_lazy("Category"), 14),
        Column("content", gettext_lazy("Content of the feedback"), 36, True),
        Column("recorder", gettext_lazy("Recorded by"), 10),
        Column("handler", gettext_lazy("Handler"), 10),
        Column("handling", pgettext_lazy("feedback record", "Handling"), 32, True),
        Column("answer", gettext_lazy("Answer to the customer"), 30, True),
        Column("answered_in_time", gettext_lazy("Answered within the deadline"), 12),
        Column("result", gettext_lazy("Result"), 28, True),
        Column("state", gettext_lazy("State"), 10),
    ),
    ("feedback",),
)

COMPLAINT_RECORD = RegisterSpec(
    "complaints",
    gettext_lazy("Customer Complaint and Feedback Record"),
    (
        Column("number", gettext_lazy("No."), 16),
        Column("received", gettext_lazy("Date received"), 16),
        Column("customer", gettext_lazy("Customer"), 18, True),
        Column("contact", gettext_lazy("Contact"), 10),
        Column("phone", gettext_lazy("Phone"), 14),
        Column("type", gettext_lazy("Type"), 12),
        Column("model", gettext_lazy("Model"), 12),
        Column("content", gettext_lazy("Content of the complaint or feedback"), 36, True),
        Column("recorder", gettext_lazy("Recorded by"), 10),
        Column("escalated", gettext_lazy("Reported to the superior"), 24, True),
        Column("measures", gettext_lazy("Measures"), 30, True),
        Column("handler", gettext_lazy("Handler"), 10),
        Column("complaint_case", gettext_lazy("Complaint case"), 16),
        Column("follow_up", gettext_lazy("Follow-up"), 12),
    ),
    ("feedback", "complaint"),
)

REGISTERS = {r.code: r for r in (HANDLING_RECORD, COMPLAINT_RECORD)}


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @classmethod
    def from_query(cls, params: Any, today: dt.date | None = None) -> Period:
        """``from`` and ``to`` as YYYY-MM-DD, both included; by default the current month."""
        today = today or timezone.localdate()
        values: dict[str, dt.date] = {}
        for name in ("from", "to"):
            raw = (params.get(name) or "").strip()
            if not raw:
                continue
            try:
                values[name] = clamp_date(dt.date.fromisoformat(raw))
            except ValueError as exc:
                raise PeriodError(name, _("Enter a date as YYYY-MM-DD.")) from exc
        start = values.get("from") or today.replace(day=1)
        end = values.get("to") or max(today, start)
        if end < start:
            raise PeriodError("to", _("The end of the period is before its start."))
        return cls(start, end)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(self.start, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return start, end


def register_queryset(spec: RegisterSpec, user: User, period: Period) -> QuerySet[Case]:
    """Every row of the register for the period, in order; pages cut it, exports read it all."""
    start, end = period.bounds()
    qs = (
        Case.objects.for_user(user)
        .live()
        .filter(kind__in=spec.kinds, received_at__gte=start, received_at__lt=end)
        # A complaint raised from feedback is on its feedback's row.
        .filter(Q(kind="feedback") | Q(source_case__isnull=True))
        .select_related(
            "contact",
            "category",
            "handler",
            "registered_by",
            "product",
            "feedback",
            "feedback__escalated_by",
            "feedback__instructed_by",
            "investigation",
        )
        .prefetch_related(
            Prefetch(
                "clocks",
                queryset=Clock.objects.filter(name=ClockName.CUSTOMER_ANSWER),
                to_attr="answer_clocks",
            ),
            Prefetch("raised_cases", queryset=Case.objects.order_by("number"), to_attr="raised"),
        )
        .order_by("received_at", "id")
    )
    return qs


def register_cases(spec: RegisterSpec, user: User, period: Period) -> list[Case]:
    """The printed page's rows: at most ``MAX_ROWS`` (the page says so when it is cut)."""
    return list(register_queryset(spec, user, period)[:MAX_ROWS])


def register_count(spec: RegisterSpec, user: User, period: Period) -> int:
    return register_queryset(spec, user, period).order_by().count()


def _local(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(value).strftime(fmt) if value else ""


def _answered_in_time(case: Case) -> str:
    clocks: list[Clock] = getattr(case, "answer_clocks", [])
    if not clocks:
        return ""
    clock = clocks[-1]
    if clock.breached_at is not None:
        return str(_("Late"))
    if clock.state == ClockState.STOPPED:
        return str(_("Yes"))
    return str(_("Not yet"))


def row(spec: RegisterSpec, case: Case, user: User) -> dict[str, str]:
    contact = case.contact
    product = getattr(case, "product", None)
    detail = getattr(case, "feedback", None)
    inv = getattr(case, "investigation", None)
    reach = access.contact_details(user, case)
    phone = reach["phone"] or reach["email"] or reach["qq"]
    if case.kind == "feedback":
        kind_label = detail.get_feedback_type_display() if detail else ""
    else:
        kind_label = str(case.get_kind_display())
    answer = ""
    if inv is not None and inv.answer:
        answer = f"{inv.answer}（{_local(inv.answered_at)}）"
    escalated = ""
    if detail is not None and detail.escalated_at:
        who = detail.escalated_by.printed_name if detail.escalated_by else ""
        escalated = f"{_local(detail.escalated_at)} {who}: {detail.escalation_reason}"
    measures = [detail.instructions, detail.handling] if detail is not None else []
    raised: list[Case] = getattr(case, "raised", [])
    values = {
        "number": case.number,
        "received": _local(case.received_at),
        "customer": contact.organisation if contact else "",
        "contact": contact.name if contact else "",
        "phone": phone,
        "type": kind_label,
        "category": str(case.category) if case.category else "",
        "model": product.model if product else "",
        "content": product.symptom if product else case.title,
        "recorder": case.registered_by.printed_name if case.registered_by else "",
        "handler": case.handler.printed_name if case.handler else "",
        "handling": detail.handling if detail else "",
        "answer": answer,
        "answered_in_time": _answered_in_time(case),
        "result": detail.result if detail else "",
        "state": case.state_label,
        "escalated": escalated,
        "measures": "\n".join(m for m in measures if m),
        "complaint_case": " ".join(r.number for r in raised),
        "follow_up": case.state_label,
    }
    return {c.key: values[c.key] for c in spec.columns}


def register_rows(spec: RegisterSpec, user: User, period: Period) -> list[dict[str, str]]:
    return [row(spec, case, user) for case in register_cases(spec, user, period)]
