"""A browser talking to Django's WSGI handler as a gunicorn worker calls it (issue 14).

Django's test client, which ``profile_pages.py``, ``ab_pages.py`` and ``registration_parts.py``
use by default, is not the path a request takes through gunicorn: it posts forms as multipart,
skips the CSRF check, keeps the signals that close old connections off and builds its request
and response objects its own way. Through gunicorn, a registration is a urlencoded POST with
the session and CSRF cookies and the form's CSRF token, checked by ``CsrfViewMiddleware``, with
``request_started``/``request_finished`` sent and the answer read and closed. ``WsgiBrowser``
does exactly that in process, so the worker's path can be timed and profiled without gunicorn's
own work (accepting, parsing HTTP, writing the answer: about what ``/healthz`` costs). The
handler is ``qloop.wsgi.application``: importing it sets the process up as a web worker is
(its garbage collector's settings among them).
"""

from __future__ import annotations

import io
import re
import sys
import urllib.parse
from typing import Any


class WsgiBrowser:
    """One logged-in person's browser: session and CSRF cookies, the form's CSRF token."""

    def __init__(self, username: str) -> None:
        from django.conf import settings
        from django.test import Client

        from qloop.org.models import User
        from qloop.wsgi import application

        self.application = application
        client = Client()
        client.force_login(User.objects.get(username=username))
        self.cookie = (
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
        # The form page gives the CSRF cookie and the form's token, as a browser gets them.
        status, headers, page = self.call("GET", "/cases/new/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        csrf = [
            value.strip().split(";")[0].split("=", 1)[1]
            for name, value in headers
            if name == "Set-Cookie" and value.strip().startswith(f"{settings.CSRF_COOKIE_NAME}=")
        ]
        if not status.startswith("200") or token is None or not csrf:
            raise SystemExit(f"GET /cases/new/ gave {status} without a CSRF cookie and token")
        self.cookie += f"; {settings.CSRF_COOKIE_NAME}={csrf[0]}"
        self.csrf_token = token.group(1).decode()

    def call(
        self, method: str, path: str, body: bytes = b"", content_type: str = ""
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        """One request through the WSGI handler; its status line, headers and body."""
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": urllib.parse.unquote(path),
            "QUERY_STRING": query,
            "RAW_URI": path,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "REMOTE_PORT": "50000",
            "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_USER_AGENT": "wrk",
            "HTTP_COOKIE": self.cookie,
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)) if body else "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        answer: list[Any] = []

        def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            answer[:] = [status, headers]
            return lambda data: None

        result = self.application(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            result.close()  # request_finished, as gunicorn closes every answer
        return answer[0], answer[1], content

    def encode_form(self, fields: dict[str, str]) -> bytes:
        """The form urlencoded with the CSRF token, as a browser (and ``pages_wrk.py``) sends it;
        done before a timed request, being the browser's work."""
        return urllib.parse.urlencode({"csrfmiddlewaretoken": self.csrf_token, **fields}).encode()

    def post(self, path: str, body: bytes) -> str:
        """POST an encoded form; the status line."""
        return self.call("POST", path, body, "application/x-www-form-urlencoded")[0]
