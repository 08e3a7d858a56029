"""Bad input to the API gets a clear 4xx and changes nothing (issue 9, points 9–11): control
characters, dates out of range, bodies over the limit, unknown fields. Run on SQLite and on
PostgreSQL, where NUL used to be a server error."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from qloop.cases.models import Case, Comment, Contact, Event
from qloop.org.models import Sequence
from qloop.process.models import Task
from qloop.process.tasks import create_task
from tests.api import test_process_api as process_api
from tests.api.test_api import API, ApiClient, assert_error, complaint, create_token
from tests.api.test_process_api import Api

# The process tests' fixtures: one persona's API client, a complaint moved to a given state.
api = process_api.api
case_in = process_api.case_in


@pytest.fixture
def api_as(users: dict[str, Any]) -> Callable[[str], ApiClient]:
    return lambda username: ApiClient(create_token(username))


CONTROL = [
    pytest.param("\x0b", "U+000B", id="vertical-tab-from-word"),
    pytest.param("\x01", "U+0001", id="start-of-heading"),
    pytest.param("\x00", "U+0000", id="nul"),
    pytest.param("\x1f", "U+001F", id="unit-separator"),
]


def stored() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "contacts": Contact.objects.count(),
        "events": Event.objects.count(),
        "tasks": Task.objects.count(),
        "comments": Comment.objects.count(),
    }


def with_char(char: str) -> list[tuple[str, dict[str, Any]]]:
    """The registration's text fields, one at a time, each holding ``char``."""
    body = complaint()
    return [
        ("contact.name", {**body, "contact": {**body["contact"], "name": f"王{char}芳"}}),
        ("contact.phone", {**body, "contact": {**body["contact"], "phone": f"138{char}00138000"}}),
        ("product.model", {**body, "product": {**body["product"], "model": f"QL{char}CP50"}}),
        ("symptom", {**body, "symptom": f"漏水{char}滴水"}),
        ("current_status", {**body, "current_status": f"停机{char}"}),
        ("title", {**body, "title": f"{char}标题"}),
        ("category", {**body, "category": f"1{char}"}),
        ("extra", {**body, "extra": {"purchase_channel": f"经销商{char}"}}),
    ]


@pytest.mark.parametrize(("char", "code_point"), CONTROL)
def test_a_registration_with_a_control_character_is_a_422_naming_the_field(
    api_as: Callable[[str], ApiClient], char: str, code_point: str
) -> None:
    """Issue 9.9: U+000B (a line break pasted from Word), U+0001, NUL … are refused on the way
    in, each naming its field and the character, and nothing is stored."""
    api = api_as("cs")
    before = stored()
    for field, body in with_char(char):
        response = api.post("/cases", body)
        error = assert_error(response, 422, field)
        assert code_point in error["detail"], error
    assert stored() == before


def test_the_message_is_in_the_language_of_the_tokens_person(
    api_as: Callable[[str], ApiClient], users: dict[str, Any]
) -> None:
    """Issue 9.9: the API speaks the person's language (Simplified Chinese by default)."""
    body = {**complaint(), "symptom": "漏水\x0b"}
    zh = assert_error(api_as("cs").post("/cases", body), 422, "symptom")
    assert "控制字符" in zh["detail"] and "U+000B" in zh["detail"]
    users["cs"].language = "en"
    users["cs"].save(update_fields=["language"])
    en = assert_error(api_as("cs").post("/cases", body), 422, "symptom")
    assert "control character (U+000B)" in en["detail"]


@pytest.mark.parametrize(("char", "code_point"), CONTROL)
def test_every_write_with_text_refuses_a_control_character(
    case_in: Callable[[str], str],
    api: Callable[[str], Api],
    users: dict[str, Any],
    char: str,
    code_point: str,
) -> None:
    """Issue 9.9: the steps' inputs (text, a user name, departments), tasks, pauses and
    decisions — every text field of every write — answer 422 naming the field, and change
    nothing."""
    number = case_in("investigating")
    task = create_task(
        Case.objects.get(number=number), department="PROD", title="拆检", actor=users["qe"]
    )
    before = (stored(), Case.objects.get(number=number).state)
    calls = [
        (
            "qe",
            f"/cases/{number}/transitions/dispose_ours",
            {"findings": f"来料{char}", "root_cause": "外购件"},
            "findings",
        ),
        ("qe", f"/cases/{number}/transitions/request_onsite", {"reason": f"{char}"}, "reason"),
        ("qe", f"/cases/{number}/tasks", {"department": "PROD", "title": f"拆检{char}"}, "title"),
        (
            "qe",
            f"/cases/{number}/tasks",
            {"department": f"PR{char}OD", "title": "拆检"},
            "department",
        ),
        (
            "qe",
            f"/cases/{number}/tasks",
            {"department": "PROD", "title": "拆检", "assignee": f"prod{char}"},
            "assignee",
        ),
        ("prod", f"/tasks/{task.pk}/done", {"result": f"已更换{char}"}, "result"),
        (
            "cs",
            f"/cases/{number}/clocks/customer_answer/pause",
            {"reason": f"等待{char}"},
            "reason",
        ),
        (
            "cs",
            f"/cases/{number}/transitions/answer_customer",
            {"answer": f"已答复{char}", "answer_channel": "phone"},
            "answer",
        ),
        (
            "qa_head",
            f"/cases/{number}/transitions/dispose_not_ours",
            {"findings": "符合标准", "signature": {"password": f"x{char}", "meaning": "approved"}},
            "signature.password",
        ),
    ]
    for persona, path, body, field in calls:
        response = api(persona).post(path, body)
        error = assert_error(response, 422, field)
        assert code_point in error["detail"], (path, error)
    assert (stored(), Case.objects.get(number=number).state) == before


def test_a_user_name_with_nul_is_refused_before_it_is_looked_up(
    make_case: Callable[..., Case], api: Callable[[str], Api]
) -> None:
    """Issue 9.9: on PostgreSQL a look-up by a name holding NUL was a server error."""
    number = make_case().number
    response = api("cs_head").post(f"/cases/{number}/transitions/assign", {"handler": "c\x00s"})
    assert_error(response, 422, "handler")
    assert Case.objects.get(number=number).state == "new"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "漏水\x00"}, "q"),
        ({"handler": "c\x00s"}, "handler"),
        ({"model": "QL\x01"}, "model"),
        ({"extra.purchase_channel": "\x00"}, "extra.purchase_channel"),
        ({"department": "\x0b"}, "department"),
    ],
)
def test_a_query_parameter_with_a_control_character_is_a_422(
    api_as: Callable[[str], ApiClient], params: dict[str, str], field: str
) -> None:
    """Issue 9.9: filters and searches never reach the database with NUL."""
    assert_error(api_as("cs").get("/cases", params), 422, field)


def test_a_case_number_with_nul_in_the_address_is_a_404(
    api_as: Callable[[str], ApiClient], make_case: Callable[..., Case]
) -> None:
    """Issue 9.9: no case is named with a control character."""
    make_case()
    api = api_as("cs")
    assert_error(api.get("/cases/QC%00"), 404)
    assert_error(api.post("/cases/QC%00/tasks", {"department": "PROD", "title": "x"}), 404)


# Dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "received_at",
    [
        "0001-01-01T00:00:00+08:00",
        "1900-01-01T08:00:00+08:00",
        "1999-12-31T23:59:00+08:00",
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00",
    ],
    ids=["year-1", "year-1900", "last-minute-of-1999", "year-9999", "year-1-local"],
)
def test_a_time_received_out_of_range_is_a_422_and_numbers_nothing(
    api_as: Callable[[str], ApiClient], received_at: str
) -> None:
    """Issue 9.10: year 1 was a server error and 1900 made QC-1900-000001; a time received lies
    between 2000-01-01 and now."""
    api = api_as("cs")
    before = stored()
    response = api.post("/cases", complaint(received_at=received_at))
    error = assert_error(response, 422, "received_at")
    assert "2000-01-01" in error["detail"] or "晚于当前时间" in error["detail"]
    assert stored() == before
    assert not Sequence.objects.exists()


def test_the_first_day_of_2000_is_accepted(api_as: Callable[[str], ApiClient]) -> None:
    response = api_as("cs").post("/cases", complaint(received_at="2000-01-01T00:00:00+08:00"))
    assert response.status_code == 201, response.content
    assert response.json()["number"] == "QC-2000-000001"


@pytest.mark.parametrize(
    ("received_from", "received_to"),
    [("0001-01-01", "9999-12-31"), ("9999-12-31", ""), ("", "0001-01-01"), ("1900-01-01", "")],
)
def test_list_filters_with_extreme_dates_are_clamped(
    api_as: Callable[[str], ApiClient],
    make_case: Callable[..., Case],
    received_from: str,
    received_to: str,
) -> None:
    """Issue 9.10: 9999-12-31 and 0001-01-01 were server errors; they mean "until the end"
    and "from the start"."""
    make_case(received_at=timezone.now() - dt.timedelta(days=3))
    response = api_as("cs").get(
        "/cases", {"received_from": received_from, "received_to": received_to}
    )
    assert response.status_code == 200, response.content
    expected = (
        1
        if received_from in ("", "0001-01-01", "1900-01-01") and received_to != "0001-01-01"
        else 0
    )
    assert response.json()["count"] == expected


def test_a_task_due_out_of_range_is_a_422(
    case_in: Callable[[str], str], api: Callable[[str], Api]
) -> None:
    number = case_in("investigating")
    for due in ("0001-01-01", "9999-12-31"):
        response = api("qe").post(
            f"/cases/{number}/tasks", {"department": "PROD", "title": "拆检", "due": due}
        )
        assert_error(response, 422, "due")
    assert not Task.objects.exists()


# Size ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [True, False], ids=["default-set-up", "debug-off"])
def test_a_10_mb_json_body_is_a_413_with_a_json_detail(
    api_as: Callable[[str], ApiClient], settings: Any, debug: bool
) -> None:
    """Issue 9.11: a 10 MB body was a server error (with a traceback in DEBUG)."""
    settings.DEBUG = debug
    api = api_as("cs")
    body = json.dumps(complaint(symptom="漏" * (10 * 1024 * 1024 // 3)))
    assert len(body.encode()) > 10 * 1024 * 1024
    response = api.client.post(
        f"{API}/cases", body, content_type="application/json", headers=api.headers
    )
    error = assert_error(response, 413)
    assert "MB" in error["detail"]
    assert not Case.objects.exists()


def test_unknown_top_level_fields_are_refused(api_as: Callable[[str], ApiClient]) -> None:
    """Issue 9.14: a misspelt field is an error, not silently dropped."""
    response = api_as("cs").post("/cases", {**complaint(), "symptm": "漏水"})
    assert_error(response, 422, "symptm")
    response = api_as("cs").post(
        "/cases", {**complaint(), "contact": {**complaint()["contact"], "mobile": "1"}}
    )
    assert_error(response, 422, "contact.mobile")
    assert not Case.objects.exists()


def test_a_body_that_is_not_json_is_a_400(api_as: Callable[[str], ApiClient]) -> None:
    api = api_as("cs")
    response = api.client.post(
        f"{API}/cases", "{not json", content_type="application/json", headers=api.headers
    )
    assert_error(response, 400)


def test_the_clock_shows_when_it_was_paused_and_its_unit(
    case_in: Callable[[str], str], api: Callable[[str], Api]
) -> None:
    """Issue 9.14: ``paused_at`` and ``unit`` of a clock were always null and empty."""
    number = case_in("cs_review")
    response = api("cs").post(
        f"/cases/{number}/clocks/customer_answer/pause", {"reason": "等待客户寄回故障件"}
    )
    assert response.status_code == 200, response.content
    [clock] = response.json()["clocks"]
    assert clock["state"] == "paused"
    assert clock["paused_at"] is not None
    assert clock["unit"] in {"days", "working_days"}


def test_the_browser_session_gets_the_same_answers(client_for: Callable[[str], Client]) -> None:
    """The pages' own calls with the session meet the same rules."""
    response = client_for("cs").get(f"{API}/cases", {"q": "\x00"})
    assert_error(response, 422, "q")
