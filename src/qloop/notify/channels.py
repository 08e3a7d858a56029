"""Delivering one outbox message over its channel: e-mail, group robots, webhooks (X6).

The outbox (``notify.outbox``) claims messages, retries them with back-off and logs every
attempt; this module only sends one message and says what the receiver answered, or why it
failed and whether trying again could help (``DeliveryError.retry``).

E-mail goes through Django's mail backend (``EMAIL_URL``, see settings). The group robots of
WeCom, DingTalk and Feishu, and the generic webhook, are one HTTPS POST each, made with the
standard library. Secrets (robot keys in the address, signing secrets, the SMTP password)
never appear in an answer, an error or the log: errors name the receiving host only.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.header import Header
from email.message import Message as MIMEMessage
from email.utils import parseaddr
from typing import Any
from urllib.parse import quote_plus, urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qloop.notify.models import Channel, Message
from qloop.notify.texts import KINDS

# What is kept of a receiver's answer in the attempt log.
_ANSWER_CHARS = 300
# Bytes read of an answer at most: robots answer a few dozen; a proxy's error page may not.
_ANSWER_BYTES = 64 * 1024
# Each service's limit on one message, in UTF-8 bytes of the text (with room to spare).
_WECOM_MARKDOWN_BYTES = 4000
_DINGTALK_MARKDOWN_BYTES = 18_000
_FEISHU_POST_BYTES = 18_000

# Answers that no retry can change: the robot's address, secret or keywords are wrong, or the
# message itself is refused. Every other non-zero code (rate limits, "system busy") is retried.
_WECOM_PERMANENT = {
    93000: "invalid webhook address (key)",
    40008: "message type refused",
    40058: "message refused as invalid",
    44004: "empty message refused",
}
_DINGTALK_PERMANENT = {
    310000: "security settings: signature, keyword, time or IP address not accepted",
    300001: "the robot's access token is not valid",
    400101: "the robot's access token does not exist",
    400102: "the robot is switched off",
    400105: "message type refused",
    400106: "the robot does not exist",
}
_FEISHU_PERMANENT = {
    9499: "message refused as invalid",
    19001: "the robot's address is not valid",
    19002: "message refused as invalid",
    19021: "signature not accepted (wrong secret, or the clock is off by more than an hour)",
    19022: "this server's IP address is not on the robot's list",
    19024: "no keyword of the robot's security settings in the message",
}


class DeliveryError(Exception):
    """A message could not be delivered this time; ``retry`` says whether a later try may work.

    ``retry=False`` is for answers no retry can change (HTTP 4xx except 408 and 429, SMTP 5xx,
    a robot's "bad key / bad signature / no keyword"), so the outbox gives up at once instead
    of trying for days.
    """

    def __init__(self, detail: str, *, retry: bool = True) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry = retry


def deliver(message: Message, *, connection: Any | None = None) -> str:
    """Send one message; return a short summary of the receiver's answer for the log.

    ``connection`` is an e-mail connection from ``open_email_connection`` shared by a batch;
    robots and webhooks ignore it. Raises ``DeliveryError``.
    """
    if message.channel == Channel.EMAIL:
        return _send_email(message, connection)
    if message.channel in (Channel.WECOM, Channel.DINGTALK, Channel.FEISHU, Channel.WEBHOOK):
        robot = message.robot
        if robot is None:
            raise DeliveryError("the message names no robot", retry=False)
        if robot.channel != message.channel:
            raise DeliveryError(
                f"the robot is a {robot.channel} robot, the message is for {message.channel}",
                retry=False,
            )
        if not robot.active:
            raise DeliveryError("the robot is switched off", retry=False)
        return _ROBOT_SENDERS[message.channel](message, robot.url, robot.secret)
    raise DeliveryError(f"nothing delivers the channel {message.channel!r}", retry=False)


def open_email_connection() -> Any:
    """One connection to the mail server for a batch of messages; the caller closes it.

    It connects on the first message, so a server that is down shows as that message's
    ``DeliveryError`` rather than here.
    """
    return get_connection(fail_silently=False)


# E-mail ------------------------------------------------------------------------------------


class _AnswerKeepingSMTP(smtplib.SMTP):
    """smtplib throws away the server's answer to the message ("250 2.0.0 Ok: queued as
    4XyZ"); it is what a mail administrator searches the server's log for, so keep it."""

    last_answer = ""

    def data(self, msg: Any) -> tuple[int, bytes]:
        code, text = super().data(msg)
        self.last_answer = f"{code} {text.decode('utf-8', 'replace')}"
        return code, text


class _AnswerKeepingSMTPSSL(_AnswerKeepingSMTP, smtplib.SMTP_SSL):
    pass


class SMTPBackend(DjangoSMTPBackend):
    """Django's SMTP backend that keeps the server's answer for the delivery log."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return _AnswerKeepingSMTPSSL if self.use_ssl else _AnswerKeepingSMTP


def message_id(message: Message) -> str:
    """The same ``Message-ID`` on every try, so a re-send after a crash is a known duplicate."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2].strip() or "qloop"
    return f"<{message.uid}@{domain}>"


def absolute_link(message: Message) -> str:
    link = message.link.strip()
    if link.startswith("/"):
        return settings.SITE_URL + link
    return link


def text_without_link(message: Message) -> str:
    """The text without the line that only repeats the link (the channels show it their way)."""
    link = message.link.strip()
    lines = message.body.strip().splitlines()
    kept = [
        line for line in lines if not link or line.strip() not in (link, absolute_link(message))
    ]
    return "\n".join(kept).strip()


def render_email_html(message: Message) -> str:
    """The HTML part, in the message's language (``Message.html`` may keep it frozen)."""
    with translation.override(message.language):
        return render_to_string("notify/email.html", _email_context(message))


def render_email_text(message: Message) -> str:
    with translation.override(message.language):
        return render_to_string("notify/email.txt", _email_context(message)).strip() + "\n"


# What the button of a message to someone outside QLoop says, by the message's kind.
OUTSIDE_ACTIONS = {
    "survey_invitation": gettext_lazy("Answer the survey"),
    "survey_reminder": gettext_lazy("Answer the survey"),
}


def _email_context(message: Message) -> dict[str, Any]:
    # A message of a kind meant for people outside (a customer's contact: not on anyone's
    # preferences page) speaks to a customer: no "open in QLoop", no message settings he does
    # not have (issue 12.17).
    spec = KINDS.get(message.kind)
    outside = message.user_id is None and spec is not None and not spec.personal
    from qloop.org.models import Organisation

    return {
        "outside": outside,
        "sender": Organisation.current().name if outside else "QLoop",
        "action": OUTSIDE_ACTIONS.get(message.kind, gettext_lazy("Open the link"))
        if outside
        else "",
        "message": message,
        "subject": _one_line(message.subject),
        "text": text_without_link(message),
        "link": absolute_link(message),
        "urgent": message.urgent,
        "language": message.language,
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


class _Email(EmailMultiAlternatives):
    """Django 5.2 folds a long Chinese subject so that the Subject line itself stays empty and
    the text starts on the next; Python's parser, and some mail clients, then show it with a
    leading space. Encoded knowing the header's name, the first part stays on the line."""

    def message(self) -> Any:
        msg = super().message()
        if not self.subject.isascii():
            del msg["Subject"]
            encoding = self.encoding or settings.DEFAULT_CHARSET
            # Past Django's own __setitem__, which would turn the Header back into a string.
            MIMEMessage.__setitem__(
                msg, "Subject", Header(str(self.subject), encoding, header_name="Subject")
            )
        return msg


def build_email(message: Message, connection: Any | None = None) -> EmailMultiAlternatives:
    """The e-mail for a message: plain text and HTML, its stable Message-ID, no auto-replies."""
    headers = {
        "Message-ID": message_id(message),
        # RFC 3834: out-of-office replies and the like are not sent back to an automatic message.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
        "X-QLoop-Kind": message.kind,
    }
    if message.urgent:
        headers |= {"Importance": "high", "X-Priority": "1"}
    email = _Email(
        subject=_one_line(message.subject),
        body=render_email_text(message),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.address],
        headers=headers,
        connection=connection,
    )
    email.attach_alternative(message.html or render_email_html(message), "text/html")
    return email


def _send_email(message: Message, connection: Any | None) -> str:
    if "@" not in parseaddr(message.address)[1]:
        raise DeliveryError(f"not an e-mail address: {message.address!r}", retry=False)
    shared = connection is not None
    backend: Any = connection if shared else get_connection(fail_silently=False)
    try:
        email = build_email(message, backend)
        # Opening here (not in send) keeps a shared connection open for the next message.
        backend.open()
        sent = backend.send_messages([email])
        answer = getattr(getattr(backend, "connection", None), "last_answer", "")
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (0, b""))
        _drop(backend)
        raise DeliveryError(_smtp_detail(code, text), retry=not 500 <= code < 600) from exc
    except smtplib.SMTPResponseException as exc:
        _drop(backend)
        raise DeliveryError(
            _smtp_detail(exc.smtp_code, exc.smtp_error), retry=not 500 <= exc.smtp_code < 600
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        # The server lacks what EMAIL_URL asks for (STARTTLS, AUTH): a setting to fix.
        _drop(backend)
        raise DeliveryError(f"the mail server does not support it: {exc}", retry=False) from exc
    except (smtplib.SMTPException, OSError) as exc:
        # Refused, unreachable, timed out or cut off: the server may be back later.
        _drop(backend)
        raise DeliveryError(_os_error_detail(exc, settings.EMAIL_HOST), retry=True) from exc
    except ValueError as exc:  # a header Django refuses (a line break in the address, …)
        raise DeliveryError(f"the e-mail could not be built: {exc}", retry=False) from exc
    finally:
        if not shared:
            with contextlib.suppress(Exception):
                backend.close()
    if not sent:
        raise DeliveryError("the mail backend sent nothing", retry=True)
    if answer:
        return _shorten(answer, _ANSWER_CHARS)
    # Another backend (the console of the embedded set-up, or one in tests) has no answer.
    return f"handed to {type(backend).__module__}.{type(backend).__name__}"


def _drop(backend: Any) -> None:
    """Close a connection after an error, so the next message of the batch opens a fresh one."""
    with contextlib.suppress(Exception):
        backend.close()


def _smtp_detail(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return _shorten(f"SMTP {code} {_one_line(text)}", _ANSWER_CHARS)


def _os_error_detail(exc: BaseException, host: str) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer from {host} in time"
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return _shorten(f"{host}: {reason}", _ANSWER_CHARS)


# HTTP: group robots and webhooks ----------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes

    def text(self) -> str:
        return _one_line(self.body.decode("utf-8", "replace"))

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def summary(self) -> str:
        return _shorten(f"HTTP {self.status} {self.text()}".strip(), _ANSWER_CHARS)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect of a POST as a GET without the message; and a signed
    message must not be passed on to wherever the answer points. A moved robot is a setting to
    change, so a redirect is an answer like any other."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str] | None = None) -> _Answer:
    """POST JSON; an answer of any status comes back, no answer at all raises DeliveryError."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise DeliveryError("the robot's address must start with https:// or http://", retry=False)
    timeout = float(getattr(settings, "QLOOP_WEBHOOK_TIMEOUT", 10))
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "QLoop",
            **(headers or {}),
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return _Answer(response.status, response.read(_ANSWER_BYTES))
    except urllib.error.HTTPError as exc:
        with exc:
            return _Answer(exc.code, exc.read(_ANSWER_BYTES))
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise DeliveryError(f"no answer from {host} within {timeout:g} s") from exc
        raise DeliveryError(_os_error_detail_reason(exc.reason, host)) from exc
    except TimeoutError as exc:
        raise DeliveryError(f"no answer from {host} within {timeout:g} s") from exc
    except OSError as exc:  # the connection was cut while reading, or the like
        raise DeliveryError(_os_error_detail(exc, host)) from exc
    except ValueError as exc:  # http.client refuses the address (a space in it, …)
        raise DeliveryError("the robot's address is not valid", retry=False) from exc


def _os_error_detail_reason(reason: Any, host: str) -> str:
    if isinstance(reason, BaseException):
        return _os_error_detail(reason, host)
    return _shorten(f"{host}: {reason}", _ANSWER_CHARS)


def _check_status(answer: _Answer) -> None:
    """2xx passes; 408, 429 and 5xx may pass later; any other answer will not."""
    if 200 <= answer.status < 300:
        return
    retry = answer.status in (408, 429) or answer.status >= 500
    raise DeliveryError(answer.summary(), retry=retry)


def _robot_verdict(answer: _Answer, keys: tuple[str, ...], permanent: dict[int, str]) -> str:
    """Robots answer HTTP 200 even when they refuse: the code in the body decides.

    A code that no retry can change fails for good whatever the HTTP status; otherwise the
    status decides, then the code (0 is success; rate limits and the like are retried).
    """
    data = answer.json()
    code: Any = None
    if isinstance(data, dict):
        code = next((data[key] for key in keys if key in data), None)
    try:
        number = int(code) if code is not None else None
    except (TypeError, ValueError):
        number = None
    if number is not None and number in permanent:
        raise DeliveryError(f"{answer.summary()} ({permanent[number]})", retry=False)
    _check_status(answer)
    if number is None:
        raise DeliveryError(f"unexpected answer: {answer.summary()}", retry=True)
    if number != 0:
        raise DeliveryError(answer.summary(), retry=True)
    return answer.summary()


def _json_bytes(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _title(message: Message) -> str:
    subject = _one_line(message.subject)
    if message.urgent:
        with translation.override(message.language):
            return _("Urgent: %(subject)s") % {"subject": subject}
    return subject


def _link_label(message: Message) -> str:
    # The name is kept out of the translation so every robot message carries "QLoop": a robot
    # secured by the keyword "QLoop" accepts all of them.
    with translation.override(message.language):
        return _("Open in %(app)s") % {"app": "QLoop"}


def _markdown(message: Message, limit: int, *, title: str, line_break: str = "\n") -> str:
    """Title, text and link in the robots' markdown, cut to the service's size limit."""
    link = absolute_link(message)
    last = f"[{_link_label(message)}]({link})" if link else "QLoop"
    room = limit - len(f"{title}\n\n\n\n{last}".encode())
    text = _shorten_bytes(text_without_link(message), max(room, 0))
    # Each line of the text stays a line (DingTalk needs two spaces before a break for it).
    text = line_break.join(text.splitlines())
    return f"{title}\n\n{text}\n\n{last}" if text else f"{title}\n\n{last}"


def _send_wecom(message: Message, url: str, secret: str) -> str:
    # WeCom's markdown has three colours; "warning" is its orange.
    title = f"**{_title(message)}**"
    if message.urgent:
        title = f'<font color="warning">{title}</font>'
    content = _markdown(message, _WECOM_MARKDOWN_BYTES, title=title)
    answer = _post(url, _json_bytes({"msgtype": "markdown", "markdown": {"content": content}}))
    return _robot_verdict(answer, ("errcode",), _WECOM_PERMANENT)


def dingtalk_signature(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64 of HMAC-SHA256 over "timestamp\\nsecret", keyed with the secret."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _send_dingtalk(message: Message, url: str, secret: str) -> str:
    if secret:
        timestamp = int(time.time() * 1000)
        sign = quote_plus(dingtalk_signature(secret, timestamp))
        url = f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"
    text = _markdown(
        message, _DINGTALK_MARKDOWN_BYTES, title=f"#### {_title(message)}", line_break="  \n"
    )
    payload = {"msgtype": "markdown", "markdown": {"title": _title(message), "text": text}}
    answer = _post(url, _json_bytes(payload))
    return _robot_verdict(answer, ("errcode",), _DINGTALK_PERMANENT)


def feishu_signature(secret: str, timestamp_s: int) -> str:
    """Feishu's signature: base64 of HMAC-SHA256 keyed with "timestamp\\nsecret" over nothing."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def _send_feishu(message: Message, url: str, secret: str) -> str:
    link = absolute_link(message)
    text = _shorten_bytes(text_without_link(message), _FEISHU_POST_BYTES)
    rows: list[list[dict[str, str]]] = [
        [{"tag": "text", "text": line}] for line in text.splitlines() if line.strip()
    ]
    if link:
        rows.append([{"tag": "a", "text": _link_label(message), "href": link}])
    else:
        rows.append([{"tag": "text", "text": "QLoop"}])
    # One language slot: the text is already in the message's language.
    payload: dict[str, Any] = {
        "msg_type": "post",
        "content": {"post": {"zh_cn": {"title": _title(message), "content": rows}}},
    }
    if secret:
        timestamp = int(time.time())
        payload = {
            "timestamp": str(timestamp),
            "sign": feishu_signature(secret, timestamp),
            **payload,
        }
    answer = _post(url, _json_bytes(payload))
    # Today's answers carry "code"; older ones only "StatusCode".
    return _robot_verdict(answer, ("code", "StatusCode"), _FEISHU_PERMANENT)


def webhook_payload(message: Message) -> dict[str, Any]:
    """The JSON a webhook receives (docs/messages.md)."""
    return {
        "id": str(message.uid),
        "kind": message.kind,
        "subject": message.subject,
        "text": message.body,
        "link": absolute_link(message),
        "case": message.case.number if message.case_id and message.case else None,
        "urgent": message.urgent,
        "language": message.language,
        "data": message.data,
        "created_at": message.created_at.isoformat(),
    }


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of "timestamp.body", keyed with the secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _send_webhook(message: Message, url: str, secret: str) -> str:
    body = _json_bytes(webhook_payload(message))
    timestamp = str(int(time.time()))
    headers = {
        "X-QLoop-Delivery": str(message.uid),
        "X-QLoop-Timestamp": timestamp,
        "X-QLoop-Kind": message.kind,
    }
    if secret:
        headers["X-QLoop-Signature"] = webhook_signature(secret, timestamp, body)
    answer = _post(url, body, headers)
    _check_status(answer)
    return answer.summary()


_ROBOT_SENDERS: dict[str, Callable[[Message, str, str], str]] = {
    Channel.WECOM: _send_wecom,
    Channel.DINGTALK: _send_dingtalk,
    Channel.FEISHU: _send_feishu,
    Channel.WEBHOOK: _send_webhook,
}


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shorten_bytes(text: str, limit: int) -> str:
    """Cut to at most ``limit`` UTF-8 bytes, on a character boundary, marking the cut."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: max(limit - 3, 0)].decode("utf-8", "ignore") + "…"
