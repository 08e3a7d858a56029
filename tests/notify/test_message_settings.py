"""The page where a person chooses where messages reach them: /account/messages/ (X6)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from qloop.notify.actions import notify
from qloop.notify.models import Message, MessagePreference, Notification
from qloop.notify.preferences import personal_kinds
from qloop.org.models import User

pytestmark = pytest.mark.django_db

URL = reverse("message-settings")
TASK = {"number": "QC-2026-000123", "title": "复测同批次产品"}


def said(response: Any, text: str) -> int:
    """How often the page says ``text`` (in the page's language)."""
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        return int(response.content.decode().count(gettext(text)))


def everything(email: str = "prod.new@example.com", **changes: Any) -> dict[str, Any]:
    """A complete form: the bell for every kind, e-mail for tasks only, quiet hours at night."""
    data: dict[str, Any] = {kind: ["app"] for kind in personal_kinds()}
    data["task_assigned"] = ["app", "email"]
    data |= {"email": email, "quiet_from": "22:00", "quiet_to": "07:30"}
    data.update(changes)
    return data


@pytest.fixture
def prod(client_for: Callable[[str], Client], users: dict[str, User]) -> Client:
    return client_for("prod")


def test_the_page_needs_a_login(users: dict[str, User]) -> None:
    client = Client()

    for response in (client.get(URL), client.post(URL, everything())):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not MessagePreference.objects.exists()


def test_the_page_shows_the_defaults(prod: Client) -> None:
    """X6: before any choice, a task comes by bell and e-mail, a step on a case by bell only;
    the address on file is shown."""
    page = prod.get(URL).content.decode()

    checked = {
        (kind, channel)
        for kind in personal_kinds()
        for channel in ("app", "email")
        if _checked(page, kind, channel)
    }
    assert ("task_assigned", "app") in checked and ("task_assigned", "email") in checked
    assert ("transition", "app") in checked and ("transition", "email") not in checked
    assert 'value="prod@example.com"' in page


def _checked(page: str, kind: str, channel: str) -> bool:
    start = page.index(f'name="{kind}" value="{channel}"')
    return page[start : page.index(">", start)].endswith(" checked")


def test_saving_the_choice_changes_where_messages_go(prod: Client, users: dict[str, User]) -> None:
    """X6: the person takes tasks in the app only and approvals also by e-mail, at a new
    address, with quiet hours; the page keeps the choice, and the next messages follow it."""
    data = everything(task_assigned=["app"], approval_requested=["app", "email"])

    response = prod.post(URL, data, follow=True)

    assert response.redirect_chain == [(URL, 302)]
    assert said(response, "Your message settings are saved.") == 1
    pref = MessagePreference.objects.get(user=users["prod"])
    assert pref.channels["task_assigned"] == ["app"]
    assert pref.channels["approval_requested"] == ["app", "email"]
    assert (pref.quiet_from, pref.quiet_to) == (dt.time(22, 0), dt.time(7, 30))
    page = response.content.decode()
    assert 'value="22:00"' in page and 'value="07:30"' in page
    assert not _checked(page, "task_assigned", "email")
    assert _checked(page, "approval_requested", "email")

    prod_user = User.objects.get(pk=users["prod"].pk)
    assert prod_user.email == "prod.new@example.com"
    notify([prod_user], kind="task_assigned", data=TASK)
    notify([prod_user], kind="approval_requested", data=TASK, urgent=True)
    assert list(Message.objects.values_list("kind", "address")) == [
        ("approval_requested", "prod.new@example.com")
    ]
    assert Notification.objects.filter(user=prod_user).count() == 2


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"quiet_from": "25:00"}, "quiet_from", "Enter a time as HH:MM."),
        ({"quiet_to": "half past seven"}, "quiet_to", "Enter a time as HH:MM."),
        ({"quiet_to": ""}, "quiet_to", "Give both ends of the quiet hours, or neither."),
        ({"email": "prod@"}, "email", "Enter a valid e-mail address."),
        ({"email": ""}, "email", "Give an e-mail address to receive messages by e-mail."),
        (
            {"email": "", "approval_requested": ["app", "email"], "clock_breached": ["email"]},
            "email",
            "Give an e-mail address to receive messages by e-mail.",
        ),
    ],
)
def test_a_mistake_saves_nothing_and_says_what_is_wrong(
    prod: Client, users: dict[str, User], changes: dict[str, str], field: str, error: str
) -> None:
    """X6: a bad time, half of the quiet hours, a bad address, or e-mail chosen without an
    address: the page says so once beside the field, keeps what was typed, and saves nothing."""
    data = everything(**changes)

    response = prod.post(URL, data)

    assert response.status_code == 200
    assert said(response, "Nothing was saved; see the marked fields.") == 1
    assert said(response, error) == 1
    assert f'is-invalid" type="{"email" if field == "email" else "time"}" name="{field}"' in (
        response.content.decode()
    )
    assert f'value="{data[field]}"' in response.content.decode()
    assert not MessagePreference.objects.exists()
    assert User.objects.get(pk=users["prod"].pk).email == "prod@example.com"


def test_clearing_email_everywhere_allows_no_address(prod: Client, users: dict[str, User]) -> None:
    """X6: a person who wants no e-mail at all may leave the address empty."""
    data = everything(email="", task_assigned=["app"])

    assert prod.post(URL, data).status_code == 302

    assert User.objects.get(pk=users["prod"].pk).email == ""
    assert MessagePreference.objects.get(user=users["prod"]).quiet_from == dt.time(22, 0)
