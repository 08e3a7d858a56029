"""Dashboards per role (issue 13, R3.2, X5): every figure is counted by the database, agrees
with a total computed here by hand from the generated cases, and opens the register filtered
to exactly the cases it counts; each role sees its own board and no one else's."""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import translation

from qloop.capa.models import CorrectiveAction
from qloop.cases.filters import CaseFilter
from qloop.cases.models import Case
from qloop.org.models import Department, User
from qloop.process.models import Clock, Task
from qloop.reports.dashboards import cards_for

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=TZ)
THIS_MONTH = dt.datetime(2026, 12, 3, 9, 0, tzinfo=TZ)
LAST_MONTH = dt.datetime(2026, 11, 20, 9, 0, tzinfo=TZ)


@pytest.fixture
def generated(
    make_case: Callable[..., Any], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> list[Case]:
    """Twelve complaints in assorted states, with breaches this month and last, open and late
    tasks for Production, investigations and corrective actions."""
    at(NOW)
    cases = [make_case(received_at=NOW - dt.timedelta(days=i * 9)) for i in range(12)]
    prod = Department.objects.get(code="PROD")
    states = ["new", "new", "cs_review", "investigating", "investigating", "corrective_action"]
    states += ["implementing", "implementing", "standardising", "ready_to_close", "closed", "new"]
    for case, state in zip(cases, states, strict=True):
        Case.objects.filter(pk=case.pk).update(state=state)
    answer = Clock.objects.filter(name="customer_answer")
    answer.filter(case__in=cases[0:3]).update(state="breached", breached_at=THIS_MONTH)
    answer.filter(case__in=cases[3:5]).update(state="stopped", breached_at=LAST_MONTH)
    answer.filter(case=cases[10]).update(state="stopped", stopped_at=NOW)
    for case, state in ((cases[3], "running"), (cases[4], "breached")):
        Clock.objects.create(
            case=case,
            name="investigation",
            state=state,
            due_at=NOW + dt.timedelta(hours=8),
            breached_at=THIS_MONTH if state == "breached" else None,
        )
    Task.objects.create(
        case=cases[3], department=prod, title="复测", due=NOW.date(), created_by=users["qe"]
    )
    Task.objects.create(
        case=cases[5],
        department=prod,
        title="返修",
        due=NOW.date() - dt.timedelta(days=2),
        created_by=users["qe"],
    )
    CorrectiveAction.objects.create(case=cases[6], verification_result="ineffective")
    CorrectiveAction.objects.create(case=cases[7], verification_result="effective")
    return cases


def _register_count(url: str, user: User) -> int:
    parts = urlsplit(url)
    assert parts.path == reverse("case-list"), url
    flt = CaseFilter.from_query(QueryDict(parts.query))
    return flt.apply(Case.objects.all(), user).count()


def _figures(user: User, board: str) -> dict[str, dict[str, Any]]:
    out = {}
    with translation.override("en"):
        for card, data in cards_for(user, board, ("manufacturer",)):
            out[card.code] = {f.label: f for f in data.figures}
    return out


def test_every_figure_agrees_with_a_hand_count_and_with_the_register_it_opens(
    generated: list[Case], users: dict[str, User]
) -> None:
    gm, cs, qe = users["gm"], users["cs"], users["qe"]
    clocks = list(Clock.objects.all())

    def breached_in(start: dt.datetime, end: dt.datetime, name: str = "") -> int:
        return len(
            {
                c.case_id
                for c in clocks
                if c.breached_at and start <= c.breached_at < end and (not name or c.name == name)
            }
        )

    month = dt.datetime(2026, 12, 1, tzinfo=TZ)
    last = dt.datetime(2026, 11, 1, tzinfo=TZ)
    tomorrow = dt.datetime(2026, 12, 8, tzinfo=TZ)
    by_hand = {
        ("cs", "cs-today", "New"): sum(c.state == "new" for c in Case.objects.all()),
        ("cs", "cs-today", "Waiting for an answer"): len(
            {c.case_id for c in clocks if c.name == "customer_answer" and c.state != "stopped"}
        ),
        ("cs", "cs-today", "Breaches this month"): breached_in(month, tomorrow, "customer_answer"),
        ("cs", "cs-today", "Last month"): breached_in(last, month, "customer_answer"),
        ("management", "breaches", "Breaches this month"): breached_in(month, tomorrow),
        ("management", "breaches", "Last month"): breached_in(last, month),
        ("quality", "investigations", "Running"): 1,
        ("quality", "investigations", "Breached"): 1,
        ("quality", "corrective", "Implementing"): 2,
        ("quality", "corrective", "Effectiveness failed"): 1,
    }
    assert by_hand[("cs", "cs-today", "Breaches this month")] == 3
    assert by_hand[("management", "breaches", "Breaches this month")] == 4
    checked = 0
    for user, board in ((cs, "cs"), (gm, "management"), (qe, "quality")):
        figures = _figures(user, board)
        for card in figures.values():
            for figure in card.values():
                if figure.url.startswith(reverse("case-list")):
                    assert figure.value == _register_count(figure.url, user), figure
                    checked += 1
        for (b, card_code, label), expected in by_hand.items():
            if b == board:
                assert figures[card_code][label].value == expected, (card_code, label)
    assert checked >= 15


def test_a_department_head_sees_their_departments_tasks_and_the_late_ones(
    generated: list[Case], users: dict[str, User]
) -> None:
    prod = users["prod"]
    figures = _figures(prod, "department")["tasks"]
    assert figures["Cases with open tasks"].value == 2
    assert figures["With late tasks"].value == 1
    for figure in figures.values():
        if figure.url.startswith(reverse("case-list")):
            assert figure.value == _register_count(figure.url, prod)


def test_the_top_problems_and_the_trend_count_what_the_register_lists(
    generated: list[Case], users: dict[str, User]
) -> None:
    gm = users["gm"]
    for card, data in cards_for(gm, "management", ("manufacturer",)):
        if card.code == "trend":
            months = data.chart["series"][0]["data"] if data.chart else []
            assert (
                sum(p["value"] for p in months)
                == Case.objects.filter(
                    kind="complaint", received_at__gte=dt.datetime(2026, 1, 1, tzinfo=TZ)
                ).count()
            )
            for point in months:
                assert point["value"] == _register_count(point["url"], gm)


@pytest.mark.parametrize(
    ("persona", "board", "others_refused"),
    [
        ("gm", "management", []),
        ("qa_head", "quality", ["management"]),
        ("cs", "cs", ["management"]),
        ("prod", "department", ["management", "quality", "cs"]),
    ],
)
def test_each_role_lands_on_its_own_board_and_may_not_open_the_others(
    persona: str,
    board: str,
    others_refused: list[str],
    generated: list[Case],
    client_for: Callable[[str], Client],
) -> None:
    client = client_for(persona)
    page = client.get(reverse("dashboard"))
    html = page.content.decode()

    assert page.status_code == 200
    assert f'href="{reverse("dashboard-board", args=[board])}"' in html
    assert re.search(r'class="btn btn-outline-primary active" href="/dashboard/' + board, html)
    assert "<script>" not in html  # charts are drawn by static/qloop/charts.js (CSP)
    for other in others_refused:
        assert client.get(reverse("dashboard-board", args=[other])).status_code == 403


def test_the_charts_data_is_json_for_the_static_script(
    generated: list[Case], client_for: Callable[[str], Client]
) -> None:
    html = client_for("gm").get(reverse("dashboard")).content.decode()
    found = re.findall(
        r'<script id="(chart-[\w-]+-data)" type="application/json">(.*?)</script>', html
    )
    assert found
    for _id, data in found:
        assert "series" in json.loads(data)
    assert "vendor/echarts-6.1.0/echarts.min.js" in html


def test_a_profile_plugs_in_its_own_cards(users: dict[str, User]) -> None:
    """The registry: a card of a profile that is off does not show."""
    admin = users["admin"]
    on = {card.code for card, _ in cards_for(admin, "management", ("manufacturer", "clinical"))}
    off = {card.code for card, _ in cards_for(admin, "management", ("manufacturer",))}
    assert {"clinical-findings", "clinical-timeliness"} <= on
    assert not {"clinical-findings", "clinical-timeliness"} & off
