"""Pausing a deadline while the case waits on the customer or a part, and resuming it (X3).

A paused clock neither reminds nor breaches, and the case is not overdue; resuming moves the
due time (and the reminders and escalation steps with it) by the time spent paused, counted
in working time on a working clock. Who may edit the case may pause it, with a reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from qloop.cases.models import Case, Event
from qloop.notify.models import Notification
from qloop.org import calendars
from qloop.org.models import User
from qloop.process import clocks
from qloop.process.engine import take_transition
from qloop.process.errors import Conflict
from qloop.process.models import Clock
from tests.clocktime import ANSWER, DUE, HOUR, MINUTE, T0, answer_clock, local

pytestmark = pytest.mark.usefixtures("calendar_days")
WAITING = "等待客户寄回故障机械密封"


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """Refusals called directly are read in English here (the pages and the API speak the
    person's language; their tests check that)."""
    with translation.override("en"):
        yield


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def alerts(clock: Clock, kind: str) -> list[dt.datetime]:
    return [dt.datetime.fromisoformat(s["at"]) for s in clock.schedule if s["type"] == kind]


def english(client: Client) -> Client:
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def page(client: Client, case: Case) -> str:
    response = client.get(reverse("case-detail", args=[case.number]), secure=True)
    assert response.status_code == 200
    return response.content.decode()


# Pausing ----------------------------------------------------------------------------------


def test_a_paused_clock_records_why_and_neither_reminds_nor_breaches(
    complaint: Case, users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """X3: the pause is on the timeline with its reason and who paused; while it lasts no
    reminder, no breach, no escalation, and the case is not overdue."""
    paused_at = T0 + 3 * HOUR
    at(paused_at)
    clocks.pause_clock(complaint, "customer_answer", reason=f"  {WAITING} ", actor=users["cs"])

    clock = answer_clock(complaint)
    assert (clock.state, clock.paused_at, clock.next_alert_at) == ("paused", paused_at, None)
    [event] = Event.objects.filter(case=complaint, verb="clock_paused")
    assert (event.comment, event.actor, event.at) == (WAITING, users["cs"], paused_at)
    assert event.data["clock"] == "customer_answer"
    assert fresh(complaint).next_due_at is None

    week_later = DUE + dt.timedelta(days=7)
    at(week_later)
    report = clocks.sweep(week_later)
    assert (report.breached, report.reminders, report.escalations) == (0, 0, 0)
    assert not Notification.objects.filter(kind__startswith="clock_").exists()
    assert answer_clock(complaint).state == "paused"
    assert not fresh(complaint).is_overdue
    assert not Case.objects.overdue().exists()


def test_resuming_moves_the_due_time_and_the_reminders_by_the_time_paused(
    complaint: Case, users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """X3, R2.3: paused 12 hours in, for 24 hours: due 24 hours later, and the reminders come
    at 50 % and 80 % of the running time, not of the time since registration."""
    at(T0 + 12 * HOUR)
    clocks.pause_clock(complaint, "customer_answer", reason=WAITING, actor=users["cs"])
    resumed = T0 + 36 * HOUR
    at(resumed)
    clocks.resume_clock(complaint, "customer_answer", actor=users["cs"], reason="客户已寄回")

    clock = answer_clock(complaint)
    new_due = DUE + dt.timedelta(hours=24)
    assert (clock.state, clock.paused_at, clock.due_at) == ("running", None, new_due)
    assert fresh(complaint).next_due_at == new_due
    # 24 h of 48 running: 12 h before the pause + 12 h after; 38.4 h: 26.4 h after.
    assert alerts(clock, "reminder") == [
        resumed + 12 * HOUR,
        resumed + dt.timedelta(hours=26, minutes=24),
        new_due - HOUR,
    ]
    assert alerts(clock, "escalation") == [new_due, new_due + 24 * HOUR]
    [event] = Event.objects.filter(case=complaint, verb="clock_resumed")
    assert event.comment == "客户已寄回"
    assert event.data["paused_seconds"] == 24 * 3600
    assert dt.datetime.fromisoformat(event.data["due_at"]) == new_due
    assert dt.datetime.fromisoformat(event.data["old_due_at"]) == DUE

    assert clocks.sweep(resumed + 12 * HOUR - MINUTE).reminders == 0
    # The old due time means nothing now; it is the new half-time.
    report = clocks.sweep(DUE + MINUTE)
    assert (report.breached, report.reminders) == (0, 1)
    assert [n.user.username for n in Notification.objects.filter(kind="clock_reminder")] == ["cs"]
    assert clocks.sweep(new_due + MINUTE).breached == 1
    assert sorted(n.user.username for n in Notification.objects.filter(kind="clock_breached")) == [
        "cs",
        "cs_head",
    ]


def test_resuming_a_working_hours_clock_adds_only_the_working_time_paused(
    make_case: Callable[..., Case], users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """X3: on a 16-working-hour clock paused Friday 16:00 and resumed Monday 10:00 the due
    time moves by 3 working hours (Friday 16:00–17:30, Monday 08:30–10:00), not by the 66
    hours of the weekend."""
    from qloop.process.clocks import definition_for

    definition = definition_for("complaint", "customer_answer")
    definition.amount, definition.unit = 16, "working_hours"
    definition.save()
    start = local(2026, 3, 5, 9, 0)  # Thursday
    at(start)
    case = make_case(received_at=start)
    old_due = answer_clock(case).due_at
    assert old_due == local(2026, 3, 9, 10, 0)  # Thu 7 h + Fri 7.5 h + Mon 1.5 h

    at(local(2026, 3, 6, 16, 0))
    clocks.pause_clock(case, "customer_answer", reason=WAITING, actor=users["cs_head"])
    at(local(2026, 3, 9, 10, 0))
    clock = clocks.resume_clock(case, "customer_answer", actor=users["cs_head"])
    assert clock.due_at == local(2026, 3, 9, 14, 30)  # 10:00 + 2 h before lunch + 1 h after
    assert answer_clock(case).due_at == local(2026, 3, 9, 14, 30)
    assert calendars.get_calendar().working_seconds(old_due, clock.due_at) == 3 * 3600


def test_a_breached_or_stopped_clock_cannot_be_paused(
    complaint: Case, users: dict[str, User], at: Callable[[dt.datetime], None]
) -> None:
    """X3: a deadline that has passed stays passed, an answered one stays answered: a clear
    refusal and nothing changed, not even the timeline."""
    at(DUE + MINUTE)  # past due, the sweep has not run yet
    with pytest.raises(Conflict, match="has passed"):
        clocks.pause_clock(complaint, "customer_answer", reason=WAITING, actor=users["cs"])
    assert answer_clock(complaint).state == "running"

    clocks.sweep(DUE + MINUTE)
    before = answer_clock(complaint)
    events = Event.objects.filter(case=complaint).count()
    with pytest.raises(Conflict, match="Only a running deadline can be paused"):
        clocks.pause_clock(complaint, "customer_answer", reason=WAITING, actor=users["cs"])
    after = answer_clock(complaint)
    assert (after.state, after.paused_at, after.due_at, after.next_alert_at) == (
        "breached",
        None,
        before.due_at,
        before.next_alert_at,
    )
    assert Event.objects.filter(case=complaint).count() == events

    take_transition(complaint, "answer_customer", ANSWER, actor=users["cs"])
    with pytest.raises(Conflict, match="Only a running deadline can be paused"):
        clocks.pause_clock(complaint, "customer_answer", reason=WAITING, actor=users["cs"])
    assert answer_clock(complaint).state == "stopped"
    with pytest.raises(Conflict, match="not paused"):
        clocks.resume_clock(complaint, "customer_answer", actor=users["cs"])


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_pause_needs_a_reason(complaint: Case, users: dict[str, User], reason: str) -> None:
    """X3: nobody stops the time without saying why."""
    with pytest.raises(ValidationError) as refused:
        clocks.pause_clock(complaint, "customer_answer", reason=reason, actor=users["cs"])
    assert refused.value.message_dict == {"reason": ["Say why the deadline is paused."]}
    assert answer_clock(complaint).state == "running"
    assert not Event.objects.filter(verb="clock_paused").exists()


def test_resuming_a_running_clock_is_refused(complaint: Case, users: dict[str, User]) -> None:
    """X3: a second click on "Resume" changes nothing."""
    due = answer_clock(complaint).due_at
    with pytest.raises(Conflict, match="not paused"):
        clocks.resume_clock(complaint, "customer_answer", actor=users["cs"])
    assert (answer_clock(complaint).state, answer_clock(complaint).due_at) == ("running", due)


# On the case page -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["cs", "cs_head"])
def test_the_handler_and_a_manager_pause_and_resume_from_the_case_page(
    complaint: Case,
    client_for: Callable[[str], Client],
    at: Callable[[dt.datetime], None],
    who: str,
) -> None:
    """X3: the Deadlines card offers the pause form; once paused it shows since when, with a
    Resume button; resuming puts the countdown back."""
    client = english(client_for(who))
    html = page(client, complaint)
    pause_url = reverse("case-clock-pause", args=[complaint.number, "customer_answer"])
    resume_url = reverse("case-clock-resume", args=[complaint.number, "customer_answer"])
    assert f'action="{pause_url}"' in html
    assert 'name="reason" required' in html

    at(T0 + 2 * HOUR)
    response = client.post(pause_url, {"reason": WAITING}, secure=True, follow=True)
    html = response.content.decode()
    assert "Deadline paused." in html
    assert "Paused since 2026-03-02 11:00" in re.sub(r"\s+", " ", html)
    assert f'action="{resume_url}"' in html
    assert f'action="{pause_url}"' not in html
    assert answer_clock(complaint).state == "paused"
    assert Event.objects.get(verb="clock_paused").comment == WAITING

    at(T0 + 5 * HOUR)
    response = client.post(resume_url, {}, secure=True, follow=True)
    html = response.content.decode()
    assert "Deadline running again." in html
    assert "Paused since" not in html
    assert answer_clock(complaint).due_at == DUE + 3 * HOUR


def test_the_case_page_refuses_a_pause_without_reason_with_a_message(
    complaint: Case, client_for: Callable[[str], Client]
) -> None:
    """X3: the refusal is said on the page; the clock runs on."""
    client = english(client_for("cs"))
    url = reverse("case-clock-pause", args=[complaint.number, "customer_answer"])
    response = client.post(url, {"reason": ""}, secure=True, follow=True)
    assert "Say why the deadline is paused." in response.content.decode()
    assert answer_clock(complaint).state == "running"


def test_a_read_only_user_sees_no_pause_form_and_is_refused(
    complaint: Case, client_for: Callable[[str], Client]
) -> None:
    """X3, R1.8: a quality engineer sees the case and its deadline but may not stop its time
    (403); somebody who cannot see the case gets 404."""
    reader = client_for("qe")
    html = page(reader, complaint)
    assert "case-clock-pause" not in html and "/pause/" not in html
    url = reverse("case-clock-pause", args=[complaint.number, "customer_answer"])
    assert reader.post(url, {"reason": WAITING}, secure=True).status_code == 403
    outsider = client_for("prod")
    assert outsider.post(url, {"reason": WAITING}, secure=True).status_code == 404
    assert answer_clock(complaint).state == "running"
    assert not Event.objects.filter(verb="clock_paused").exists()


def test_a_read_only_user_cannot_resume_either(
    complaint: Case, users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    """X3: resuming is editing too."""
    clocks.pause_clock(complaint, "customer_answer", reason=WAITING, actor=users["cs"])
    url = reverse("case-clock-resume", args=[complaint.number, "customer_answer"])
    assert client_for("qe").post(url, {}, secure=True).status_code == 403
    assert client_for("prod").post(url, {}, secure=True).status_code == 404
    assert answer_clock(complaint).state == "paused"
