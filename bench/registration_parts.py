#!/usr/bin/env python3
"""Where a registration's CPU goes, part by part, without a profiler's overhead (issue 14).

    [PYTHONPATH=/tmp/old/src] .venv/bin/python bench/registration_parts.py \\
        --data-dir /tmp/regfast2-100k --requests 300 [--wsgi]

Wraps the functions a registration passes through (the view, the action and its steps, the
middleware's parts, the file cache) in timers of the process's CPU clock, posts the bench's
complaint ``--requests`` times as ``profile_pages.py`` does, and prints the median CPU per
request of each part. A part counts once however deeply it recurses; parts nest (the action
is inside the view), so they do not add up. A part the code does not have is left out, so
two versions can be compared.
"""

from __future__ import annotations

import argparse
import collections
import functools
import importlib
import statistics
import sys
import time
from typing import Any

from common import add_common_arguments, setup_django

PARTS = [
    ("django.test.client", "ClientHandler.__call__", "the request (Django's handler)"),
    ("django.core.handlers.wsgi", "WSGIHandler.__call__", "the request (WSGI handler)"),
    ("django.core.handlers.wsgi", "WSGIRequest.__init__", "request built"),
    ("django.core.handlers.base", "BaseHandler._get_response", "the view with its decorators"),
    ("django.contrib.sessions.middleware", "SessionMiddleware.process_request", "session loaded"),
    ("django.contrib.sessions.middleware", "SessionMiddleware.process_response", "session saved"),
    ("django.middleware.csrf", "CsrfViewMiddleware.process_view", "CSRF checked"),
    ("django.middleware.csrf", "CsrfViewMiddleware.process_response", "CSRF cookie"),
    ("csp.middleware", "CSPMiddleware.process_response", "CSP header"),
    ("django.contrib.messages.middleware", "MessageMiddleware.process_response", "messages stored"),
    ("qloop.web.middleware", "RequestLimitsMiddleware.refusal", "request limits checked"),
    ("django.http.request", "QueryDict.__init__", "form body parsed (urlencoded)"),
    ("axes.middleware", "AxesMiddleware.__call__", "axes and inward"),
    ("django.dispatch.dispatcher", "Signal.send", "signals sent (request started, finished)"),
    ("django.http.response", "HttpResponseBase.close", "answer closed (request_finished)"),
    ("qloop.web.views", "case_create", "the view"),
    ("qloop.cases.actions", "register_case", "register_case"),
    ("django.http.multipartparser", "MultiPartParser.parse", "form body parsed (multipart)"),
    ("qloop.org.kept_user", "kept_user", "the person (kept_user)"),
    ("django.core.handlers.base", "BaseHandler.resolve_request", "URL resolved"),
    ("qloop.web.forms", "RegistrationForm.__init__", "form set up"),
    ("django.forms.forms", "BaseForm.full_clean", "form cleaned"),
    ("qloop.org.refdata", "current_token", "reference-data token"),
    ("qloop.cases.actions", "_validate_registration", "registration checked"),
    ("qloop.cases.actions", "_find_or_create_contact", "contact found (or made)"),
    ("qloop.cases.actions", "next_number", "number"),
    ("qloop.process.clocks", "plan_clock", "clock planned"),
    ("qloop.cases.models", "Case.refresh_search", "search columns"),
    ("qloop.cases.search", "normalise", "· of which the text folded"),
    ("qloop.inserts", "insert", "rows inserted (5)"),
    ("qloop.cases.similar_index", "index_new_case", "similar-case text"),
    ("qloop.org.trail", "link", "event's hash chain"),
    ("django.db.backends.base.base", "BaseDatabaseWrapper.commit", "commit"),
    ("qloop.freshness", "_after_commit", "data version moved"),
    ("qloop.filecache", "FileCache._write_token", "· token written"),
    ("qloop.filecache", "FileCache._createdir", "· · folder made"),
    ("os", "pwrite", "· · os.pwrite"),
    ("qloop.cases.actions", "_after_commit", "worker's task queued"),
    ("django.core.cache.backends.filebased", "FileBasedCache.set", "file cache: entries written"),
    ("django.core.cache.backends.filebased", "file_move_safe", "· of which renamed"),
    ("django.core.cache.backends.filebased", "FileBasedCache.get_many", "file cache: read"),
    ("django.contrib.messages", "success", "message"),
    ("qloop.web.views", "redirect", "redirect"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--wsgi",
        action="store_true",
        help="post as a gunicorn worker is given the form (wsgi_browser.py: urlencoded, CSRF "
        "checked, request signals sent), not through the test client",
    )
    args = parser.parse_args(argv)
    setup_django(args.database_url, args.data_dir)
    from django.test import Client
    from profile_pages import registration_form

    from qloop.org.models import User

    spent: dict[str, float] = collections.defaultdict(float)
    inside: set[str] = set()

    def timed(function: Any, label: str) -> Any:
        @functools.wraps(function)
        def wrapper(*a: Any, **k: Any) -> Any:
            if label in inside:
                return function(*a, **k)
            inside.add(label)
            began = time.process_time()
            try:
                return function(*a, **k)
            finally:
                spent[label] += time.process_time() - began
                inside.discard(label)

        return wrapper

    for module_name, path, label in PARTS:
        owner: Any = importlib.import_module(module_name)
        *parents, name = path.split(".")
        try:
            for parent in parents:
                owner = getattr(owner, parent)
            setattr(owner, name, timed(getattr(owner, name), label))
        except AttributeError:
            continue
    # The view calls the action through its module.
    views: Any = importlib.import_module("qloop.web.views")
    views.actions.register_case = importlib.import_module("qloop.cases.actions").register_case

    client = Client()
    client.force_login(User.objects.get(username="cs"))
    browser = None
    if args.wsgi:
        from wsgi_browser import WsgiBrowser

        browser = WsgiBrowser("cs")

    def request() -> None:
        if browser is not None:
            body = browser.encode_form(registration_form())
            # The clock is the parts', so encoding the form here counts in none of them.
            assert browser.post("/cases/new/", body).startswith("302")
            return
        assert client.post("/cases/new/", registration_form()).status_code == 302
        client.cookies.pop("messages", None)  # as profile_pages.py

    for _ in range(5):
        request()
    per_part: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(args.requests):
        spent.clear()
        request()
        for label in {label for _m, _p, label in PARTS}:
            per_part[label].append(spent.get(label, 0.0))
    for _module, _path, label in PARTS:
        if label in per_part and any(per_part[label]):
            print(f"{label:34s} {statistics.median(per_part[label]) * 1000:6.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
