#!/usr/bin/env python3
"""Registration as a gunicorn worker runs it (``wsgi_browser.WsgiBrowser``), in process: its
CPU per request split into user and system time, alone or with another connection's commit
before each request, as the other gunicorn worker makes them (issue 14).

    .venv/bin/python bench/wsgi_registration.py --data-dir /tmp/regcpu-100k --requests 300 \\
        [--test-client] [--other-writes] [--pragma temp_store=MEMORY] \\
        [--cpu-profile --sort tottime --top 40]

``--test-client`` runs the same loop through Django's test client (multipart, no CSRF check), as
``profile_pages.py`` does; ``--pragma`` runs a PRAGMA on connecting, to try one out.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
import time
from typing import Any

from common import add_common_arguments, print_profile, setup_django


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--test-client", action="store_true")
    parser.add_argument(
        "--other-writes",
        action="store_true",
        help="before each request another connection commits a write (untimed), as the other "
        "gunicorn worker does",
    )
    parser.add_argument("--pragma", action="append", default=[], help="PRAGMA run on connecting")
    parser.add_argument("--cpu-profile", action="store_true")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--save", help="write the profile's statistics to this file (pstats)")
    args = parser.parse_args(argv)
    setup_django(args.database_url, args.data_dir)
    if args.pragma:
        from django.db.backends.signals import connection_created

        def pragmas(sender: Any, connection: Any, **kwargs: Any) -> None:
            with connection.cursor() as cursor:
                for pragma in args.pragma:
                    cursor.execute(f"PRAGMA {pragma}")

        connection_created.connect(pragmas)
    from django.conf import settings
    from django.test import Client
    from profile_pages import registration_form
    from wsgi_browser import WsgiBrowser

    from qloop.org.models import User

    browser = WsgiBrowser("cs")
    client = Client()
    client.force_login(User.objects.get(username="cs"))
    form = registration_form()
    encoded = browser.encode_form(form | {"product_serial_number": "CP65-BENCH-NNN"})
    counter = iter(range(10**9))

    def request() -> None:
        n = str(next(counter))
        if args.test_client:
            response = client.post("/cases/new/", form | {"product_serial_number": n})
            assert response.status_code == 302
            client.cookies.pop("messages", None)
        else:
            status = browser.post("/cases/new/", encoded.replace(b"NNN", n.encode()))
            assert status.startswith("302"), status

    other = None
    if args.other_writes:
        import sqlite3

        other = sqlite3.connect(settings.DATABASES["default"]["NAME"], isolation_level=None)

    def other_write() -> None:
        if other is not None:
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE org_referenceversion SET token = token")
            other.execute("COMMIT")

    for _ in range(5):
        request()
    profiler = cProfile.Profile(time.process_time) if args.cpu_profile else None
    cpu: list[float] = []
    spent = 0.0
    t0 = os.times()
    for _ in range(args.requests):
        other_write()
        o0 = time.process_time()
        c0 = time.process_time()
        if profiler:
            profiler.enable()
        request()
        if profiler:
            profiler.disable()
        cpu.append(time.process_time() - c0)
        spent += time.process_time() - o0
    t1 = os.times()
    # The other connection's writes run in this process: take their share out of the split.
    other_cpu = (t1.user - t0.user + t1.system - t0.system) - spent
    how = "test client (multipart, no CSRF check)" if args.test_client else "WSGI, as gunicorn"
    print(
        f"registration, {how}: cpu median {statistics.median(cpu) * 1000:.2f} ms; "
        f"mean user {(t1.user - t0.user) * 1000 / args.requests:.2f} ms, "
        f"system {(t1.system - t0.system) * 1000 / args.requests:.2f} ms"
        + (f" (other writes {other_cpu * 1000 / args.requests:.2f} ms)" if other else "")
    )
    if profiler:
        print_profile(profiler, args.sort, args.top, args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
