"""Deadlines and messages as people use them in a real browser (X3, X6, R2.3): the CS head
pauses a customer-answer deadline while waiting for the customer and resumes it; a person
chooses where messages reach them; an administrator finds a failed message and retries it.
Screenshots are kept under test-output/screenshots/.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tests.browser.conftest import PageWatch, log_in

pytestmark = pytest.mark.browser

Shot = Callable[[Any, str], Path]
REASON = "等待客户寄回故障机械密封"


def zh(message: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


def test_a_deadline_is_paused_while_waiting_for_the_customer_and_resumed(
    page: Any, screenshot: Shot, make_case: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    """X3: the pause stops the answer deadline, with its reason on the timeline; resuming
    moves the due time."""
    from qloop.process.models import Clock

    case = make_case()
    clock = Clock.objects.get(case=case, name="customer_answer")
    due_before = clock.due_at
    log_in(page, "cs_head")
    page.goto(reverse("case-detail", args=[case.number]))
    page.locator("details.clock-pause summary").click()
    page.locator("details.clock-pause input[name=reason]").fill(REASON)
    screenshot(page, "pause-form")
    with page.expect_navigation():
        page.locator("details.clock-pause button").click()
    assert zh("Deadline paused.") in page.locator("body").inner_text()
    assert page.locator(".clock-paused").is_visible()
    timeline = page.locator("#timeline").inner_text()
    assert REASON in timeline
    assert zh("deadline paused") in timeline
    screenshot(page, "paused")
    clock.refresh_from_db()
    assert clock.state == "paused"

    with page.expect_navigation():
        page.locator(".clock-paused button").click()
    assert zh("Deadline running again.") in page.locator("body").inner_text()
    assert page.locator("details.clock-pause").is_visible()
    screenshot(page, "resumed")
    clock.refresh_from_db()
    assert clock.state == "running"
    assert clock.due_at >= due_before
    assert not watch.errors, watch.errors
    assert not watch.failed, watch.failed


def test_a_person_chooses_where_messages_reach_them(
    page: Any, screenshot: Shot, users: dict[str, Any], watch: PageWatch
) -> None:
    """X6: per kind of message, the bell and/or e-mail, and quiet hours; a bad entry is
    refused with a message and nothing is saved."""
    from qloop.notify.models import MessagePreference

    log_in(page, "qe")
    page.goto(reverse("message-settings"))
    screenshot(page, "message-settings")
    page.locator("input[name=transition][value=email]").check()
    page.locator("#id_email").fill("")
    with page.expect_navigation():
        page.locator("#message-settings button").click()
    assert page.locator(".invalid-feedback").first.is_visible()
    assert not MessagePreference.objects.filter(user=users["qe"]).exists()
    screenshot(page, "message-settings-refused")

    page.locator("#id_email").fill("12345678@qq.com")
    page.locator("#id_quiet_from").fill("22:00")
    page.locator("#id_quiet_to").fill("07:30")
    with page.expect_navigation():
        page.locator("#message-settings button").click()
    assert zh("Your message settings are saved.") in page.locator("body").inner_text()
    pref = MessagePreference.objects.get(user=users["qe"])
    assert "email" in pref.channels["transition"]
    assert (pref.quiet_from.strftime("%H:%M"), pref.quiet_to.strftime("%H:%M")) == (
        "22:00",
        "07:30",
    )
    assert page.locator("input[name=transition][value=email]").is_checked()
    screenshot(page, "message-settings-saved")
    assert not watch.errors, watch.errors


def test_an_administrator_retries_a_failed_message(
    page: Any, screenshot: Shot, users: dict[str, Any], watch: PageWatch
) -> None:
    """X6: failures are listed for administrators with a retry button."""
    from qloop.notify.models import Message

    failed = Message.objects.create(
        channel="email",
        kind="task_assigned",
        address="nobody@example.invalid",
        subject="QC-2026-000001：部门新任务",
        body="…",
        state="failed",
        attempts=9,
        last_error="550 5.1.1 mailbox unavailable",
    )
    log_in(page, "admin")
    page.goto(reverse("admin:notify_message_changelist") + "?state__exact=failed")
    assert "550 5.1.1" in page.locator("#result_list").inner_text()
    screenshot(page, "outbox-failed")
    with page.expect_navigation():
        page.locator("#result_list a.button").first.click()
    screenshot(page, "retry-confirm")
    with page.expect_navigation():
        page.locator("#content form input[type=submit]").click()
    failed.refresh_from_db()
    # Retried at once on commit; with no mail server the console backend "sends" it.
    assert failed.state in {"pending", "sent"}
    assert failed.attempts <= 1
    screenshot(page, "outbox-after-retry")
    assert not watch.errors, watch.errors
