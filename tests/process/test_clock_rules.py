"""Deadline clocks the system runs, shows and escalates (X3, R1.4, R2.3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from qloop.cases.models import Case
from qloop.notify.models import Notification
from qloop.org.models import User
from qloop.process.clocks import sweep_breaches
from qloop.process.engine import take_transition
from qloop.process.jobs import sweep_clocks
from qloop.process.models import Clock
from tests.clocktime import ANSWER, HOUR, T0
from tests.conftest import PASSWORD

pytestmark = pytest.mark.usefixtures("calendar_days")


def investigating_case(
    make_case: Callable[..., Case],
    users: dict[str, User],
    at: Callable[[dt.datetime], None],
    *,
    forwarded_at: dt.datetime,
    answered: bool = True,
) -> Case:
    """A complaint registered at T0 and forwarded to Quality at ``forwarded_at``; with
    ``answered`` the customer was answered at once, so only the investigation clock runs."""
    at(T0)
    case = make_case()
    case = take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    if answered:
        case = take_transition(case, "answer_customer", ANSWER, actor=users["cs"])
    at(forwarded_at)
    return take_transition(
        case, "forward_to_quality", {"analysis": "疑似密封件问题"}, actor=users["cs"]
    )


def clock(case: Case, name: str) -> Clock:
    return case.clocks.filter(name=name).order_by("-started_at", "-id").first()  # type: ignore[return-value]


def test_the_investigation_is_due_exactly_48_hours_after_forwarding_to_quality(
    make_case: Callable[..., Case], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """R1.4: 48 hours from receiving the report, i.e. from forward_to_quality."""
    forwarded = T0 + 3 * HOUR + dt.timedelta(minutes=17)
    case = investigating_case(make_case, users, at, forwarded_at=forwarded)
    inv = clock(case, "investigation")
    assert (inv.state, inv.started_at, inv.due_at) == (
        "running",
        forwarded,
        forwarded + dt.timedelta(hours=48),
    )
    case.refresh_from_db()
    assert case.next_due_at == inv.due_at


def test_the_customer_answer_is_due_two_days_after_registration(
    make_case: Callable[..., Case], at: Callable[[dt.datetime], None]
) -> None:
    """R2.3: every complaint gets an answer to the customer within 2 days."""
    at(T0)
    case = make_case()
    answer = clock(case, "customer_answer")
    assert (answer.state, answer.started_at, answer.due_at) == (
        "running",
        T0,
        T0 + dt.timedelta(days=2),
    )


def test_the_sweep_marks_a_breach_within_a_minute_records_it_and_alerts_the_quality_head(
    make_case: Callable[..., Case], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """X3, R1.4: a late investigation is marked breached, recorded as an event and the
    quality head is alerted in the app, once."""
    case = investigating_case(make_case, users, at, forwarded_at=T0 + HOUR)
    due = clock(case, "investigation").due_at

    assert sweep_breaches(now=due - dt.timedelta(seconds=1)) == 0
    assert clock(case, "investigation").state == "running"

    swept_at = due + dt.timedelta(seconds=30)
    assert sweep_breaches(now=swept_at) == 1
    inv = clock(case, "investigation")
    assert (inv.state, inv.breached_at) == ("breached", swept_at)
    breach = case.events.get(verb="clock_breached")
    assert breach.at == swept_at
    assert breach.data["clock"] == "investigation"
    alerts = Notification.objects.filter(case=case, kind="clock_breached")
    assert {n.user.username for n in alerts} == {"qa_head"}
    assert all(n.urgent and n.data["clock"] == "investigation" for n in alerts)

    # A second sweep finds nothing new: one breach, one event, one alert.
    assert sweep_breaches(now=swept_at + dt.timedelta(minutes=5)) == 0
    assert case.events.filter(verb="clock_breached").count() == 1
    assert alerts.count() == 1


def test_the_periodic_sweep_runs_every_minute(
    make_case: Callable[..., Case], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """X3: the job is scheduled each minute and breaches what is past due at that moment."""
    from huey.contrib.djhuey import HUEY

    start = T0.replace(tzinfo=None)  # Huey matches crontabs on naive local times
    for minute in range(120):
        due_now = HUEY.read_periodic(start + dt.timedelta(minutes=minute))
        assert "sweep_clocks" in {task.name for task in due_now}
    case = investigating_case(make_case, users, at, forwarded_at=T0 + HOUR)
    at(clock(case, "investigation").due_at + dt.timedelta(seconds=59))
    sweep_clocks()
    assert clock(case, "investigation").state == "breached"


def test_a_late_answer_alerts_the_handler_and_the_cs_head(
    make_case: Callable[..., Case], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """R2.3, X3: the 2-day answer clock breached tells CS, not Quality."""
    at(T0)
    case = make_case()
    take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    assert sweep_breaches(now=T0 + dt.timedelta(days=2, seconds=10)) == 1
    assert clock(case, "customer_answer").state == "breached"
    alerts = Notification.objects.filter(case=case, kind="clock_breached")
    assert {n.user.username for n in alerts} == {"cs", "cs_head"}


def test_a_breach_stays_visible_after_the_investigation_ends_and_the_case_closes(
    make_case: Callable[..., Case],
    users: dict[str, User],
    at: Callable[[dt.datetime], None],
    client_for: Callable[[str], Client],
) -> None:
    """X3: disposing stops the breached clock but keeps when it was breached, on the case
    page's data too."""
    case = investigating_case(make_case, users, at, forwarded_at=T0 + HOUR)
    due = clock(case, "investigation").due_at
    sweep_breaches(now=due + dt.timedelta(seconds=20))
    breached_at = clock(case, "investigation").breached_at

    at(due + 5 * HOUR)
    case = take_transition(
        case,
        "dispose_not_ours",
        {"findings": "安装不当"},
        actor=users["qa_head"],
        signature={"password": PASSWORD, "meaning": "approved"},
    )
    inv = clock(case, "investigation")
    assert (inv.state, inv.stopped_at, inv.breached_at) == (
        "stopped",
        due + 5 * HOUR,
        breached_at,
    )
    case = take_transition(case, "close", ANSWER, actor=users["cs"])
    assert case.state == "closed"

    body = client_for("cs").get(f"/api/v1/cases/{case.number}", secure=True).json()
    shown = [c for c in body["clocks"] if c["name"] == "investigation"]
    assert len(shown) == 1
    assert shown[0]["state"] == "stopped"
    assert shown[0]["breached_at"] is not None
    assert dt.datetime.fromisoformat(shown[0]["breached_at"]) == breached_at


def test_answering_the_customer_stops_the_answer_clock_and_leaves_the_case_where_it_is(
    make_case: Callable[..., Case], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """R2.3: the answer clock stops when an answer is recorded, even mid-investigation."""
    case = investigating_case(make_case, users, at, forwarded_at=T0 + HOUR, answered=False)
    at(T0 + 5 * HOUR)
    case = take_transition(case, "answer_customer", ANSWER, actor=users["cs"])
    assert case.state == "investigating"
    answer = clock(case, "customer_answer")
    assert (answer.state, answer.stopped_at, answer.breached_at) == (
        "stopped",
        T0 + 5 * HOUR,
        None,
    )
    assert clock(case, "investigation").state == "running"
    # Nothing is breached later: the answer was on time.
    assert sweep_breaches(now=T0 + dt.timedelta(days=2, hours=2)) == 1  # the investigation
    assert clock(case, "customer_answer").breached_at is None


def test_a_clock_stopped_after_its_due_time_without_a_sweep_still_records_the_breach(
    make_case: Callable[..., Case], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """X3: a breach is kept even when no sweep ran between the due time and the stop."""
    case = investigating_case(make_case, users, at, forwarded_at=T0 + HOUR, answered=False)
    at(T0 + dt.timedelta(days=3))
    case = take_transition(case, "answer_customer", ANSWER, actor=users["cs"])
    case = take_transition(
        case, "dispose_ours", {"findings": "来料不良", "root_cause": "外购件"}, actor=users["qe"]
    )
    for name in ("customer_answer", "investigation"):
        stopped = clock(case, name)
        assert stopped.state == "stopped"
        assert stopped.breached_at == stopped.due_at, name
    case.refresh_from_db()
    assert case.next_due_at is None


def test_reopening_starts_a_new_investigation_clock_and_keeps_the_old_one(
    make_case: Callable[..., Case], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """R1.4, X3: a reopened case gets 48 hours again; the first clock stays stopped, and
    there is never more than one open clock of a name."""
    case = investigating_case(make_case, users, at, forwarded_at=T0 + HOUR)
    at(T0 + 10 * HOUR)
    case = take_transition(
        case,
        "dispose_not_ours",
        {"findings": "安装不当"},
        actor=users["qa_head"],
        signature={"password": PASSWORD, "meaning": "approved"},
    )
    case = take_transition(case, "close", ANSWER, actor=users["cs"])
    reopened = T0 + dt.timedelta(days=10)
    at(reopened)
    case = take_transition(case, "reopen", {"reason": "客户再次投诉"}, actor=users["qa_head"])
    assert (case.state, case.closed_at) == ("investigating", None)

    first, second = case.clocks.filter(name="investigation").order_by("started_at")
    assert (first.state, first.stopped_at) == ("stopped", T0 + 10 * HOUR)
    assert (second.state, second.started_at, second.due_at) == (
        "running",
        reopened,
        reopened + dt.timedelta(hours=48),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Clock.objects.create(case=case, name="investigation", due_at=reopened)
