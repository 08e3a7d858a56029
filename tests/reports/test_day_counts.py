"""The daily counts behind the dashboards' groupings (issue 13: "summaries kept as cases
change"): every registration, edit, re-classification and archiving moves them in the same
transaction, so they always equal a recount from the cases; the top problems, repeat problems
and trend read them only for people who see whole kinds, and agree with the cases."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import translation

from qloop.cases.actions import ProductData, archive_case, update_case
from qloop.cases.counts import rebuild
from qloop.cases.models import Case, CaseDayCount, Category
from qloop.org.models import Organisation, Profile, User
from qloop.reports.dashboards import cards_for, kinds_seen

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=TZ)


def _snapshot() -> dict[tuple[str, str, dt.date, str], int]:
    return {(r.dimension, r.value, r.day, r.kind): r.n for r in CaseDayCount.objects.all() if r.n}


@pytest.fixture
def changed(
    make_case: Callable[..., Any], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> list[Case]:
    """Cases registered on several days (one just after local midnight), then re-classified,
    moved to another model, given another time received, and one archived."""
    at(NOW)
    cat_1a, cat_2a = Category.objects.get(code="1A"), Category.objects.get(code="2A")
    cases = []
    for i, model in enumerate(["QL-VM4", "QL-VM4", "QL-M132", "", "QL-VM4"]):
        cases.append(
            make_case(
                received_at=NOW - dt.timedelta(days=i * 20),
                product=ProductData(model=model),
                category_code="1A" if i % 2 else "",
            )
        )
    # 00:30 in Beijing is the previous day in UTC: counted on the local day.
    cases.append(make_case(received_at=dt.datetime(2026, 12, 1, 0, 30, tzinfo=TZ)))
    qa = users["qa_head"]
    update_case(cases[0], {"category": cat_2a}, actor=qa, reason="重新分类")
    update_case(cases[1], {"category": cat_1a, "product.model": "QL-M132"}, actor=qa)
    update_case(cases[2], {"received_at": NOW - dt.timedelta(days=100)}, actor=qa)
    archive_case(cases[4], "重复登记", actor=qa)
    return cases


def test_the_counts_always_equal_a_recount_from_the_cases(changed: list[Case]) -> None:
    kept = _snapshot()
    assert kept[("kind", "", dt.date(2026, 12, 1), "complaint")] == 1
    assert ("model", "QL-VM4", (NOW - dt.timedelta(days=80)).date(), "complaint") not in kept
    rebuild()
    assert _snapshot() == kept


def _cards(user: User) -> dict[str, Any]:
    with translation.override("en"):
        return {card.code: out for card, out in cards_for(user, "quality", ("manufacturer",))}


def test_the_groupings_from_the_counts_agree_with_the_cases(
    changed: list[Case], users: dict[str, User], monkeypatch: pytest.MonkeyPatch
) -> None:
    qa = users["qa_head"]
    whole, part = kinds_seen(qa)
    assert "complaint" in whole and not part
    from_counts = _cards(qa)
    # The same cards counted over the cases, as for a person who sees part of the register.
    monkeypatch.setattr("qloop.reports.dashboards.kinds_seen", lambda user: (set(), whole))
    from_cases = _cards(qa)
    for code in ("top-problems", "repeats", "trend"):
        assert [(f.label, f.value, f.url) for f in from_counts[code].figures] == [
            (f.label, f.value, f.url) for f in from_cases[code].figures
        ], code
    assert from_counts["trend"].chart == from_cases["trend"].chart
    assert [f.value for f in from_counts["top-problems"].figures] == [2, 1]


def test_a_person_who_sees_part_of_the_register_is_counted_over_their_cases(
    changed: list[Case], users: dict[str, User]
) -> None:
    """Per-user visibility stays exact: Production sees its department's share, not the
    counts of every case; roles that see all see none of the pharmacy's cases."""
    whole, part = kinds_seen(users["prod"])
    assert not whole and "complaint" in part
    org = Organisation.current()
    org.profiles = [Profile.MANUFACTURER, Profile.PHARMACY]
    org.save()
    whole, part = kinds_seen(users["gm"])
    # The general manager sees every complaint, the ADR reports they made, no drug problem.
    assert "complaint" in whole and "adr" in part and "drug_feedback" not in whole | part
    figures = {f.label: f.value for f in _cards(users["prod"])["top-problems"].figures}
    assert (
        sum(figures.values())
        == Case.objects.filter(
            department__code="PROD", archived_at__isnull=True, category__isnull=False
        ).count()
    )


def test_two_instances_of_one_case_saved_in_turn_keep_the_counts_right(
    make_case: Callable[..., Any],
) -> None:
    """An instance loaded before another save (or saved with ``update_fields``) does not count
    the case under what it remembers: the row says what was counted."""
    case = make_case(category_code="1A")
    first, second = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    first.category = Category.objects.get(code="2A")
    first.save()
    second.archived_at = NOW
    second.save(update_fields=["archived_at"])
    kept = _snapshot()
    assert not any(k[0] == "category" for k in kept)
    rebuild()
    assert _snapshot() == kept


def test_a_save_of_fields_the_counts_do_not_read_costs_one_statement(
    make_case: Callable[..., Any],
) -> None:
    """A state or deadline change saved with ``update_fields`` (the engine's saves) neither
    reads the row twice nor moves a count, even from an instance older than the last save."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = make_case(category_code="1A")
    stale = Case.objects.get(pk=case.pk)
    fresh = Case.objects.get(pk=case.pk)
    fresh.category = Category.objects.get(code="2A")
    fresh.save()
    stale.state = "handling"
    with CaptureQueriesContext(connection) as queries:
        stale.save(update_fields=["state"])
    assert len([q for q in queries if "SAVEPOINT" not in q["sql"]]) == 1
    kept = _snapshot()
    assert (
        kept[
            (
                "category",
                str(fresh.category_id),
                fresh.received_at.astimezone(TZ).date(),
                "complaint",
            )
        ]
        == 1
    )
    rebuild()
    assert _snapshot() == kept
