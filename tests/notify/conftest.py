"""Real receivers on loopback for the message channels: an SMTP server and an HTTP server.

``smtp_server`` is aiosmtpd: it speaks real SMTP (EHLO, AUTH, MAIL, RCPT, DATA) and keeps what
it received as ``email.message.EmailMessage`` objects. ``http_receiver`` is ``http.server`` in
a thread: it records every request and answers as a test tells it to (an error, a delay longer
than the client waits, or a function that plays a service). Both are for any test of message
delivery, the outbox's too.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# SMTP --------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """What the SMTP server saw of one message besides the message itself."""

    mail_from: str
    rcpt_tos: list[str]
    login: str | None  # the AUTH user name, None without AUTH
    peer: Any  # (address, port) of the client connection


class SMTPServer:
    """An aiosmtpd server on 127.0.0.1 that keeps every message it accepts.

    ``users`` (name → password) are accepted by AUTH PLAIN/LOGIN over plain text, as a local
    test allows; once any user is set, MAIL FROM without AUTH is refused with 530.
    ``refuse(reply)`` makes the next DATA answer ``reply`` ("451 4.3.0 …", "550 5.1.1 …").
    """

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.deliveries: list[Delivery] = []
        self.users: dict[str, str] = {}
        self._refusals: list[str] = []
        self._lock = threading.Lock()
        self._controller = Controller(
            self,
            hostname=self.host,
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,
            auth_required=False,
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def refuse(self, reply: str, times: int = 1) -> None:
        self._refusals.extend([reply] * times)

    def email_settings(self, user: str = "", password: str = "") -> dict[str, Any]:
        """Settings for ``override_settings`` that send through this server."""
        return {
            "EMAIL_BACKEND": "qloop.notify.channels.SMTPBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": user,
            "EMAIL_HOST_PASSWORD": password,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_TIMEOUT": 5,
        }

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """The messages once there are ``count`` of them (a worker sends in its own time)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)

    # aiosmtpd's hooks.

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            name, password = data.login.decode(), data.password.decode()
            if name in self.users and self.users[name] == password:
                return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.users and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            if self._refusals:
                return self._refusals.pop(0)
            raw = envelope.original_content or envelope.content or b""
            assert isinstance(raw, bytes)
            message = BytesParser(policy=policy.default).parsebytes(raw)
            assert isinstance(message, EmailMessage)
            login = session.auth_data.login.decode() if session.authenticated else None
            self.deliveries.append(
                Delivery(str(envelope.mail_from), list(envelope.rcpt_tos), login, session.peer)
            )
            self.messages.append(message)
            return f"250 2.0.0 Ok: queued as QL{len(self.messages):04d}"


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    # aiosmtpd logs every command at INFO, which the settings' root logger would print.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    server = SMTPServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


# HTTP --------------------------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    method: str
    path: str  # without the query
    query: dict[str, str]  # decoded; the last value of a repeated name
    headers: HTTPMessage  # case-insensitive: headers["x-qloop-signature"]
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Answer:
    """What the receiver answers; ``delay`` holds the answer back (a hanging server)."""

    status: int = 200
    body: Any = field(
        # Success for every robot at once: WeCom and DingTalk read errcode, Feishu code.
        default_factory=lambda: {"errcode": 0, "errmsg": "ok", "code": 0, "msg": "success"}
    )
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, ensure_ascii=False).encode()


class HTTPReceiver:
    """An HTTP server on 127.0.0.1 that records requests and answers as told.

    Order of answers: scripted ones first (``answer``, ``fail``, ``hang``, each for the next
    ``times`` requests), then a route's function for the request's path, then ``Answer()``.
    """

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.routes: dict[str, Callable[[ReceivedRequest], Answer]] = {}
        self._script: list[Answer] = []
        self._lock = threading.Lock()
        self._released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                receiver._handle(self)

            do_GET = do_PUT = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet test output

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up on a hanging answer is expected

        self._server = Server(("127.0.0.1", 0), Handler)
        self.host = "127.0.0.1"
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def answer(self, answer: Answer | None = None, *, times: int = 1, **fields: Any) -> None:
        """Answer the next ``times`` requests so: ``answer(status=503, body="busy")``."""
        self._script.extend([answer or Answer(**fields)] * times)

    def fail(self, status: int = 503, *, times: int = 1, body: Any = "") -> None:
        self.answer(status=status, body=body or f"error {status}", times=times)

    def hang(self, *, times: int = 1, seconds: float = 30.0) -> None:
        """Keep the next requests waiting (until the test ends), as a stuck receiver does."""
        self.answer(delay=seconds, times=times)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.requests)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        request = ReceivedRequest(
            method=handler.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=handler.headers,
            body=body,
        )
        with self._lock:
            self.requests.append(request)
            scripted = self._script.pop(0) if self._script else None
        route = self.routes.get(parts.path)
        answer = scripted or (route(request) if route else Answer())
        if answer.delay:
            self._released.wait(answer.delay)
        data = answer.encoded()
        handler.send_response(answer.status)
        headers = {"Content-Type": "application/json; charset=utf-8", **answer.headers}
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


@pytest.fixture
def http_receiver() -> Iterator[HTTPReceiver]:
    receiver = HTTPReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
