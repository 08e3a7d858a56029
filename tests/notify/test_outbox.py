"""The outbox: messages written with the step that causes them, delivered with retries (X6, X3).

Every test sends to a real SMTP server (aiosmtpd on loopback) through the real outbox; the
administrators' side is the real Django admin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from qloop.cases.models import Case
from qloop.notify.actions import notify
from qloop.notify.models import DeliveryAttempt, Message, MessageState, Notification
from qloop.notify.outbox import BACKOFF_MINUTES, MAX_ATTEMPTS, deliver_due
from qloop.org.models import Department, Membership, Role, User
from qloop.process.engine import take_transition
from qloop.process.tasks import create_task
from tests.notify.conftest import SMTPServer

SITE = "https://qloop.example.com"
FROM = "QLoop 质量反馈 <qloop@example.com>"
TASK = "复测同批次产品"


@pytest.fixture
def mail(smtp_server: SMTPServer) -> Iterator[SMTPServer]:
    """The outbox sends to the aiosmtpd server; links point at the site's address."""
    with override_settings(**smtp_server.email_settings(), DEFAULT_FROM_EMAIL=FROM, SITE_URL=SITE):
        yield smtp_server


def said(response: Any, text: str) -> bool:
    """Whether the page says ``text`` in the page's language."""
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        return gettext(text) in response.content.decode()


def investigating(case: Case, users: dict[str, User]) -> Case:
    take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    take_transition(case, "forward_to_quality", {"analysis": "需品质部调查"}, actor=users["cs"])
    case.refresh_from_db()
    return case


def second_production_member(users: dict[str, User]) -> User:
    user = User.objects.create_user(
        "prod2", email="prod2@example.com", display_name="孙丽", password="x"
    )
    Membership.objects.create(
        user=user,
        department=Department.objects.get(code="PROD"),
        role=Role.objects.get(code="member"),
    )
    return user


def task_messages() -> Any:
    return Message.objects.filter(kind="task_assigned")


# Written with the step ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_step_leaves_no_message_and_a_committed_one_is_delivered(
    users: dict[str, User], make_case: Callable[..., Case], mail: SMTPServer
) -> None:
    """X6: the message is written in the step's own transaction. A task given inside a
    transaction that fails tells nobody; a committed one reaches each person of the department
    once, by e-mail with a Chinese subject and the case's link, as soon as it commits."""
    case = investigating(make_case(), users)
    prod2 = second_production_member(users)
    mail.messages.clear()

    with pytest.raises(RuntimeError), transaction.atomic():
        create_task(case, department="PROD", title=TASK, actor=users["qe"])
        raise RuntimeError("the step fails after notify")

    assert not task_messages().exists()
    assert not Notification.objects.filter(kind="task_assigned").exists()
    assert mail.messages == []

    create_task(case, department="PROD", title=TASK, actor=users["qe"])

    # Huey runs the kick inline in tests: delivery happened at the commit.
    received = mail.wait_for(2)
    assert sorted(m["To"] for m in received) == ["prod2@example.com", "prod@example.com"]
    link = f"{SITE}/cases/{case.number}/"
    for received_mail in received:
        assert received_mail["Subject"] == f"{case.number}：本部门有新任务：{TASK}"
        text = received_mail.get_body(preferencelist=("plain",))
        assert text is not None and link in text.get_content()
    bell = Notification.objects.filter(kind="task_assigned", case=case)
    assert sorted(bell.values_list("user__username", flat=True)) == [
        "prod",
        prod2.username,
    ]
    for message in task_messages():
        assert message.state == MessageState.SENT
        assert message.attempts == 1
        (attempt,) = message.attempt_log.all()
        assert attempt.ok and attempt.detail.startswith("250 2.0.0 Ok: queued as QL")
    assert {m["Message-ID"] for m in received} == {
        f"<{uid}@example.com>" for uid in task_messages().values_list("uid", flat=True)
    }


# Retries -----------------------------------------------------------------------------------


@pytest.fixture
def one_email(db: Any, users: dict[str, User]) -> Message:
    """One message by e-mail to the production member, written by ``notify`` (not committed:
    the tests deliver with ``deliver_due`` at times they choose)."""
    notify(
        [users["prod"]],
        kind="task_assigned",
        data={"number": "QC-2026-000123", "title": TASK},
    )
    return task_messages().get()


def test_a_refusing_server_gets_the_message_again_a_minute_later(
    one_email: Message, mail: SMTPServer
) -> None:
    """X6: "451 try again later" keeps the message waiting for a retry one minute later, with
    the server's answer in the attempt log; the retry delivers it."""
    mail.refuse("451 4.3.0 Mailbox busy, try again later")
    t0 = timezone.now()

    report = deliver_due(now=t0)

    one_email.refresh_from_db()
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    assert one_email.state == MessageState.PENDING
    assert one_email.due_at == t0 + dt.timedelta(minutes=1)
    assert one_email.attempts == 1
    assert "451 4.3.0 Mailbox busy, try again later" in one_email.last_error
    (attempt,) = one_email.attempt_log.all()
    assert not attempt.ok and "451 4.3.0 Mailbox busy" in attempt.detail
    assert mail.messages == []

    assert deliver_due(now=t0 + dt.timedelta(seconds=59)).sent == 0
    assert mail.messages == []

    assert deliver_due(now=t0 + dt.timedelta(minutes=1)).sent == 1
    one_email.refresh_from_db()
    assert one_email.state == MessageState.SENT
    assert one_email.attempts == 2
    assert one_email.last_error == ""
    assert [a.ok for a in one_email.attempt_log.all()] == [False, True]
    (received,) = mail.messages
    assert received["To"] == "prod@example.com"


def test_a_permanent_refusal_fails_at_once(one_email: Message, mail: SMTPServer) -> None:
    """X6: "550 no such user" cannot change by trying again: failed after one attempt, and later
    runs leave it alone."""
    mail.refuse("550 5.1.1 No such user here")
    t0 = timezone.now()

    report = deliver_due(now=t0)
    later = deliver_due(now=t0 + dt.timedelta(days=1))

    one_email.refresh_from_db()
    assert (report.failed, report.retried, later.sent) == (1, 0, 0)
    assert one_email.state == MessageState.FAILED
    assert one_email.attempts == 1
    assert "550 5.1.1 No such user here" in one_email.last_error
    assert mail.messages == []


def fail_every_time(message: Message, mail: SMTPServer, start: dt.datetime) -> list[dt.datetime]:
    """Run the worker at each retry's time while the server refuses; the due times seen."""
    mail.refuse("421 4.7.0 Try again later", times=MAX_ATTEMPTS)
    now, seen = start, []
    for _ in range(MAX_ATTEMPTS):
        deliver_due(now=now)
        message.refresh_from_db()
        seen.append(message.due_at)
        now = message.due_at
    return seen


def test_after_the_last_attempt_the_message_is_failed(one_email: Message, mail: SMTPServer) -> None:
    """X6: retries back off (1, 2, 5, … minutes); after MAX_ATTEMPTS refusals the message is
    failed, with every attempt logged."""
    t0 = timezone.now()

    due_times = fail_every_time(one_email, mail, t0)

    gaps = [(b - a) for a, b in zip([t0, *due_times], due_times, strict=False)]
    assert gaps[: len(BACKOFF_MINUTES)] == [dt.timedelta(minutes=m) for m in BACKOFF_MINUTES]
    assert one_email.state == MessageState.FAILED
    assert one_email.attempts == MAX_ATTEMPTS
    assert DeliveryAttempt.objects.filter(message=one_email, ok=False).count() == MAX_ATTEMPTS
    assert deliver_due(now=due_times[-1] + dt.timedelta(days=1)).sent == 0
    assert mail.messages == []


def failed_message(message: Message, mail: SMTPServer) -> Message:
    mail.refuse("550 5.7.1 Relaying denied")
    deliver_due()
    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    return message


def test_an_administrator_sees_the_failed_message_and_retries_it(
    one_email: Message, mail: SMTPServer, client_for: Callable[[str], Client]
) -> None:
    """X6: failed messages are listed for administrators with the server's answer; the Retry
    button asks first, then queues the message again, and the next run delivers it under the
    same Message-ID."""
    message = failed_message(one_email, mail)
    admin = client_for("admin")
    changelist = reverse("admin:notify_message_changelist")
    retry_url = reverse("admin:notify_message_retry", args=[message.pk])

    listed = admin.get(changelist, {"state__exact": "failed"})
    assert listed.status_code == 200
    page = listed.content.decode()
    assert message.subject in page and "550 5.7.1 Relaying denied" in page
    assert retry_url in page
    assert message.subject not in admin.get(changelist, {"state__exact": "sent"}).content.decode()

    confirm = admin.get(retry_url)
    assert confirm.status_code == 200
    assert message.subject in confirm.content.decode()
    message.refresh_from_db()
    assert message.state == MessageState.FAILED, "asking to confirm changes nothing"

    done = admin.post(retry_url, follow=True)
    assert done.redirect_chain[-1][0] == changelist
    assert said(done, "The message is queued again.")
    message.refresh_from_db()
    assert (message.state, message.attempts) == (MessageState.PENDING, 0)

    assert deliver_due().sent == 1
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    (received,) = mail.messages
    assert received["Message-ID"] == f"<{message.uid}@example.com>"
    # Every attempt is kept: the refusal and the delivery.
    assert [a.ok for a in message.attempt_log.all()] == [False, True]


def test_the_bulk_action_queues_the_selected_failed_messages(
    one_email: Message, mail: SMTPServer, client_for: Callable[[str], Client]
) -> None:
    """X6: the changelist's action retries several failed messages at once."""
    message = failed_message(one_email, mail)

    response = client_for("admin").post(
        reverse("admin:notify_message_changelist"),
        {"action": "retry_selected", "_selected_action": [message.pk]},
        follow=True,
    )

    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        assert gettext("%(count)s message(s) queued again.") % {"count": 1} in (
            response.content.decode()
        )
    assert deliver_due().sent == 1
    assert len(mail.messages) == 1


def test_people_who_are_not_administrators_cannot_see_or_retry_the_outbox(
    one_email: Message, mail: SMTPServer, client_for: Callable[[str], Client], users: Any
) -> None:
    """X6: the outbox shows addresses and errors; only administrators open it. A staff member
    without the permission is refused, other people are sent to the admin login."""
    message = failed_message(one_email, mail)
    changelist = reverse("admin:notify_message_changelist")
    retry_url = reverse("admin:notify_message_retry", args=[message.pk])
    clerk = client_for("cs_head")
    staff = User.objects.create_user("staff", password="x", is_staff=True)
    staff_client = Client()
    staff_client.force_login(staff)

    for url in (changelist, retry_url):
        refused = clerk.get(url)
        assert refused.status_code == 302 and "/login/" in refused["Location"]
        assert clerk.post(url).status_code == 302
        assert staff_client.get(url).status_code == 403
    assert staff_client.post(retry_url).status_code == 403
    bulk = {"action": "retry_selected", "_selected_action": [message.pk]}
    assert clerk.post(changelist, bulk).status_code == 302
    assert staff_client.post(changelist, bulk).status_code == 403

    message.refresh_from_db()
    assert message.state == MessageState.FAILED
    assert deliver_due().sent == 0
