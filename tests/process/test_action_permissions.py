"""Every action checks permission itself, so that no caller (page, API, job, import, a future
view) can skip it (issue 9.4, STYLE "every write goes through an action").

Each action is called directly, without any view, by Production's member (who may not see a
complaint of Customer Service: 404) and by the quality engineer (who sees every case but may
not change this one: 403), and the case is unchanged afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from qloop.capa.actions import update_eight_d
from qloop.cases import actions
from qloop.cases.models import Case
from qloop.org.models import User
from qloop.process import clocks, engine, tasks
from qloop.process.models import Approval
from tests.web.test_permissions import _investigating

CaseAction = Callable[[Case, User, dict[str, User]], Any]


def _snapshot(case: Case) -> tuple[Any, ...]:
    case = Case.objects.get(pk=case.pk)
    return (
        case.title,
        case.state,
        case.archived_at,
        case.events.count(),
        case.comments.count(),
        case.tasks.count(),
        list(case.clocks.values_list("state", flat=True)),
    )


ACTIONS: dict[str, CaseAction] = {
    "add_comment": lambda case, actor, users: actions.add_comment(case, "看看", actor=actor),
    "update_case": lambda case, actor, users: actions.update_case(
        case, {"title": "改"}, actor=actor
    ),
    "archive_case": lambda case, actor, users: actions.archive_case(case, "重复", actor=actor),
    "pause_clock": lambda case, actor, users: clocks.pause_clock(
        case, "customer_answer", reason="等待", actor=actor
    ),
    "resume_clock": lambda case, actor, users: clocks.resume_clock(
        case, "customer_answer", reason="继续", actor=actor
    ),
    "take_transition": lambda case, actor, users: engine.take_transition(
        case, "assign", {"handler": "cs"}, actor=actor
    ),
}

# Actions of a case under investigation.
INVESTIGATION_ACTIONS: dict[str, CaseAction] = {
    "create_task": lambda case, actor, users: tasks.create_task(
        case, department="PROD", title="复测", actor=actor
    ),
    "complete_task": lambda case, actor, users: tasks.complete_task(
        tasks.create_task(case, department="QA", title="复测", actor=users["qe"]),
        "完成",
        actor=actor,
    ),
    "update_eight_d": lambda case, actor, users: update_eight_d(
        case, {"d0_emergency": "隔离"}, actor=actor
    ),
    "decide_approval": lambda case, actor, users: engine.decide_approval(
        _onsite(case, users), "approve", actor=actor
    ),
}


def _onsite(case: Case, users: dict[str, User]) -> Approval:
    engine.take_transition(case, "request_onsite", {"reason": "需现场取证"}, actor=users["qe"])
    return Approval.objects.get(case=case)


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_an_action_refuses_a_case_the_person_may_not_see(
    name: str, make_case: Callable[..., Case], users: dict[str, User]
) -> None:
    case = make_case(actor="cs")
    before = _snapshot(case)
    with pytest.raises(Http404):
        ACTIONS[name](case, users["prod"], users)
    assert _snapshot(case) == before


@pytest.mark.parametrize("name", sorted(INVESTIGATION_ACTIONS))
def test_an_investigation_action_refuses_a_case_the_person_may_not_see(
    name: str, make_case: Callable[..., Case], users: dict[str, User]
) -> None:
    case = make_case(actor="cs")
    _investigating(case, users)
    case.refresh_from_db()
    with pytest.raises(Http404):
        INVESTIGATION_ACTIONS[name](case, users["prod"], users)
    assert not case.events.filter(actor=users["prod"]).exists()


@pytest.mark.parametrize("name", ["update_case", "archive_case", "pause_clock", "resume_clock"])
def test_an_action_refuses_who_sees_the_case_but_may_not_change_it(
    name: str, make_case: Callable[..., Case], users: dict[str, User]
) -> None:
    case = make_case(actor="cs")
    if name == "resume_clock":
        clocks.pause_clock(case, "customer_answer", reason="等待", actor=users["cs"])
    before = _snapshot(case)
    with pytest.raises(PermissionDenied):
        ACTIONS[name](case, users["qe"], users)
    assert _snapshot(case) == before
