"""The analysis page (issue 13, R2.10, R3.2, X5): what was received over a period, by category,
product model, customer or department; a Pareto of the problems; how long cases took to close
and how many deadlines were kept; the customers who came back.

Every number is an aggregate computed by the database over the period (``GROUP BY`` on indexed
columns); Python only arranges the few aggregate rows. Every bar and row links to the register
filtered to the cases it counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, FloatField, Q
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qloop.reports.dashboards import local_start, register_url, visible_cases

if TYPE_CHECKING:
    from qloop.cases.models import CaseQuerySet
    from qloop.org.models import User

DIMENSIONS = {
    "category": gettext_lazy("Category"),
    "model": gettext_lazy("Product model"),
    "customer": gettext_lazy("Customer"),
    "department": gettext_lazy("Owning department"),
}
TOP = 8


@dataclass
class Row:
    label: str
    value: int
    url: str
    share: float | None = None  # % of the total
    cumulative: float | None = None  # Pareto: % up to and including this row


@dataclass
class Analysis:
    total: int
    by_dimension: list[Row]
    over_time: dict[str, Any]  # an ECharts option
    pareto: list[Row]
    pareto_chart: dict[str, Any]
    closing: list[Row]
    clocks: list[dict[str, Any]]
    repeat_customers: list[Row]
    notes: list[str] = field(default_factory=list)


def _month_after(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    out, month = [], start.replace(day=1)
    while month <= end:
        out.append(month)
        month = _month_after(month)
    return out


def _dimension_key(dimension: str) -> str:
    return {
        "category": "category__code",
        "model": "product__model",
        "customer": "contact__organisation",
        "department": "department__code",
    }[dimension]


def _filter_for(dimension: str, key: str) -> dict[str, str]:
    return {
        "category": {"category": key},
        "model": {"model": key},
        "customer": {"organisation": key},
        "department": {"department": key},
    }[dimension]


def _labels(dimension: str, keys: list[str]) -> dict[str, str]:
    """Names for the few keys shown (categories and departments by code)."""
    if dimension == "category":
        from qloop.cases.models import Category

        return {c.code: str(c) for c in Category.objects.filter(code__in=keys)}
    if dimension == "department":
        from qloop.org.models import Department

        return {d.code: str(d) for d in Department.objects.filter(code__in=keys)}
    return {k: k for k in keys}


def analyse(
    user: User, start: dt.date, end: dt.date, *, dimension: str = "category", kind: str = ""
) -> Analysis:
    cases: CaseQuerySet = visible_cases(user).filter(
        received_at__gte=local_start(start), received_at__lt=local_start(end + dt.timedelta(days=1))
    )
    if kind:
        cases = cases.filter(kind=kind)
    period = {"received_from": start, "received_to": end, "kind": kind}
    key = _dimension_key(dimension)
    total = cases.count()

    # By the chosen dimension, largest first.
    rows = list(
        cases.exclude(**{f"{key}__isnull": True})
        .exclude(**{key: ""})
        .values(key)
        .annotate(n=Count("id"))
        .order_by("-n", key)[:TOP]
    )
    keys = [r[key] for r in rows]
    names = _labels(dimension, keys)
    by_dimension = [
        Row(
            names.get(r[key], r[key]),
            r["n"],
            register_url(**period, **_filter_for(dimension, r[key])),
            100 * r["n"] / total if total else None,
        )
        for r in rows
    ]

    # Over time: the top values per month, one grouped count per month.
    months = _months(start, end)
    series: dict[str, list[dict[str, Any]]] = {k: [] for k in keys}
    for month in months:
        month_end = min(_month_after(month), end + dt.timedelta(days=1))
        counts = dict(
            cases.filter(
                received_at__gte=local_start(max(month, start)),
                received_at__lt=local_start(month_end),
                **{f"{key}__in": keys},
            )
            .values_list(key)
            .annotate(n=Count("id"))
            .values_list(key, "n")
        )
        for k in keys:
            series[k].append(
                {
                    "value": counts.get(k, 0),
                    "url": register_url(
                        kind=kind,
                        received_from=max(month, start),
                        received_to=month_end - dt.timedelta(days=1),
                        **_filter_for(dimension, k),
                    ),
                }
            )
    over_time = {
        "tooltip": {"trigger": "axis", "renderMode": "richText"},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 40, "right": 16, "top": 40, "bottom": 28},
        "xAxis": {"type": "category", "data": [f"{m:%Y-%m}" for m in months]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {"name": names.get(k, k), "type": "bar", "stack": "all", "data": series[k]}
            for k in keys
        ],
    }

    # Pareto of problems: leaf categories, largest first, with the running share.
    from qloop.cases.models import Category

    problem_rows = list(
        cases.filter(category__isnull=False)
        .values("category_id")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    categories = {
        c.pk: c for c in Category.objects.filter(pk__in=[r["category_id"] for r in problem_rows])
    }
    classified = sum(r["n"] for r in problem_rows)
    pareto, running = [], 0
    for r in problem_rows:
        running += r["n"]
        cat = categories[r["category_id"]]
        pareto.append(
            Row(
                str(cat),
                r["n"],
                register_url(**period, category=cat.code),
                100 * r["n"] / classified,
                100 * running / classified,
            )
        )
    pareto_chart = {
        "tooltip": {"trigger": "axis", "renderMode": "richText"},
        "grid": {"left": 40, "right": 40, "top": 20, "bottom": 60, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": [p.label for p in pareto],
            "axisLabel": {"rotate": 30, "interval": 0},
        },
        "yAxis": [
            {"type": "value", "minInterval": 1},
            {"type": "value", "max": 100, "axisLabel": {"formatter": "{value}%"}},
        ],
        "series": [
            {
                "type": "bar",
                "name": str(_("Cases")),
                "data": [{"value": p.value, "url": p.url} for p in pareto],
            },
            {
                "type": "line",
                "name": str(_("Cumulative share")),
                "yAxisIndex": 1,
                "data": [round(p.cumulative or 0, 1) for p in pareto],
            },
        ],
    }

    return Analysis(
        total=total,
        by_dimension=by_dimension,
        over_time=over_time,
        pareto=pareto,
        pareto_chart=pareto_chart,
        closing=_closing(cases, period),
        clocks=_clocks(cases, period),
        repeat_customers=_repeat_customers(cases, period),
    )


CLOSE_BUCKETS = (
    (1, gettext_lazy("Within a day")),
    (2, gettext_lazy("Within 2 days")),
    (7, gettext_lazy("Within a week")),
    (30, gettext_lazy("Within 30 days")),
)


def _days_to_close() -> RawSQL:
    """Days from received to closed, computed by the database itself: Django's portable
    datetime arithmetic calls a Python function per row on SQLite (1.4 s for a year of
    100,000 cases); both engines have a native way."""
    if connection.vendor == "postgresql":
        sql = (
            'EXTRACT(EPOCH FROM ("cases_case"."closed_at" - "cases_case"."received_at")) / 86400.0'
        )
    else:
        sql = 'julianday("cases_case"."closed_at") - julianday("cases_case"."received_at")'
    return RawSQL(sql, [], output_field=FloatField())  # noqa: S611 - no user input in it


def _closing(cases: CaseQuerySet, period: dict[str, Any]) -> list[Row]:
    """How long the cases received in the period took to close: one conditional count per
    bucket, in one query."""
    closed = cases.filter(closed_at__isnull=False).annotate(days=_days_to_close())
    aggregates: dict[str, Any] = {"closed": Count("id")}
    for days, _label in CLOSE_BUCKETS:
        aggregates[f"d{days}"] = Count("id", filter=Q(days__lte=days))
    row = closed.aggregate(**aggregates)
    n = row["closed"] or 0
    out = [Row(str(_("Closed")), n, register_url(**period, state="closed"), None)]
    for days, label in CLOSE_BUCKETS:
        value = row[f"d{days}"] or 0
        out.append(Row(str(label), value, "", 100 * value / n if n else None))
    return out


def _clocks(cases: CaseQuerySet, period: dict[str, Any]) -> list[dict[str, Any]]:
    """For each deadline, of the clocks of the period's cases: kept, missed, still running."""
    from qloop.process.definitions import clock_label
    from qloop.process.models import Clock

    rows = (
        Clock.objects.filter(case__in=cases.values("pk"))
        .values("name")
        .annotate(
            n=Count("id"),
            breached=Count("id", filter=Q(breached_at__isnull=False)),
            kept=Count("id", filter=Q(breached_at__isnull=True, state="stopped")),
        )
        .order_by("name")
    )
    out = []
    for r in rows:
        n = r["n"]
        out.append(
            {
                "label": str(clock_label(r["name"])),
                "total": n,
                "kept": r["kept"],
                "kept_share": 100 * r["kept"] / n if n else None,
                "breached": r["breached"],
                "breached_share": 100 * r["breached"] / n if n else None,
                "open": n - r["kept"] - r["breached"],
                "breached_url": register_url(
                    **period, clock=r["name"], breached_from=dt.date(2000, 1, 1)
                ),
                "url": register_url(**period, clock=r["name"]),
            }
        )
    return out


def _repeat_customers(cases: CaseQuerySet, period: dict[str, Any]) -> list[Row]:
    """Customers (organisations) with two or more cases in the period."""
    rows = (
        cases.exclude(contact__organisation="")
        .exclude(contact__isnull=True)
        .values("contact__organisation")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
        .order_by("-n", "contact__organisation")[:15]
    )
    return [
        Row(
            r["contact__organisation"],
            r["n"],
            register_url(**period, organisation=r["contact__organisation"]),
        )
        for r in rows
    ]
