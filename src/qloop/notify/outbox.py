"""The outbox: messages written with their cause, delivered by the worker (X6).

Writing: ``notify`` (people) and ``queue_email`` (an address, e.g. a customer's) add rows to
``Message`` inside the caller's transaction, so a rolled-back step sends nothing and a
committed one cannot lose its messages.

Delivering: ``deliver_due`` claims one message at a time with a conditional UPDATE
(pending → sending), sends it, and marks it sent. A worker killed after claiming leaves the
message "sending"; after ``LEASE`` it is sent again, under the same Message-ID /
X-QLoop-Delivery id, so the one message that was in flight at the kill is the only one that
can arrive twice, and receivers can recognise it. Failures are retried with back-off and each
attempt is logged; after ``MAX_ATTEMPTS`` the message is listed as failed for administrators.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from qloop.notify.models import DeliveryAttempt, Message, MessageState

# Minutes to wait after the 1st, 2nd, … failed attempt.
BACKOFF_MINUTES = (1, 2, 5, 15, 30, 60, 120, 240)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
LEASE = dt.timedelta(minutes=5)


def queue_email(
    address: str,
    *,
    subject: str,
    body: str,
    html: str = "",
    kind: str = "email",
    link: str = "",
    language: str = "zh-hans",
    data: dict[str, Any] | None = None,
    urgent: bool = False,
    case: Any = None,
    due_at: dt.datetime | None = None,
) -> Message:
    """An e-mail to an address that is not a user's (a customer contact, say)."""
    message = Message.objects.create(
        channel="email",
        kind=kind,
        address=address,
        subject=subject[:300],
        body=body,
        html=html,
        link=link,
        language=language,
        data=data or {},
        urgent=urgent,
        case=case,
        due_at=due_at or timezone.now(),
    )
    kick_after_commit()
    return message


def _kick() -> None:
    from qloop.notify.jobs import deliver_outbox

    deliver_outbox()


def kick_after_commit() -> None:
    """Ask the worker to deliver soon after this transaction commits (the minute job is the
    safety net).

    Once per transaction: a sweep that writes 20,000 messages in one transaction queues one
    delivery task, not 20,000 (each task delivers everything that is due).
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        hook is _kick for _sids, hook, _robust in connection.run_on_commit
    ):
        return
    transaction.on_commit(_kick)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    recovered: int = 0


def recover_stale(now: dt.datetime) -> int:
    """Messages a killed worker left "sending" go back to the queue, same id."""
    return Message.objects.filter(state=MessageState.SENDING, claimed_at__lt=now - LEASE).update(
        state=MessageState.PENDING, due_at=now
    )


def _claim(pk: int, now: dt.datetime) -> bool:
    return bool(
        Message.objects.filter(pk=pk, state=MessageState.PENDING).update(
            state=MessageState.SENDING, claimed_at=now
        )
    )


def deliver_due(
    now: dt.datetime | None = None, *, limit: int = 500, report: DeliveryReport | None = None
) -> DeliveryReport:
    """Deliver what is due, one message per claim; safe to run in several workers at once."""
    from qloop.notify import channels

    report = report or DeliveryReport()
    fixed_now = now
    now = now or timezone.now()
    report.recovered += recover_stale(now)
    ids = list(
        Message.objects.filter(state=MessageState.PENDING, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    connection = None
    try:
        for pk in ids:
            at = fixed_now or timezone.now()
            if not _claim(pk, at):
                continue  # another worker has it
            message = Message.objects.select_related("robot").get(pk=pk)
            if message.channel == "email" and connection is None:
                connection = channels.open_email_connection()
            started = time.monotonic()
            try:
                detail = channels.deliver(message, connection=connection)
            except channels.DeliveryError as error:
                _record_failure(message, at, str(error), error.retry, started, report)
                if message.channel == "email":
                    _close(connection)
                    connection = None
            except Exception as error:
                _record_failure(
                    message, at, f"{type(error).__name__}: {error}", True, started, report
                )
                if message.channel == "email":
                    _close(connection)
                    connection = None
            else:
                _record_success(message, at, detail, started)
                report.sent += 1
    finally:
        _close(connection)
    return report


def _close(connection: Any) -> None:
    if connection is not None:
        # Closing a broken connection may fail too; the message's outcome is recorded already.
        with contextlib.suppress(Exception):
            connection.close()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _record_success(message: Message, at: dt.datetime, detail: str, started: float) -> None:
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            state=MessageState.SENT,
            sent_at=at,
            attempts=F("attempts") + 1,
            last_error="",
        )
        DeliveryAttempt.objects.create(
            message=message, at=at, ok=True, detail=detail[:2000], duration_ms=_ms(started)
        )


def _record_failure(
    message: Message,
    at: dt.datetime,
    detail: str,
    retry: bool,
    started: float,
    report: DeliveryReport,
) -> None:
    attempts = message.attempts + 1
    give_up = not retry or attempts >= MAX_ATTEMPTS
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            state=MessageState.FAILED if give_up else MessageState.PENDING,
            attempts=attempts,
            last_error=detail[:2000],
            due_at=at if give_up else at + dt.timedelta(minutes=BACKOFF_MINUTES[attempts - 1]),
        )
        DeliveryAttempt.objects.create(
            message=message, at=at, ok=False, detail=detail[:2000], duration_ms=_ms(started)
        )
    if give_up:
        report.failed += 1
    else:
        report.retried += 1


def retry(messages: Any, *, now: dt.datetime | None = None) -> int:
    """Put failed (or cancelled) messages back in the queue: the administrators' button."""
    count = messages.filter(Q(state=MessageState.FAILED) | Q(state=MessageState.CANCELLED)).update(
        state=MessageState.PENDING, due_at=now or timezone.now(), attempts=0
    )
    if count:
        kick_after_commit()
    return count
