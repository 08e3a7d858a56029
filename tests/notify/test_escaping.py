"""Messages are escaped once (issue 9 point 15): a task titled like markup reaches every
channel as written — plain text as it is, HTML escaped exactly once.

The words of a message are rendered as plain text; only the places that turn them into HTML
(the bell's page, the e-mail's HTML part) escape them. Before the fix the plain text was
already escaped, so the bell and the e-mail showed ``&amp;quot;&amp;gt;…`` and the robots
``&quot;&gt;…``. The e-mail goes to a real SMTP server (aiosmtpd) and the robots to a real
HTTP server on loopback.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.html import escape

from qloop.cases.models import Case
from qloop.notify.channels import deliver
from qloop.notify.models import Message, Notification, Robot
from qloop.org.models import Department, User
from qloop.process.engine import take_transition
from qloop.process.tasks import create_task
from tests.notify.conftest import HTTPReceiver, SMTPServer

pytestmark = pytest.mark.django_db

TITLE = '"><script>alert("x")</script> & <b>1 < 2</b>'


class _Text(HTMLParser):
    """The text a mail client shows of an HTML part (tags dropped, entities decoded once)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts)


@pytest.fixture
def task_for_production(
    complaint: Case, users: dict[str, User], http_receiver: HTTPReceiver
) -> Case:
    """A task titled ``TITLE`` for Production, whose robots are all on the local server."""
    production = Department.objects.get(code="PROD")
    for channel in ("wecom", "dingtalk", "feishu", "webhook"):
        Robot.objects.create(
            name=channel,
            channel=channel,
            url=http_receiver.url(f"/{channel}"),
            department=production,
            secret="s3cret" if channel != "wecom" else "",
        )
    users["prod"].email = "prod@example.cn"
    users["prod"].save(update_fields=["email"])
    case = take_transition(
        complaint, "forward_to_quality", {"analysis": "批量漏水"}, actor=users["cs"]
    )
    create_task(case, department="PROD", title=TITLE, actor=users["qe"])
    return case


def delivered(channel: str, **settings: Any) -> Message:
    message = Message.objects.get(channel=channel, kind="task_assigned")
    with override_settings(**settings):
        deliver(message)
    return message


def test_the_bell_shows_the_title_as_written(
    task_for_production: Case, client_for: Callable[[str], Client]
) -> None:
    notification = Notification.objects.get(user__username="prod", kind="task_assigned")
    assert TITLE in notification.text

    page = client_for("prod").get(reverse("notifications")).content.decode()

    assert escape(TITLE) in page  # escaped once, where it becomes HTML
    assert escape(escape(TITLE)) not in page
    assert TITLE in unescape(page)
    assert "<script>alert" not in page


def test_the_email_carries_the_title_as_written_in_text_and_escaped_once_in_html(
    task_for_production: Case, smtp_server: SMTPServer
) -> None:
    delivered("email", **smtp_server.email_settings())

    (mail,) = smtp_server.messages
    assert isinstance(mail, EmailMessage)
    assert TITLE in str(mail["Subject"])
    text_part = mail.get_body(preferencelist=("plain",))
    html_part = mail.get_body(preferencelist=("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert TITLE in text
    assert "&quot;" not in text and "&lt;" not in text
    assert escape(TITLE) in html
    assert escape(escape(TITLE)) not in html and "&amp;quot;" not in html
    assert "<script>alert" not in html
    # What the reader sees of the HTML: the title as written, in the window's title, the
    # heading and the text.
    assert shown_text(html).count(TITLE) == 3


def test_each_robot_receives_the_title_as_written(
    task_for_production: Case, http_receiver: HTTPReceiver
) -> None:
    for channel in ("wecom", "dingtalk", "feishu", "webhook"):
        delivered(channel)

    received = {r.path.strip("/"): r.json for r in http_receiver.wait_for(4)}
    wecom = received["wecom"]["markdown"]["content"]
    dingtalk = received["dingtalk"]["markdown"]
    feishu = received["feishu"]["content"]["post"]["zh_cn"]
    webhook = received["webhook"]
    feishu_lines = [cell["text"] for row in feishu["content"] for cell in row]
    texts = {
        "wecom": [wecom],
        "dingtalk title": [dingtalk["title"]],
        "dingtalk text": [dingtalk["text"]],
        "feishu title": [feishu["title"]],
        "feishu text": feishu_lines,
        "webhook subject": [webhook["subject"]],
        "webhook text": [webhook["text"]],
    }
    for where, values in texts.items():
        assert any(TITLE in value for value in values), (where, values)
        assert not any("&quot;" in value or "&lt;" in value for value in values), where
