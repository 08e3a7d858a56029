"""Periodic summaries (R3.2): monthly and quarterly counts of drug quality feedback and ADR
reports — by drug, batch, problem, ADR seriousness, outcome and department, beside the period
before — produced by the worker, signed by the head of pharmacy, then kept unchanged and sent
to the regulator or the Pharmacy and Therapeutics Committee (a setting)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from qloop.cases.models import Case
from qloop.org.models import User
from qloop.pharmacy.models import (
    AdrDrug,
    AdrReport,
    DrugFeedback,
    DrugRole,
    PeriodKind,
    PharmacySettings,
    SendingChannel,
    Summary,
    SummaryState,
)
from qloop.pharmacy.processes import PHARMACY_HEAD
from qloop.process.signatures import sign

TOP = 20


def period_bounds(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The month or quarter holding ``day``: (first day, first day of the next)."""
    month = day.month if kind == PeriodKind.MONTH else 3 * ((day.month - 1) // 3) + 1
    start = dt.date(day.year, month, 1)
    step = 1 if kind == PeriodKind.MONTH else 3
    end_month = start.month + step
    end = dt.date(start.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return start, end


def _moment(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def _counts(qs: Any, field: str) -> list[list[Any]]:
    rows = qs.values(key=F(field)).annotate(n=Count("pk")).order_by("-n", "key")[:TOP]
    return [[str(r["key"] or "—"), r["n"]] for r in rows]


def figures(start: dt.date, end: dt.date) -> dict[str, Any]:
    """The period's figures, counted by the database."""
    since, until = _moment(start), _moment(end)
    feedback = DrugFeedback.objects.filter(
        case__received_at__gte=since, case__received_at__lt=until, case__archived_at__isnull=True
    )
    reports = AdrReport.objects.filter(
        aware_at__gte=since, aware_at__lt=until, case__archived_at__isnull=True
    )
    suspects = AdrDrug.objects.filter(role=DrugRole.SUSPECT, report__in=reports)
    counterfeit = Case.objects.filter(
        kind="counterfeit", received_at__gte=since, received_at__lt=until
    )
    return {
        "feedback": feedback.count(),
        "major": feedback.filter(major=True).count(),
        "counterfeit": counterfeit.count(),
        "adr": reports.count(),
        "groups": Case.objects.filter(
            kind="adr_group", received_at__gte=since, received_at__lt=until
        ).count(),
        "by_problem": _counts(feedback, "problem"),
        "by_drug": _counts(feedback, "drug__generic_name"),
        "by_batch": _counts(feedback.filter(batch__isnull=False), "batch__batch_number"),
        "adr_by_seriousness": _counts(reports, "seriousness"),
        "adr_by_outcome": _counts(reports, "outcome"),
        "adr_by_department": _counts(reports, "department__name"),
        "adr_by_drug": [
            [r["generic_name"], r["n"]]
            for r in suspects.values("generic_name")
            .annotate(n=Count("report", distinct=True))
            .order_by("-n", "generic_name")[:TOP]
        ],
    }


def produce(kind: str, start: dt.date, *, recipient: str = "") -> Summary:
    """The summary of one period with the period before it; made once (running again changes
    nothing: the figures are kept as produced)."""
    found = Summary.objects.filter(period=kind, start=start).first()
    if found is not None:
        return found
    _start, end = period_bounds(kind, start)
    before_start, _b = period_bounds(kind, start - dt.timedelta(days=1))
    data = {
        "current": figures(start, end),
        "previous": figures(before_start, start),
        "previous_start": before_start.isoformat(),
    }
    recipient = recipient or PharmacySettings.current().summary_recipient
    try:
        with transaction.atomic():
            return Summary.objects.create(
                period=kind,
                start=start,
                end=end - dt.timedelta(days=1),
                recipient=recipient,
                figures=data,
            )
    except IntegrityError:  # two workers at once: the other one made it
        return Summary.objects.get(period=kind, start=start)


def produce_due(today: dt.date | None = None) -> list[Summary]:
    """For the worker: the summaries of the periods that have just ended, as the settings ask."""
    today = today or timezone.localdate()
    settings = PharmacySettings.current()
    made = []
    for kind, wanted in (
        (PeriodKind.MONTH, settings.monthly_summary),
        (PeriodKind.QUARTER, settings.quarterly_summary),
    ):
        if not wanted:
            continue
        start, _end = period_bounds(kind, today)
        previous_start, _s = period_bounds(kind, start - dt.timedelta(days=1))
        made.append(produce(kind, previous_start))
    return made


def sign_summary(summary: Summary, *, actor: User, signature: dict[str, Any] | None) -> Summary:
    """The head of pharmacy signs the summary (meaning "approved"); the figures stay as they
    were produced."""
    if not (actor.is_superuser or actor.has_role(*PHARMACY_HEAD)):
        raise PermissionDenied
    if summary.state != SummaryState.DRAFT:
        raise ValidationError({"state": [_("This summary is already signed.")]})
    signed = sign(actor, signature, meaning="approved")
    with transaction.atomic():
        updated = Summary.objects.filter(pk=summary.pk, state=SummaryState.DRAFT).update(
            state=SummaryState.SIGNED,
            signature=signed,
            signed_by=actor,
            signed_at=timezone.now(),
        )
        if updated != 1:
            raise ValidationError({"state": [_("This summary is already signed.")]})
    summary.refresh_from_db()
    return summary


def record_summary_sending(
    summary: Summary, *, actor: User, channel: str, reference: str = ""
) -> Summary:
    if not (actor.is_superuser or actor.has_role("pharmacy_head", "pharmacist", "adr_officer")):
        raise PermissionDenied
    if summary.state == SummaryState.DRAFT:
        raise ValidationError({"state": [_("Sign the summary before sending it.")]})
    if channel not in SendingChannel.values:
        raise ValidationError(
            {
                "channel": [
                    _("Choose one of: %(choices)s.") % {"choices": ", ".join(SendingChannel.values)}
                ]
            }
        )
    Summary.objects.filter(pk=summary.pk).update(
        state=SummaryState.SENT,
        sent_at=timezone.now(),
        sent_by=actor,
        sent_channel=channel,
        sent_reference=reference.strip()[:80],
    )
    summary.refresh_from_db()
    return summary


SECTIONS = [
    ("by_problem", gettext_lazy("Drug quality feedback by problem")),
    ("by_drug", gettext_lazy("Drug quality feedback by drug")),
    ("by_batch", gettext_lazy("Drug quality feedback by batch")),
    ("adr_by_seriousness", gettext_lazy("ADR reports by seriousness")),
    ("adr_by_outcome", gettext_lazy("ADR reports by outcome")),
    ("adr_by_department", gettext_lazy("ADR reports by department")),
    ("adr_by_drug", gettext_lazy("ADR reports by suspect drug")),
]


def sections(summary: Summary) -> list[dict[str, Any]]:
    """Each table of the summary with the period before beside it, for the page."""
    out = []
    for key, title in SECTIONS:
        before = dict(summary.figures["previous"].get(key, []))
        out.append(
            {
                "key": key,
                "title": title,
                "rows": [
                    (item, n, before.get(item, 0))
                    for item, n in summary.figures["current"].get(key, [])
                ],
            }
        )
    return out


def workbook(summary: Summary) -> bytes:
    """The summary as .xlsx, from the kept figures (the same file however often downloaded)."""
    wb = Workbook(write_only=True)
    for key, title in SECTIONS:
        ws = wb.create_sheet(key[:31])
        ws.append([str(title)])
        ws.append([_("Item"), _("This period"), _("Period before")])
        before = dict(summary.figures["previous"].get(key, []))
        for item, n in summary.figures["current"].get(key, []):
            ws.append([item, n, before.get(item, 0)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
