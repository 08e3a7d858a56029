"""Who may call which API operation: every operation of the OpenAPI document × every demo
persona, on a complaint that Customer Service registered (a case of another department for
everyone outside CS), plus a call without a token (issue 9.4).

The API must refuse what the page refuses, with the same status (404 for a case one may not
see, 403 for a step one may not take), and a refused call changes nothing. The expectations
come from the page matrix in tests/web/test_permissions.py, which restates the rules from the
personas' role flags and the process definitions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from qloop.api.api import api
from qloop.capa.models import CorrectiveAction
from qloop.cases.models import Case
from qloop.clinical.api import can_send_results
from qloop.clinical.nav import reads_timeliness
from qloop.org.models import User
from qloop.process.definitions import QUALITY
from qloop.surveys import actions as survey_actions
from qloop.surveys.access import can_see_results
from tests.api.test_api import ApiClient, complaint, create_token
from tests.conftest import PASSWORD
from tests.web.test_permissions import (
    PERSONAS,
    _answer_clock,
    _dispose_ours_roles,
    _investigating,
    _onsite_request,
    _paused,
    _task_done,
    _task_for_production,
    always,
    if_visible,
    if_writable,
    in_roles,
)

OK, CREATED = 200, 201


@dataclass(frozen=True)
class Operation:
    """One API operation, the body it is called with, and what each person should get."""

    method: str
    path: str  # as in the OpenAPI document
    expect: Callable[[User, Case], int]
    body: Callable[[Any], Any] = field(default=lambda photo: {})
    probe: Callable[[Case], Any] | None = None
    prepare: Callable[[Case, dict[str, User]], dict[str, Any]] = field(
        default=lambda case, users: {}
    )
    query: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def _ok_unless_refused(allowed: Callable[[User], bool], status: int) -> Callable[[User, Case], int]:
    return lambda user, case: status if allowed(user) else 403


def _campaign(case: Case, users: dict[str, User]) -> dict[str, Any]:
    questionnaire = survey_actions.create_from_template("csat", actor=users["sales"])
    campaign = survey_actions.create_campaign(
        questionnaire, title="2026 年度", actor=users["sales"]
    )
    return {"campaign_id": campaign.pk}


def _hl7_expect(user: User, case: Case) -> int:
    # A JSON body is not a message: who may send results hears 415, everyone else 403.
    return 415 if can_send_results(user) else 403


OPERATIONS = [
    Operation(
        "post",
        "/cases",
        always(CREATED),
        body=lambda p: complaint(),
        probe=lambda c: Case.objects.count(),
    ),
    Operation("get", "/cases", always(OK)),
    Operation("get", "/categories", always(OK)),
    Operation("get", "/cases/{number}", if_visible(OK)),
    Operation(
        "post",
        "/cases/{number}/photos",
        if_writable(OK),
        body=lambda photo: {"photos": photo("more.jpg")},
        probe=lambda case: case.attachments.count(),
    ),
    Operation(
        "post",
        "/cases/{number}/transitions/{name}",
        in_roles(_dispose_ours_roles(), OK),
        body=lambda p: {"findings": "同批次抽检发现缺陷", "root_cause": "密封件材质不符"},
        probe=lambda case: Case.objects.get(pk=case.pk).state,
        prepare=lambda case, users: {**_investigating(case, users), "name": "dispose_ours"},
    ),
    Operation(
        "post",
        "/cases/{number}/clocks/{name}/pause",
        if_writable(OK),
        body=lambda p: {"reason": "等待客户寄回样品"},
        probe=_answer_clock,
        prepare=lambda case, users: {"name": "customer_answer"},
    ),
    Operation(
        "post",
        "/cases/{number}/clocks/{name}/resume",
        if_writable(OK),
        body=lambda p: {"reason": "客户已寄回"},
        probe=_answer_clock,
        prepare=_paused,
    ),
    Operation("get", "/approvals", always(OK)),
    Operation(
        "post",
        "/approvals/{approval_id}/decide",
        in_roles(frozenset({"general_manager"}), OK),
        body=lambda p: {
            "decision": "approve",
            "signature": {"password": PASSWORD, "meaning": "approved"},
        },
        probe=lambda case: case.approvals.get().state,
        prepare=_onsite_request,
    ),
    Operation(
        "post",
        "/cases/{number}/tasks",
        in_roles(QUALITY, CREATED),
        body=lambda p: {"department": "PROD", "title": "复测同批次产品"},
        probe=lambda case: case.tasks.count(),
        prepare=_investigating,
    ),
    Operation(
        "post",
        "/tasks/{task_id}/done",
        lambda user, case: {302: OK}.get(_task_done(user, case), _task_done(user, case)),
        body=lambda p: {"result": "复测合格"},
        probe=lambda case: case.tasks.get().done_at,
        prepare=_task_for_production,
    ),
    Operation(
        "get",
        "/surveys/campaigns/{campaign_id}/results",
        _ok_unless_refused(can_see_results, OK),
        prepare=_campaign,
    ),
    # Only an ADR report has an E2B message (tests/pharmacy cover who may read one): a complaint
    # is "not there" for everyone, visible or not, and leaks nothing about it.
    Operation("get", "/cases/{number}/e2b", always(404)),
    Operation("post", "/hl7", _hl7_expect, probe=lambda case: Case.objects.count()),
    Operation(
        "get",
        "/clinical/timeliness",
        _ok_unless_refused(reads_timeliness, OK),
        query={"start": "2026-01-01", "end": "2026-01-31"},
    ),
]

MATRIX = [
    pytest.param(op, persona, id=f"{op.id}-{persona}")
    for op in OPERATIONS
    for persona in [*PERSONAS, "anonymous"]
]


def _document_operations() -> set[str]:
    paths = api.get_openapi_schema()["paths"]
    prefix = "/api/v1"
    return {f"{m} {p.removeprefix(prefix)}" for p, ops in paths.items() for m in ops}


def test_every_api_operation_is_in_the_matrix() -> None:
    assert {op.id for op in OPERATIONS} == _document_operations()


@pytest.mark.parametrize(("op", "persona"), MATRIX)
def test_api_permission_matrix(
    op: Operation,
    persona: str,
    users: dict[str, User],
    make_case: Callable[..., Case],
    photo: Callable[..., Any],
) -> None:
    case = make_case(actor="cs", photos=[photo()])
    arguments = {"number": case.number, **op.prepare(case, users)}
    case.refresh_from_db()
    path = op.path.format(**arguments)
    client = ApiClient(create_token(persona) if persona != "anonymous" else None)
    before = op.probe(case) if op.probe else None

    if op.method == "get":
        response = client.get(path, op.query)
    elif op.path.endswith("/photos"):
        response = client.upload(path, op.body(photo))
    else:
        response = client.post(path, op.body(photo))

    expected = 401 if persona == "anonymous" else op.expect(users[persona], case)
    assert response.status_code == expected, (op.id, persona, response.content[:300])
    if expected in (401, 403, 404):
        assert "detail" in json.loads(response.content)
    if op.probe:
        after = op.probe(case)
        if expected >= 400:
            assert after == before, "a refused call changed something"
        else:
            assert after != before, "an allowed call changed nothing"


def test_the_task_owner_of_another_department_sees_the_case_through_the_api(
    make_case: Callable[..., Case], users: dict[str, User]
) -> None:
    """Production sees a CS case once it has a task in it (R1.8), in the API as on the page."""
    case = make_case(actor="cs")
    api_prod = ApiClient(create_token("prod"))
    assert api_prod.get(f"/cases/{case.number}").status_code == 404
    _task_for_production(case, users)
    assert api_prod.get(f"/cases/{case.number}").status_code == OK
    assert not CorrectiveAction.objects.exists()
