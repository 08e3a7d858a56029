"""The analysis page (issue 13, R2.10, R3.2): counts by category, model, customer and
department over time, a Pareto of the problems, time to close, deadlines kept and repeat
customers; every figure agrees with a count made here by hand and with the register it opens."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from qloop.cases.actions import ContactData, ProductData
from qloop.cases.filters import CaseFilter
from qloop.cases.models import Case, Category
from qloop.org.models import User
from qloop.process.models import Clock
from qloop.reports.analysis import analyse

pytestmark = pytest.mark.django_db
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=TZ)
PHONES = {"苏州恒通水务有限公司": "13800138001", "无锡市自来水公司": "13800138002"}
PHONES["常州新北水厂"] = "13800138003"


@pytest.fixture
def generated(
    make_case: Callable[..., Any], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> list[Case]:
    at(NOW)
    leaves = list(Category.objects.filter(parent__isnull=False).order_by("code")[:3])
    plan = [  # (days ago, model, organisation, category index)
        (3, "QL-CP50", "苏州恒通水务有限公司", 0),
        (5, "QL-CP50", "苏州恒通水务有限公司", 0),
        (40, "QL-CP65", "无锡市自来水公司", 1),
        (70, "QL-CP50", "苏州恒通水务有限公司", 0),
        (100, "QL-CP80", "无锡市自来水公司", 2),
        (130, "QL-CP65", "常州新北水厂", 1),
    ]
    cases = []
    for days, model, org, cat in plan:
        case = make_case(
            received_at=NOW - dt.timedelta(days=days),
            product=ProductData(specification="50-160", model=model, quantity=1, serial_number=""),
            # One contact per customer (a returning phone number is the same contact).
            contact=ContactData(name=org[:2], phone=PHONES[org], organisation=org),
        )
        Case.objects.filter(pk=case.pk).update(category=leaves[cat])
        cases.append(case)
    # Two closed: one in a day, one in ten days; one answer clock missed.
    Case.objects.filter(pk=cases[2].pk).update(
        state="closed", closed_at=cases[2].received_at + dt.timedelta(hours=20)
    )
    Case.objects.filter(pk=cases[4].pk).update(
        state="closed", closed_at=cases[4].received_at + dt.timedelta(days=10)
    )
    Clock.objects.filter(case=cases[3]).update(state="breached", breached_at=NOW)
    Clock.objects.filter(case=cases[2]).update(state="stopped", stopped_at=NOW)
    return cases


def _count(url: str, user: User) -> int:
    parts = urlsplit(url)
    return CaseFilter.from_query(QueryDict(parts.query)).apply(Case.objects.all(), user).count()


@pytest.mark.parametrize("dimension", ["category", "model", "customer", "department"])
def test_each_dimension_agrees_with_a_hand_count_and_the_register(
    dimension: str, generated: list[Case], users: dict[str, User]
) -> None:
    gm = users["gm"]
    start, end = dt.date(2026, 1, 1), NOW.date()
    result = analyse(gm, start, end, dimension=dimension)
    everything = list(Case.objects.select_related("product", "contact", "category", "department"))
    by_hand = Counter(
        {
            "category": lambda c: str(c.category) if c.category else None,
            "model": lambda c: c.product.model,
            "customer": lambda c: c.contact.organisation,
            "department": lambda c: str(c.department),
        }[dimension](c)
        for c in everything
    )
    assert result.total == len(everything) == 6
    for row in result.by_dimension:
        assert row.value == by_hand[row.label]
        assert row.value == _count(row.url, gm)
    for serie in result.over_time["series"]:
        assert sum(p["value"] for p in serie["data"]) == by_hand[serie["name"]]
        for point in serie["data"]:
            assert point["value"] == _count(point["url"], gm)


def test_the_pareto_is_largest_first_and_ends_at_the_whole(
    generated: list[Case], users: dict[str, User]
) -> None:
    result = analyse(users["gm"], dt.date(2026, 1, 1), NOW.date())
    assert [r.value for r in result.pareto] == [3, 2, 1]
    assert result.pareto[-1].cumulative == pytest.approx(100)
    assert result.pareto[0].value == _count(result.pareto[0].url, users["gm"])


def test_time_to_close_deadlines_kept_and_repeat_customers(
    generated: list[Case], users: dict[str, User]
) -> None:
    gm = users["gm"]
    result = analyse(gm, dt.date(2026, 1, 1), NOW.date())
    closing = {r.label: r.value for r in result.closing}
    assert list(closing.values())[:3] == [2, 1, 1]  # closed, within a day, within 2 days
    answer = next(c for c in result.clocks if c["total"] == 6)
    assert (answer["kept"], answer["breached"], answer["open"]) == (1, 1, 4)
    assert _count(answer["breached_url"], gm) == 1
    repeat = {r.label: r.value for r in result.repeat_customers}
    assert repeat == {"苏州恒通水务有限公司": 3, "无锡市自来水公司": 2}
    for row in result.repeat_customers:
        assert row.value == _count(row.url, gm)


def test_the_page_is_for_those_who_see_every_case(
    generated: list[Case], client_for: Callable[[str], Client]
) -> None:
    page = client_for("gm").get(reverse("analysis"), {"by": "model"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="pareto"' in html and "chart-time-data" in html and "<script>" not in html
    assert client_for("prod").get(reverse("analysis")).status_code == 403
    bad = client_for("gm").get(reverse("analysis"), {"from": "someday"})
    assert bad.status_code == 422
