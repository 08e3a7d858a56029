"""The outbox survives a worker that is killed, and the real worker delivers what is committed
(X6: "a worker killed at any moment loses no message and sends none twice").

These tests start real processes against the test database (a file on SQLite, the test
database on PostgreSQL) and a real SMTP server (aiosmtpd) on loopback.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from huey.exceptions import ResultTimeout

from qloop.notify.actions import notify
from qloop.notify.models import Message, MessageState
from qloop.notify.outbox import LEASE, deliver_due
from qloop.org.models import User
from tests.notify.conftest import SMTPServer

FROM = "QLoop <qloop@example.com>"

# Runs in the child process: the test run's settings, pointed at this test's database.
LAUNCH = """
import datetime as dt, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qloop.settings")
from qloop import settings
settings.DATABASES["default"]["NAME"] = os.environ["QLOOP_OUTBOX_TEST_DB"]
if sys.argv[1] == "worker":
    from qloop.cli import main
    sys.exit(main(["worker"]))
import django
django.setup()
from qloop.notify.outbox import deliver_due
print(deliver_due(now=dt.datetime.fromisoformat(sys.argv[1])), flush=True)
"""


def start(argument: str, smtp: SMTPServer) -> subprocess.Popen[bytes]:
    """``python -c LAUNCH argument``: a delivery run at a time (ISO), or ``worker``."""
    env = os.environ.copy()
    env |= {
        "QLOOP_OUTBOX_TEST_DB": str(connection.settings_dict["NAME"]),
        "EMAIL_URL": f"smtp://{smtp.host}:{smtp.port}?timeout=5",
        "QLOOP_EMAIL_FROM": FROM,
    }
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCH, argument],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


class SlowSMTPServer(SMTPServer):
    """Takes 50 ms over each message, as a real mail server may; so a batch is still running
    when the test kills the worker."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp() -> Iterator[SlowSMTPServer]:
    server = SlowSMTPServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def message_ids(smtp: SMTPServer) -> Counter[str]:
    return Counter(str(m["Message-ID"]) for m in smtp.messages)


def mid(uid: Any) -> str:
    return f"<{uid}@example.com>"


def wait_until(count: int, smtp: SMTPServer, worker: subprocess.Popen[bytes]) -> None:
    """Until ``count`` different messages have arrived."""
    deadline = time.monotonic() + 30
    while len(message_ids(smtp)) < count:
        assert worker.poll() is None, worker.communicate()[0].decode(errors="replace")
        assert time.monotonic() < deadline, f"only {len(message_ids(smtp))} arrived"
        time.sleep(0.005)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_three_times_in_a_batch_loses_nothing_and_repeats_at_most_one(
    slow_smtp: SlowSMTPServer,
) -> None:
    """X6: 40 e-mails; the delivering process is SIGKILLed after about 8, 20 and 31 of them
    have arrived, and each next run starts once the LEASE of the killed one has passed; a last
    run finishes.

    Afterwards every message arrived and is marked sent with its attempt logged. A message the
    outbox had marked sent before a kill is never sent again. The one message a killed worker
    had in flight (claimed, "sending") is sent again after the lease, because SMTP cannot tell
    the worker whether the server took it: so it may arrive twice, but then under the same
    Message-ID (derived from the message's uid), by which mail clients and servers recognise
    the duplicate. Nothing else ever arrives twice.
    """
    t0 = timezone.now()
    Message.objects.bulk_create(
        Message(
            channel="email",
            kind="task_assigned",
            address=f"person{i:02d}@example.com",
            subject=f"QC-2026-{i:06d}：本部门有新任务：复测同批次产品",
            body=f"QC-2026-{i:06d} 机械密封处漏水\n本部门有新任务：复测同批次产品",
            due_at=t0,
        )
        for i in range(40)
    )
    uids = {mid(uid) for uid in Message.objects.values_list("uid", flat=True)}
    step = LEASE + dt.timedelta(minutes=1)
    in_flight: set[str] = set()

    for run, kill_after in enumerate((8, 20, 31)):
        worker = start((t0 + run * step).isoformat(), slow_smtp)
        try:
            wait_until(kill_after, slow_smtp, worker)
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        time.sleep(0.3)  # the server finishes the message it was taking, if any

        states = dict(Message.objects.values_list("uid", "state"))
        sending = {mid(uid) for uid, state in states.items() if state == MessageState.SENDING}
        sent = {mid(uid) for uid, state in states.items() if state == MessageState.SENT}
        assert len(sending) <= 1, "one message at a time is claimed"
        assert len(sent) < len(uids), "killed in the middle of the batch"
        in_flight |= sending
        arrived = message_ids(slow_smtp)
        # What arrived is marked sent, or was in flight at a kill (and may be waiting again
        # after its lease); nothing else that waits has arrived.
        assert set(arrived) <= sent | in_flight
        assert {m for m, n in arrived.items() if n > 1} <= in_flight

    with override_settings(**slow_smtp.email_settings(), DEFAULT_FROM_EMAIL=FROM):
        last = deliver_due(now=t0 + 3 * step)

    assert last.recovered <= 1
    arrived = message_ids(slow_smtp)
    assert set(arrived) == uids, "every message arrived"
    repeated = {m for m, n in arrived.items() if n > 1}
    assert repeated <= in_flight and all(arrived[m] == 2 for m in repeated)
    assert len(slow_smtp.messages) <= len(uids) + 3
    assert not Message.objects.exclude(state=MessageState.SENT).exists()
    for message in Message.objects.prefetch_related("attempt_log"):
        assert message.attempts >= 1
        assert any(a.ok for a in message.attempt_log.all())


@pytest.fixture
def real_queue() -> Iterator[None]:
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = False
    HUEY.flush()
    yield
    HUEY.immediate = True


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_a_committed_message_within_seconds(
    real_queue: None, users: dict[str, User], smtp_server: SMTPServer
) -> None:
    """X6: ``notify`` in a committed step asks the real worker (Huey on SQLite, on Redis in the
    PostgreSQL run) to deliver; the e-mail reaches the SMTP server within seconds, and the
    outbox marks it sent."""
    from qloop.process.jobs import ping

    worker = start("worker", smtp_server)
    try:
        try:
            assert ping().get(blocking=True, timeout=60) == "pong", "the worker is consuming"
        except ResultTimeout:
            worker.terminate()
            output = worker.communicate(timeout=20)[0].decode(errors="replace")
            pytest.fail(f"the worker did not answer a ping within 60 s; it printed:\n{output}")
        with transaction.atomic():
            notify(
                [users["prod"]],
                kind="task_assigned",
                data={"number": "QC-2026-000123", "title": "复测同批次产品"},
            )
        committed = time.monotonic()

        (received,) = smtp_server.wait_for(1, timeout=10)
        took = time.monotonic() - committed
        message = Message.objects.get()
        assert received["To"] == "prod@example.com"
        assert received["Message-ID"] == mid(message.uid)
        assert took < 5, f"delivered {took:.1f} s after the commit"
        deadline = time.monotonic() + 5
        while message.state != MessageState.SENT and time.monotonic() < deadline:
            time.sleep(0.05)
            message.refresh_from_db()
        assert message.state == MessageState.SENT
    finally:
        worker.terminate()
        output = worker.communicate(timeout=20)[0].decode(errors="replace")
    assert "Traceback" not in output, output
