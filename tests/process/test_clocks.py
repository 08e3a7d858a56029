"""Deadline clocks (X3): started, stopped, swept for breaches, shown on the case."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command

from qloop.cases.actions import archive_case
from qloop.cases.models import Case, Event
from qloop.notify.models import Notification
from qloop.process import clocks
from qloop.process.models import Clock, ClockName, ClockState
from tests.clocktime import answer_clock, local


def next_due(case: Case) -> dt.datetime | None:
    return Case.objects.get(pk=case.pk).next_due_at


@pytest.fixture
def two_cases(make_case: Callable[..., Any]) -> tuple[Case, Case]:
    """Answers due 22 Nov 09:30 and 23 Nov 10:00 (2 calendar days after receipt)."""
    early = make_case(received_at=local(2026, 11, 20, 9, 30))
    late = make_case(received_at=local(2026, 11, 21, 10, 0))
    return early, late


# Start and stop ---------------------------------------------------------------------------


def test_the_case_shows_its_soonest_running_deadline(make_case: Callable[..., Any]) -> None:
    """X3: the register shows, per case, the next deadline of all its running clocks."""
    case = make_case(received_at=local(2026, 11, 20, 9, 30))
    answer_due = local(2026, 11, 22, 9, 30)
    assert next_due(case) == answer_due

    investigation_due = local(2026, 11, 21, 12, 0)
    clocks.start_clock(case, ClockName.INVESTIGATION, due_at=investigation_due)
    assert next_due(case) == investigation_due
    assert case.next_due_at == investigation_due  # the object in hand is kept in step

    clocks.stop_clock(case, ClockName.INVESTIGATION, now=local(2026, 11, 21, 9, 0))
    assert next_due(case) == answer_due

    clocks.stop_clock(case, ClockName.CUSTOMER_ANSWER, now=local(2026, 11, 21, 10, 0))
    assert next_due(case) is None
    assert not Case.objects.get(pk=case.pk).is_overdue


def test_a_clock_stopped_in_time_is_no_breach(make_case: Callable[..., Any]) -> None:
    """X3: an answer given within the 2 days is on time."""
    case = make_case(received_at=local(2026, 11, 20, 9, 30))
    stopped = clocks.stop_clock(case, ClockName.CUSTOMER_ANSWER, now=local(2026, 11, 21, 9, 0))
    assert stopped is not None
    assert (stopped.state, stopped.breached_at, stopped.was_breached) == (
        ClockState.STOPPED,
        None,
        False,
    )
    assert stopped.stopped_at == local(2026, 11, 21, 9, 0)


def test_a_clock_stopped_late_before_any_sweep_still_counts_as_breached(
    make_case: Callable[..., Any],
) -> None:
    """X3: a late answer is late even if the sweep had not run yet."""
    case = make_case(received_at=local(2026, 11, 20, 9, 30))
    clocks.stop_clock(case, ClockName.CUSTOMER_ANSWER, now=local(2026, 11, 23, 9, 0))
    clock = answer_clock(case)
    assert clock.state == ClockState.STOPPED
    assert clock.was_breached
    assert clock.breached_at == local(2026, 11, 22, 9, 30)


def test_stopping_a_clock_that_is_not_running_does_nothing(
    make_case: Callable[..., Any],
) -> None:
    """X3: stopping twice (a double click) keeps the first stop time."""
    case = make_case(received_at=local(2026, 11, 20, 9, 30))
    clocks.stop_clock(case, ClockName.CUSTOMER_ANSWER, now=local(2026, 11, 21, 9, 0))
    assert clocks.stop_clock(case, ClockName.CUSTOMER_ANSWER) is None
    assert clocks.stop_clock(case, ClockName.INVESTIGATION) is None
    assert answer_clock(case).stopped_at == local(2026, 11, 21, 9, 0)


# The sweep --------------------------------------------------------------------------------


def test_the_sweep_marks_clocks_past_due_as_breached_once(two_cases: tuple[Case, Case]) -> None:
    """X3: a deadline that passes is marked breached, with one event on the case, however
    often the sweep runs."""
    early, late = two_cases
    now = local(2026, 11, 22, 12, 0)

    assert clocks.sweep_breaches(now) == 1
    assert clocks.sweep_breaches(now) == 0
    assert clocks.sweep_breaches(now + dt.timedelta(minutes=1)) == 0

    breached = answer_clock(early)
    assert (breached.state, breached.breached_at) == (ClockState.BREACHED, now)
    assert answer_clock(late).state == ClockState.RUNNING
    [event] = Event.objects.filter(verb="clock_breached")
    assert event.case_id == early.pk
    assert event.at == now
    assert event.actor is None
    assert event.data["clock"] == "customer_answer"
    assert dt.datetime.fromisoformat(event.data["due_at"]) == local(2026, 11, 22, 9, 30)

    assert clocks.sweep_breaches(local(2026, 11, 23, 10, 1)) == 1
    assert clocks.sweep_breaches(local(2026, 11, 23, 10, 1)) == 0
    assert Event.objects.filter(verb="clock_breached").count() == 2
    assert answer_clock(late).state == ClockState.BREACHED


def test_a_deadline_is_breached_only_after_it_has_passed(
    two_cases: tuple[Case, Case],
) -> None:
    """X3: "within 2 days" includes the due moment itself."""
    assert clocks.sweep_breaches(local(2026, 11, 22, 9, 30)) == 0
    assert clocks.sweep_breaches(local(2026, 11, 22, 9, 30, 1)) == 1


def test_the_sweep_alerts_the_cs_head_and_the_handler_once(
    two_cases: tuple[Case, Case], users: dict[str, Any]
) -> None:
    """R2.3, X3: a late answer is escalated to the head of CS and the handler, once."""
    from qloop.process.engine import take_transition

    early, _late = two_cases
    take_transition(early, "assign", {"handler": "cs"}, actor=users["cs_head"])
    before = Notification.objects.count()
    clocks.sweep_breaches(local(2026, 11, 22, 12, 0))
    clocks.sweep_breaches(local(2026, 11, 22, 12, 5))
    alerts = Notification.objects.filter(kind="clock_breached")
    assert {n.user.username for n in alerts} == {"cs_head", "cs"}
    assert all(n.urgent and n.case_id == early.pk for n in alerts)
    assert Notification.objects.count() == before + 2


def test_a_breached_case_stays_overdue_until_its_clock_is_stopped(
    two_cases: tuple[Case, Case],
) -> None:
    """X3: a breach is shown, not hidden: the case keeps its deadline and stays overdue."""
    early, _late = two_cases
    now = local(2026, 11, 22, 12, 0)
    clocks.sweep_breaches(now)
    with time_machine.travel(now, tick=False):
        assert next_due(early) == local(2026, 11, 22, 9, 30)
        assert Case.objects.get(pk=early.pk).is_overdue
        assert list(Case.objects.overdue()) == [Case.objects.get(pk=early.pk)]

        clocks.stop_clock(early, ClockName.CUSTOMER_ANSWER)
        assert next_due(early) is None
        assert not Case.objects.overdue().exists()

    clock = answer_clock(early)
    assert clock.state == ClockState.STOPPED
    assert clock.was_breached
    assert clock.breached_at == now  # the breach stays on record after the stop
    assert Event.objects.filter(case=early, verb="clock_breached").count() == 1


def test_stopped_clocks_are_not_swept(make_case: Callable[..., Any]) -> None:
    """X3: an answered complaint raises no alarm later."""
    case = make_case(received_at=local(2026, 11, 20, 9, 30))
    clocks.stop_clock(case, ClockName.CUSTOMER_ANSWER, now=local(2026, 11, 21, 9, 0))
    assert clocks.sweep_breaches(local(2026, 12, 31, 0, 0)) == 0
    assert not Event.objects.filter(verb="clock_breached").exists()


def test_an_archived_case_raises_no_alarm(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """X2, X3: a case archived as a duplicate leaves the queues; its deadline stops with it
    and nobody is alerted about it later."""
    case = make_case(received_at=local(2026, 11, 20, 9, 30))
    with time_machine.travel(local(2026, 11, 20, 10, 0), tick=False):
        archive_case(case, "与另一条登记重复", actor=users["cs_head"])
    assert clocks.sweep_breaches(local(2026, 11, 23, 0, 0)) == 0
    assert not Event.objects.filter(verb="clock_breached").exists()
    assert not Notification.objects.filter(kind="clock_breached").exists()
    assert answer_clock(case).state == ClockState.STOPPED
    assert not answer_clock(case).was_breached


def test_the_sweep_works_through_more_clocks_than_one_batch(
    make_case: Callable[..., Any],
) -> None:
    """X3: a backlog larger than one batch (after a weekend of downtime) is swept whole."""
    for day in range(1, 6):
        make_case(received_at=local(2026, 11, day, 9, 0))
    assert clocks.sweep_breaches(local(2026, 11, 20, 0, 0), batch=2) == 5
    assert Clock.objects.filter(state=ClockState.BREACHED).count() == 5
    assert Event.objects.filter(verb="clock_breached").count() == 5


# The `qloop sweep` command ----------------------------------------------------------------


def sweep(*args: str, **options: Any) -> str:
    out = io.StringIO()
    call_command("sweep", *args, stdout=out, **options)
    return out.getvalue()


def test_the_sweep_command_reports_what_it_marked(two_cases: tuple[Case, Case]) -> None:
    """X3: an operator can run the sweep by hand and read what it did."""
    assert sweep(now="2026-11-22T12:00+08:00", dry_run=True) == (
        "Would sweep as of 2026-11-22T12:00:00+08:00: 1 deadline(s) newly breached, "
        "0 reminder(s), 1 escalation step(s), 1 message(s) to people on 1 case(s).\n"
    )
    assert not Event.objects.filter(verb="clock_breached").exists()  # a dry run changes nothing
    assert sweep(now="2026-11-22T12:00+08:00") == (
        "Swept as of 2026-11-22T12:00:00+08:00: 1 deadline(s) newly breached, "
        "0 reminder(s), 1 escalation step(s), 1 message(s) to people on 1 case(s).\n"
    )
    assert sweep(now="2026-11-22T12:00+08:00") == (
        "Swept as of 2026-11-22T12:00:00+08:00: 0 deadline(s) newly breached, "
        "0 reminder(s), 0 escalation step(s), 0 message(s) to people on 0 case(s).\n"
    )
    assert Event.objects.filter(verb="clock_breached").count() == 1


def test_the_sweep_command_reads_a_time_without_offset_as_china_time(
    two_cases: tuple[Case, Case],
) -> None:
    """X3: "--now 2026-11-23T10:30" means 10:30 in China, as the operator reads the clock."""
    assert sweep("--now", "2026-11-23T10:30").startswith(
        "Swept as of 2026-11-23T10:30:00+08:00: 2 deadline(s) newly breached,"
    )


def test_the_sweep_command_sweeps_as_of_now_by_default(two_cases: tuple[Case, Case]) -> None:
    """X3: run without --now, the sweep uses the current time."""
    with time_machine.travel(local(2026, 11, 22, 12, 0), tick=False):
        output = sweep()
    assert ": 1 deadline(s) newly breached," in output
    assert answer_clock(two_cases[0]).state == ClockState.BREACHED


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00", "22/11/2026 12:00"])
def test_the_sweep_command_refuses_a_time_it_cannot_read(
    two_cases: tuple[Case, Case], bad: str
) -> None:
    """X3: a mistyped --now stops with a message showing the expected form, and sweeps nothing."""
    with pytest.raises(CommandError, match=r"--now must be an ISO time such as 2026-11-25T09:00"):
        sweep(now=bad)
    assert not Clock.objects.filter(state=ClockState.BREACHED).exists()
