#!/usr/bin/env python3
"""Where a page's time goes, on a generated register: CPU per request, the slowest queries and
a cProfile of real requests through Django's test client (issue 14).

    .venv/bin/python bench/profile_pages.py --data-dir /tmp/qloop-bench/sqlite-100k \\
        --page case_page --page my_work_qe --requests 10 [--profile]

Pages are the scenarios of ``scenarios.py`` (by name), any path as ``user:/path/``, or
``registration`` (cs posts the complaint form, as ``pages_wrk.py`` does). CPU time is
the process's (Python and SQLite alike), so a busy machine inflates it less than wall time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from typing import Any

from common import add_common_arguments, setup_django


def registration_form() -> dict[str, str]:
    """A valid complaint, received two hours ago."""
    import datetime as dt

    from django.utils import timezone

    return {
        "received_at": (timezone.localtime() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "channel": "phone",
        "contact_name": "李建国",
        "contact_gender": "male",
        "contact_phone": "13912345678",
        "contact_email": "ljg@example.cn",
        "contact_organisation": "无锡新区自来水公司",
        "product_specification": "65-200, 15kW",
        "product_model": "QL-CP65",
        "product_quantity": "3",
        "product_serial_number": "CP65-PROFILE",
        "symptom": "泵体异响，振动明显。",
        "current_status": "已停机。",
        "category": "1A",
        "severity": "major",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--page", action="append", default=[], help="scenario name or user:/path")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile")
    parser.add_argument(
        "--cpu-profile",
        action="store_true",
        help="profile with the process's CPU clock (no I/O waits), implies --profile",
    )
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--sort", default="cumulative", help="the profile's order: cumulative, tottime, ncalls…"
    )
    parser.add_argument("--save", help="also write the profile's statistics to this file (pstats)")
    parser.add_argument(
        "--all-queries", action="store_true", help="print every statement of one request"
    )
    args = parser.parse_args(argv)
    setup_django(args.database_url, args.data_dir)
    from django.db import connection
    from django.test import Client
    from scenarios import capture_queries, newest_case_number, scenarios

    from qloop.cases.models import Contact
    from qloop.org.models import User

    newest = Contact.objects.order_by("-id").values_list("phone", flat=True).first() or "1380000"
    known = {s.name: (s.user, s.path) for s in scenarios(newest[:7], newest_case_number())}
    known["registration"] = ("cs", "/cases/new/")
    print(f"database: {connection.vendor}; pages: {', '.join(args.page)}")
    for page in args.page:
        user, path = known[page] if page in known else page.split(":", 1)
        client = Client()
        client.force_login(User.objects.get(username=user))

        def request(path: str = path, page: str = page, client: Client = client) -> None:
            if page == "registration":
                response = client.post(path, registration_form())
                assert response.status_code == 302, path
                # A browser follows the redirect, whose page shows (and so drops) the message
                # "Registered as …"; without this the cookie grows with every request.
                client.cookies.pop("messages", None)
            else:
                assert client.get(path).status_code == 200, path

        for _ in range(2):
            request()
        with capture_queries() as queries:
            request()
        cpu: list[float] = []
        wall: list[float] = []
        profiler = None
        if args.cpu_profile:
            profiler = cProfile.Profile(time.process_time)
        elif args.profile:
            profiler = cProfile.Profile()
        for _ in range(args.requests):
            c0, t0 = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            request()
            if profiler:
                profiler.disable()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - t0)
        slow = sorted(queries, key=lambda q: -q[2])[:5]
        total_sql = sum(q[2] for q in queries) * 1000
        print(
            f"\n{page} ({user} {path}): cpu median {statistics.median(cpu) * 1000:.1f} ms, "
            f"wall median {statistics.median(wall) * 1000:.1f} ms, {len(queries)} queries "
            f"taking {total_sql:.1f} ms"
        )
        for sql, _params, seconds in slow:
            print(f"  {seconds * 1000:7.1f} ms  {' '.join(sql.split())[:220]}")
        if args.all_queries:
            print("  every statement, in order:")
            for number, (sql, _params, seconds) in enumerate(queries, 1):
                print(f"  {number:3d} {seconds * 1000:5.1f} ms  {' '.join(sql.split())[:160]}")
        if profiler:
            out = io.StringIO()
            stats: Any = pstats.Stats(profiler, stream=out)
            stats.sort_stats(args.sort).print_stats(args.top)
            if args.save:
                stats.dump_stats(args.save)
            print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
