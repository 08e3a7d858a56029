"""Every transition of the complaint process × every persona, allowed or refused exactly as the
definition says (R1.3–R1.8): generated from COMPLAINT_V1 and the demo roles, not a table."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from qloop.cases.models import Case
from qloop.demo.loader import USERS
from qloop.org.models import User
from qloop.process.definitions import COMPLAINT_V1
from qloop.process.engine import available_transitions, decide_approval, take_transition
from qloop.process.errors import Conflict
from qloop.process.models import Approval
from qloop.process.spec import Transition
from tests.conftest import PASSWORD, PERSONAS

# The handler is deliberately not in CS and the owner not in Quality, so that the handler and
# owner rules, not a role, are what lets them act.
HANDLER = "sales"
OWNER = "prod"
ROLE: dict[str, str] = {username: role for username, _name, _dept, role in USERS}
TRANSITIONS = [t.name for t in COMPLAINT_V1.transitions]


@pytest.fixture(autouse=True)
def _fresh_signing_counters() -> Any:
    """Wrong-password counters live in the cache; no test inherits another's lock-out."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def valid_inputs(t: Transition) -> dict[str, Any]:
    """Inputs that satisfy the transition's declaration."""
    data: dict[str, Any] = {}
    for spec in t.inputs:
        if spec.type == "text":
            data[spec.name] = f"{spec.name}: 已核实"
        elif spec.type == "user":
            data[spec.name] = HANDLER if spec.name == "handler" else OWNER
        elif spec.type == "departments":
            data[spec.name] = ["PROD"]
        elif spec.type == "date":
            data[spec.name] = "2026-12-31"
        elif spec.type == "choice":
            data[spec.name] = spec.choices[0][0]
    return data


def signature_for(t: Transition, password: str = PASSWORD) -> dict[str, str] | None:
    return {"password": password, "meaning": t.signature} if t.signature else None


def role_actor(t: Transition) -> str:
    """The first persona (not a superuser) whose role lets them take ``t``."""
    return next(p for p in PERSONAS if ROLE[p] in t.who.roles)


def _happy_paths() -> dict[str, list[Transition]]:
    """The shortest way from registration to each state, following valid inputs."""
    paths: dict[str, list[Transition]] = {COMPLAINT_V1.initial: []}
    todo = deque([COMPLAINT_V1.initial])
    while todo:
        state = todo.popleft()
        for t in COMPLAINT_V1.transitions:
            if state not in t.sources or t.requires_approval:
                continue
            target = t.target_for(valid_inputs(t), state)
            if target not in paths:
                paths[target] = [*paths[state], t]
                todo.append(target)
    return paths


HAPPY_PATHS = _happy_paths()


def drive_to(case: Case, state: str, users: dict[str, User]) -> Case:
    """Move a complaint to ``state`` along the happy path from where it is (a state on that
    path), each step taken by a persona whose role allows it."""
    path = HAPPY_PATHS[state]
    passed = [COMPLAINT_V1.initial, *(t.target_for(valid_inputs(t), "") for t in path)]
    assert case.state in passed, (case.state, state)
    for t in path[passed.index(case.state) :]:
        case = take_transition(
            case,
            t.name,
            valid_inputs(t),
            actor=users[role_actor(t)],
            signature=signature_for(t),
        )
    assert case.state == state
    return case


def grant_approval(case: Case, t: Transition, users: dict[str, User]) -> None:
    """Ask for and grant the approval ``t`` requires, through the process's own steps."""
    if not t.requires_approval:
        return
    ask = next(
        r
        for r in COMPLAINT_V1.transitions
        if r.requests_approval and r.requests_approval[0] == t.requires_approval
    )
    assert ask.requests_approval is not None
    take_transition(case, ask.name, valid_inputs(ask), actor=users[role_actor(ask)])
    decider = next(p for p in PERSONAS if ROLE[p] == ask.requests_approval[1])
    approval = Approval.objects.get(case=case, kind=t.requires_approval, state="pending")
    decide_approval(
        approval,
        "approve",
        actor=users[decider],
        signature={"password": PASSWORD, "meaning": "approved"},
    )


def nearest_source(t: Transition) -> str:
    return min(t.sources, key=lambda s: (len(HAPPY_PATHS[s]), s))


def expected_allowed(t: Transition, persona: str, case: Case, user: User) -> bool:
    """Who may take ``t``, derived from the persona's role in the demo organisation and from
    whether they are the case's handler or its corrective action's owner."""
    if user.is_superuser:
        return True
    if ROLE[persona] in t.who.roles:
        return True
    if t.who.handler and case.handler is not None and case.handler.username == persona:
        return True
    ca = getattr(case, "corrective_action", None)
    return bool(t.who.owner and ca is not None and ca.owner and ca.owner.username == persona)


def snapshot(case: Case) -> tuple[str, int, int, str]:
    fresh = Case.objects.get(pk=case.pk)
    return (fresh.state, fresh.events.count(), fresh.approvals.count(), fresh.number)


def test_the_happy_paths_reach_every_state() -> None:
    assert set(HAPPY_PATHS) == set(COMPLAINT_V1.states)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", TRANSITIONS)
def test_a_transition_is_open_to_exactly_the_people_the_definition_names(
    name: str, persona: str, make_case: Callable[..., Case], users: dict[str, User]
) -> None:
    """R1.3–R1.8: allowed people move the case (with an event); anyone else gets
    PermissionDenied (Http404 if they may not see it) and the case is unchanged."""
    t = COMPLAINT_V1.transition(name)
    assert t is not None
    case = drive_to(make_case(), nearest_source(t), users)
    grant_approval(case, t, users)
    case = Case.objects.select_related("handler").get(pk=case.pk)
    user = users[persona]
    allowed = expected_allowed(t, persona, case, user)
    assert (t in available_transitions(case, user)) == allowed
    before = snapshot(case)

    if not allowed:
        # Who may not even see the case is told it is not there (issue 9.4), like the page.
        sees = Case.objects.for_user(user).filter(pk=case.pk).exists()
        with pytest.raises(PermissionDenied if sees else Http404):
            take_transition(case, name, valid_inputs(t), actor=user, signature=signature_for(t))
        assert snapshot(case) == before
        return

    data = valid_inputs(t)
    moved = take_transition(case, name, data, actor=user, signature=signature_for(t))
    assert moved.state == t.target_for(data, before[0])
    assert moved.number == before[3]
    event = moved.events.order_by("-id").first()
    assert event is not None
    assert (event.verb, event.actor, event.data["transition"]) == ("transition", user, name)
    assert (event.data["from"], event.data["to"]) == (before[0], moved.state)
    assert moved.events.count() == before[1] + 1
    if t.signature:
        signed = event.data["signature"]
        assert (signed["printed_name"], signed["meaning"]) == (user.printed_name, t.signature)


@pytest.mark.parametrize("state", list(COMPLAINT_V1.states))
def test_a_transition_from_a_state_it_does_not_start_from_is_a_conflict(
    state: str, make_case: Callable[..., Case], users: dict[str, User]
) -> None:
    """R1.3–R1.7: a step the case's state does not allow is refused (HTTP 409) by people who
    could otherwise take it, and changes nothing."""
    case = drive_to(make_case(), state, users)
    case = Case.objects.select_related("handler").get(pk=case.pk)
    before = snapshot(case)
    refused = [t for t in COMPLAINT_V1.transitions if state not in t.sources]
    assert refused
    for t in refused:
        persona = next(
            (
                p
                for p in PERSONAS
                if not users[p].is_superuser and expected_allowed(t, p, case, users[p])
            ),
            "admin",
        )
        assert t not in available_transitions(case, users[persona])
        with pytest.raises(Conflict):
            take_transition(
                case,
                t.name,
                valid_inputs(t),
                actor=users[persona],
                signature=signature_for(t),
            )
        assert snapshot(case) == before, t.name
