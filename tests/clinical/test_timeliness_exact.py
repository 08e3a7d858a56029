"""The timeliness figures (R5.5, X5, issue 11) are exact: on PostgreSQL they are computed from
counts per group and seconds (no sort of the period's findings) and must equal, figure for
figure, the live computation with ``percentile_disc`` and ``count(*) FILTER``; on both
databases the nearest-rank percentile picks the same finding's time as the definition."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from qloop.clinical import timeliness
from qloop.clinical.models import Finding


def _live(group_column: str, start: dt.datetime, end: dt.datetime) -> dict[Any, tuple[Any, ...]]:
    """The figures as the first version computed them, in one SQL statement (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {group_column}, count(*), count(ack_seconds), "  # noqa: S608
            "count(*) FILTER (WHERE ack_seconds <= limit_minutes * 60), "
            "percentile_disc(0.5) WITHIN GROUP (ORDER BY ack_seconds), "
            "percentile_disc(0.9) WITHIN GROUP (ORDER BY ack_seconds) "
            "FROM clinical_finding WHERE reported_at >= %s AND reported_at < %s "
            f"GROUP BY {group_column}",
            [start, end],
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_the_figures_equal_the_live_computation(
    hospital: dict[str, Any], report: Callable[..., Any]
) -> None:
    """X5: counts, on time, late, unacknowledged, median and p90 per department, test and
    ordering department, with ties, unacknowledged findings and two different limits."""
    rng = random.Random(11)
    tests = ["K", "NA", "GLU"]
    for i in range(31):
        _entry, (case, *_more) = report(
            result_value="2.0",
            abnormal_flag="HH",
            test_code=tests[i % 3],
            test_name=f"{tests[i % 3]} name",
            patient_id=f"P{i}",
            ordering_department=["IM", "SURG"][i % 2],
            ward="",
        )
        seconds = None if i % 7 == 3 else rng.choice([30, 60, 60, 300, 600, 900, 901, 1800])
        Finding.objects.filter(case=case).update(
            ack_seconds=seconds, limit_minutes=15 if i % 4 else 30
        )
    now = dt.datetime.now(dt.UTC)
    start, end = now - dt.timedelta(days=1), now + dt.timedelta(days=1)
    for group, column in (
        ("register", "register_id"),
        ("test", "test_code"),
        ("ordering_department", "ordering_department_id"),
    ):
        rows = timeliness.figures(start, end, group=group)
        assert sum(r.total for r in rows) == 31
        if group == "test":  # each test under its own name
            assert {r.key: r.label for r in rows} == {t: f"{t} name" for t in tests}
        if connection.vendor != "postgresql":
            continue
        live = _live(column, start, end)
        assert len(rows) == len(live)
        by_total = sorted(
            (total, acked, on_time, median, p90)
            for total, acked, on_time, median, p90 in live.values()
        )
        ours = sorted(
            (
                r.total,
                r.acknowledged,
                r.on_time,
                None if r.median_seconds is None else int(r.median_seconds),
                None if r.p90_seconds is None else int(r.p90_seconds),
            )
            for r in rows
        )
        assert ours == by_total, group


def test_nearest_rank_is_the_value_at_row_ceil_fraction_times_n() -> None:
    """The percentile is a time some finding really took: the ceil(p × n)-th in order."""
    rng = random.Random(5)
    for n in range(1, 400):
        values = sorted(rng.choice(range(0, 3000, 30)) for _ in range(n))
        counts: dict[int, int] = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        for fraction in (0.5, 0.9):
            expected = values[max(1, math.ceil(fraction * n)) - 1]
            assert timeliness._nearest_rank(counts, n, fraction) == expected
    assert timeliness._nearest_rank({}, 0, 0.5) is None
