#!/usr/bin/env python3
"""Before and after on a loaded machine: two copies of the code, one request at a time each,
taking turns (issue 14).

    .venv/bin/python bench/ab_pages.py --data-dir /tmp/regfast-100k \\
        --before-src /tmp/main/src --page registration --page cs:/cases/new/ --rounds 200

Two child processes serve the same pages from the same register: one with ``--before-src``
first on ``PYTHONPATH`` (``git archive <commit> src | tar -x -C /tmp/main``), one with this
checkout's code. The parent asks each for one request in turn, ``--rounds`` times per page, so
both see the same machine from moment to moment; a run of one after a run of the other on a
shared machine differs by more than the change being measured. Reported per page: the median
CPU time of a request (``process_time``: Python and SQLite alike) and wall time, with the load
average before and after. Pages are those of ``profile_pages.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import add_common_arguments

HERE = Path(__file__).resolve().parent


def serve(args: argparse.Namespace) -> int:
    """The child: one request per line read, its CPU and wall seconds written back."""
    from common import setup_django

    setup_django(args.database_url, args.data_dir)
    if args.as_served:
        import qloop.wsgi  # noqa: F401 - what a web process sets up at start (its collector)
    from django.test import Client
    from profile_pages import registration_form

    from qloop.org.models import User

    clients: dict[str, tuple[Client, str]] = {}
    for page in args.page:
        user, path = (
            ("cs", "/cases/new/") if page.startswith("registration") else page.split(":", 1)
        )
        client = Client()
        client.force_login(User.objects.get(username=user))
        clients[page] = (client, path)
    browser = None
    if "registration_wsgi" in args.page:
        from wsgi_browser import WsgiBrowser

        browser = WsgiBrowser("cs")
    counter = iter(range(10**9))
    spent: list[tuple[float, float]] = []

    def request(page: str) -> None:
        client, path = clients[page]
        if page == "registration":
            assert client.post(path, registration_form()).status_code == 302
            client.cookies.pop("messages", None)  # as profile_pages.py
        elif page == "registration_wsgi":
            assert browser is not None
            form = registration_form() | {"product_serial_number": f"CP65-{next(counter)}"}
            body = browser.encode_form(form)
            c0, t0 = time.process_time(), time.perf_counter()
            assert browser.post(path, body).startswith("302")
            # The form's encoding is the browser's work: only the server's is counted.
            spent.append((time.process_time() - c0, time.perf_counter() - t0))
        else:
            assert client.get(path).status_code == 200

    for page in args.page:  # warm: reference data, templates, statements
        for _ in range(3):
            request(page)
    print("ready", flush=True)
    for line in sys.stdin:
        page = line.strip()
        spent.clear()
        c0, t0 = time.process_time(), time.perf_counter()
        request(page)
        measured = spent[0] if spent else (time.process_time() - c0, time.perf_counter() - t0)
        print(json.dumps(list(measured)), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        help="registration (the test client's multipart POST), registration_wsgi (the POST a "
        "gunicorn worker is given: urlencoded, CSRF checked; wsgi_browser.py) or user:/path",
    )
    parser.add_argument("--before-src", help="the old code's src folder (PYTHONPATH first)")
    parser.add_argument(
        "--before-data-dir",
        help="a copy of --data-dir for the old code (default: the same folder). With one "
        "folder both share the database and the cache, so each one's writes move the other's "
        "kept figures; a change to how those are kept needs two copies, as two deployments",
    )
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument(
        "--as-served",
        action="store_true",
        help="each side imports its qloop.wsgi first, as gunicorn does (its garbage collector "
        "settings); without it both run with Python's defaults",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args)
    if not args.before_src:
        parser.error("--before-src is required")
    children = {}
    for label, src in (("before", args.before_src), ("after", "")):
        data_dir = (args.before_data_dir if label == "before" else None) or args.data_dir
        command = [sys.executable, str(HERE / "ab_pages.py"), "--serve", "--data-dir", data_dir]
        if args.database_url:
            command += ["--database-url", args.database_url]
        for page in args.page:
            command += ["--page", page]
        if args.as_served:
            command.append("--as-served")
        env = dict(os.environ)
        if src:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH", "")]))
        child = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        assert child.stdout is not None
        while (line := child.stdout.readline()).strip() != "ready":
            if not line:  # the child ended before it was ready (its error is on stderr)
                raise SystemExit(f"the {label} side exited with code {child.wait()}")
        children[label] = child
    print(f"load average before: {os.getloadavg()}")
    results: dict[tuple[str, str], list[list[float]]] = {}
    for page in args.page:
        for round_ in range(args.rounds):
            order = ("before", "after") if round_ % 2 == 0 else ("after", "before")
            for label in order:
                child = children[label]
                assert child.stdin is not None and child.stdout is not None
                child.stdin.write(page + "\n")
                child.stdin.flush()
                results.setdefault((page, label), []).append(json.loads(child.stdout.readline()))
    print(f"load average after: {os.getloadavg()}")
    for child in children.values():
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
    for page in args.page:
        line = [f"{page}:"]
        cpus = {}
        for label in ("before", "after"):
            samples = results[(page, label)]
            cpus[label] = statistics.median(s[0] for s in samples) * 1000
            wall = statistics.median(s[1] for s in samples) * 1000
            line.append(f"{label} cpu {cpus[label]:.2f} ms, wall {wall:.2f} ms;")
        line.append(f"after/before cpu {cpus['after'] / cpus['before']:.2f}")
        print(" ".join(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
