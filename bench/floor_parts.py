#!/usr/bin/env python3
"""What every logged-in page pays before and after its own work (the "floor", issue 14): CPU per
call of its parts, measured in process on a generated register.

    .venv/bin/python bench/floor_parts.py --data-dir /tmp/qloop-bench/sqlite-100k \
        [--calls 1000] [--batches 7]

Prints the mean CPU time of: reading the session; the middleware's person with the roles a page
asks for; the same with the navigation badge (all of a page's cache reads before its own); the base layout rendered with its context processors and no content; the context
processors alone; and whole requests through Django's test client for ``/favicon.ico`` (the
middleware alone), ``/healthz`` and a simple page (``/processes/complaint/``). To compare with
another commit, put that commit's ``src`` first on ``PYTHONPATH`` and run this same file.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import sys
import time
from collections.abc import Callable
from importlib import import_module
from typing import Any

from common import add_common_arguments, setup_django


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument(
        "--batches", type=int, default=1, help="median of this many batches of --calls (load)"
    )
    parser.add_argument("--user", default="cs")
    args = parser.parse_args(argv)
    setup_django(args.database_url, args.data_dir)
    from django.conf import settings
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.template import engines
    from django.template.loader import get_template
    from django.test import Client, RequestFactory
    from django.urls import resolve
    from django.utils import translation

    from qloop.org.models import User

    def measure(label: str, call: Callable[[], Any], calls: int = args.calls) -> None:
        for _ in range(50):
            call()
        means = []
        for _ in range(args.batches):
            start = time.process_time()
            for _ in range(calls):
                call()
            means.append((time.process_time() - start) / calls * 1e6)
        print(f"  {label:52s} {statistics.median(means):8.0f} µs")

    user = User.objects.get(username=args.user)
    client = Client()
    client.force_login(user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    sessions = import_module(settings.SESSION_ENGINE)
    auth_path = next(m for m in settings.MIDDLEWARE if "Authentication" in m)
    auth_module = import_module(auth_path.rsplit(".", 1)[0])
    print(f"sessions: {settings.SESSION_ENGINE}; authentication: {auth_path}")

    def read_person() -> None:
        request = RequestFactory().get("/")
        request.session = sessions.SessionStore(key)  # type: ignore[attr-defined]
        assert auth_module.get_user(request).administers in (True, False)

    from qloop.org.models import Organisation
    from qloop.web.context_processors import kept_badge

    takes_ahead = len(inspect.signature(kept_badge).parameters) > 2  # read ahead (issue 14)

    def read_person_and_badge() -> None:
        request = RequestFactory().get("/")
        request.session = sessions.SessionStore(key)  # type: ignore[attr-defined]
        person = auth_module.get_user(request)
        ahead = getattr(request, "qloop_read_ahead", None)
        extra = [ahead] if takes_ahead and ahead is not None else []
        kept_badge(person, Organisation.current_profiles(), *extra)

    measure("session read", lambda: sessions.SessionStore(key).load())
    measure("session + person + roles (the middleware's)", read_person)
    measure("session + person + navigation badge (cache reads)", read_person_and_badge)
    translation.activate(settings.LANGUAGE_CODE)
    request = RequestFactory().get("/account/messages/")
    request.user = user
    request.resolver_match = resolve("/account/messages/")
    request.session = {}  # type: ignore[assignment]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    assert user.administers in (True, False)  # the roles read once, as a request would
    base = get_template("base.html")
    empty = engines["django"].from_string("x")
    measure("base.html with context processors, no content", lambda: base.render({}, request))
    measure("context processors only", lambda: empty.render({}, request))
    measure("whole request: /favicon.ico (middleware)", lambda: client.get("/favicon.ico"))
    measure("whole request: /healthz", lambda: client.get("/healthz"))
    measure(
        "whole request: /processes/complaint/",
        lambda: client.get("/processes/complaint/"),
        max(args.calls // 3, 1),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
