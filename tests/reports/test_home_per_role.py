"""The first page per role (issue 13, R3.2): ``/`` shows the person's own dashboard when their
role has one — the general manager's, Quality's, CS's, a department head's — and My work
otherwise; the board says how much waits in My work and links to it, and the menu keeps both."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from qloop.org.models import User
from qloop.reports.dashboards import home_board

pytestmark = pytest.mark.django_db

BADGE = re.compile(r'href="/my-work/">[^<]*<span class="badge text-bg-light">(\d+)</span>')
WAITING = re.compile(r'id="my-work-waiting-count">(\d+)<')


@pytest.mark.parametrize(
    ("persona", "board"),
    [
        ("gm", "management"),
        ("admin", "management"),
        ("qa_head", "quality"),
        ("qe", "quality"),
        ("cs", "cs"),
        ("cs_head", "cs"),
        ("sales", "department"),  # heads the supply and sales department (manages its cases)
    ],
)
def test_the_first_page_is_the_persons_own_board(
    persona: str, board: str, client_for: Callable[[str], Client], make_case: Any
) -> None:
    """R3.2: the general manager, Quality, CS and department heads land on their board; the
    nav still has My work, and the board says how many items wait there, with a link."""
    make_case()  # a new complaint: it waits for CS
    client = client_for(persona)
    page = client.get("/")
    html = page.content.decode()

    assert page.status_code == 200
    assert re.search(r'class="btn btn-outline-primary active" href="/dashboard/' + board, html)
    assert 'id="my-work-waiting"' in html and f'href="{reverse("my-work")}"' in html
    badge = BADGE.search(html)
    waiting = WAITING.search(html)
    assert badge and waiting and badge.group(1) == waiting.group(1)
    # The menu keeps both.
    assert f'href="{reverse("dashboard")}"' in html


def test_cs_sees_on_the_board_the_new_case_waiting_in_my_work(
    client_for: Callable[[str], Client], make_case: Any
) -> None:
    make_case()
    make_case()
    html = client_for("cs").get("/").content.decode()
    waiting = WAITING.search(html)
    assert waiting and int(waiting.group(1)) >= 2
    assert "我的待办" in html  # the default language


def test_someone_without_a_board_of_their_own_lands_on_my_work(
    client_for: Callable[[str], Client], users: dict[str, User]
) -> None:
    """A member of Production (no head, no board of their own) loses nothing: My work."""
    page = client_for("prod").get("/")
    assert page.status_code == 302 and page["Location"] == reverse("my-work")
    assert home_board(users["prod"]) is None
    # The department board is still there from the menu.
    assert client_for("prod").get(reverse("dashboard")).status_code == 200


def test_login_lands_on_the_first_page(users: dict[str, User]) -> None:
    from tests.conftest import PASSWORD

    client = Client()
    page = client.post(reverse("login"), {"username": "qa_head", "password": PASSWORD}, follow=True)
    assert page.redirect_chain[-1][0] == reverse("home")
    assert 'id="card-investigations"' in page.content.decode()
