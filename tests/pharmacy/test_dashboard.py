"""The pharmacy's first page (issue 13): ADR report deadlines and the counterfeit cases still
open, each figure opening the register filtered to exactly what it counts; only while the
pharmacy profile is on, and only for the pharmacy."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import translation

from qloop.cases.actions import ContactData, Registration, register_case
from qloop.cases.filters import CaseFilter
from qloop.cases.models import Case
from qloop.org.models import Organisation, Profile
from qloop.process.models import Clock
from qloop.reports.dashboards import cards_for, home_board
from tests.pharmacy.conftest import adr_detail

pytestmark = pytest.mark.django_db


def _register(pharmacy: dict[str, Any], kind: str, detail: dict[str, Any], actor: str) -> Case:
    return register_case(
        Registration(
            kind=kind, channel="visit", contact=ContactData(name=""), symptom="", detail=detail
        ),
        actor=pharmacy[actor],
    )


def _counterfeit(pharmacy: dict[str, Any], batch: str) -> Case:
    return _register(
        pharmacy,
        "counterfeit",
        {
            "approval_number": pharmacy["drug"].approval_number,
            "manufacturer": pharmacy["drug"].manufacturer,
            "batch_number": batch,
            "where_found": "门诊药房",
            "how_found": "包装印刷模糊，与正品比对不一致。",
            "criteria": ["cf_passed_off"],
            "holds": [{"store": "药库", "quantity": 10, "unit": "盒"}],
        },
        "pharm",
    )


def _figures(user: Any) -> dict[str, Any]:
    with translation.override("en"):
        return {
            f.label: f
            for card, out in cards_for(user, "pharmacy", ("manufacturer", "pharmacy"))
            for f in out.figures
            if card.code.startswith("pharmacy-")
        }


def _register_count(url: str, user: Any) -> int:
    path, _, query = url.partition("?")
    assert path == reverse("case-list")
    return CaseFilter.from_query(QueryDict(query)).apply(Case.objects.all(), user).count()


def test_adr_deadlines_and_open_counterfeit_cases_agree_with_the_register(
    pharmacy: dict[str, Any],
) -> None:
    """R3.4, R3.6: two ADR reports to send, one of them past its deadline; two counterfeit
    cases open, one late for the regulator."""
    late = _register(pharmacy, "adr", adr_detail(pharmacy), "doctor")
    _register(pharmacy, "adr", adr_detail(pharmacy, reaction="瘙痒"), "doctor")
    Clock.objects.filter(case=late, name="adr_report").update(state="breached")
    cf = _counterfeit(pharmacy, "FAKE0001")
    _counterfeit(pharmacy, "FAKE0002")
    Clock.objects.filter(case=cf, name="counterfeit_report").update(state="breached")

    head = pharmacy["pharm_head"]
    figures = _figures(head)
    assert figures["ADR reports to send"].value == 2
    assert figures["Past the deadline"].value == 1
    assert figures["Counterfeit cases open"].value == 2
    assert figures["Report to the regulator late"].value == 1
    for figure in figures.values():
        assert figure.value == _register_count(figure.url, head), figure.label
    # The physician who reported sees only their own reports, and has no pharmacy board.
    assert home_board(pharmacy["doctor"], ("manufacturer", "pharmacy")) != "pharmacy"


@pytest.mark.parametrize("persona", ["pharm", "pharm_head", "adr_officer"])
def test_the_pharmacys_first_page_is_its_board(
    persona: str, client_as: Callable[[str], Client], pharmacy: dict[str, Any]
) -> None:
    html = client_as(persona).get("/").content.decode()
    assert re.search(r'class="btn btn-outline-primary active" href="/dashboard/pharmacy/', html)
    assert 'id="card-pharmacy-adr"' in html and 'id="card-pharmacy-counterfeit"' in html
    assert 'id="my-work-waiting"' in html


def test_without_the_pharmacy_profile_there_is_no_pharmacy_board(
    client_as: Callable[[str], Client], pharmacy: dict[str, Any]
) -> None:
    org = Organisation.current()
    org.profiles = [Profile.MANUFACTURER]
    org.save()
    client = client_as("pharm")
    assert client.get("/").status_code == 302
    assert client.get(reverse("dashboard-board", args=["pharmacy"])).status_code == 404
    # And nobody outside the pharmacy opens it.
    org.profiles = [Profile.MANUFACTURER, Profile.PHARMACY]
    org.save()
    assert client_as("cs").get(reverse("dashboard-board", args=["pharmacy"])).status_code == 403
