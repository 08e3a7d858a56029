"""Administrators' words for a kind of message, through the real admin (X6).

A template replaces the built-in words of one kind in one language: the e-mail's subject and
text and the bell's line. Templates are cached, so each test starts and ends with none cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from qloop.notify.actions import notify
from qloop.notify.models import MessageTemplate, Notification
from qloop.notify.outbox import deliver_due
from qloop.notify.texts import forget_templates, render_message
from qloop.org.models import User
from tests.notify.conftest import SMTPServer

pytestmark = pytest.mark.django_db

TASK = {"number": "QC-2026-000123", "title": "复测同批次产品", "case_title": "机械密封处漏水"}
SUBJECT = "【质量任务】{{ number }}：{{ task }}"
BODY = "{{ title }}\n请于两日内完成：{{ task }}\n{{ link }}"


@pytest.fixture(autouse=True)
def _no_cached_templates() -> Iterator[None]:
    """The cache outlives a test's rolled-back database; no template may leak between tests."""
    forget_templates()
    yield
    forget_templates()


@pytest.fixture
def admin(client_for: Callable[[str], Client]) -> Client:
    return client_for("admin")


def add_template(admin: Client, **fields: Any) -> Any:
    data = {
        "kind": "task_assigned",
        "language": "zh-hans",
        "active": "on",
        "subject": SUBJECT,
        "body": BODY,
    }
    data.update(fields)
    return admin.post(reverse("admin:notify_messagetemplate_add"), data)


def told(users: dict[str, User], smtp_server: SMTPServer) -> tuple[str, str, str]:
    """Tell the production member of a task; the e-mail's subject and text, the bell's line."""
    smtp_server.messages.clear()
    Notification.objects.all().delete()
    with override_settings(**smtp_server.email_settings()):
        notify([users["prod"]], kind="task_assigned", data=TASK)
        deliver_due()
    (received,) = smtp_server.messages
    text = received.get_body(preferencelist=("plain",))
    assert text is not None
    with translation.override("zh-hans"):
        line = Notification.objects.get(user=users["prod"]).text
    return str(received["Subject"]), text.get_content(), line


def test_an_administrators_template_changes_the_email_and_the_bell(
    admin: Client, users: dict[str, User], smtp_server: SMTPServer
) -> None:
    """X6: the words an administrator saves for (task, 简体中文) are what the person reads, in
    the e-mail and in the bell; the words of other kinds and languages stay built-in."""
    built_in_subject, _text, _line = told(users, smtp_server)

    response = add_template(admin)

    assert response.status_code == 302
    subject, text, line = told(users, smtp_server)
    assert subject == "【质量任务】QC-2026-000123：复测同批次产品"
    assert "请于两日内完成：复测同批次产品" in text and "机械密封处漏水" in text
    assert line == subject
    assert subject != built_in_subject
    english, _body = render_message("task_assigned", TASK, language="en")
    assert english == "QC-2026-000123: new task for your department: 复测同批次产品"


def test_the_preview_shows_the_sample(admin: Client) -> None:
    """X6: the template's page shows it rendered with the kind's sample values, and lists the
    variables it may use."""
    add_template(admin)
    template = MessageTemplate.objects.get()

    page = admin.get(reverse("admin:notify_messagetemplate_change", args=[template.pk]))

    html = page.content.decode()
    assert "【质量任务】QC-2026-000123：提供同批次生产记录" in html
    # A task's own title is {{ task }}; the case's is {{ title }}.
    assert "洗衣机脱水时漏水\n请于两日内完成：提供同批次生产记录" in html
    assert "{{ task }}" in html and "{{ link }}" in html


@pytest.mark.parametrize(
    ("field", "source"),
    [
        ("subject", "{{ number }：{{ task }}"),
        ("body", "{% if number %}{{ task }}"),
        ("body", "{% unknown_tag %}"),
    ],
)
def test_a_template_with_an_error_is_refused(admin: Client, field: str, source: str) -> None:
    """X6: a template Django cannot read is refused with the reason, and nothing is saved."""
    response = add_template(admin, **{field: source})

    assert response.status_code == 200
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        reason = gettext("The template has an error: %(error)s").split("%(error)s")[0]
    assert reason in response.content.decode()
    assert not MessageTemplate.objects.exists()


def test_switching_a_template_off_or_deleting_it_restores_the_built_in_words(
    admin: Client, users: dict[str, User], smtp_server: SMTPServer
) -> None:
    """X6: the change takes effect at once (the cached templates are forgotten on save and on
    delete)."""
    built_in = told(users, smtp_server)[0]
    add_template(admin)
    template = MessageTemplate.objects.get()
    assert told(users, smtp_server)[0] != built_in  # the custom words are cached now

    change = reverse("admin:notify_messagetemplate_change", args=[template.pk])
    switched_off = admin.post(
        change,
        {"kind": "task_assigned", "language": "zh-hans", "subject": SUBJECT, "body": BODY},
    )
    assert switched_off.status_code == 302
    assert told(users, smtp_server)[0] == built_in

    admin.post(change, {**_fields(template), "active": "on"})
    assert told(users, smtp_server)[0] != built_in

    delete = reverse("admin:notify_messagetemplate_delete", args=[template.pk])
    assert admin.post(delete, {"post": "yes"}).status_code == 302
    assert not MessageTemplate.objects.exists()
    assert told(users, smtp_server)[0] == built_in


def _fields(template: MessageTemplate) -> dict[str, str]:
    return {
        "kind": template.kind,
        "language": template.language,
        "subject": SUBJECT,
        "body": BODY,
    }


def test_only_administrators_edit_templates(
    client_for: Callable[[str], Client], users: dict[str, User]
) -> None:
    """X6: other people cannot change what everyone is told."""
    response = add_template(client_for("cs_head"))

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not MessageTemplate.objects.exists()
