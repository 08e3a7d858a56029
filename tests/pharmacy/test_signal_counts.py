"""The signal table's pre-counted drug–reaction pairs (issue 10): kept by registration, edits
and archiving in their own transactions, always equal to a recount from the reports."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from qloop.cases.actions import ContactData, Registration, archive_case, register_case
from qloop.cases.models import Case
from qloop.pharmacy import counts
from qloop.pharmacy.actions import update_adr
from qloop.pharmacy.models import SignalPairMonth, SignalReactionMonth
from qloop.pharmacy.signals import signal_table
from tests.pharmacy.conftest import adr_detail

pytestmark = pytest.mark.django_db

NOW = dt.datetime.now(dt.UTC)
DAYS = (1, 1, 1, 35, 89, 91, 120)


def detail(pharmacy: dict[str, Any], reaction: str, generics: list[str], **more: Any) -> Any:
    return adr_detail(
        pharmacy,
        reaction=reaction,
        drugs=[
            *[{"role": "suspect", "generic_name": g} for g in generics],
            {"role": "concomitant", "generic_name": "维生素C"},
        ],
        **more,
    )


def report(pharmacy: dict[str, Any], reaction: str, generics: list[str], days_ago: int) -> Case:
    aware = (NOW - dt.timedelta(days=days_ago)).isoformat()
    return register_case(
        Registration(
            kind="adr",
            channel="visit",
            contact=ContactData(name=""),
            symptom="",
            detail=detail(pharmacy, reaction, generics, aware_at=aware),
        ),
        actor=pharmacy["pharm"],
    )


def snapshot() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    pairs = SignalPairMonth.objects.order_by("generic_name", "reaction", "month").values_list(
        "generic_name", "reaction", "month", "reports", "first_at", "last_at"
    )
    reactions = SignalReactionMonth.objects.order_by("reaction", "month").values_list(
        "reaction", "month", "reports"
    )
    return list(pairs), list(reactions)


def test_the_counts_follow_creates_edits_and_archives_and_equal_a_recount(
    pharmacy: dict[str, Any],
) -> None:
    """Issue 10 (signals): every change to a report moves the counts the signal table reads;
    the counts kept this way are exactly what a recount from the reports gives."""
    made = [
        report(pharmacy, "肝损伤", ["甲药"], 3),
        report(pharmacy, "肝损伤", ["甲药"], 5),
        report(pharmacy, "肝损伤", ["甲药", "乙药"], 40),
        report(pharmacy, "皮疹", ["甲药"], 70),
        report(pharmacy, "皮疹", ["乙药"], 2),
        report(pharmacy, "头晕", ["丙药"], 200),
        report(pharmacy, "头晕", ["丙药"], 201),
    ]
    assert counts.pair_months("甲药", "肝损伤")[-1][1] >= 1
    assert sum(n for _m, n in counts.pair_months("甲药", "肝损伤")) == 3
    first_counts = snapshot()
    # Edit: another reaction, and the report moved to another month.
    update_adr(
        made[0],
        detail(
            pharmacy,
            "皮疹",
            ["甲药"],
            aware_at=(NOW - dt.timedelta(days=100)).isoformat(),
        ),
        actor=pharmacy["pharm"],
    )
    # Edit: a second suspect drug added.
    update_adr(made[4], detail(pharmacy, "皮疹", ["乙药", "丙药"]), actor=pharmacy["pharm"])
    # Edit: only the time, within the month, of the report holding a pair's first report.
    update_adr(
        made[6],
        detail(pharmacy, "头晕", ["丙药"], aware_at=(NOW - dt.timedelta(days=199)).isoformat()),
        actor=pharmacy["pharm"],
    )
    # Archived: out of every count.
    archive_case(made[2], "重复登记", actor=pharmacy["pharm_head"])
    archive_case(made[5], "重复登记", actor=pharmacy["pharm_head"])
    kept = snapshot()
    assert kept != first_counts
    assert sum(n for _m, n in counts.pair_months("甲药", "肝损伤")) == 1
    assert sum(n for _m, n in counts.pair_months("丙药", "皮疹")) == 1
    assert sum(n for _m, n in counts.pair_months("乙药", "肝损伤")) == 0
    table = [(p.generic_name, p.reaction, p.a, p.b, p.c, p.d) for p in signal_table(min_reports=1)]

    out = StringIO()
    call_command("rebuild_signal_counts", stdout=out)
    assert "counted" in out.getvalue()
    assert snapshot() == kept
    assert [
        (p.generic_name, p.reaction, p.a, p.b, p.c, p.d) for p in signal_table(min_reports=1)
    ] == table


def test_the_signal_table_reads_the_counts_not_the_reports(pharmacy: dict[str, Any]) -> None:
    """Issue 10: the table is as the counts say (a report imported behind QLoop's back shows
    only after rebuild_signal_counts)."""
    # "Recent" is the last 90 days to the day, whole months from the counts and the rest of
    # the window's first month from the reports.
    for days in DAYS:
        report(pharmacy, "肝损伤", ["甲药"], days)
    assert [(p.generic_name, p.a, p.recent) for p in signal_table(now=NOW)] == [("甲药", 7, 5)]
    # Counts over time: the last 12 months, oldest first, on the table and on the page.
    (pair,) = signal_table(now=NOW)
    assert len(pair.months) == 12 and sum(n for _m, n in pair.months) == 7
    this_month = counts.month_of(NOW)
    in_this_month = [d for d in DAYS if counts.month_of(NOW - dt.timedelta(days=d)) == this_month]
    assert pair.months[-1] == (this_month, len(in_this_month))
    SignalPairMonth.objects.all().delete()
    SignalReactionMonth.objects.all().delete()
    assert signal_table() == []
    counts.rebuild()
    assert [(p.generic_name, p.a, p.recent) for p in signal_table(now=NOW)] == [("甲药", 7, 5)]
