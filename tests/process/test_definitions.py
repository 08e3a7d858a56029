"""Processes are declared as data, checked at start-up and versioned (R1.3–R1.8, R2.12, X3)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404

from qloop.process import definitions
from qloop.process.definitions import COMPLAINT_V1, CS, FEEDBACK_V1, check_definitions
from qloop.process.engine import available_transitions, take_transition
from qloop.process.spec import ClockSpec, Input, Process, Transition, Who

ANYONE = Who(frozenset({"cs_clerk"}))


def tiny(**overrides: Any) -> Process:
    """A small sound process: open → working → closed, one clock started and stopped."""
    fields: dict[str, Any] = {
        "kind": "tiny",
        "version": 1,
        "initial": "open",
        "states": {"open": "Open", "working": "Working", "closed": "Closed"},
        "terminal": frozenset({"closed"}),
        "clocks": {"answer": ClockSpec("answer", hours=48)},
        "clocks_on_registration": (),
        "transitions": (
            Transition(
                "start", "Start", frozenset({"open"}), "working", ANYONE, starts=("answer",)
            ),
            Transition(
                "finish", "Finish", frozenset({"working"}), "closed", ANYONE, stops=("answer",)
            ),
        ),
    }
    fields.update(overrides)
    return Process(**fields)


def with_transition(process: Process, *extra: Transition) -> Process:
    return dataclasses.replace(process, transitions=(*process.transitions, *extra))


def test_the_shipped_processes_are_sound() -> None:
    """R1.3–R1.8, R2.12: the complaint and feedback processes pass the start-up check."""
    assert COMPLAINT_V1.problems() == []
    assert FEEDBACK_V1.problems() == []
    assert tiny().problems() == []


def test_every_complaint_state_is_reachable_and_every_open_state_has_a_way_out() -> None:
    """R1.3–R1.7: from registration a complaint can reach every state, including closed."""
    targets = {s for t in COMPLAINT_V1.transitions for s in t.targets()}
    assert set(COMPLAINT_V1.states) - {COMPLAINT_V1.initial} <= targets
    assert "closed" in COMPLAINT_V1.terminal


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        pytest.param(
            lambda: with_transition(
                tiny(states={**tiny().states, "limbo": "Limbo"}),
                Transition("leave", "Leave", frozenset({"limbo"}), "closed", ANYONE),
            ),
            "tiny v1: state 'limbo' cannot be reached",
            id="unreachable-state",
        ),
        pytest.param(
            lambda: with_transition(
                tiny(), Transition("skip", "Skip", frozenset({"open"}), "closed", Who())
            ),
            "tiny v1: nobody may take transition 'skip'",
            id="nobody-may-take",
        ),
        pytest.param(
            lambda: tiny(
                transitions=(
                    Transition(
                        "start", "Start", frozenset({"open"}), "working", ANYONE, starts=("answer",)
                    ),
                    Transition("finish", "Finish", frozenset({"working"}), "closed", ANYONE),
                )
            ),
            "tiny v1: clock 'answer' is started but never stopped",
            id="clock-never-stopped",
        ),
        pytest.param(
            lambda: tiny(
                clocks_on_registration=("intake",),
                clocks={**tiny().clocks, "intake": ClockSpec("intake", hours=1)},
            ),
            "tiny v1: clock 'intake' is started but never stopped",
            id="registration-clock-never-stopped",
        ),
        pytest.param(
            lambda: with_transition(
                tiny(states={**tiny().states, "stuck": "Stuck"}),
                Transition("park", "Park", frozenset({"working"}), "stuck", ANYONE),
                Transition("poke", "Poke", frozenset({"stuck"}), "stuck", ANYONE),
            ),
            "tiny v1: state 'stuck' is a dead end",
            id="dead-end",
        ),
        pytest.param(
            lambda: with_transition(
                tiny(states={**tiny().states, "stuck": "Stuck"}),
                Transition("park", "Park", frozenset({"working"}), "stuck", ANYONE),
                Transition(
                    "note",
                    "Note",
                    frozenset({"working", "stuck"}),
                    "working",
                    ANYONE,
                    same_state=True,
                ),
            ),
            "tiny v1: state 'stuck' is a dead end",
            id="dead-end-with-a-shared-same-state-step",
        ),
        pytest.param(
            lambda: with_transition(
                tiny(), Transition("lose", "Lose", frozenset({"working"}), "nowhere", ANYONE)
            ),
            "tiny v1: transition 'lose' names unknown state 'nowhere'",
            id="unknown-target-state",
        ),
        pytest.param(
            lambda: with_transition(
                tiny(), Transition("back", "Back", frozenset({"limbo"}), "open", ANYONE)
            ),
            "tiny v1: transition 'back' names unknown state 'limbo'",
            id="unknown-source-state",
        ),
        pytest.param(
            lambda: tiny(initial="draft"),
            "tiny v1: initial state 'draft' is not a state",
            id="unknown-initial-state",
        ),
        pytest.param(
            lambda: with_transition(
                tiny(), Transition("finish", "Again", frozenset({"working"}), "closed", ANYONE)
            ),
            "tiny v1: transition 'finish' is declared twice",
            id="duplicate-transition",
        ),
        pytest.param(
            lambda: with_transition(
                tiny(),
                Transition(
                    "ring", "Ring", frozenset({"working"}), "closed", ANYONE, stops=("bell",)
                ),
            ),
            "tiny v1: 'ring' names unknown clock 'bell'",
            id="unknown-clock",
        ),
        pytest.param(
            lambda: with_transition(
                tiny(),
                Transition(
                    "judge",
                    "Judge",
                    frozenset({"working"}),
                    "closed",
                    ANYONE,
                    inputs=(Input("verdict", "Verdict"),),
                    target_if=(("result", "bad", "open"),),
                ),
            ),
            "tiny v1: 'judge' branches on unknown input 'result'",
            id="branch-on-unknown-input",
        ),
        pytest.param(
            lambda: tiny(
                states={"open": "Open", "working": "Working", "done": "Done"},
                terminal=frozenset({"done"}),
                transitions=(
                    Transition(
                        "start", "Start", frozenset({"open"}), "working", ANYONE, starts=("answer",)
                    ),
                    Transition(
                        "finish",
                        "Finish",
                        frozenset({"working"}),
                        "done",
                        ANYONE,
                        stops=("answer",),
                    ),
                ),
            ),
            "tiny v1: terminal state 'done' must be called 'closed'",
            id="terminal-not-closed",
        ),
        pytest.param(
            lambda: tiny(state_groups={"tasks": frozenset({"working", "limbo"})}),
            "tiny v1: state group 'tasks' names unknown state 'limbo'",
            id="unknown-state-in-group",
        ),
        pytest.param(
            lambda: with_transition(
                tiny(),
                Transition(
                    "tell", "Tell", frozenset({"working"}), "closed", ANYONE, notify=("quality",)
                ),
            ),
            "tiny v1: 'tell' notifies unknown audience 'quality'",
            id="unknown-audience",
        ),
    ],
)
def test_a_broken_declaration_reports_what_is_wrong(
    broken: Callable[[], Process], problem: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R2.12: a declaration with one defect reports that defect, by name, and the start-up
    check refuses it."""
    process = broken()
    if problem.endswith("is not a state"):
        # Nothing can be reached from an initial state that does not exist.
        assert problem in process.problems()
    else:
        assert process.problems() == [problem]
    monkeypatch.setitem(definitions.PROCESSES, ("tiny", 1), process)
    with pytest.raises(ImproperlyConfigured) as refused:
        check_definitions()
    assert problem in str(refused.value)


def test_a_process_with_several_defects_reports_each_of_them() -> None:
    """R2.12: the check does not stop at the first problem."""
    broken = tiny(
        states={**tiny().states, "limbo": "Limbo"},
        transitions=(
            Transition("start", "Start", frozenset({"open"}), "working", Who(), starts=("answer",)),
            Transition("finish", "Finish", frozenset({"working"}), "closed", ANYONE),
        ),
    )
    assert sorted(broken.problems()) == sorted(
        [
            "tiny v1: nobody may take transition 'start'",
            "tiny v1: state 'limbo' cannot be reached",
            "tiny v1: state 'limbo' is a dead end",
            "tiny v1: clock 'answer' is started but never stopped",
        ]
    )


def test_an_unsound_registry_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """R2.12: check_definitions, run when the app starts, refuses an unsound process."""
    broken = tiny(states={**tiny().states, "limbo": "Limbo"})
    monkeypatch.setitem(definitions.PROCESSES, ("tiny", 1), broken)
    with pytest.raises(ImproperlyConfigured, match="state 'limbo' cannot be reached"):
        check_definitions()
    with pytest.raises(ImproperlyConfigured, match="state 'limbo' cannot be reached"):
        apps.get_app_config("web").ready()


def test_a_sound_registry_starts() -> None:
    check_definitions()
    apps.get_app_config("web").ready()


def complaint_v2() -> Process:
    """Version 2 of the complaint process: CS may send a new complaint straight to Quality."""
    fast_track = Transition(
        "fast_track",
        "Fast track to Quality",
        frozenset({"new"}),
        "investigating",
        Who(CS),
        inputs=(Input("analysis", "Preliminary analysis"),),
        starts=("investigation",),
        effect="record_analysis",
    )
    return dataclasses.replace(
        COMPLAINT_V1, version=2, transitions=(*COMPLAINT_V1.transitions, fast_track)
    )


def test_a_running_case_keeps_the_version_it_started_on(
    monkeypatch: pytest.MonkeyPatch, make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """A changed process gets a new version; cases already running stay on the old one."""
    old = make_case()
    assert old.process_version == 1
    v2 = complaint_v2()
    assert v2.problems() == []
    monkeypatch.setitem(definitions.PROCESSES, ("complaint", 2), v2)
    monkeypatch.setitem(definitions.CURRENT_VERSION, "complaint", 2)

    new = make_case()
    assert new.process_version == 2
    assert "fast_track" in {t.name for t in available_transitions(new, users["cs"])}
    assert "fast_track" not in {t.name for t in available_transitions(old, users["cs"])}

    with pytest.raises(Http404):
        take_transition(old, "fast_track", {"analysis": "密封件"}, actor=users["cs"])
    old.refresh_from_db()
    assert (old.state, old.process_version) == ("new", 1)

    new = take_transition(new, "fast_track", {"analysis": "密封件"}, actor=users["cs"])
    assert new.state == "investigating"
    assert new.clocks.get(name="investigation").state == "running"
    # The old case still moves along version 1.
    old = take_transition(old, "assign", {"handler": "cs"}, actor=users["cs_head"])
    assert (old.state, old.process_version) == ("cs_review", 1)


def test_a_loop_that_never_reaches_closing_is_reported() -> None:
    """Two states that only lead to each other would trap a case forever: refused at start-up."""
    process = tiny(
        states={
            "open": "Open",
            "working": "Working",
            "ping": "Ping",
            "pong": "Pong",
            "closed": "Closed",
        },
        transitions=(
            Transition(
                "start", "Start", frozenset({"open"}), "working", ANYONE, starts=("answer",)
            ),
            Transition(
                "finish", "Finish", frozenset({"working"}), "closed", ANYONE, stops=("answer",)
            ),
            Transition("detour", "Detour", frozenset({"working"}), "ping", ANYONE),
            Transition("back", "Back", frozenset({"ping"}), "pong", ANYONE),
            Transition("forth", "Forth", frozenset({"pong"}), "ping", ANYONE),
        ),
    )
    problems = process.problems()
    assert "tiny v1: from state 'ping' the case can never be closed" in problems
    assert "tiny v1: from state 'pong' the case can never be closed" in problems
    assert not any("'working'" in p for p in problems)


def test_the_start_up_check_refuses_an_unknown_effect_and_a_kind_without_registration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A profile registers its kinds and step effects (qloop.cases.kinds, qloop.process.effects);
    a process naming an effect nobody registered, or a kind nobody registered, cannot start."""
    broken = with_transition(
        tiny(),
        Transition("stamp", "Stamp", frozenset({"working"}), "closed", ANYONE, effect="stamp"),
    )
    monkeypatch.setitem(definitions.PROCESSES, ("tiny", 1), broken)
    with pytest.raises(ImproperlyConfigured) as refused:
        check_definitions()
    assert "tiny v1: 'stamp' names unknown effect 'stamp'" in str(refused.value)
    assert "tiny v1: no kind 'tiny' is registered" in str(refused.value)
