"""Random walks through the complaint process by random people (R1.3–R1.8, R2.3, X2, X3).

A hypothesis state machine registers one or two complaints and then takes random steps as
random personas, with mostly valid inputs and sometimes a wrong or missing e-signature, decides
approvals and lets time pass for the breach sweep. It predicts each outcome from the process
definition and the demo roles, and after every step checks what a user could rely on: the state
is one of the process's, reached with its approval and signature; clocks are consistent; every
change has its event; numbers never change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from qloop.cases.models import Case
from qloop.org.models import User
from qloop.process.clocks import sweep_breaches
from qloop.process.definitions import COMPLAINT_V1
from qloop.process.engine import available_transitions, decide_approval, take_transition
from qloop.process.errors import Conflict
from qloop.process.models import Approval, Clock
from qloop.process.spec import Transition
from tests.conftest import PASSWORD, PERSONAS
from tests.process.test_transition_matrix import ROLE, drive_to, expected_allowed

TRANSITIONS = [t.name for t in COMPLAINT_V1.transitions]
STATES = list(COMPLAINT_V1.states)
OPEN = {"running", "paused", "breached"}
TEXTS = ["密封圈材质不符", "已电话答复", "更换供应商", "x"]
# Most steps are well formed; some carry a defect the engine must refuse.
INPUT_DEFECTS = ["none"] * 12 + ["drop", "bad_value", "extra"]
SIGNATURES = ["right"] * 8 + ["wrong_password", "wrong_meaning", "missing"]
# QLOOP_LOGIN_ATTEMPTS for the walk: low, so that walks reach the lock-out.
WRONG_PASSWORDS_ALLOWED = 3

# The machine runs inside one test's database and fixtures; hypothesis builds it without
# arguments, so the fixtures reach it through this holder.
HOLDER: dict[str, Any] = {}


def clocks_of(case_id: int) -> list[Clock]:
    return list(Clock.objects.filter(case_id=case_id).order_by("id"))


def fingerprint(case_id: int) -> tuple[Any, ...]:
    """Everything a refused step must leave as it was."""
    case = Case.objects.get(pk=case_id)
    return (
        case.state,
        case.handler_id,
        case.events.count(),
        tuple(case.approvals.values_list("id", "state")),
        tuple((c.id, c.state, c.stopped_at, c.breached_at) for c in clocks_of(case_id)),
    )


class ComplaintMachine(RuleBasedStateMachine):
    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self.users: dict[str, User] = HOLDER["users"]
        cache.clear()
        # Wrong passwords are counted in axes' rows (qloop.org.attempts); each run starts clean.
        AccessAttempt.objects.all().delete()
        self.failures: dict[str, int] = dict.fromkeys(PERSONAS, 0)
        self.numbers: dict[int, str] = {}
        self.events: dict[int, int] = {}
        self.traveller = time_machine.travel(HOLDER["start"], tick=True)
        self.clock = self.traveller.start()

    def teardown(self) -> None:
        # The next run starts later, so no run sees times go backwards.
        HOLDER["start"] = timezone.now() + dt.timedelta(minutes=1)
        self.traveller.stop()

    # Building inputs and predicting outcomes ---------------------------------------------

    def _inputs(self, t: Transition, data: st.DataObject) -> tuple[dict[str, Any], bool]:
        """Inputs for ``t`` and whether they are valid."""
        inputs: dict[str, Any] = {}
        for spec in t.inputs:
            if spec.type == "user":
                inputs[spec.name] = data.draw(st.sampled_from(PERSONAS))
            elif spec.type == "choice":
                inputs[spec.name] = data.draw(st.sampled_from([v for v, _l in spec.choices]))
            elif spec.type == "departments":
                inputs[spec.name] = data.draw(st.sampled_from([[], ["PROD"], ["PROD", "QA"]]))
            elif spec.type == "date":
                inputs[spec.name] = "2026-12-31"
            else:
                inputs[spec.name] = data.draw(st.sampled_from(TEXTS))
        defect = data.draw(st.sampled_from(INPUT_DEFECTS))
        required = [s for s in t.inputs if s.required]
        if defect == "drop" and required:
            del inputs[data.draw(st.sampled_from(required)).name]
            return inputs, False
        if defect == "bad_value" and t.inputs:
            spec = data.draw(st.sampled_from(t.inputs))
            inputs[spec.name] = {
                "text": "   ",
                "user": "nobody",
                "date": "2026-13-40",
                "choice": "bogus",
                "departments": ["NOPE"],
            }[spec.type]
            return inputs, not spec.required and spec.type == "text"
        if defect == "extra":
            inputs["colour"] = "red"
            return inputs, False
        return inputs, True

    def _signature(self, meaning: str | None, variant: str) -> dict[str, str] | None:
        if variant == "missing":
            return None
        return {
            "password": "wrong-password" if variant == "wrong_password" else PASSWORD,
            "meaning": "reviewed" if variant == "wrong_meaning" or meaning is None else meaning,
        }

    def _signing(self, persona: str, meaning: str, variant: str) -> str:
        """What the signature check does: "ok", or "refused" (counting a wrong password)."""
        if self.failures[persona] >= WRONG_PASSWORDS_ALLOWED:
            return "refused"
        if variant in {"missing", "wrong_meaning"} and not (
            variant == "wrong_meaning" and meaning == "reviewed"
        ):
            return "refused"
        if variant == "wrong_password":
            self.failures[persona] += 1
            return "refused"
        self.failures[persona] = 0
        return "ok"

    def _approval_blocks(self, case: Case, t: Transition) -> bool:
        if t.requires_approval:
            latest = (
                case.approvals.filter(kind=t.requires_approval)
                .order_by("-requested_at", "-id")
                .first()
            )
            if latest is None or latest.state != "approved":
                return True
        if t.requests_approval:
            kind = t.requests_approval[0]
            return case.approvals.filter(kind=kind, state="pending").exists()
        return False

    def _predict(
        self, case: Case, t: Transition, persona: str, valid: bool, variant: str
    ) -> type[Exception] | None:
        user = self.users[persona]
        if not Case.objects.for_user(user).filter(pk=case.pk).exists():
            return Http404  # the action itself says the case is not there (issue 9.4)
        if not expected_allowed(t, persona, case, user):
            return PermissionDenied
        if case.state not in t.sources:
            return Conflict
        if not valid:
            return ValidationError
        if self._approval_blocks(case, t):
            return Conflict
        if t.signature and self._signing(persona, t.signature, variant) == "refused":
            return ValidationError
        return None

    def _step(self, case_id: int, t: Transition, persona: str, data: st.DataObject) -> None:
        case = Case.objects.select_related("handler").get(pk=case_id)
        inputs, valid = self._inputs(t, data)
        variant = data.draw(st.sampled_from(SIGNATURES))
        before = fingerprint(case_id)
        expected = self._predict(case, t, persona, valid, variant)
        user = self.users[persona]
        try:
            moved = take_transition(
                case,
                t.name,
                inputs,
                actor=user,
                signature=self._signature(t.signature, variant),
            )
        except (PermissionDenied, Conflict, ValidationError, Http404) as exc:
            assert expected is not None and isinstance(exc, expected), (t.name, persona, exc)
            assert fingerprint(case_id) == before, (t.name, persona)
            return
        assert expected is None, (t.name, persona, "was not refused")
        self.events[case_id] += 1
        assert moved.state == t.target_for(inputs, before[0])
        event = moved.events.order_by("-id").first()
        assert event is not None
        assert (event.verb, event.actor_id, event.data["transition"]) == (
            "transition",
            user.pk,
            t.name,
        )
        if t.signature:
            signed = event.data["signature"]
            assert (signed["printed_name"], signed["meaning"]) == (user.printed_name, t.signature)

    # Rules -------------------------------------------------------------------------------

    @initialize(
        target=cases,
        persona=st.sampled_from(PERSONAS),
        start=st.sampled_from(STATES),
        onsite=st.booleans(),
    )
    def register_first(self, persona: str, start: str, onsite: bool) -> int:
        return self._register(persona, start, onsite)

    @precondition(lambda self: len(self.numbers) < 2)
    @rule(
        target=cases,
        persona=st.sampled_from(PERSONAS),
        start=st.sampled_from(STATES),
        onsite=st.booleans(),
    )
    def register_another(self, persona: str, start: str, onsite: bool) -> int:
        return self._register(persona, start, onsite)

    def _register(self, persona: str, start: str, onsite: bool) -> int:
        """Register a complaint and, to reach deep states often, move it along the happy path
        to ``start`` (with ``onsite``, asking for an on-site investigation on the way) before
        the random steps begin."""
        case = HOLDER["make_case"](actor=persona)
        assert case.state == COMPLAINT_V1.initial
        self.numbers[case.pk] = case.number
        if onsite and start not in {"new", "cs_review", "closed"}:
            case = drive_to(case, "investigating", self.users)
            case = take_transition(
                case, "request_onsite", {"reason": "需到现场"}, actor=self.users["qe"]
            )
        case = drive_to(case, start, self.users)
        self.events[case.pk] = case.events.count()
        return int(case.pk)

    @rule(
        case_id=cases,
        name=st.sampled_from(TRANSITIONS),
        persona=st.sampled_from(PERSONAS),
        data=st.data(),
    )
    def take_any_step(self, case_id: int, name: str, persona: str, data: st.DataObject) -> None:
        """Any step of the process, by anyone."""
        t = COMPLAINT_V1.transition(name)
        assert t is not None
        self._step(case_id, t, persona, data)

    @rule(case_id=cases, data=st.data())
    def take_an_offered_step(self, case_id: int, data: st.DataObject) -> None:
        """A step the case offers someone now: never forbidden, never the wrong state. (This
        moves cases deep into the process far more often than wholly random steps.)"""
        case = Case.objects.select_related("handler").get(pk=case_id)
        offers = {p: available_transitions(case, self.users[p]) for p in PERSONAS}
        for p in PERSONAS:
            assert offers[p] == [
                t
                for t in COMPLAINT_V1.transitions
                if case.state in t.sources and expected_allowed(t, p, case, self.users[p])
            ], p
        # Every state, closed included, offers a step to someone other than the administrator.
        actors = [p for p in PERSONAS if offers[p] and not self.users[p].is_superuser]
        assert actors, case.state
        persona = data.draw(st.sampled_from([p for p in PERSONAS if offers[p]]))
        t = data.draw(st.sampled_from(offers[persona]))
        assert expected_allowed(t, persona, case, self.users[persona])
        assert case.state in t.sources
        self._step(case_id, t, persona, data)

    @rule(
        case_id=cases,
        persona=st.sampled_from(PERSONAS),
        decision=st.sampled_from(["approve", "approve", "refuse", "maybe"]),
        data=st.data(),
    )
    def decide_an_approval(
        self, case_id: int, persona: str, decision: str, data: st.DataObject
    ) -> None:
        approvals = list(Approval.objects.filter(case_id=case_id).order_by("id"))
        if not approvals:
            return
        approval = data.draw(st.sampled_from(approvals))
        # Mostly someone entitled to decide; sometimes anyone.
        deciders = [p for p in PERSONAS if ROLE[p] == approval.role]
        persona = data.draw(st.sampled_from([persona, *deciders, *deciders]))
        variant = data.draw(st.sampled_from(SIGNATURES))
        meaning = "approved" if decision == "approve" else "refused"
        user = self.users[persona]
        expected: type[Exception] | None = None
        if decision not in {"approve", "refuse"}:
            expected = ValidationError
        elif not Case.objects.for_user(user).filter(pk=case_id).exists():
            expected = Http404
        elif not (user.is_superuser or ROLE[persona] == approval.role):
            expected = PermissionDenied
        elif approval.state != "pending":
            expected = Conflict
        elif self._signing(persona, meaning, variant) == "refused":
            expected = ValidationError
        before = fingerprint(case_id)
        try:
            decided = decide_approval(
                approval,
                decision,
                actor=user,
                comment="同意" if decision == "approve" else "不必到现场",
                signature=self._signature(meaning, variant),
            )
        except (PermissionDenied, Conflict, ValidationError, Http404) as exc:
            assert expected is not None and isinstance(exc, expected), (decision, persona, exc)
            assert fingerprint(case_id) == before
            return
        assert expected is None, (decision, persona, "was not refused")
        self.events[case_id] += 1
        assert decided.state == ("approved" if decision == "approve" else "refused")
        assert decided.signature["printed_name"] == user.printed_name
        assert decided.signature["meaning"] == meaning

    @rule(hours=st.integers(min_value=1, max_value=60))
    def time_passes_and_the_sweep_runs(self, hours: int) -> None:
        self.clock.shift(dt.timedelta(hours=hours))
        # An hour or more: every lock-out (QLOOP_LOGIN_LOCK_MINUTES, 15) is over.
        self.failures = dict.fromkeys(PERSONAS, 0)
        now = timezone.now()
        due = {
            case_id: [c.pk for c in clocks_of(case_id) if c.state == "running" and c.due_at < now]
            for case_id in self.numbers
        }
        escalated = {
            case_id: Case.objects.get(pk=case_id).events.filter(verb="clock_escalated").count()
            for case_id in self.numbers
        }
        swept = sweep_breaches(now=now)
        assert swept >= sum(len(ids) for ids in due.values())
        for case_id, ids in due.items():
            assert set(Clock.objects.filter(pk__in=ids).values_list("state", flat=True)) <= {
                "breached"
            }
            # Later rungs of the escalation ladder (R2.8) are on the timeline too.
            later = Case.objects.get(pk=case_id).events.filter(verb="clock_escalated").count()
            assert later >= escalated[case_id]
            self.events[case_id] += len(ids) + later - escalated[case_id]

    # Invariants --------------------------------------------------------------------------

    @invariant()
    def each_case_is_where_its_events_say_with_its_number(self) -> None:
        for case_id, number in self.numbers.items():
            case = Case.objects.get(pk=case_id)
            assert case.number == number
            assert case.state in COMPLAINT_V1.states
            assert case.events.count() == self.events[case_id]
            moves = list(case.events.filter(verb="transition").order_by("at", "id"))
            state = COMPLAINT_V1.initial
            for event in moves:
                assert event.data["from"] == state
                state = event.data["to"]
            assert case.state == state

    @invariant()
    def signed_steps_carry_their_signature(self) -> None:
        for case_id in self.numbers:
            for event in Case.objects.get(pk=case_id).events.filter(verb="transition"):
                t = COMPLAINT_V1.transition(event.data["transition"])
                assert t is not None
                if t.signature:
                    signed = event.data["signature"]
                    assert signed["meaning"] == t.signature
                    assert signed["printed_name"]
                    assert dt.datetime.fromisoformat(signed["at"]) == event.at

    @invariant()
    def onsite_findings_follow_an_approved_onsite_investigation(self) -> None:
        for case_id in self.numbers:
            case = Case.objects.get(pk=case_id)
            for event in case.events.filter(verb="transition", data__transition="record_onsite"):
                latest = (
                    case.approvals.filter(kind="onsite", requested_at__lte=event.at)
                    .order_by("-requested_at", "-id")
                    .first()
                )
                assert latest is not None
                assert latest.state == "approved"
                assert latest.decided_at is not None and latest.decided_at <= event.at

    @invariant()
    def clocks_are_consistent(self) -> None:
        for case_id in self.numbers:
            case = Case.objects.get(pk=case_id)
            clocks = clocks_of(case_id)
            for name in {c.name for c in clocks}:
                assert sum(1 for c in clocks if c.name == name and c.state in OPEN) <= 1, name
            for c in clocks:
                assert c.state in {"running", "paused", "stopped", "breached"}
                assert (c.stopped_at is not None) == (c.state == "stopped")
                if c.state == "breached":
                    assert c.breached_at is not None
                if c.state == "running":
                    assert c.breached_at is None
                if c.breached_at is not None and c.stopped_at is not None:
                    assert c.breached_at <= c.stopped_at
            if case.state in COMPLAINT_V1.terminal:
                assert not [c for c in clocks if c.state in OPEN]
            if case.state == "investigating":
                assert [c.name for c in clocks if c.state in OPEN].count("investigation") == 1


@pytest.mark.django_db
def test_random_walks_through_the_complaint_process_keep_its_rules(
    users: dict[str, User], make_case: Any
) -> None:
    """R1.3–R1.8, R2.3, X2, X3: no step outside the definition succeeds, none inside it is
    refused without cause, and the case, its clocks and its events stay consistent."""
    HOLDER.update(users=users, make_case=make_case, start=timezone.now())
    try:
        with override_settings(QLOOP_LOGIN_ATTEMPTS=WRONG_PASSWORDS_ALLOWED):
            run_state_machine_as_test(
                ComplaintMachine,
                settings=settings(
                    max_examples=25,
                    stateful_step_count=25,
                    deadline=None,
                    database=None,
                    suppress_health_check=[
                        HealthCheck.too_slow,
                        HealthCheck.function_scoped_fixture,
                    ],
                ),
            )
    finally:
        HOLDER.clear()
        cache.clear()
