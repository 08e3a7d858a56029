"""The management review (管理评审) and the summary prepared a month before it (R2.7, X5).

Satisfaction information is summarised within the month before each review: feedback by the
R2.10 categories and by month over twelve months, the latest survey results, and the
corrective and improvement actions still open. The summary is stored as it was prepared.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Set as AbstractSet
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop import inputs
from qloop.capa.models import CorrectiveAction
from qloop.cases.kinds import CaseKind
from qloop.cases.models import Case, Category
from qloop.notify.actions import notify, people_in, people_with_role
from qloop.org.models import Profile, User
from qloop.reports import access
from qloop.reports.models import ImprovementAction, ManagementReview, ReviewSummary, SurveyReport

MONTHS = 12
LATEST_CAMPAIGNS = 3


def month_before(day: dt.date) -> dt.date:
    """The same day a month earlier (the last day of that month when it is shorter)."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _months_back(day: dt.date, n: int) -> dt.date:
    """The first day of the month ``n`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - n
    return dt.date(index // 12, index % 12 + 1, 1)


def preparation_date(review: ManagementReview) -> dt.date:
    return month_before(review.held_on)


def create_review(
    held_on: dt.date | None, *, title: str = "", notes: str = "", actor: User
) -> ManagementReview:
    """An administrator sets the date of a management review."""
    if not access.can_set_reviews(actor):
        raise PermissionDenied
    inputs.check_texts({"title": title, "notes": notes})
    if held_on is None:
        raise ValidationError({"held_on": [_("Enter a date as YYYY-MM-DD.")]})
    inputs.check_dates({"held_on": held_on})
    if held_on < timezone.localdate():
        raise ValidationError({"held_on": [_("The date has already passed.")]})
    if ManagementReview.objects.filter(held_on=held_on).exists():
        raise ValidationError({"held_on": [_("A management review is already set on this day.")]})
    return ManagementReview.objects.create(
        held_on=held_on, title=title.strip()[:200], notes=notes.strip(), created_by=actor
    )


def due_reviews(today: dt.date) -> list[ManagementReview]:
    """Reviews within a month from today whose summary has not been prepared yet."""
    candidates = ManagementReview.objects.filter(
        held_on__gte=today,
        held_on__lte=today + dt.timedelta(days=31),
        summary_claimed_at__isnull=True,
    )
    return [r for r in candidates if preparation_date(r) <= today]


def prepare_due_reviews(now: dt.datetime | None = None) -> int:
    """Prepare the summary of every review now a month or less away; once per review.

    The claim, the summary and the messages commit together: a worker killed half-way leaves
    the review unclaimed, and a second worker finds the claim taken and does nothing.
    """
    now = now or timezone.now()
    done = 0
    for review in due_reviews(timezone.localdate(now)):
        with transaction.atomic():
            claimed = ManagementReview.objects.filter(
                pk=review.pk, summary_claimed_at__isnull=True
            ).update(summary_claimed_at=now)
            if claimed != 1:
                continue
            prepare_summary(review, now=now)
            done += 1
    return done


def prepare_now(review: ManagementReview, *, actor: User) -> ReviewSummary:
    """An administrator prepares the summary again (say, after late data); kept as a new one."""
    if not access.can_set_reviews(actor):
        raise PermissionDenied
    with transaction.atomic():
        ManagementReview.objects.filter(pk=review.pk, summary_claimed_at__isnull=True).update(
            summary_claimed_at=timezone.now()
        )
        return prepare_summary(review, actor=actor)


def prepare_summary(
    review: ManagementReview, *, actor: User | None = None, now: dt.datetime | None = None
) -> ReviewSummary:
    now = now or timezone.now()
    today = timezone.localdate(now)
    start = _months_back(today, MONTHS - 1)
    summary = ReviewSummary.objects.create(
        review=review,
        prepared_at=now,
        prepared_by=actor,
        period_start=start,
        period_end=today,
        data=summary_data(start, today),
    )
    sales = access.supply_sales()
    responsible = [
        *people_with_role(*access.decider_roles(), *access.quality_head_roles()),
        *(people_in([sales.code], access.drafter_roles()) if sales else []),
    ]
    notify(
        responsible,
        kind="review_summary_prepared",
        data={
            "review": review.pk,
            "held_on": review.held_on.isoformat(),
            "title": review.title,
            "url": f"{settings.SITE_URL}/reports/reviews/{review.pk}/",
        },
        exclude=actor,
        at=now,
    )
    return summary


def summary_data(start: dt.date, end: dt.date) -> dict[str, Any]:
    """Everything the summary shows, as plain data (stored as it is now)."""
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    # The management review is the manufacturer's (R2.7): its cases, not a hospital's.
    cases = Case.objects.live().filter(
        profile=Profile.MANUFACTURER, received_at__gte=since, received_at__lt=until
    )
    return {
        "categories": _by_category(cases),
        "months": _by_month(cases, start, end),
        "satisfaction": _satisfaction(since, until),
        "survey_reports": _survey_reports(since),
        "corrective_actions": _open_corrective_actions(end),
        "improvement_actions": _open_improvement_actions(end),
    }


def _names(obj: Any) -> dict[str, str]:
    return {"zh-hans": obj.name, "en": obj.name_en, "zh-hant": obj.name_zh_hant}


def _by_category(cases: Any) -> dict[str, Any]:
    counts: dict[tuple[int | None, str], int] = {
        (row["category_id"], row["kind"]): row["n"]
        for row in cases.values("category_id", "kind").annotate(n=Count("id")).order_by()
    }
    # Every kind of case has its column, with or without cases in the period.
    kinds = [*CaseKind.values, *sorted({k for _c, k in counts} - set(CaseKind.values))]

    def tally(ids: AbstractSet[int | None]) -> dict[str, int]:
        per_kind = {
            k: sum(n for (c, kk), n in counts.items() if c in ids and kk == k) for k in kinds
        }
        return {**per_kind, "total": sum(per_kind.values())}

    categories = list(Category.objects.filter(is_active=True).order_by("order", "code"))
    children: dict[int | None, list[Category]] = {}
    for cat in categories:
        children.setdefault(cat.parent_id, []).append(cat)
    rows: list[dict[str, Any]] = []
    counted: set[int | None] = set()
    for top in children.get(None, []):
        ids = {top.pk, *(c.pk for c in children.get(top.pk, []))}
        counted |= ids
        rows.append({"code": top.code, "names": _names(top), "level": 0, **tally(ids)})
        for child in children.get(top.pk, []):
            rows.append(
                {"code": child.code, "names": _names(child), "level": 1, **tally({child.pk})}
            )
    everything = {c for c, _k in counts}
    return {
        "kinds": kinds,
        "rows": rows,
        "uncategorised": tally({None}),
        "other": tally(everything - counted - {None}),
        "total": tally(everything),
    }


def _by_month(cases: Any, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    tz = timezone.get_current_timezone()
    counts: dict[tuple[str, str], int] = {}
    for row in (
        cases.annotate(month=TruncMonth("received_at", tzinfo=tz))
        .values("month", "kind")
        .annotate(n=Count("id"))
        .order_by()
    ):
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = (
                timezone.localtime(month, tz).date() if timezone.is_aware(month) else month.date()
            )
        counts[(f"{month:%Y-%m}", row["kind"])] = row["n"]
    months = []
    index = start.year * 12 + start.month - 1
    last = end.year * 12 + end.month - 1
    while index <= last:
        key = f"{index // 12:04d}-{index % 12 + 1:02d}"
        per_kind = {kind: n for (m, kind), n in counts.items() if m == key}
        months.append({"month": key, "kinds": per_kind, "total": sum(per_kind.values())})
        index += 1
    return months


def _satisfaction(since: dt.datetime, until: dt.datetime) -> list[dict[str, Any]]:
    """The latest campaigns' results (closed in the period, or still running)."""
    try:
        from qloop.surveys.models import Campaign
        from qloop.surveys.results import campaign_results
    except ImportError:
        return []
    campaigns = Campaign.objects.filter(opens_at__lt=until).exclude(closes_at__lt=since)
    out = []
    for campaign in campaigns.order_by("-opens_at", "-pk")[:LATEST_CAMPAIGNS]:
        r = campaign_results(campaign.pk, with_previous=True)
        prev = r.previous
        out.append(
            {
                "campaign": r.campaign_id,
                "title": r.title,
                "invited": r.invited,
                "answered": r.answered,
                "response_rate": r.response_rate,
                "csat": r.csat,
                "nps": r.nps,
                "previous_title": prev.title if prev else None,
                "previous_csat": prev.csat if prev else None,
                "previous_nps": prev.nps if prev else None,
            }
        )
    return out


def _survey_reports(since: dt.datetime) -> list[dict[str, Any]]:
    rows = []
    reports = SurveyReport.objects.filter(created_at__gte=since).order_by("-created_at")[:10]
    today = timezone.localdate()
    for report in reports:
        actions = list(report.actions.all())
        rows.append(
            {
                "id": report.pk,
                "number": report.number,
                "title": report.title,
                "state": report.state,
                "csat": report.results.get("csat"),
                "nps": report.results.get("nps"),
                "actions": len(actions),
                "open": sum(1 for a in actions if a.done_at is None),
                "overdue": sum(1 for a in actions if a.done_at is None and a.due < today),
            }
        )
    return rows


def _open_corrective_actions(today: dt.date) -> list[dict[str, Any]]:
    rows = []
    for ca in (
        CorrectiveAction.objects.filter(
            case__in=Case.objects.open().filter(profile=Profile.MANUFACTURER)
        )
        .select_related("case", "owner")
        .order_by("due", "case__number")[:200]
    ):
        rows.append(
            {
                "number": ca.case.number,
                "title": ca.case.title,
                "state": ca.case.state,
                "state_label": ca.case.state_label,
                "plan": ca.plan,
                "owner": ca.owner.printed_name if ca.owner else "",
                "due": ca.due.isoformat() if ca.due else None,
                "overdue": bool(ca.due and ca.due < today),
            }
        )
    return rows


def _open_improvement_actions(today: dt.date) -> list[dict[str, Any]]:
    return [
        {
            "report": a.report.number,
            "measure": a.measure,
            "owner": a.owner.printed_name,
            "department": _names(a.department),
            "due": a.due.isoformat(),
            "overdue": a.due < today,
        }
        for a in ImprovementAction.objects.open()
        .select_related("report", "owner", "department")
        .order_by("due", "id")[:200]
    ]
