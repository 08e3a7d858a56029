"""Starting, stopping and sweeping deadline clocks (X3)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from qloop.process.calendars import add_days
from qloop.process.models import Clock, ClockName, ClockState

if TYPE_CHECKING:
    from qloop.cases.models import Case


def customer_answer_due(received_at: dt.datetime) -> dt.datetime:
    """R2.3: an answer to the customer within N days, calendar or working days by setting."""
    return add_days(
        received_at, settings.QLOOP_ANSWER_DAYS, working=settings.QLOOP_ANSWER_WORKING_DAYS
    )


def refresh_next_due(case: Case) -> None:
    """Keep ``Case.next_due_at`` equal to the soonest due time of the case's open clocks."""
    soonest = case.clocks.filter(state__in=[ClockState.RUNNING, ClockState.BREACHED]).aggregate(
        m=Min("due_at")
    )["m"]
    if soonest != case.next_due_at:
        case.next_due_at = soonest
        type(case).objects.filter(pk=case.pk).update(next_due_at=soonest)


def start_clock(
    case: Case, name: ClockName, *, due_at: dt.datetime, started_at: dt.datetime | None = None
) -> Clock:
    clock = Clock.objects.create(
        case=case, name=name, due_at=due_at, started_at=started_at or timezone.now()
    )
    refresh_next_due(case)
    return clock


def stop_clock(case: Case, name: ClockName, *, now: dt.datetime | None = None) -> Clock | None:
    """Stop the open clock of this name, if any; a breach stays recorded on it."""
    clock = case.clocks.filter(
        name=name, state__in=[ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED]
    ).first()
    if clock is None:
        return None
    clock.state = ClockState.STOPPED
    clock.stopped_at = now or timezone.now()
    late_unseen = clock.breached_at is None and clock.stopped_at > clock.due_at
    if late_unseen:
        # Stopped late before the sweep saw it (a worker was down, say): still a breach, on
        # record, on the timeline and told to whom it concerns, as the sweep would have.
        clock.breached_at = clock.due_at
    clock.save(update_fields=["state", "stopped_at", "breached_at"])
    if late_unseen:
        from qloop.cases.models import Event

        Event.objects.create(
            case=case,
            at=clock.stopped_at,
            verb="clock_breached",
            data={"clock": name, "due_at": clock.due_at.isoformat()},
        )
        _alert_breaches([(case.pk, str(name))])
    refresh_next_due(case)
    return clock


def sweep_breaches(now: dt.datetime | None = None, *, batch: int = 1000) -> int:
    """Mark running clocks past due as breached, with an event on each case.

    Safe to run twice or to kill half-way: a clock is claimed by a conditional UPDATE, so
    each breach is recorded once.
    """
    from qloop.cases.models import Event

    now = now or timezone.now()
    if connection.vendor == "postgresql":
        return _sweep_in_one_statement(now)
    total = 0
    while True:
        rows = list(
            Clock.objects.filter(state=ClockState.RUNNING, due_at__lt=now)
            .order_by("due_at")
            .values_list("pk", "case_id", "name", "due_at")[:batch]
        )
        if not rows:
            return total
        with transaction.atomic():
            claimed = set(
                Clock.objects.select_for_update(skip_locked=True)
                .filter(pk__in=[r[0] for r in rows], state=ClockState.RUNNING)
                .values_list("pk", flat=True)
            )
            Clock.objects.filter(pk__in=claimed).update(state=ClockState.BREACHED, breached_at=now)
            Event.objects.bulk_create(
                Event(
                    case_id=case_id,
                    at=now,
                    verb="clock_breached",
                    data={"clock": name, "due_at": due_at.isoformat()},
                )
                for pk, case_id, name, due_at in rows
                if pk in claimed
            )
            _alert_breaches([(case_id, name) for pk, case_id, name, _due in rows if pk in claimed])
        total += len(claimed)
        if len(rows) < batch:
            return total


def _alert_breaches(breaches: list[tuple[int, str]]) -> None:
    """Tell in the app who must act: the quality head for a late investigation (R1.4), the
    handler and the CS head for a late answer (R2.3)."""
    from qloop.cases.models import Case
    from qloop.notify.models import Notification
    from qloop.org.models import User

    if not breaches:
        return
    cases = {
        c.pk: c
        for c in Case.objects.filter(pk__in={case_id for case_id, _n in breaches}).only(
            "pk", "number", "handler_id"
        )
    }
    heads = {
        role: list(User.objects.filter(memberships__role__code=role, is_active=True).distinct())
        for role in ("quality_head", "cs_head")
    }
    rows = []
    for case_id, name in breaches:
        case = cases[case_id]
        if name == ClockName.INVESTIGATION:
            people = {u.pk: u for u in heads["quality_head"]}
        else:
            people = {u.pk: u for u in heads["cs_head"]}
            if case.handler_id:
                people[case.handler_id] = User(pk=case.handler_id)
        rows += [
            Notification(
                user_id=pk,
                case_id=case_id,
                kind="clock_breached",
                urgent=True,
                data={"number": case.number, "clock": name},
            )
            for pk in people
        ]
    Notification.objects.bulk_create(rows, batch_size=1000)


# PostgreSQL: claim the breached clocks, write their events and the alerts in one statement,
# driven by the partial index on running clocks' due time; nothing is looped over in Python.
_SWEEP_SQL = """
WITH breached AS (
    UPDATE process_clock SET state = 'breached', breached_at = %(now)s
    WHERE state = 'running' AND due_at < %(now)s
    RETURNING id, case_id, name, due_at
),
events AS (
    INSERT INTO cases_event (case_id, at, actor_id, verb, changes, comment, data)
    SELECT case_id, %(now)s, NULL, 'clock_breached', '[]'::jsonb, '',
           jsonb_build_object('clock', name, 'due_at', due_at)
    FROM breached
),
heads AS (
    SELECT DISTINCT m.user_id, r.code
    FROM org_membership m
    JOIN org_role r ON r.id = m.role_id
    JOIN org_user u ON u.id = m.user_id
    WHERE r.code IN ('quality_head', 'cs_head') AND u.is_active
),
recipients AS (
    SELECT b.case_id, b.name, h.user_id
    FROM breached b
    JOIN heads h ON h.code = CASE WHEN b.name = 'investigation' THEN 'quality_head'
                                  ELSE 'cs_head' END
    UNION
    SELECT b.case_id, b.name, c.handler_id
    FROM breached b JOIN cases_case c ON c.id = b.case_id
    WHERE b.name <> 'investigation' AND c.handler_id IS NOT NULL
),
alerts AS (
    INSERT INTO notify_notification (user_id, case_id, kind, data, urgent, created_at, read_at)
    SELECT r.user_id, r.case_id, 'clock_breached',
           jsonb_build_object('number', c.number, 'clock', r.name), true, %(now)s, NULL
    FROM recipients r JOIN cases_case c ON c.id = r.case_id
)
SELECT count(*) FROM breached
"""


def _sweep_in_one_statement(now: dt.datetime) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SWEEP_SQL, {"now": now})
        row = cursor.fetchone()
    return int(row[0]) if row else 0
