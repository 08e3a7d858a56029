"""Delivery over each channel, against real receivers on loopback (X6).

The robot services are played by route functions that check what the real services check,
the way their documentation describes it: the payload's shape, DingTalk's and Feishu's
signatures recomputed on the server side, the webhook's HMAC; a wrong secret gets the real
service's error code and shape.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from qloop.notify.channels import (
    DeliveryError,
    deliver,
    dingtalk_signature,
    feishu_signature,
    open_email_connection,
)
from qloop.notify.models import Message, Robot
from qloop.settings import email_server
from tests.notify.conftest import Answer, HTTPReceiver, ReceivedRequest, SMTPServer, free_port

pytestmark = pytest.mark.django_db

LINK = "https://qloop.example.com/cases/QC-2026-000123/"
SUBJECT = "QC-2026-000123：时限“48 小时调查”已超时"
BODY = f"QC-2026-000123 洗衣机脱水时漏水\n时限“48 小时调查”已于 2026-12-01 09:30 到期。\n{LINK}"


def email_message(**fields: Any) -> Message:
    values: dict[str, Any] = {
        "channel": "email",
        "kind": "clock_breached",
        "address": "wangfang@example.cn",
        "subject": SUBJECT,
        "body": BODY,
        "link": LINK,
        "language": "zh-hans",
    }
    values.update(fields)
    return Message.objects.create(**values)


def robot_message(channel: str, url: str, secret: str = "", **fields: Any) -> Message:
    robot = Robot.objects.create(name=f"{channel} robot", channel=channel, url=url, secret=secret)
    values: dict[str, Any] = {
        "channel": channel,
        "kind": "clock_breached",
        "robot": robot,
        "subject": SUBJECT,
        "body": BODY,
        "link": LINK,
        "data": {"number": "QC-2026-000123", "clock": "investigation"},
    }
    values.update(fields)
    return Message.objects.create(**values)


def failure(message: Message, **kwargs: Any) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        deliver(message, **kwargs)
    return caught.value


# E-mail ------------------------------------------------------------------------------------


def parts(mail: EmailMessage) -> tuple[str, str]:
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_an_email_has_html_and_text_a_chinese_subject_and_the_case_link(
    smtp_server: SMTPServer,
) -> None:
    message = email_message()
    with override_settings(
        **smtp_server.email_settings(), DEFAULT_FROM_EMAIL="QLoop 质量反馈 <qloop@example.com>"
    ):
        answer = deliver(message)

    assert answer == "250 2.0.0 Ok: queued as QL0001"
    (mail,) = smtp_server.messages
    assert mail["Subject"] == SUBJECT
    # On the wire the subject is RFC 2047 encoded, not raw UTF-8.
    assert "=?utf-8?" in mail.as_string().split("Subject:", 1)[1].splitlines()[0].lower()
    assert mail["To"] == "wangfang@example.cn"
    assert mail["From"].addresses[0].addr_spec == "qloop@example.com"
    assert mail["Message-ID"] == f"<{message.uid}@example.com>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert smtp_server.deliveries[0].rcpt_tos == ["wangfang@example.cn"]
    text, html = parts(mail)
    assert "洗衣机脱水时漏水" in text and "到期" in text
    assert text.count(LINK) == 1  # the body's own link line is not repeated
    assert "洗衣机脱水时漏水" in html
    button = re.search(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', html)
    assert button is not None and button.group(1) == LINK and "QLoop" in button.group(2)
    assert "<table" in html and "<img" not in html and "http://" not in html.replace(LINK, "")


def test_an_email_sent_again_carries_the_same_message_id(smtp_server: SMTPServer) -> None:
    message = email_message()
    with override_settings(**smtp_server.email_settings()):
        deliver(message)
        deliver(Message.objects.get(pk=message.pk))
    first, second = smtp_server.messages
    assert first["Message-ID"] == second["Message-ID"] == f"<{message.uid}@localhost>"


def test_an_email_in_english_has_english_words_around_the_text(smtp_server: SMTPServer) -> None:
    message = email_message(language="en", subject="QC-2026-000123: deadline passed", urgent=True)
    with override_settings(**smtp_server.email_settings()):
        deliver(message)
    (mail,) = smtp_server.messages
    text, html = parts(mail)
    assert "Open in QLoop" in html and f"Open in QLoop: {LINK}" in text
    assert mail["Importance"] == "high" and "Urgent" in html


def test_a_frozen_html_part_is_sent_as_it_was_written(smtp_server: SMTPServer) -> None:
    message = email_message(html="<p>Written at queueing time</p>")
    with override_settings(**smtp_server.email_settings()):
        deliver(message)
    assert parts(smtp_server.messages[0])[1].strip() == "<p>Written at queueing time</p>"


def test_it_logs_in_with_the_user_and_password_of_email_url(smtp_server: SMTPServer) -> None:
    smtp_server.users = {"qloop@example.cn": "p@ss:word/1%"}
    parsed = email_server(
        f"smtp://qloop%40example.cn:p%40ss%3Aword%2F1%25@{smtp_server.host}:{smtp_server.port}"
    )
    with override_settings(**parsed):
        deliver(email_message())
    assert smtp_server.deliveries[0].login == "qloop@example.cn"


def test_a_wrong_password_is_not_retried_and_not_shown(smtp_server: SMTPServer) -> None:
    smtp_server.users = {"qloop": "right"}
    with override_settings(**smtp_server.email_settings("qloop", "wrong-secret")):
        error = failure(email_message())
    assert error.retry is False and "535" in error.detail
    assert "wrong-secret" not in error.detail
    assert smtp_server.messages == []


def test_a_server_that_wants_a_login_refuses_mail_without_one(smtp_server: SMTPServer) -> None:
    smtp_server.users = {"qloop": "right"}
    with override_settings(**smtp_server.email_settings()):
        error = failure(email_message())
    assert error.retry is False and "530" in error.detail


def test_a_temporary_refusal_is_retried_and_a_permanent_one_is_not(
    smtp_server: SMTPServer,
) -> None:
    smtp_server.refuse("451 4.3.0 Try again later")
    smtp_server.refuse("550 5.1.1 No such mailbox")
    with override_settings(**smtp_server.email_settings()):
        temporary = failure(email_message())
        permanent = failure(email_message())
        deliver(email_message())  # the server is fine again
    assert temporary.retry is True and "451" in temporary.detail
    assert permanent.retry is False and "550" in permanent.detail
    assert len(smtp_server.messages) == 1


def test_a_mail_server_that_is_down_is_retried(settings: Any) -> None:
    settings.EMAIL_BACKEND = "qloop.notify.channels.SMTPBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    error = failure(email_message())
    assert error.retry is True and "127.0.0.1" in error.detail


def test_a_batch_shares_one_connection_and_survives_an_error(smtp_server: SMTPServer) -> None:
    with override_settings(**smtp_server.email_settings()):
        connection = open_email_connection()
        try:
            deliver(email_message(), connection=connection)
            deliver(email_message(), connection=connection)
            smtp_server.refuse("421 4.7.0 Too many messages, closing")
            assert failure(email_message(), connection=connection).retry is True
            deliver(email_message(), connection=connection)  # opens a fresh connection
        finally:
            connection.close()
    peers = [d.peer for d in smtp_server.deliveries]
    assert len(peers) == 3 and peers[0] == peers[1] != peers[2]


def test_a_message_without_an_address_is_not_retried() -> None:
    assert failure(email_message(address="")).retry is False
    assert failure(email_message(address="not an address")).retry is False


def test_without_email_url_the_mail_goes_to_the_log(capsys: pytest.CaptureFixture[str]) -> None:
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend"):
        answer = deliver(email_message())
    assert "console" in answer
    assert "wangfang@example.cn" in capsys.readouterr().out


# EMAIL_URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "smtp://mail.intra.example.com",
            {"EMAIL_HOST": "mail.intra.example.com", "EMAIL_PORT": 25, "EMAIL_USE_TLS": False},
        ),
        (
            "smtp://u%40example.com:p%3Aw%25d@smtp.office365.com:587?starttls=true&timeout=12.5",
            {
                "EMAIL_HOST_USER": "u@example.com",
                "EMAIL_HOST_PASSWORD": "p:w%d",
                "EMAIL_PORT": 587,
                "EMAIL_USE_TLS": True,
                "EMAIL_USE_SSL": False,
                "EMAIL_TIMEOUT": 12.5,
            },
        ),
        ("smtp://h?tls=true", {"EMAIL_PORT": 587, "EMAIL_USE_TLS": True}),
        (
            "smtps://12345678%40qq.com:abcdefghijklmnop@smtp.qq.com",
            {
                "EMAIL_HOST": "smtp.qq.com",
                "EMAIL_PORT": 465,
                "EMAIL_USE_SSL": True,
                "EMAIL_USE_TLS": False,
                "EMAIL_HOST_USER": "12345678@qq.com",
                "EMAIL_TIMEOUT": 30.0,
            },
        ),
        ("smtp://[::1]:2525", {"EMAIL_HOST": "::1", "EMAIL_PORT": 2525}),
    ],
)
def test_email_url_gives_djangos_email_settings(url: str, expected: dict[str, Any]) -> None:
    parsed = email_server(url)
    assert parsed["EMAIL_BACKEND"] == "qloop.notify.channels.SMTPBackend"
    assert {key: parsed[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://u:hunter2@mail.example.com", "scheme"),
        ("mail.example.com:25", "scheme"),
        ("smtp://u:hunter2@", "no mail server"),
        ("smtp://u:hunter2@mail.example.com:smtp", "port"),
        ("smtp://u:hunter2@mail.example.com:70000", "port"),
        ("smtp://u:hunter2@mail.example.com:0", "port"),
        ("smtp://u:hunter2@mail.example.com?startls=true", "unknown option 'startls'"),
        ("smtp://u:hunter2@mail.example.com?starttls=maybe", "true or false"),
        ("smtps://u:hunter2@mail.example.com?starttls=true", "already encrypted"),
        ("smtp://u:hunter2@mail.example.com?timeout=0", "timeout"),
        ("smtp://u:hunter2@mail.example.com?timeout=soon", "timeout"),
        ("smtp://u:hunter2@mail.example.com/inbox", "nothing may follow"),
        ("smtp://:hunter2@mail.example.com", "needs a user name"),
        ("smtp://qloop:hunter2%C3%A9@mail.example.com", "ASCII"),
    ],
)
def test_a_bad_email_url_is_refused_with_its_reason_but_not_its_password(
    url: str, reason: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=re.escape(reason)) as caught:
        email_server(url)
    assert "hunter2" not in str(caught.value)
    assert str(caught.value).startswith("EMAIL_URL")


def test_qloop_does_not_start_with_a_bad_email_url(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "QLOOP_DATA_DIR": str(tmp_path),
        "EMAIL_URL": "smtp://qloop:hunter2@mail.example.com:25?starttls=perhaps",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = "
            "'qloop.settings'; django.setup()",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: EMAIL_URL" in result.stderr
    assert "starttls must be true or false" in result.stderr
    assert "hunter2" not in result.stderr


# Robots as their services see them --------------------------------------------------------

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_SECRET = "SECd5f6f3c1e2a4b9876543210fedcba9876543210fedcba9876543210fedcba98"
FEISHU_SECRET = "8kZt2PqWvR5yN3mXcF7hJ1"
WEBHOOK_SECRET = "b6Hc0U9xq1lO7m-hMYaY2n4r3f1QpG8zK5sVtWd0eA"


def wecom_service(request: ReceivedRequest) -> Answer:
    """What qyapi.weixin.qq.com/cgi-bin/webhook/send checks."""
    if request.query.get("key") != WECOM_KEY:
        return Answer(
            body={
                "errcode": 93000,
                "errmsg": "invalid webhook url, hint: [1733040000123456789], from ip: "
                "127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=93000",
            }
        )
    payload = request.json
    if payload.get("msgtype") != "markdown" or not isinstance(
        payload.get("markdown", {}).get("content"), str
    ):
        return Answer(body={"errcode": 40008, "errmsg": "invalid message type"})
    if len(payload["markdown"]["content"].encode()) > 4096:
        return Answer(body={"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
    return Answer(body={"errcode": 0, "errmsg": "ok"})


def dingtalk_service(request: ReceivedRequest) -> Answer:
    """What oapi.dingtalk.com/robot/send checks of a robot secured by 加签."""
    timestamp, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
    if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3_600_000:
        return Answer(body={"errcode": 310000, "errmsg": "invalid timestamp"})
    to_sign = f"{timestamp}\n{DINGTALK_SECRET}".encode()
    expected = base64.b64encode(
        hmac.new(DINGTALK_SECRET.encode(), to_sign, hashlib.sha256).digest()
    ).decode()
    if sign != expected:
        return Answer(
            body={
                "errcode": 310000,
                "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]",
            }
        )
    payload = request.json
    markdown = payload.get("markdown", {})
    if (
        payload.get("msgtype") != "markdown"
        or not markdown.get("title")
        or not markdown.get("text")
    ):
        return Answer(body={"errcode": 40035, "errmsg": "缺少参数 json"})
    return Answer(body={"errcode": 0, "errmsg": "ok"})


def feishu_service(request: ReceivedRequest) -> Answer:
    """What open.feishu.cn/open-apis/bot/v2/hook/… checks of a robot with signature checking."""
    payload = request.json
    timestamp = payload.get("timestamp", "")
    key = f"{timestamp}\n{FEISHU_SECRET}".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    if (
        not str(timestamp).isdigit()
        or abs(time.time() - int(timestamp)) > 3600
        or payload.get("sign") != expected
    ):
        return Answer(
            body={
                "code": 19021,
                "data": {},
                "msg": "sign match fail or timestamp is not within one hour from current time",
            }
        )
    post = payload.get("content", {}).get("post", {})
    if payload.get("msg_type") != "post" or not post:
        return Answer(status=400, body={"code": 9499, "data": {}, "msg": "Bad Request"})
    return Answer(
        body={"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}
    )


def webhook_receiver(request: ReceivedRequest) -> Answer:
    """A receiver that verifies the signature as docs/messages.md tells it to."""
    timestamp = request.headers["X-QLoop-Timestamp"]
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + request.body, "sha256")
    if request.headers.get("X-QLoop-Signature") != f"sha256={mac.hexdigest()}":
        return Answer(status=401, body={"error": "bad signature"})
    return Answer(status=204, body=b"")


@pytest.fixture
def services(http_receiver: HTTPReceiver) -> HTTPReceiver:
    http_receiver.routes.update(
        {
            "/cgi-bin/webhook/send": wecom_service,
            "/robot/send": dingtalk_service,
            "/open-apis/bot/v2/hook/0d3a5c1e-hook": feishu_service,
            "/qloop-hook": webhook_receiver,
        }
    )
    return http_receiver


# WeCom -------------------------------------------------------------------------------------


def test_wecom_gets_markdown_with_the_subject_text_and_link(services: HTTPReceiver) -> None:
    message = robot_message("wecom", services.url(f"/cgi-bin/webhook/send?key={WECOM_KEY}"))
    answer = deliver(message)
    assert answer == 'HTTP 200 {"errcode": 0, "errmsg": "ok"}'
    (request,) = services.requests
    assert request.headers["Content-Type"].startswith("application/json")
    content = request.json["markdown"]["content"]
    assert content.startswith(f"**{SUBJECT}**\n")
    assert "洗衣机脱水时漏水" in content
    assert content.endswith(f"[在 QLoop 中打开]({LINK})") or content.endswith(
        f"[Open in QLoop]({LINK})"
    )
    assert content.count(LINK) == 1


def test_wecom_refuses_a_wrong_key_and_it_is_not_retried(services: HTTPReceiver) -> None:
    error = failure(robot_message("wecom", services.url("/cgi-bin/webhook/send?key=wrong-key")))
    assert error.retry is False and "93000" in error.detail
    assert "wrong-key" not in error.detail


def test_wecom_rate_limit_is_retried(http_receiver: HTTPReceiver) -> None:
    http_receiver.answer(body={"errcode": 45009, "errmsg": "api freq out of limit"})
    error = failure(robot_message("wecom", http_receiver.url("/cgi-bin/webhook/send?key=k")))
    assert error.retry is True and "45009" in error.detail


def test_a_long_text_is_cut_to_what_wecom_takes(services: HTTPReceiver) -> None:
    message = robot_message(
        "wecom",
        services.url(f"/cgi-bin/webhook/send?key={WECOM_KEY}"),
        body="漏水" * 3000 + f"\n{LINK}",
        urgent=True,
    )
    deliver(message)
    content = services.requests[0].json["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert content.startswith('<font color="warning">**') and "…" in content
    assert content.endswith(f"({LINK})")


# DingTalk ----------------------------------------------------------------------------------


def test_dingtalk_checks_the_signature_and_gets_markdown(services: HTTPReceiver) -> None:
    url = services.url("/robot/send?access_token=a1b2c3")
    answer = deliver(robot_message("dingtalk", url, DINGTALK_SECRET))
    assert '"errcode": 0' in answer
    (request,) = services.requests
    assert request.query["access_token"] == "a1b2c3"
    markdown = request.json["markdown"]
    assert request.json["msgtype"] == "markdown"
    assert markdown["title"] == SUBJECT
    assert markdown["text"].startswith(f"#### {SUBJECT}\n")
    assert "洗衣机脱水时漏水  \n时限" in markdown["text"]  # each line stays a line
    assert f"({LINK})" in markdown["text"]


def test_dingtalk_refuses_a_wrong_secret_and_it_is_not_retried(services: HTTPReceiver) -> None:
    url = services.url("/robot/send?access_token=a1b2c3")
    error = failure(robot_message("dingtalk", url, "SECwrong"))
    assert error.retry is False
    assert "310000" in error.detail and "sign not match" in error.detail
    assert "SECwrong" not in error.detail


def test_dingtalk_without_a_secret_sends_no_signature(http_receiver: HTTPReceiver) -> None:
    deliver(robot_message("dingtalk", http_receiver.url("/robot/send?access_token=t")))
    assert set(http_receiver.requests[0].query) == {"access_token"}


def test_the_signatures_match_the_services_published_examples() -> None:
    # DingTalk's documented example secret and timestamp; the Feishu pair checked against
    # Feishu's sample code. Both with "+" and "/" that a careless encoder would break.
    assert dingtalk_signature("this is secret", 1577262236757) == (
        "hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM="
    )
    assert feishu_signature("demo-secret", 1599360473) == (
        "3/MaVZ8JLIy4TUG+7KSFJqvUkTKd+HWY8g+56DZWq8s="
    )


# Feishu ------------------------------------------------------------------------------------


def test_feishu_checks_the_signature_and_gets_a_post(services: HTTPReceiver) -> None:
    url = services.url("/open-apis/bot/v2/hook/0d3a5c1e-hook")
    answer = deliver(robot_message("feishu", url, FEISHU_SECRET))
    assert '"code": 0' in answer
    payload = services.requests[0].json
    post = payload["content"]["post"]["zh_cn"]
    assert payload["msg_type"] == "post" and post["title"] == SUBJECT
    texts = [cell["text"] for row in post["content"] for cell in row]
    assert "QC-2026-000123 洗衣机脱水时漏水" in texts
    assert post["content"][-1][0]["tag"] == "a" and post["content"][-1][0]["href"] == LINK


def test_feishu_refuses_a_wrong_secret_and_it_is_not_retried(services: HTTPReceiver) -> None:
    url = services.url("/open-apis/bot/v2/hook/0d3a5c1e-hook")
    error = failure(robot_message("feishu", url, "not-the-secret"))
    assert error.retry is False and "19021" in error.detail
    assert "not-the-secret" not in error.detail


def test_feishu_without_a_secret_sends_no_signature_and_reads_the_old_answer(
    http_receiver: HTTPReceiver,
) -> None:
    http_receiver.answer(body={"Extra": None, "StatusCode": 0, "StatusMessage": "success"})
    deliver(robot_message("feishu", http_receiver.url("/open-apis/bot/v2/hook/x")))
    payload = http_receiver.requests[0].json
    assert "sign" not in payload and "timestamp" not in payload


def test_feishu_bad_request_is_not_retried_and_its_rate_limit_is(
    http_receiver: HTTPReceiver,
) -> None:
    url = http_receiver.url("/open-apis/bot/v2/hook/x")
    http_receiver.answer(status=400, body={"code": 9499, "data": {}, "msg": "Bad Request"})
    http_receiver.answer(body={"code": 11232, "data": {}, "msg": "frequency limited psm"})
    assert failure(robot_message("feishu", url)).retry is False
    assert failure(robot_message("feishu", url)).retry is True


# Webhook -----------------------------------------------------------------------------------


def test_the_webhook_gets_signed_json(services: HTTPReceiver, make_case: Any) -> None:
    case = make_case()
    message = robot_message(
        "webhook", services.url("/qloop-hook"), WEBHOOK_SECRET, case=case, urgent=True
    )
    answer = deliver(message)
    assert answer.startswith("HTTP 204")
    (request,) = services.requests
    assert request.method == "POST"
    assert request.headers["X-QLoop-Delivery"] == str(message.uid)
    assert request.headers["X-QLoop-Kind"] == "clock_breached"
    assert abs(int(request.headers["X-QLoop-Timestamp"]) - time.time()) < 60
    assert request.json == {
        "id": str(message.uid),
        "kind": "clock_breached",
        "subject": SUBJECT,
        "text": BODY,
        "link": LINK,
        "case": case.number,
        "urgent": True,
        "language": "zh-hans",
        "data": {"number": "QC-2026-000123", "clock": "investigation"},
        "created_at": message.created_at.isoformat(),
    }


def test_the_docs_verification_code_accepts_qloop_and_refuses_a_forgery(
    services: HTTPReceiver,
) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "messages.md"
    code = re.search(r"```python\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # noqa: S102 (our own documentation)
    verify = namespace["verify_qloop"]

    deliver(robot_message("webhook", services.url("/qloop-hook"), WEBHOOK_SECRET))
    request = services.requests[0]
    assert verify(WEBHOOK_SECRET, request.headers, request.body) is True
    assert verify("another secret", request.headers, request.body) is False
    assert verify(WEBHOOK_SECRET, request.headers, request.body.replace(b"QC", b"QX")) is False
    old = {**dict(request.headers.items()), "X-QLoop-Timestamp": str(int(time.time()) - 3600)}
    assert verify(WEBHOOK_SECRET, old, request.body) is False


def test_a_webhook_that_refuses_the_signature_is_not_retried(services: HTTPReceiver) -> None:
    error = failure(robot_message("webhook", services.url("/qloop-hook"), "a guessed secret"))
    assert error.retry is False and error.detail.startswith("HTTP 401")
    assert "a guessed secret" not in error.detail


def test_a_webhook_without_a_secret_is_not_signed(http_receiver: HTTPReceiver) -> None:
    deliver(robot_message("webhook", http_receiver.url("/hook")))
    assert "X-QLoop-Signature" not in http_receiver.requests[0].headers


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (500, True),
        (502, True),
        (503, True),
        (408, True),
        (429, True),
        (400, False),
        (403, False),
        (404, False),
        (410, False),
    ],
)
def test_webhook_answers_decide_whether_to_retry(
    http_receiver: HTTPReceiver, status: int, retry: bool
) -> None:
    http_receiver.fail(status, body="<html>gateway says no</html>")
    error = failure(robot_message("webhook", http_receiver.url("/hook")))
    assert error.retry is retry
    assert error.detail == f"HTTP {status} <html>gateway says no</html>"


def test_a_receiver_that_hangs_is_retried(http_receiver: HTTPReceiver, settings: Any) -> None:
    settings.QLOOP_WEBHOOK_TIMEOUT = 0.5
    http_receiver.hang()
    started = time.monotonic()
    error = failure(robot_message("webhook", http_receiver.url("/hook")))
    assert time.monotonic() - started < 5
    assert error.retry is True and "no answer" in error.detail


def test_a_robot_that_is_down_is_retried() -> None:
    url = f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key={WECOM_KEY}"
    error = failure(robot_message("wecom", url))
    assert error.retry is True and "127.0.0.1" in error.detail
    assert WECOM_KEY not in error.detail


def test_a_server_error_page_from_a_robot_is_retried(http_receiver: HTTPReceiver) -> None:
    http_receiver.fail(502, body="<html>Bad Gateway</html>")
    http_receiver.answer(status=200, body="<html>captive portal</html>")
    url = http_receiver.url("/robot/send?access_token=t")
    assert failure(robot_message("dingtalk", url)).retry is True
    assert failure(robot_message("dingtalk", url)).retry is True


def test_a_redirect_is_not_followed(http_receiver: HTTPReceiver) -> None:
    http_receiver.answer(status=302, body="", headers={"Location": http_receiver.url("/new")})
    error = failure(robot_message("webhook", http_receiver.url("/hook"), WEBHOOK_SECRET))
    assert error.retry is False and error.detail.startswith("HTTP 302")
    assert len(http_receiver.requests) == 1


@pytest.mark.parametrize("url", ["ftp://files.example.com/hook", "file:///etc/passwd", "hook"])
def test_only_http_addresses_are_posted_to(url: str) -> None:
    error = failure(robot_message("webhook", url))
    assert error.retry is False and "https://" in error.detail


def test_a_message_for_a_robot_needs_an_active_robot_of_its_kind(
    http_receiver: HTTPReceiver,
) -> None:
    message = robot_message("wecom", http_receiver.url("/hook"))
    Robot.objects.filter(pk=message.robot_id).update(active=False)
    assert failure(Message.objects.get(pk=message.pk)).retry is False
    other_kind = Robot.objects.create(name="d", channel="dingtalk", url=http_receiver.url("/h"))
    mismatch = Message.objects.create(
        channel="feishu", robot=other_kind, kind="k", subject="s", body="b"
    )
    assert failure(mismatch).retry is False
    no_robot = Message.objects.create(channel="webhook", kind="k", subject="s", body="b")
    assert failure(no_robot).retry is False
    in_app = Message.objects.create(channel="app", kind="k", subject="s", body="b")
    assert failure(in_app).retry is False
    assert http_receiver.requests == []
