"""Periodic summaries (R3.2) as recipient sets of the one period-summary mechanism (X5,
``qloop.reports.period_summaries``): monthly and quarterly counts of drug quality feedback and
ADR reports — by drug, batch, problem, ADR report type and seriousness, outcome and department
— beside the period before and the same period last year, made by the worker, signed off by the
head of pharmacy, kept unchanged as PDF and .xlsx, and sent to the drug regulator or the
Pharmacy and Therapeutics Committee (the setting says which, or both).

The summaries the older mechanism made (``pharmacy.Summary``) were copied into period
summaries by migration ``pharmacy 0006``; its rows are kept as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qloop.reports.models import SummaryPeriod
from qloop.reports.period_summaries import RecipientSet, local_start, register_recipients

if TYPE_CHECKING:
    from qloop.org.models import User
    from qloop.reports.models import PeriodSummary

TOP = 20
REGULATOR = "pharmacy_regulator"
COMMITTEE = "pharmacy_committee"


def _counts(qs: Any, field: str) -> list[list[Any]]:
    rows = qs.values(key=F(field)).annotate(n=Count("pk")).order_by("-n", "key")[:TOP]
    return [[str(r["key"] or "—"), r["n"]] for r in rows]


def figures(start: dt.date, end: dt.date) -> dict[str, Any]:
    """The days from ``start`` to before ``end``, counted by the database (R3.2)."""
    from qloop.cases.models import Case
    from qloop.pharmacy.models import AdrDrug, AdrReport, DrugFeedback, DrugRole

    since, until = local_start(start), local_start(end)
    feedback = DrugFeedback.objects.filter(
        case__received_at__gte=since, case__received_at__lt=until, case__archived_at__isnull=True
    )
    reports = AdrReport.objects.filter(
        aware_at__gte=since, aware_at__lt=until, case__archived_at__isnull=True
    )
    suspects = AdrDrug.objects.filter(role=DrugRole.SUSPECT, report__in=reports)
    cases = Case.objects.filter(
        received_at__gte=since, received_at__lt=until, archived_at__isnull=True
    )
    return {
        "feedback": feedback.count(),
        "major": feedback.filter(major=True).count(),
        "counterfeit": cases.filter(kind="counterfeit").count(),
        "adr": reports.count(),
        "groups": cases.filter(kind="adr_group").count(),
        "by_problem": _counts(feedback, "problem"),
        "by_drug": _counts(feedback, "drug__generic_name"),
        "by_batch": _counts(feedback.filter(batch__isnull=False), "batch__batch_number"),
        "adr_by_type": _counts(reports, "report_type"),
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


SECTIONS = [
    ("by_problem", gettext_lazy("Drug quality feedback by problem")),
    ("by_drug", gettext_lazy("Drug quality feedback by drug")),
    ("by_batch", gettext_lazy("Drug quality feedback by batch")),
    ("adr_by_type", gettext_lazy("ADR reports by report type")),
    ("adr_by_seriousness", gettext_lazy("ADR reports by seriousness")),
    ("adr_by_outcome", gettext_lazy("ADR reports by outcome")),
    ("adr_by_department", gettext_lazy("ADR reports by department")),
    ("adr_by_drug", gettext_lazy("ADR reports by suspect drug")),
]

TOTALS = [
    ("feedback", gettext_lazy("Drug quality feedback")),
    ("major", gettext_lazy("major problem")),
    ("counterfeit", gettext_lazy("Counterfeit or substandard drug")),
    ("adr", gettext_lazy("Adverse drug reaction report")),
    ("groups", gettext_lazy("Group adverse drug event")),
]


def _labels() -> dict[str, dict[str, str]]:
    """Codes kept in the figures, shown by their names in the reader's language."""
    from qloop.pharmacy.models import Outcome, ProblemType, ReportType, Seriousness

    return {
        "by_problem": {str(k): str(v) for k, v in ProblemType.choices},
        "adr_by_type": {str(k): str(v) for k, v in ReportType.choices},
        "adr_by_seriousness": {str(k): str(v) for k, v in Seriousness.choices},
        "adr_by_outcome": {str(k): str(v) for k, v in Outcome.choices},
    }


def pharmacy_rows(summary: PeriodSummary, language: str) -> list[dict[str, Any]]:
    """The totals, then each table: every item counted in any of the three periods, this
    period's largest first. A summary copied from the old mechanism has no last year (—)."""
    f = summary.figures
    periods = [f.get("current") or {}, f.get("previous") or {}, f.get("last_year")]
    labels = _labels()
    rows: list[dict[str, Any]] = [{"heading": _("Totals")}]
    for key, title in TOTALS:
        values = [None if d is None else d.get(key, 0) for d in periods]
        rows.append({"label": str(title), "section": "totals", "values": values})
    for key, title in SECTIONS:
        rows.append({"heading": str(title), "key": key})
        counted = [None if d is None else dict(d.get(key, [])) for d in periods]
        items: list[str] = []
        for d in counted:
            for item in d or {}:
                if item not in items:
                    items.append(item)
        for item in items:
            rows.append(
                {
                    "label": labels.get(key, {}).get(item, item),
                    "section": key,
                    "values": [None if d is None else d.get(item, 0) for d in counted],
                }
            )
        if not items:
            rows.append({"label": "—", "section": key, "values": [0, 0, 0]})
    return rows


def _applies(recipient: str) -> Callable[[], bool]:
    def applies() -> bool:
        from qloop.pharmacy.models import PharmacySettings

        return recipient in PharmacySettings.current().summary_recipients()

    return applies


def _wanted(kind: str) -> bool:
    """Monthly and quarterly, as the settings ask (R3.2)."""
    from qloop.pharmacy.models import PharmacySettings

    settings = PharmacySettings.current()
    wanted: dict[str, bool] = {
        SummaryPeriod.MONTH: settings.monthly_summary,
        SummaryPeriod.QUARTER: settings.quarterly_summary,
    }
    return wanted.get(kind, False)


def _readers(user: User) -> bool:
    """The pharmacy: its pharmacists, head and ADR monitoring officer."""
    from qloop.pharmacy.access import in_pharmacy

    return in_pharmacy(user)


def _signers(user: User) -> bool:
    """The head of pharmacy signs it off (R3.2)."""
    from qloop.pharmacy.processes import PHARMACY_HEAD

    return user.is_superuser or user.has_role(*PHARMACY_HEAD)


def _told() -> list[User]:
    from qloop.notify.actions import people_with_role
    from qloop.pharmacy.processes import PHARMACY_HEAD

    return list(people_with_role(*PHARMACY_HEAD))


def _channels() -> list[tuple[str, Any]]:
    from qloop.pharmacy.models import SendingChannel

    return list(SendingChannel.choices)


def register() -> None:
    """Called by the pharmacy profile's ``ready``: the core never imports the profile."""
    common: dict[str, Any] = {
        "profile": "pharmacy",
        "periods": (SummaryPeriod.MONTH, SummaryPeriod.QUARTER),
        "compute": figures,
        "readers": _readers,
        "signers": _signers,
        # The pharmacists and the ADR officer record the sending, as for case reports.
        "senders": _readers,
        "rows": pharmacy_rows,
        "told": _told,
        "wanted": _wanted,
        "channels": _channels,
        "paper_title": gettext_lazy("Drug quality and ADR periodic summary"),
        "charted": True,  # R3.2: "with charts"
    }
    register_recipients(
        RecipientSet(
            code=REGULATOR,
            title=gettext_lazy("Drug regulatory authority"),
            sent_to=gettext_lazy("Drug regulatory authority"),
            order=40,
            applies=_applies("regulator"),
            **common,
        ),
        RecipientSet(
            code=COMMITTEE,
            title=gettext_lazy("Pharmacy and Therapeutics Committee"),
            sent_to=gettext_lazy("Pharmacy and Therapeutics Committee"),
            order=41,
            applies=_applies("committee"),
            **common,
        ),
    )
