"""Deadlines remind before they pass and climb an escalation ladder after (X3, R1.4, R2.3, R2.8).

A complaint's 2-day answer clock reminds its handler at 50 % and 80 % of the time and an hour
before the due time; once breached it tells the handler and the CS head at once (R2.8) and the
general manager a day later. The sweep does all of it; ``qloop sweep --dry-run`` says what it
would do without doing it.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from qloop.cases.models import Case, Event
from qloop.notify.models import Message, Notification
from qloop.org.models import User
from qloop.process import clocks
from qloop.process.engine import take_transition
from qloop.process.models import Clock
from tests.clocktime import ANSWER, DUE, MINUTE, T0, answer_clock, local

pytestmark = pytest.mark.usefixtures("calendar_days")


def told(kind: str, case: Case | None = None) -> list[str]:
    """Who got a bell notification of this kind, sorted (one entry per notification)."""
    rows = Notification.objects.filter(kind=kind)
    if case is not None:
        rows = rows.filter(case=case)
    return sorted(n.user.username for n in rows.select_related("user"))


def mailed(kind: str) -> list[str]:
    """Who got an e-mail of this kind in the outbox, sorted."""
    rows = Message.objects.filter(kind=kind, channel="email").select_related("user")
    return sorted(m.user.username for m in rows if m.user)


def sweep(moment: dt.datetime) -> clocks.SweepReport:
    return clocks.sweep(moment)


# Reminders --------------------------------------------------------------------------------


def test_the_handler_is_reminded_at_half_time_at_80_percent_and_an_hour_before(
    complaint: Case,
) -> None:
    """X3, R2.3: 48 calendar hours remind at 24 h, 38 h 24 min and 47 h, each once, in the app
    and by e-mail, to the handler only."""
    points = [local(2026, 3, 3, 9, 0), local(2026, 3, 3, 23, 24), local(2026, 3, 4, 8, 0)]
    for number, point in enumerate(points, start=1):
        assert sweep(point - MINUTE).reminders == 0, point
        assert len(told("clock_reminder")) == number - 1
        report = sweep(point)
        assert (report.reminders, report.people, report.cases) == (1, 1, {complaint.pk})
        assert sweep(point + MINUTE).reminders == 0  # once, however often the sweep runs
        assert told("clock_reminder") == ["cs"] * number
        assert mailed("clock_reminder") == ["cs"] * number

    bell = Notification.objects.filter(kind="clock_reminder").first()
    assert bell is not None
    assert bell.case_id == complaint.pk
    assert bell.data["clock"] == "customer_answer"
    assert dt.datetime.fromisoformat(bell.data["due_at"]) == DUE
    mail = Message.objects.filter(kind="clock_reminder").first()
    assert mail is not None
    assert mail.address == "cs@example.com"
    assert complaint.number in mail.subject


def test_no_reminder_is_sent_once_the_deadline_has_passed(
    make_case: Callable[..., Case], at: Callable[[dt.datetime], None]
) -> None:
    """X3: after the due time the ladder speaks, not the reminders; a sweep that first runs
    after the deadline sends no reminder at all."""
    at(T0)
    make_case(received_at=T0)
    report = sweep(DUE + MINUTE)
    assert (report.breached, report.reminders) == (1, 0)
    assert told("clock_reminder") == []
    assert sweep(DUE + dt.timedelta(days=3)).reminders == 0
    assert told("clock_reminder") == []


def test_a_worker_down_for_a_day_sends_only_the_latest_pending_reminder(
    complaint: Case,
) -> None:
    """X3: a sweep that finds the 50 %, 80 % and 1-hour reminders all past sends one reminder,
    not three, and none of them again."""
    report = sweep(local(2026, 3, 4, 8, 30))
    assert report.reminders == 1
    assert told("clock_reminder") == ["cs"]
    assert mailed("clock_reminder") == ["cs"]
    assert sweep(local(2026, 3, 4, 8, 59)).reminders == 0
    assert told("clock_reminder") == ["cs"]
    clock = answer_clock(complaint)
    assert clock.next_alert_at == DUE  # the first rung of the ladder is next


def test_a_case_without_a_handler_reminds_the_heads_of_its_department(
    make_case: Callable[..., Case], at: Callable[[dt.datetime], None]
) -> None:
    """X3, R1.1: nobody handles it yet, so those who manage CS's cases are reminded."""
    at(T0)
    case = make_case(received_at=T0)
    assert case.handler_id is None
    sweep(local(2026, 3, 3, 9, 0))
    assert told("clock_reminder", case) == ["cs", "cs_head"]
    assert mailed("clock_reminder") == ["cs", "cs_head"]
    assert "gm" not in told("clock_reminder") and "qa_head" not in told("clock_reminder")


def test_a_working_day_clock_reminds_in_working_time(
    make_case: Callable[..., Case],
    users: dict[str, User],
    at: Callable[[dt.datetime], None],
    settings: Any,
) -> None:
    """X3, R2.3: 2 working days from Monday 09:00 are 15 working hours to Wednesday 09:00;
    half of them end Tuesday 09:00, 80 % Tuesday 15:00, and the last working hour begins
    Tuesday 17:00 (Wednesday 08:00 would be before work starts)."""
    settings.QLOOP_ANSWER_WORKING_DAYS = True
    at(T0)
    case = make_case(received_at=T0)
    take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    clock = answer_clock(case)
    assert clock.due_at == DUE
    reminders = [
        dt.datetime.fromisoformat(s["at"]) for s in clock.schedule if s["type"] == "reminder"
    ]
    assert reminders == [local(2026, 3, 3, 9, 0), local(2026, 3, 3, 15, 0), local(2026, 3, 3, 17)]

    assert sweep(local(2026, 3, 3, 16, 59)).reminders == 1  # the 80 % one
    assert sweep(local(2026, 3, 3, 17, 0)).reminders == 1  # an hour of work left
    assert sweep(local(2026, 3, 4, 8, 0)).reminders == 0
    assert told("clock_reminder") == ["cs", "cs"]


# The escalation ladder --------------------------------------------------------------------


def test_a_late_answer_climbs_the_ladder_from_the_cs_head_to_the_general_manager(
    complaint: Case, users: dict[str, User]
) -> None:
    """R2.8, R2.3: breached → the handler and the CS head at once (level 1, urgent); still open
    24 hours later → the general manager (level 2) with the escalation on the timeline."""
    report = sweep(DUE + MINUTE)
    assert (report.breached, report.escalations, report.people) == (1, 1, 2)
    assert told("clock_breached") == ["cs", "cs_head"]
    assert mailed("clock_breached") == ["cs", "cs_head"]
    breached = Notification.objects.filter(kind="clock_breached")
    assert all(n.urgent and n.data["level"] == 1 for n in breached)
    assert told("clock_escalated") == []
    assert not Event.objects.filter(verb="clock_escalated").exists()

    level_2 = DUE + dt.timedelta(hours=24)
    assert sweep(level_2 - MINUTE).escalations == 0
    report = sweep(level_2)
    assert (report.breached, report.escalations, report.people) == (0, 1, 1)
    assert told("clock_escalated") == ["gm"]
    assert mailed("clock_escalated") == ["gm"]
    [event] = Event.objects.filter(case=complaint, verb="clock_escalated")
    assert event.at == level_2
    assert event.data["level"] == 2
    assert event.data["clock"] == "customer_answer"
    assert event.data["to"] == [users["gm"].printed_name]

    # The ladder has no third rung: nothing more, however long the case stays late.
    assert sweep(DUE + dt.timedelta(days=30)).escalations == 0
    assert told("clock_breached") == ["cs", "cs_head"]
    assert told("clock_escalated") == ["gm"]
    assert answer_clock(complaint).next_alert_at is None


def test_a_late_investigation_goes_to_the_quality_head_then_to_the_general_manager(
    complaint: Case, users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """R1.4, R2.8: the 48-hour investigation, breached, tells the quality head at once and
    the general manager 24 hours later; CS is not bothered with Quality's lateness."""
    take_transition(complaint, "answer_customer", ANSWER, actor=users["cs"])
    forwarded = local(2026, 3, 2, 11, 0)
    at(forwarded)
    take_transition(complaint, "forward_to_quality", {"analysis": "疑似密封件"}, actor=users["cs"])
    due = forwarded + dt.timedelta(hours=48)
    assert Clock.objects.get(case=complaint, name="investigation").due_at == due

    sweep(due + MINUTE)
    assert told("clock_breached") == ["qa_head"]
    sweep(due + dt.timedelta(hours=24))
    assert told("clock_escalated") == ["gm"]
    assert Event.objects.get(verb="clock_escalated").data["clock"] == "investigation"


def test_answering_before_the_second_rung_stops_the_ladder(
    complaint: Case, users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """R2.8, X3: a late answer given before the general manager's rung ends the escalation;
    the breach stays on record."""
    sweep(DUE + MINUTE)
    at(DUE + dt.timedelta(hours=5))
    take_transition(complaint, "answer_customer", ANSWER, actor=users["cs"])
    report = sweep(DUE + dt.timedelta(hours=25))
    assert (report.escalations, report.people) == (0, 0)
    assert told("clock_escalated") == []
    assert not Event.objects.filter(verb="clock_escalated").exists()
    clock = answer_clock(complaint)
    assert (clock.state, clock.breached_at) == ("stopped", DUE + MINUTE)


def test_a_late_feedback_answer_goes_to_its_handler_and_the_head_of_supply_and_sales(
    make_case: Callable[..., Case], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """R2.8, R2.3: feedback's ladder is the handler and those who manage the department's
    cases (Supply and Sales) at once, then the general manager."""
    at(T0)
    case = make_case(actor="sales", kind="feedback", feedback_type="complaint", received_at=T0)
    take_transition(case, "assign", {"handler": "sales"}, actor=users["sales"])
    sweep(DUE + MINUTE)
    assert told("clock_breached") == ["sales"]  # handler and head are one person: told once
    sweep(DUE + dt.timedelta(hours=24))
    assert told("clock_escalated") == ["gm"]


# qloop sweep --dry-run ---------------------------------------------------------------------


def run_sweep(*args: str) -> str:
    out = io.StringIO()
    call_command("sweep", *args, stdout=out)
    return out.getvalue()


def test_a_dry_run_reports_counts_changes_nothing_and_the_real_run_does_what_it_said(
    complaint: Case, make_case: Callable[..., Case], at: Callable[[dt.datetime], None]
) -> None:
    """X3: an operator sees what the sweep would do (one breach told to the CS head, one
    reminder to a handler) before letting it do that, exactly."""
    at(local(2026, 3, 1, 9, 0))
    early = make_case(received_at=local(2026, 3, 1, 9, 0))  # due 3 March 09:00
    at(T0)
    events_before = Event.objects.count()
    expected = (
        "as of 2026-03-03T09:01:00+08:00: 1 deadline(s) newly breached, 1 reminder(s), "
        "1 escalation step(s), 2 message(s) to people on 2 case(s).\n"
    )

    assert run_sweep("--now", "2026-03-03T09:01+08:00", "--dry-run") == f"Would sweep {expected}"
    assert Event.objects.count() == events_before
    assert not Notification.objects.filter(kind__startswith="clock_").exists()
    assert not Message.objects.filter(kind__startswith="clock_").exists()
    assert answer_clock(early).state == "running"
    assert answer_clock(complaint).alerts_done == 0

    assert run_sweep("--now", "2026-03-03T09:01+08:00") == f"Swept {expected}"
    assert answer_clock(early).state == "breached"
    assert told("clock_breached") == ["cs_head"]  # early: no handler yet
    assert told("clock_reminder") == ["cs"]  # complaint, at half-time: its handler
    assert Event.objects.filter(verb="clock_breached").count() == 1
