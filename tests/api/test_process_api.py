"""The complaint process through the REST API with personal tokens (R1.3–R1.8, R2.3, X3)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from qloop.capa.models import Investigation
from qloop.cases.models import Case
from qloop.notify.models import Notification
from qloop.org.models import ApiToken, User
from tests.conftest import PASSWORD


class Api:
    """An API client that sends one persona's Bearer token."""

    def __init__(self, raw_token: str) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {raw_token}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params, headers=self.headers, secure=True)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(
            f"/api/v1{path}",
            json.dumps(body),
            content_type="application/json",
            headers=self.headers,
            secure=True,
        )

    def step(self, number: str, name: str, **body: Any) -> Any:
        return self.post(f"/cases/{number}/transitions/{name}", body)


@pytest.fixture(autouse=True)
def _fresh_signing_counters() -> Iterator[None]:
    """Rate limits live in the cache (wrong passwords in axes' rows, rolled back with each
    test); no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(users: dict[str, User]) -> Callable[[str], Api]:
    clients: dict[str, Api] = {}

    def make(persona: str) -> Api:
        if persona not in clients:
            _token, raw = ApiToken.issue(users[persona], "t")
            clients[persona] = Api(raw)
        return clients[persona]

    return make


def signature(meaning: str, password: str = PASSWORD) -> dict[str, str]:
    return {"password": password, "meaning": meaning}


def fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def state_of(number: str) -> tuple[str, int]:
    case = Case.objects.get(number=number)
    return case.state, case.events.count()


@pytest.fixture
def case_in(make_case: Callable[..., Case], api: Callable[[str], Api]) -> Callable[[str], str]:
    """A complaint's number, moved through the API to ``cs_review``, ``investigating`` or
    ``implementing`` (handler cs, owner prod)."""

    def make(state: str) -> str:
        number = make_case().number
        steps: list[tuple[str, str, dict[str, Any]]] = [
            ("cs_head", "assign", {"handler": "cs"}),
            ("cs", "forward_to_quality", {"analysis": "疑似密封件问题", "departments": ["PROD"]}),
            ("qe", "dispose_ours", {"findings": "来料不良", "root_cause": "外购件"}),
            ("qe", "submit_plan", {"plan": "更换供应商", "owner": "prod", "due": "2026-12-31"}),
        ]
        stop = {"cs_review": 1, "investigating": 2, "implementing": 4}[state]
        for persona, name, body in steps[:stop]:
            response = api(persona).step(number, name, **body)
            assert response.status_code == 200, response.content
        assert Case.objects.get(number=number).state == state
        return number

    return make


def test_the_case_lists_the_steps_the_caller_may_take_now_with_what_each_requires(
    case_in: Callable[[str], str], api: Callable[[str], Api]
) -> None:
    """R1.3: CS sees its next steps with their inputs; Quality sees none of CS's steps."""
    number = case_in("cs_review")
    body = api("cs").get(f"/cases/{number}").json()
    assert body["state"] == "cs_review"
    steps = {t["name"]: t for t in body["transitions"]}
    assert set(steps) == {"forward_to_quality", "resolve_directly", "answer_customer"}
    forward = steps["forward_to_quality"]
    assert forward["target"] == "investigating"
    assert forward["signature"] is None
    assert [(i["name"], i["type"], i["required"]) for i in forward["inputs"]] == [
        ("analysis", "text", True),
        ("departments", "departments", False),
    ]
    channel = next(i for i in steps["resolve_directly"]["inputs"] if i["name"] == "answer_channel")
    assert "phone" in {c["value"] for c in channel["choices"]}
    assert steps["answer_customer"]["target"] == "cs_review"  # it leaves the case where it is

    assert api("qe").get(f"/cases/{number}").json()["transitions"] == []
    assert {c["name"]: c["state"] for c in body["clocks"]} == {"customer_answer": "running"}


def test_quality_sees_the_signature_and_approvals_its_steps_require(
    case_in: Callable[[str], str], api: Callable[[str], Api]
) -> None:
    """R1.5, R1.6: the head's disposition needs an "approved" signature; on-site findings
    wait for the general manager's approval."""
    number = case_in("investigating")
    head = {t["name"]: t for t in api("qa_head").get(f"/cases/{number}").json()["transitions"]}
    assert head["dispose_not_ours"]["signature"] == "approved"
    assert head["request_onsite"]["requests_approval"] == "onsite"
    assert head["record_onsite"]["requires_approval"] == "onsite"
    assert head["record_onsite"]["blocked"]  # nobody has asked for the approval yet
    assert head["dispose_ours"]["blocked"] is None
    engineer = {t["name"] for t in api("qe").get(f"/cases/{number}").json()["transitions"]}
    assert engineer == {"request_onsite", "record_onsite", "dispose_ours"}
    clocks = api("qe").get(f"/cases/{number}").json()["clocks"]
    inv = next(c for c in clocks if c["name"] == "investigation")
    assert set(inv) >= {"name", "started_at", "due_at", "stopped_at", "state"}
    assert inv["state"] == "running"
    assert dt.datetime.fromisoformat(inv["due_at"]) - dt.datetime.fromisoformat(
        inv["started_at"]
    ) == dt.timedelta(hours=48)


def test_taking_a_step_returns_the_moved_case(
    make_case: Callable[..., Case], api: Callable[[str], Api]
) -> None:
    """R1.1: CS assigns a handler; the answer is the case as it now is."""
    number = make_case().number
    response = api("cs_head").step(number, "assign", handler="cs")
    assert response.status_code == 200
    body = response.json()
    assert (body["number"], body["state"], body["handler"]) == (number, "cs_review", "cs")
    last = body["events"][-1]
    assert (last["verb"], last["actor"], last["data"]["transition"]) == (
        "transition",
        "cs_head",
        "assign",
    )
    assert last["data"]["inputs"] == {"handler": "cs"}


def test_a_step_the_person_may_not_take_is_forbidden_and_changes_nothing(
    case_in: Callable[[str], str], api: Callable[[str], Api]
) -> None:
    """R1.3: only CS or the handler forwards to Quality."""
    number = case_in("cs_review")
    before = state_of(number)
    response = api("qe").step(number, "forward_to_quality", analysis="越权")
    assert response.status_code == 403
    assert state_of(number) == before


def test_unknown_steps_and_unseen_cases_are_not_found(
    case_in: Callable[[str], str], api: Callable[[str], Api]
) -> None:
    """X2: a step or number that does not exist, or a case the person may not see, is 404."""
    number = case_in("cs_review")
    assert api("cs").step(number, "teleport").status_code == 404
    assert api("cs").step("QC-1999-999999", "assign", handler="cs").status_code == 404
    # Production sees no case it has no task in, so it cannot learn that the number exists.
    assert api("prod").get(f"/cases/{number}").status_code == 404
    assert api("prod").step(number, "forward_to_quality", analysis="x").status_code == 404


def test_a_step_the_state_does_not_allow_is_a_conflict(
    case_in: Callable[[str], str], api: Callable[[str], Api]
) -> None:
    """R1.3: a case is assigned once; closing needs a disposition first."""
    number = case_in("cs_review")
    before = state_of(number)
    assert api("cs_head").step(number, "assign", handler="cs_head").status_code == 409
    response = api("cs").step(number, "close", answer="已答复", answer_channel="phone")
    assert response.status_code == 409
    assert response.json()["detail"]
    assert state_of(number) == before


def test_onsite_findings_wait_for_the_pending_approval(
    case_in: Callable[[str], str], api: Callable[[str], Api]
) -> None:
    """R1.6: on-site investigation goes ahead only after the general manager approves."""
    number = case_in("investigating")
    assert api("qe").step(number, "record_onsite", findings="未申请").status_code == 409
    assert api("qe").step(number, "request_onsite", reason="批量漏水").status_code == 200
    before = state_of(number)
    response = api("qe").step(number, "record_onsite", findings="现场发现")
    assert response.status_code == 409
    assert state_of(number) == before
    # Asking twice while one is pending is refused as well.
    assert api("qe").step(number, "request_onsite", reason="再次申请").status_code == 409


@pytest.mark.parametrize(
    ("state", "persona", "name", "body", "field"),
    [
        ("cs_review", "cs", "forward_to_quality", {}, "analysis"),
        ("cs_review", "cs", "forward_to_quality", {"analysis": "   "}, "analysis"),
        ("cs_review", "cs", "forward_to_quality", {"analysis": 42}, "analysis"),
        ("cs_review", "cs", "forward_to_quality", {"analysis": "x", "colour": "red"}, "colour"),
        (
            "cs_review",
            "cs",
            "forward_to_quality",
            {"analysis": "x", "departments": ["NOPE"]},
            "departments",
        ),
        ("cs_review", "cs", "resolve_directly", {"answer": "已答复"}, "answer_channel"),
        (
            "cs_review",
            "cs",
            "resolve_directly",
            {"answer": "已答复", "answer_channel": "pigeon"},
            "answer_channel",
        ),
        (
            "investigating",
            "qe",
            "dispose_ours",
            {"findings": "来料不良"},
            "root_cause",
        ),
        (
            "implementing",
            "qe",
            "verify_effectiveness",
            {
                "result": "maybe",
                "evidence": "x",
                "signature": {"password": PASSWORD, "meaning": "verified"},
            },
            "result",
        ),
    ],
)
def test_a_missing_or_invalid_field_is_named(
    case_in: Callable[[str], str],
    api: Callable[[str], Api],
    state: str,
    persona: str,
    name: str,
    body: dict[str, Any],
    field: str,
) -> None:
    """R1.2, R1.3: 422 names the field, and the case stays where it was."""
    number = case_in(state)
    before = state_of(number)
    response = api(persona).step(number, name, **body)
    assert response.status_code == 422
    assert field in fields(response)
    assert state_of(number) == before


def test_an_unknown_person_or_a_bad_date_is_named(
    make_case: Callable[..., Case], case_in: Callable[[str], str], api: Callable[[str], Api]
) -> None:
    """R1.1, R1.5: the handler must be an active person; the plan's due date a real date."""
    number = make_case().number
    response = api("cs_head").step(number, "assign", handler="nobody")
    assert (response.status_code, fields(response)) == (422, {"handler"})
    assert state_of(number)[0] == "new"

    number = case_in("investigating")
    api("qe").step(number, "dispose_ours", findings="来料不良", root_cause="外购件")
    for due in ("31/12/2026", "2026-02-30", "tomorrow"):
        response = api("qe").step(number, "submit_plan", plan="更换供应商", owner="prod", due=due)
        assert (response.status_code, fields(response)) == (422, {"due"}), due
    assert state_of(number)[0] == "corrective_action"


def test_a_wrong_signature_password_is_refused_and_changes_nothing(
    case_in: Callable[[str], str], api: Callable[[str], Api]
) -> None:
    """21 CFR Part 11 (R1.5): a wrong password is refused on the password field; nothing is
    disposed, recorded or notified."""
    number = case_in("investigating")
    before = state_of(number)
    notes = Notification.objects.count()
    response = api("qa_head").step(
        number, "dispose_not_ours", findings="安装不当", signature=signature("approved", "wrong")
    )
    assert response.status_code == 422
    assert fields(response) == {"signature.password"}
    assert state_of(number) == before
    assert Notification.objects.count() == notes
    assert Investigation.objects.get(case__number=number).findings == ""
    assert Case.objects.get(number=number).clocks.get(name="investigation").state == "running"


@pytest.mark.parametrize(
    ("given", "field"),
    [
        (signature("reviewed"), "signature.meaning"),
        (signature("verified"), "signature.meaning"),
        ({"password": "", "meaning": "approved"}, "signature.password"),
        ({"meaning": "approved"}, "signature.password"),
        (None, "signature"),
    ],
)
def test_a_signature_with_the_wrong_meaning_or_no_password_is_refused(
    case_in: Callable[[str], str],
    api: Callable[[str], Api],
    given: dict[str, str] | None,
    field: str,
) -> None:
    """21 CFR Part 11: the signer states the meaning the step requires and enters a password."""
    number = case_in("investigating")
    before = state_of(number)
    body: dict[str, Any] = {"findings": "安装不当"}
    if given is not None:
        body["signature"] = given
    response = api("qa_head").step(number, "dispose_not_ours", **body)
    assert response.status_code == 422
    assert any(f == field or f.startswith(field + ".") for f in fields(response)), fields(response)
    assert state_of(number) == before


def test_five_wrong_passwords_lock_signing_even_with_the_right_one(
    case_in: Callable[[str], str], api: Callable[[str], Api], settings: Any
) -> None:
    """21 CFR Part 11: wrong passwords count toward lock-out; after five (QLOOP_LOGIN_ATTEMPTS
    set to 5) the sixth attempt is refused though the password is right. Others can still
    sign."""
    settings.QLOOP_LOGIN_ATTEMPTS = 5
    number = case_in("investigating")
    before = state_of(number)
    for attempt in range(5):
        response = api("qa_head").step(
            number,
            "dispose_not_ours",
            findings="x",
            signature=signature("approved", f"bad{attempt}"),
        )
        assert (response.status_code, fields(response)) == (422, {"signature.password"})
    response = api("qa_head").step(
        number, "dispose_not_ours", findings="安装不当", signature=signature("approved")
    )
    assert (response.status_code, fields(response)) == (422, {"signature"})
    assert state_of(number) == before

    response = api("admin").step(
        number, "dispose_not_ours", findings="安装不当", signature=signature("approved")
    )
    assert response.status_code == 200
    assert response.json()["state"] == "cs_handling"


def test_the_general_manager_sees_and_decides_onsite_approvals_with_a_signature(
    case_in: Callable[[str], str], api: Callable[[str], Api], users: dict[str, User]
) -> None:
    """R1.6: the general manager, not Quality, approves an on-site investigation; the decision
    is signed and taken once."""
    number = case_in("investigating")
    api("qe").step(number, "request_onsite", reason="批量漏水，需到现场")
    pending = api("gm").get("/approvals", state="pending").json()
    assert [(a["case"], a["kind"], a["role"], a["state"]) for a in pending] == [
        (number, "onsite", "general_manager", "pending")
    ]
    assert pending[0]["reason"] == "批量漏水，需到现场"
    assert pending[0]["requested_by"] == "qe"
    assert api("qe").get("/approvals", state="pending").json() == []
    assert api("qa_head").get("/approvals").json() == []
    approval_id = pending[0]["id"]

    decide = f"/approvals/{approval_id}/decide"
    refused = api("qe").post(decide, {"decision": "approve", "signature": signature("approved")})
    assert refused.status_code == 403
    wrong = api("gm").post(decide, {"decision": "approve", "signature": signature("reviewed")})
    assert (wrong.status_code, fields(wrong)) == (422, {"signature.meaning"})
    bad = api("gm").post(decide, {"decision": "maybe", "signature": signature("approved")})
    assert (bad.status_code, fields(bad)) == (422, {"decision"})
    assert api("qe").step(number, "record_onsite", findings="x").status_code == 409

    response = api("gm").post(
        decide, {"decision": "approve", "comment": "同意", "signature": signature("approved")}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["decided_by"], body["comment"]) == ("approved", "gm", "同意")
    assert body["signature"]["printed_name"] == users["gm"].printed_name
    assert body["signature"]["meaning"] == "approved"
    assert api("gm").get("/approvals", state="pending").json() == []

    again = api("gm").post(decide, {"decision": "refuse", "signature": signature("refused")})
    assert again.status_code == 409
    assert api("qe").get("/approvals", state="approved").json()[0]["id"] == approval_id

    response = api("qe").step(number, "record_onsite", findings="密封圈材质不符")
    assert response.status_code == 200
    assert response.json()["events"][-1]["data"]["transition"] == "record_onsite"


def test_a_refused_onsite_approval_keeps_onsite_findings_closed(
    case_in: Callable[[str], str], api: Callable[[str], Api]
) -> None:
    """R1.6: refused means the on-site investigation does not go ahead."""
    number = case_in("investigating")
    api("qe").step(number, "request_onsite", reason="需到现场")
    approval_id = api("gm").get("/approvals").json()[0]["id"]
    # A refusal is signed as a refusal, not as a review.
    as_review = api("gm").post(
        f"/approvals/{approval_id}/decide",
        {"decision": "refuse", "signature": signature("reviewed")},
    )
    assert (as_review.status_code, fields(as_review)) == (422, {"signature.meaning"})
    response = api("gm").post(
        f"/approvals/{approval_id}/decide",
        {"decision": "refuse", "comment": "电话沟通即可", "signature": signature("refused")},
    )
    assert (response.status_code, response.json()["state"]) == (200, "refused")
    assert response.json()["signature"]["meaning"] == "refused"
    assert api("qe").step(number, "record_onsite", findings="x").status_code == 409
    decided = api("qe").get(f"/cases/{number}").json()["events"][-1]
    assert (decided["verb"], decided["data"]["decision"]) == ("approval_decided", "refuse")
    assert api("gm").get("/approvals", state="bogus").status_code == 422


def test_a_department_given_a_task_sees_the_case_and_completes_the_task(
    case_in: Callable[[str], str], api: Callable[[str], Api], users: dict[str, User]
) -> None:
    """R1.8: Production gets a task in the investigation, then sees the case and does it."""
    number = case_in("investigating")
    assert api("prod").get(f"/cases/{number}").status_code == 404
    assert (
        api("prod").post(f"/cases/{number}/tasks", {"department": "PROD", "title": "x"}).status_code
        == 404
    )
    unknown = api("qe").post(f"/cases/{number}/tasks", {"department": "NOPE", "title": "检查"})
    assert (unknown.status_code, fields(unknown)) == (422, {"department"})

    response = api("qe").post(
        f"/cases/{number}/tasks",
        {"department": "PROD", "title": "检查装配记录", "due": "2026-12-01"},
    )
    assert response.status_code == 201
    task = response.json()
    assert (task["department"], task["title"], task["done_at"]) == ("PROD", "检查装配记录", None)
    assert Notification.objects.filter(user=users["prod"], kind="task_assigned").exists()

    seen = api("prod").get(f"/cases/{number}")
    assert seen.status_code == 200
    body = seen.json()
    assert [t["id"] for t in body["tasks"]] == [task["id"]]
    assert body["transitions"] == []  # seeing the case does not make Production a handler
    assert (
        api("prod").post(f"/cases/{number}/tasks", {"department": "PROD", "title": "x"}).status_code
        == 403
    )

    empty = api("prod").post(f"/tasks/{task['id']}/done", {"result": "  "})
    assert (empty.status_code, fields(empty)) == (422, {"result"})
    done = api("prod").post(f"/tasks/{task['id']}/done", {"result": "装配记录无异常"})
    assert done.status_code == 200
    assert done.json()["result"] == "装配记录无异常"
    assert done.json()["done_at"] is not None
    assert api("prod").post(f"/tasks/{task['id']}/done", {"result": "再次"}).status_code == 409
    events = api("qe").get(f"/cases/{number}").json()["events"]
    assert [(e["verb"], e["actor"]) for e in events[-2:]] == [
        ("task_created", "qe"),
        ("task_done", "prod"),
    ]


def test_tasks_are_given_only_during_investigation_and_corrective_action(
    case_in: Callable[[str], str], api: Callable[[str], Api]
) -> None:
    """R1.8: a case still with CS has no tasks for other departments yet."""
    number = case_in("cs_review")
    response = api("qe").post(f"/cases/{number}/tasks", {"department": "PROD", "title": "检查"})
    assert response.status_code == 409


def test_the_events_record_each_signature_with_printed_name_meaning_and_time(
    case_in: Callable[[str], str], api: Callable[[str], Api], users: dict[str, User]
) -> None:
    """21 CFR Part 11 (R1.5): the event of a signed step records who signed (printed name),
    what the signature means and when."""
    number = case_in("investigating")
    response = api("qa_head").step(
        number, "dispose_not_ours", findings="安装不当", signature=signature("approved")
    )
    assert response.status_code == 200
    event = response.json()["events"][-1]
    signed = event["data"]["signature"]
    assert signed["printed_name"] == users["qa_head"].printed_name == "王海燕"
    assert signed["meaning"] == "approved"
    assert signed["signer"] == "qa_head"
    # The API shows times to the millisecond; the signature keeps the full time.
    signed_at = dt.datetime.fromisoformat(signed["at"])
    assert abs(signed_at - dt.datetime.fromisoformat(event["at"])) < dt.timedelta(milliseconds=1)
    assert "password" not in json.dumps(event)
    assert PASSWORD not in json.dumps(response.json())


def test_signing_stays_locked_for_15_minutes_after_the_fifth_wrong_password(
    case_in: Callable[[str], str], api: Callable[[str], Api], settings: Any
) -> None:
    """21 CFR Part 11: the lock-out runs from the wrong password that caused it, however far
    apart the five wrong passwords were; afterwards the right password signs again."""
    import time_machine

    settings.QLOOP_LOGIN_ATTEMPTS = 5

    number = case_in("investigating")
    start = dt.datetime.now(dt.UTC)
    attempts = [start, *(start + dt.timedelta(minutes=14) for _ in range(4))]
    for moment in attempts:
        with time_machine.travel(moment, tick=False):
            response = api("qa_head").step(
                number, "dispose_not_ours", findings="x", signature=signature("approved", "bad")
            )
            assert fields(response) == {"signature.password"}
    with time_machine.travel(start + dt.timedelta(minutes=20), tick=False):
        response = api("qa_head").step(
            number, "dispose_not_ours", findings="安装不当", signature=signature("approved")
        )
        assert (response.status_code, fields(response)) == (422, {"signature"})
    with time_machine.travel(start + dt.timedelta(minutes=28, seconds=50), tick=False):
        response = api("qa_head").step(
            number, "dispose_not_ours", findings="安装不当", signature=signature("approved")
        )
        assert (response.status_code, fields(response)) == (422, {"signature"})
    with time_machine.travel(start + dt.timedelta(minutes=29, seconds=10), tick=False):
        response = api("qa_head").step(
            number, "dispose_not_ours", findings="安装不当", signature=signature("approved")
        )
        assert response.status_code == 200, response.json()
