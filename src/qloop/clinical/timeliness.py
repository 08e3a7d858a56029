"""Timeliness of findings fed back to clinicians, computed by the database (R5.5, X5).

The figures China's clinical laboratory quality indicators ask for: 危急值通报率 (the share of
findings acknowledged at all) and 危急值通报及时率 (the share acknowledged within the limit),
with the median and 90th percentile time from report to acknowledgement and the counts of late
and unacknowledged findings, per department, test or ordering department, for a period.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, QuerySet

from qloop.clinical.models import Finding

GROUPS = {
    "register": ("register__code", "register__name"),
    "test": ("test_code", "test_name"),
    "ordering_department": ("ordering_department__code", "ordering_department__name"),
}


@dataclass
class Row:
    """One line of the table."""

    key: str
    label: str
    total: int
    acknowledged: int
    on_time: int
    late: int
    unacknowledged: int
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def ack_rate(self) -> float | None:
        return 100 * self.acknowledged / self.total if self.total else None

    @property
    def on_time_rate(self) -> float | None:
        return 100 * self.on_time / self.total if self.total else None


def findings_in(
    start: dt.datetime, end: dt.datetime, *, register: str = "", kind: str = ""
) -> QuerySet[Finding]:
    qs = Finding.objects.filter(reported_at__gte=start, reported_at__lt=end)
    if register:
        qs = qs.filter(register__code=register)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def on_time_q() -> Q:
    return Q(ack_seconds__isnull=False, ack_seconds__lte=F("limit_minutes") * 60)


def figures(
    start: dt.datetime,
    end: dt.datetime,
    *,
    group: str = "register",
    register: str = "",
    kind: str = "",
) -> list[Row]:
    """The table for a period: counts by aggregate, percentiles by the database's own means."""
    key_field, label_field = GROUPS[group]
    qs = findings_in(start, end, register=register, kind=kind)
    if connection.vendor == "postgresql":
        return _postgresql(qs, group)
    counts = (
        qs.values(key_field, label_field)
        .annotate(
            total=Count("pk"),
            acknowledged=Count("pk", filter=Q(ack_seconds__isnull=False)),
            on_time=Count("pk", filter=on_time_q()),
        )
        .order_by(key_field)
    )
    percentiles = _percentiles(qs, key_field)
    rows = []
    for c in counts:
        key = c[key_field] or ""
        median, p90 = percentiles.get(key, (None, None))
        rows.append(
            Row(
                key=key,
                label=c[label_field] or "—",
                total=c["total"],
                acknowledged=c["acknowledged"],
                on_time=c["on_time"],
                late=c["acknowledged"] - c["on_time"],
                unacknowledged=c["total"] - c["acknowledged"],
                median_seconds=median,
                p90_seconds=p90,
            )
        )
    return rows


# The column each grouping reads on the finding itself, and where its label comes from: one
# scan of the findings, no join, the few labels looked up afterwards.
_COLUMNS = {
    "register": "register_id",
    "test": "test_code",
    "ordering_department": "ordering_department_id",
}


def _postgresql(qs: QuerySet[Finding], group: str) -> list[Row]:
    """Counts and percentiles in one pass over the period's findings (PostgreSQL), without
    a sort: the database counts the findings per group, seconds to acknowledgement and limit
    (a hash aggregate: a few thousand rows for a million findings, as the seconds are whole
    and bounded in practice), and the percentiles are read off those exact counts here. They
    are nearest-rank, exactly what ``percentile_disc`` gives (``_nearest_rank``): a time some
    finding really took. ``percentile_disc`` sorted the million rows on disk, 1.5–5 s."""
    column = _COLUMNS[group]
    # A test's name comes with its counts (a second scan for the names cost as much again).
    named = group == "test"
    fields = [column, "ack_seconds", "limit_minutes", *(["test_name"] if named else [])]
    sql, params = qs.values(*fields).query.sql_with_params()
    query = (
        f"SELECT k, {'n' if named else 'NULL'}, s, m, count(*) FROM ("  # noqa: S608
        f"{sql}) AS t(k, s, m{', n' if named else ''}) GROUP BY 1, 2, 3, 4"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        counted = cursor.fetchall()
    groups: dict[Any, list[tuple[Any, Any, int]]] = {}
    names: dict[Any, dict[str, int]] = {}
    for key, label, seconds, minutes, n in counted:
        groups.setdefault(key, []).append((seconds, minutes, n))
        if group == "test":
            seen = names.setdefault(key, {})
            seen[label] = seen.get(label, 0) + n
    if group == "test":  # the name most of the period's findings of the test carry
        labels = {
            k: (k or "", min(seen, key=lambda t: (-seen[t], t or "")) or "—")
            for k, seen in names.items()
        }
    else:
        labels = _labels(group, list(groups))
    rows = []
    for key, cells in groups.items():
        total = sum(n for _s, _m, n in cells)
        times: dict[int, int] = {}
        on_time = 0
        for seconds, minutes, n in cells:
            if seconds is None:
                continue
            times[seconds] = times.get(seconds, 0) + n
            if minutes is not None and seconds <= minutes * 60:
                on_time += n
        acked = sum(times.values())
        code, label = labels.get(key, (str(key or ""), "—"))
        rows.append(
            Row(
                key=code,
                label=label,
                total=total,
                acknowledged=acked,
                on_time=on_time,
                late=acked - on_time,
                unacknowledged=total - acked,
                median_seconds=_nearest_rank(times, acked, 0.5),
                p90_seconds=_nearest_rank(times, acked, 0.9),
            )
        )
    return sorted(rows, key=lambda r: r.key)


def _nearest_rank(counts: dict[int, int], n: int, fraction: float) -> float | None:
    """The value ``percentile_disc(fraction)`` returns over ``n`` values given as value →
    how many: the value at row ceil(fraction × n) in order (PostgreSQL's own arithmetic,
    in double precision, so that the two never differ by a row)."""
    if n == 0:
        return None
    wanted = max(1, math.ceil(fraction * n))
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= wanted:
            return float(value)
    return float(max(counts))


def _labels(group: str, keys: list[Any]) -> dict[Any, tuple[str, str]]:
    from qloop.clinical.models import ClinicalRegister
    from qloop.org.models import Department

    if group == "register":
        return {r.pk: (r.code, r.name) for r in ClinicalRegister.objects.filter(pk__in=keys)}
    if group == "ordering_department":
        return {d.pk: (d.code, d.name) for d in Department.objects.filter(pk__in=keys)}
    names = dict(
        Finding.objects.filter(test_code__in=[k for k in keys if k])
        .order_by()
        .values_list("test_code", "test_name")
        .distinct()
    )
    return {k: (k or "", names.get(k, k) or "—") for k in keys}


def _percentiles(
    qs: QuerySet[Finding], key_field: str
) -> dict[str, tuple[float | None, float | None]]:
    """Median and 90th percentile of the seconds to acknowledgement, per group, on SQLite
    (which has no percentile aggregate): a window numbers the acknowledged findings of each
    group in order and the nearest ranks are picked out, as ``percentile_disc`` does on
    PostgreSQL."""
    acked = qs.filter(ack_seconds__isnull=False).values(key_field, "ack_seconds")
    sql, params = acked.query.sql_with_params()
    return _sqlite_percentiles(sql, params)


def _sqlite_percentiles(sql: str, params: Any) -> dict[str, tuple[float | None, float | None]]:
    # Nearest-rank percentiles: the first value whose rank reaches half (nine tenths) of n.
    inner = f"SELECT q.* FROM ({sql}) AS q"  # noqa: S608 - the ORM's own SQL
    query = (
        "SELECT k, MIN(CASE WHEN rn * 2 >= n THEN s END), "  # noqa: S608
        "MIN(CASE WHEN rn * 10 >= n * 9 THEN s END) FROM ("
        "SELECT c0 AS k, c1 AS s, ROW_NUMBER() OVER (PARTITION BY c0 ORDER BY c1) AS rn, "
        "COUNT(*) OVER (PARTITION BY c0) AS n FROM ("
        f"WITH t(c0, c1) AS ({inner}) SELECT * FROM t)) GROUP BY k"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return {row[0] or "": (_f(row[1]), _f(row[2])) for row in cursor.fetchall()}


def _f(value: Any) -> float | None:
    return float(value) if value is not None else None


def total(rows: list[Row]) -> Row:
    """The whole period, summed from the rows (percentiles are not summable: left out)."""
    return Row(
        key="",
        label="",
        total=sum(r.total for r in rows),
        acknowledged=sum(r.acknowledged for r in rows),
        on_time=sum(r.on_time for r in rows),
        late=sum(r.late for r in rows),
        unacknowledged=sum(r.unacknowledged for r in rows),
        median_seconds=None,
        p90_seconds=None,
    )
