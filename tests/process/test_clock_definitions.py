"""Clock definitions that administrators edit, and the working calendars clocks run on (X3,
R1.4, R2.3, R2.8).

An edited duration, unit, reminder list or escalation ladder applies to clocks started after
the edit, never to clocks already running (or paused). Working-day and working-hour clocks
count on the case department's calendar: the 2026 Spring Festival (15–23 February off,
Saturdays 14 and 28 February worked), a factory's own shutdown and extra working days, lunch
and nights.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from qloop.cases.models import Case, Event
from qloop.notify.models import Notification
from qloop.org.models import CalendarOverride, Department, User, WorkingCalendar
from qloop.process import clocks
from qloop.process.clocks import definition_for
from qloop.process.engine import take_transition
from qloop.process.models import Clock, ClockDefinition, EscalationStep
from tests.clocktime import ANSWER, HOUR, MINUTE, T0, local

pytestmark = pytest.mark.usefixtures("calendar_days")


def clock(case: Case, name: str = "customer_answer") -> Clock:
    return case.clocks.filter(name=name).order_by("-started_at", "-id").first()  # type: ignore[return-value]


def alerts(c: Clock, kind: str) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(s["at"]) for s in c.schedule if s["type"] == kind]


def told(kind: str) -> list[str]:
    rows = Notification.objects.filter(kind=kind).select_related("user")
    return sorted(n.user.username for n in rows)


def investigating(
    make_case: Callable[..., Case],
    users: dict[str, User],
    at: Callable[[dt.datetime], None],
    forwarded: dt.datetime,
) -> Case:
    """A complaint answered at once and forwarded to Quality at ``forwarded``."""
    at(forwarded - HOUR)
    case = make_case(received_at=forwarded - HOUR)
    case = take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    case = take_transition(case, "answer_customer", ANSWER, actor=users["cs"])
    at(forwarded)
    return take_transition(
        case, "forward_to_quality", {"analysis": "疑似密封件"}, actor=users["cs"]
    )


# Editing in the admin ---------------------------------------------------------------------


def admin_client(client_for: Callable[[str], Client]) -> Client:
    from django.conf import settings

    client = client_for("admin")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def save_in_admin(
    client: Client,
    definition: ClockDefinition,
    *,
    amount: int | str,
    unit: str,
    reminders: str,
    ladder: list[tuple[float, str]],
) -> Any:
    """Post the definition's admin form: the old ladder deleted, ``ladder`` in its place."""
    old = list(definition.ladder.all())
    data: dict[str, Any] = {
        "amount": amount,
        "unit": unit,
        "calendar": "",
        "reminders": reminders,
        "ladder-TOTAL_FORMS": len(old) + len(ladder),
        "ladder-INITIAL_FORMS": len(old),
        "ladder-MIN_NUM_FORMS": 0,
        "ladder-MAX_NUM_FORMS": 1000,
        "_save": "Save",
    }
    for i, step in enumerate(old):
        data |= {
            f"ladder-{i}-id": step.pk,
            f"ladder-{i}-definition": definition.pk,
            f"ladder-{i}-order": step.order,
            f"ladder-{i}-delay_hours": step.delay_hours,
            f"ladder-{i}-audience": step.audience,
            f"ladder-{i}-DELETE": "on",
        }
    for j, (delay, audience) in enumerate(ladder, start=len(old)):
        data |= {
            f"ladder-{j}-definition": definition.pk,
            f"ladder-{j}-order": j - len(old) + 1,
            f"ladder-{j}-delay_hours": delay,
            f"ladder-{j}-audience": audience,
        }
    url = reverse("admin:process_clockdefinition_change", args=[definition.pk])
    return client.post(url, data, secure=True)


def test_an_edited_definition_applies_to_clocks_started_after_the_edit_only(
    make_case: Callable[..., Case],
    users: dict[str, User],
    at: Callable[[dt.datetime], None],
    client_for: Callable[[str], Client],
) -> None:
    """X3, R1.4, R2.8: the administrator shortens the investigation to 6 working hours with
    reminders at half-time and an hour before, and a three-rung ladder starting with the
    general manager at once; the investigation already running keeps its 48 hours and ladder,
    the next one follows the new definition, rung by rung."""
    running = investigating(make_case, users, at, local(2026, 3, 2, 8, 0))
    running_clock = clock(running, "investigation")
    definition = definition_for("complaint", "investigation")

    response = save_in_admin(
        admin_client(client_for),
        definition,
        amount=6,
        unit="working_hours",
        reminders="50%, 1h",
        ladder=[(0, "role:general_manager"), (2, "role:quality_head"), (4, "handler")],
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    definition.refresh_from_db()
    assert (definition.amount, definition.unit, definition.reminders) == (
        6,
        "working_hours",
        "50%, 1h",
    )
    assert [(s.order, s.audience) for s in definition.ladder.all()] == [
        (1, "role:general_manager"),
        (2, "role:quality_head"),
        (3, "handler"),
    ]

    # The running investigation is untouched.
    kept = clock(running, "investigation")
    assert (kept.unit, kept.due_at, kept.schedule) == (
        running_clock.unit,
        local(2026, 3, 4, 8, 0),
        running_clock.schedule,
    )

    # A new one: Monday 10:00 + 6 working hours = 17:30, across lunch.
    new = investigating(make_case, users, at, local(2026, 3, 2, 10, 0))
    c = clock(new, "investigation")
    assert (c.unit, c.due_at) == ("working_hours", local(2026, 3, 2, 17, 30))
    assert alerts(c, "reminder") == [local(2026, 3, 2, 14, 30), local(2026, 3, 2, 16, 30)]
    assert alerts(c, "escalation") == [
        local(2026, 3, 2, 17, 30),
        local(2026, 3, 3, 10, 30),  # 2 working hours after, the next morning
        local(2026, 3, 3, 14, 0),  # 4 working hours after, across lunch
    ]

    clocks.sweep(local(2026, 3, 2, 17, 31))
    assert told("clock_breached") == ["gm"]  # level 1 is the general manager, at once
    clocks.sweep(local(2026, 3, 3, 10, 30))
    assert told("clock_escalated") == ["qa_head"]
    clocks.sweep(local(2026, 3, 3, 14, 0))
    assert told("clock_escalated") == ["cs", "qa_head"]
    levels = [e.data["level"] for e in Event.objects.filter(case=new, verb="clock_escalated")]
    assert levels == [2, 3]

    # The investigation started before the edit breaches on its old plan and old ladder.
    clocks.sweep(local(2026, 3, 4, 8, 1))
    assert told("clock_breached") == ["gm", "qa_head"]


def test_a_definition_edited_while_a_clock_is_paused_does_not_reach_it(
    make_case: Callable[..., Case], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """X3: a paused clock was started before the edit; resumed, it keeps its reminders and
    its ladder (the handler and the CS head), not the new one (the general manager)."""
    at(T0)
    case = make_case(received_at=T0)
    take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    at(T0 + 2 * HOUR)
    clocks.pause_clock(case, "customer_answer", reason="等待客户回复", actor=users["cs"])

    definition = definition_for("complaint", "customer_answer")
    definition.reminders = ""
    definition.save()
    definition.ladder.all().delete()
    EscalationStep.objects.create(definition=definition, audience="role:general_manager")

    at(T0 + 4 * HOUR)
    resumed = clocks.resume_clock(case, "customer_answer", actor=users["cs"])
    due = T0 + dt.timedelta(days=2, hours=2)
    assert resumed.due_at == due
    assert len(alerts(resumed, "reminder")) == 3
    assert [s["to"] for s in resumed.schedule if s["type"] == "escalation"] == [
        "handler, role:cs_head",
        "role:general_manager",
    ]
    clocks.sweep(due + MINUTE)
    assert told("clock_breached") == ["cs", "cs_head"]

    # A complaint received now gets the edited definition.
    fresh = make_case(received_at=T0 + 4 * HOUR)
    assert alerts(clock(fresh), "reminder") == []
    assert [s["to"] for s in clock(fresh).schedule] == ["role:general_manager"]


@pytest.mark.parametrize("reminders", ["50%, 80%, 1h", "25%，0.5h", ""])
def test_the_admin_accepts_reminders_written_as_shares_and_hours(
    client_for: Callable[[str], Client], reminders: str
) -> None:
    """X3: shares of the time and hours before the due time, comma-separated (also the
    Chinese comma); none at all is allowed."""
    definition = definition_for("complaint", "investigation")
    response = save_in_admin(
        admin_client(client_for),
        definition,
        amount=48,
        unit="hours",
        reminders=reminders,
        ladder=[(0, "role:quality_head")],
    )
    assert response.status_code == 302
    assert ClockDefinition.objects.get(pk=definition.pk).reminders == reminders


@pytest.mark.parametrize(
    ("reminders", "wrong"),
    [("50%, 150%", "150%"), ("abc", "abc"), ("-1h", "-1h"), ("80%, 0h", "0h"), ("1d", "1d")],
)
def test_the_admin_refuses_reminders_it_cannot_read_and_says_which(
    client_for: Callable[[str], Client], reminders: str, wrong: str
) -> None:
    """X3: a reminder that is no share between 0 and 100 % and no positive number of hours is
    refused with the item named; nothing is saved."""
    definition = definition_for("complaint", "investigation")
    response = save_in_admin(
        admin_client(client_for),
        definition,
        amount=24,
        unit="hours",
        reminders=reminders,
        ladder=[(0, "role:quality_head")],
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f"“{wrong}” is not a reminder: write a share such as 50% or hours such as 1h." in html
    saved = ClockDefinition.objects.get(pk=definition.pk)
    assert (saved.amount, saved.reminders) == (48, "50%, 80%, 1h")
    assert saved.ladder.count() == 2


@pytest.mark.parametrize("audience", ["role:chief_executive", "boss", "handler, role:"])
def test_the_admin_refuses_a_ladder_step_for_nobody_it_knows(
    client_for: Callable[[str], Client], audience: str
) -> None:
    """R2.8, X1: a rung names the handler, the department's heads or an existing role; a
    mistyped role would escalate to nobody, so it is refused."""
    definition = definition_for("complaint", "customer_answer")
    response = save_in_admin(
        admin_client(client_for),
        definition,
        amount="",
        unit="",
        reminders="50%",
        ladder=[(0, "handler"), (24, audience)],
    )
    assert response.status_code == 200
    assert "Unknown audience" in response.content.decode()
    assert [s.audience for s in definition.ladder.all()] == [
        "handler, role:cs_head",
        "role:general_manager",
    ]


def test_a_definition_with_a_duration_needs_a_unit_and_a_length_above_zero(db: Any) -> None:
    """X3: 48 of nothing, or 0 hours, is no deadline."""
    definition = definition_for("complaint", "investigation")
    definition.unit = ""
    with pytest.raises(ValidationError) as no_unit:
        definition.full_clean()
    assert "unit" in no_unit.value.message_dict
    definition.unit, definition.amount = "hours", 0
    with pytest.raises(ValidationError) as zero:
        definition.full_clean()
    assert "amount" in zero.value.message_dict


# Calendars under clocks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "due"),
    [
        # Friday before the holiday: Saturday 14 February is worked, then nothing until the 24th.
        pytest.param(local(2026, 2, 13, 10, 0), local(2026, 2, 24, 10, 0), id="friday-before"),
        # Thursday: Friday and the swapped working Saturday.
        pytest.param(local(2026, 2, 12, 16, 0), local(2026, 2, 14, 16, 0), id="thursday"),
        # In the holiday: counting starts on the first working day after it.
        pytest.param(local(2026, 2, 17, 11, 0), local(2026, 2, 25, 11, 0), id="in-holiday"),
        # Friday after: Saturday 28 February is worked too.
        pytest.param(local(2026, 2, 27, 9, 30), local(2026, 3, 2, 9, 30), id="friday-after"),
    ],
)
def test_a_working_day_answer_clock_skips_the_spring_festival(
    make_case: Callable[..., Case],
    at: Callable[[dt.datetime], None],
    settings: Any,
    received: dt.datetime,
    due: dt.datetime,
) -> None:
    """R2.3 (working days), X3: 2 working days on the 2026 statutory calendar, with its
    swapped working Saturdays."""
    settings.QLOOP_ANSWER_WORKING_DAYS = True
    at(received)
    case = make_case(received_at=received)
    assert clock(case).due_at == due
    assert Case.objects.get(pk=case.pk).next_due_at == due
    assert clocks.sweep(due).breached == 0
    assert clocks.sweep(due + MINUTE).breached == 1


def test_a_working_day_clock_reminds_on_working_days_only_across_the_holiday(
    make_case: Callable[..., Case],
    users: dict[str, User],
    at: Callable[[dt.datetime], None],
    settings: Any,
) -> None:
    """X3: from Friday 13 February 10:00 to Tuesday 24 February 10:00 are 15 working hours;
    half-time and 80 % fall on the swapped working Saturday, the last hour on the 24th; the
    nine days off pass without a message."""
    settings.QLOOP_ANSWER_WORKING_DAYS = True
    at(local(2026, 2, 13, 10, 0))
    case = make_case(received_at=local(2026, 2, 13, 10, 0))
    take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    c = clock(case)
    assert alerts(c, "reminder") == [
        local(2026, 2, 14, 10, 0),
        local(2026, 2, 14, 16, 0),
        local(2026, 2, 24, 9, 0),
    ]
    assert clocks.sweep(local(2026, 2, 14, 17, 0)).reminders == 1
    for day in range(15, 24):
        report = clocks.sweep(local(2026, 2, day, 12, 0))
        assert (report.reminders, report.breached, report.escalations) == (0, 0, 0), day
    assert clocks.sweep(local(2026, 2, 24, 9, 0)).reminders == 1
    assert told("clock_reminder") == ["cs", "cs"]


@pytest.fixture
def factory_calendar(db: Any) -> WorkingCalendar:
    """Customer Service on the factory's calendar: Friday 6 March 2026 shut down, Saturday
    7 March worked."""
    factory = WorkingCalendar.objects.create(code="factory", name="工厂日历")
    CalendarOverride.objects.create(calendar=factory, date=dt.date(2026, 3, 6), note="停产检修")
    CalendarOverride.objects.create(
        calendar=factory, date=dt.date(2026, 3, 7), working=True, note="加班"
    )
    Department.objects.filter(code="CS").update(calendar=factory)
    return factory


def test_a_department_on_its_own_calendar_gets_due_times_on_that_calendar(
    make_case: Callable[..., Case],
    at: Callable[[dt.datetime], None],
    settings: Any,
    factory_calendar: WorkingCalendar,
) -> None:
    """X3, X1: a complaint in CS (factory calendar) received Wednesday 10:00 is due on the
    extra working Saturday, skipping the shutdown Friday; feedback in Supply and Sales
    (default calendar) received at the same time is due on Friday."""
    settings.QLOOP_ANSWER_WORKING_DAYS = True
    received = local(2026, 3, 4, 10, 0)
    at(received)
    complaint = make_case(received_at=received)
    feedback = make_case(actor="sales", kind="feedback", received_at=received)
    assert (clock(complaint).due_at, clock(complaint).calendar_id) == (
        local(2026, 3, 7, 10, 0),
        factory_calendar.pk,
    )
    assert clock(feedback).due_at == local(2026, 3, 6, 10, 0)

    report = clocks.sweep(local(2026, 3, 6, 10, 1))
    assert report.breached == 1
    assert clock(complaint).state == "running"
    assert clock(feedback).state == "breached"


def test_a_clock_keeps_the_calendar_it_started_on(
    make_case: Callable[..., Case],
    users: dict[str, User],
    at: Callable[[dt.datetime], None],
    settings: Any,
    factory_calendar: WorkingCalendar,
) -> None:
    """X3: moving the department to another calendar later does not move a running clock's
    due time; paused and resumed, it still counts on its own calendar."""
    settings.QLOOP_ANSWER_WORKING_DAYS = True
    received = local(2026, 3, 4, 10, 0)
    at(received)
    case = make_case(received_at=received)
    Department.objects.filter(code="CS").update(calendar=None)
    at(received + HOUR)
    clocks.pause_clock(case, "customer_answer", reason="等待客户回复", actor=users["cs"])
    at(received + 2 * HOUR)
    c = clocks.resume_clock(case, "customer_answer", actor=users["cs"])
    # One working hour later on the factory calendar (the shutdown Friday still skipped).
    assert c.due_at == local(2026, 3, 7, 11, 0)
    assert c.calendar_id == factory_calendar.pk


@pytest.mark.parametrize(
    ("received", "due"),
    [
        pytest.param(local(2026, 3, 2, 11, 0), local(2026, 3, 2, 16, 30), id="across-lunch"),
        pytest.param(local(2026, 3, 2, 16, 0), local(2026, 3, 3, 11, 0), id="across-night"),
        pytest.param(local(2026, 3, 2, 7, 0), local(2026, 3, 2, 14, 0), id="before-work"),
        pytest.param(local(2026, 3, 6, 17, 0), local(2026, 3, 9, 12, 0), id="across-weekend"),
        pytest.param(local(2026, 3, 2, 12, 30), local(2026, 3, 2, 17, 30), id="in-lunch"),
    ],
)
def test_a_working_hours_clock_runs_only_in_working_periods(
    make_case: Callable[..., Case],
    at: Callable[[dt.datetime], None],
    received: dt.datetime,
    due: dt.datetime,
) -> None:
    """X3: 4 working hours on 08:30–12:00 and 13:30–17:30, Monday to Friday."""
    definition = definition_for("complaint", "customer_answer")
    definition.amount, definition.unit = 4, "working_hours"
    definition.save()
    at(received)
    case = make_case(received_at=received)
    assert clock(case).due_at == due
    assert clock(case).unit == "working_hours"
