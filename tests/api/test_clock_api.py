"""Pausing and resuming deadlines through the REST API (X3).

``POST /api/v1/cases/{number}/clocks/{name}/pause`` with ``{"reason": "…"}`` and ``…/resume``;
the answer is the case with its clocks; refusals are JSON: 403 for who may only read the case,
404 for who cannot see it (or a deadline the case has not got), 409 for a deadline that is not
running, 422 naming ``reason`` when it is missing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from qloop.cases.models import Case, Event
from qloop.org.models import ApiToken, User
from qloop.process import clocks
from qloop.process.engine import take_transition
from tests.clocktime import DUE, HOUR, T0, answer_clock

pytestmark = pytest.mark.usefixtures("calendar_days")

WAITING = "等待客户提供现场照片"


class Api:
    """An API client that sends one persona's Bearer token."""

    def __init__(self, raw_token: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw_token}", "Accept-Language": "en"}

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(
            f"/api/v1{path}",
            json.dumps(body),
            content_type="application/json",
            headers=self.headers,
            secure=True,
        )


@pytest.fixture
def api(users: dict[str, User]) -> Callable[[str], Api]:
    def make(persona: str) -> Api:
        users[persona].language = "en"
        users[persona].save(update_fields=["language"])
        _token, raw = ApiToken.issue(users[persona], "t")
        return Api(raw)

    return make


def pause(api: Api, case: Case, body: dict[str, Any], name: str = "customer_answer") -> Any:
    return api.post(f"/cases/{case.number}/clocks/{name}/pause", body)


def resume(api: Api, case: Case, body: dict[str, Any] | None = None) -> Any:
    return api.post(f"/cases/{case.number}/clocks/customer_answer/resume", body or {})


def shown(response: Any) -> dict[str, Any]:
    [c] = [c for c in response.json()["clocks"] if c["name"] == "customer_answer"]
    return c  # type: ignore[no-any-return]


@pytest.mark.parametrize("who", ["cs", "cs_head"])
def test_the_handler_or_a_manager_pauses_and_resumes_through_the_api(
    complaint: Case, api: Callable[[str], Api], at: Callable[[dt.datetime], None], who: str
) -> None:
    """X3: 200 with the case; the clock shows as paused, then running with the due time moved
    by the 4 hours paused; both steps are on the timeline with the reason."""
    at(T0 + HOUR)
    response = pause(api(who), complaint, {"reason": WAITING})
    assert response.status_code == 200, response.content
    assert shown(response)["state"] == "paused"
    assert response.json()["number"] == complaint.number
    assert Event.objects.get(case=complaint, verb="clock_paused").comment == WAITING

    at(T0 + 5 * HOUR)
    response = resume(api(who), complaint, {"reason": "照片已收到"})
    assert response.status_code == 200, response.content
    clock = shown(response)
    assert clock["state"] == "running"
    assert dt.datetime.fromisoformat(clock["due_at"]) == DUE + 4 * HOUR
    assert Event.objects.get(case=complaint, verb="clock_resumed").comment == "照片已收到"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "  "}])
def test_a_pause_without_reason_is_422_naming_the_reason(
    complaint: Case, api: Callable[[str], Api], body: dict[str, Any]
) -> None:
    """X3: the reason is a required input; nothing changes."""
    response = pause(api("cs"), complaint, body)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "reason", "message": "Say why the deadline is paused."}
    ]
    assert answer_clock(complaint).state == "running"
    assert not Event.objects.filter(verb="clock_paused").exists()


def test_a_breached_or_stopped_deadline_answers_409_and_stays_as_it_is(
    complaint: Case,
    api: Callable[[str], Api],
    users: dict[str, User],
    at: Callable[[dt.datetime], None],
) -> None:
    """X3: a passed or answered deadline cannot be paused: 409 with the reason in words."""
    at(DUE + HOUR)
    response = pause(api("cs"), complaint, {"reason": WAITING})
    assert response.status_code == 409
    assert response.json()["detail"] == "This deadline has passed; it can no longer be paused."

    clocks.sweep(DUE + HOUR)
    response = pause(api("cs"), complaint, {"reason": WAITING})
    assert response.status_code == 409
    assert response.json()["detail"] == "Only a running deadline can be paused."
    assert answer_clock(complaint).state == "breached"

    take_transition(
        complaint,
        "answer_customer",
        {"answer": "已答复", "answer_channel": "phone"},
        actor=users["cs"],
    )
    assert pause(api("cs"), complaint, {"reason": WAITING}).status_code == 409
    response = resume(api("cs"), complaint)
    assert response.status_code == 409
    assert response.json()["detail"] == "This deadline is not paused."
    assert answer_clock(complaint).state == "stopped"
    assert not Event.objects.filter(verb__in=["clock_paused", "clock_resumed"]).exists()


def test_a_deadline_the_case_has_not_got_is_404_and_one_not_started_is_409(
    complaint: Case, api: Callable[[str], Api]
) -> None:
    """X3: "lunch_break" is no deadline of a complaint (404); the investigation is one, but
    it has not started yet (409)."""
    assert pause(api("cs"), complaint, {"reason": WAITING}, name="lunch_break").status_code == 404
    response = pause(api("cs"), complaint, {"reason": WAITING}, name="investigation")
    assert response.status_code == 409
    assert response.json()["detail"] == "Only a running deadline can be paused."


def test_who_may_only_read_gets_403_and_who_cannot_see_gets_404(
    complaint: Case, api: Callable[[str], Api], users: dict[str, User]
) -> None:
    """X3: the quality engineer sees the case but may not stop its time; production does not
    see it at all; neither changes anything, pausing or resuming."""
    assert pause(api("qe"), complaint, {"reason": WAITING}).status_code == 403
    assert pause(api("prod"), complaint, {"reason": WAITING}).status_code == 404
    assert answer_clock(complaint).state == "running"

    clocks.pause_clock(complaint, "customer_answer", reason=WAITING, actor=users["cs"])
    assert resume(api("qe"), complaint).status_code == 403
    assert resume(api("prod"), complaint).status_code == 404
    assert answer_clock(complaint).state == "paused"
