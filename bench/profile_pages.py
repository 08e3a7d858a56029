#!/usr/bin/env python3
"""Where a page's time goes, on a generated register: CPU per request, the slowest queries and
a cProfile of real requests through Django's test client (issue 14).

    .venv/bin/python bench/profile_pages.py --data-dir /tmp/qloop-bench/sqlite-100k \\
        --page case_page --page my_work_qe --requests 10 [--profile]

Pages are the scenarios of ``scenarios.py`` (by name), any path as ``user:/path/``,
``registration`` (cs posts the complaint form, as ``pages_wrk.py`` does) or ``case_random``
(cs opens ``--random-cases`` case pages picked at random over the whole register, one after
the other, as the peer's ticket page is loaded). CPU time is the process's (Python and SQLite
alike), so a busy machine inflates it less than wall time; on PostgreSQL the server's time is
in the wall time and the SQL time, not the CPU.

``--after-write`` measures the first page after a write: before every request (warm-up ones
too) another client registers a complaint, untimed, so the kept counts (``qloop.freshness``:
the badge, the register's count, My work's ids) are made afresh by the measured request.
"""

from __future__ import annotations

import argparse
import cProfile
import statistics
import sys
import time
from typing import Any

from common import add_common_arguments, print_profile, setup_django


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


def random_case_paths(count: int, seed: int) -> list[str]:
    """The pages of ``count`` cases picked at random over the register's ids (so over its
    years), in a fixed order for ``seed``."""
    import random

    from django.db.models import Max, Min

    from qloop.cases.models import Case

    bounds = Case.objects.aggregate(low=Min("id"), high=Max("id"))
    rng = random.Random(seed)
    numbers: list[str] = []
    while len(numbers) < count:
        wanted = rng.randint(bounds["low"], bounds["high"])
        number = Case.objects.filter(id__gte=wanted).order_by("id").values_list("number", flat=True)
        found = number.first()
        if found and found not in numbers:
            numbers.append(found)
    return [f"/cases/{number}/" for number in numbers]


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
    parser.add_argument(
        "--after-write",
        action="store_true",
        help="register a complaint (untimed) before every request: the first page after a write",
    )
    parser.add_argument(
        "--random-cases", type=int, default=20, help="how many cases case_random goes through"
    )
    parser.add_argument("--seed", type=int, default=14, help="for case_random's choice")
    parser.add_argument(
        "--close-connections",
        action="store_true",
        help="close the database connection after every request, as a WSGI server does when "
        "CONN_MAX_AGE is 0 (Django's test client keeps it open)",
    )
    parser.add_argument(
        "--explain",
        type=int,
        default=0,
        metavar="N",
        help="print EXPLAIN (ANALYZE, BUFFERS) of the N slowest statements of one request",
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
    known["case_random"] = ("cs", "")
    randoms = random_case_paths(args.random_cases, args.seed) if "case_random" in args.page else []
    if randoms:
        print("case_random goes through: " + " ".join(p.split("/")[2] for p in randoms))
    writer = Client()
    writer.force_login(User.objects.get(username="cs"))

    def write() -> None:
        response = writer.post("/cases/new/", registration_form())
        assert response.status_code == 302, "registration"
        writer.cookies.pop("messages", None)

    backend: list[int] = []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend.append(cursor.fetchone()[0])

    def server_cpu() -> float:
        """The PostgreSQL backend's CPU time so far (the server runs on this machine), from
        the scheduler's nanosecond count; 0 on SQLite, whose work is in the process's CPU."""
        if not backend:
            return 0.0
        with open(f"/proc/{backend[0]}/schedstat") as stat:
            return int(stat.read().split()[0]) / 1e9

    after = " after a write" if args.after_write else ""
    print(f"database: {connection.vendor}; pages: {', '.join(args.page)}{after}")
    for page in args.page:
        user, path = known[page] if page in known else page.split(":", 1)
        client = Client()
        client.force_login(User.objects.get(username=user))
        turn = iter(range(10**9))

        def request(
            path: str = path, page: str = page, client: Client = client, turn: Any = turn
        ) -> None:
            if page == "case_random":
                path = randoms[next(turn) % len(randoms)]
            if page == "registration":
                response = client.post(path, registration_form())
                assert response.status_code == 302, path
                # A browser follows the redirect, whose page shows (and so drops) the message
                # "Registered as …"; without this the cookie grows with every request.
                client.cookies.pop("messages", None)
            else:
                assert client.get(path).status_code == 200, path
            if args.close_connections:
                connection.close()

        for _ in range(2):
            if args.after_write:
                write()
            request()
        if args.after_write:
            write()
        with capture_queries() as queries:
            request()
        cpu: list[float] = []
        wall: list[float] = []
        sql: list[float] = []
        server: list[float] = []
        profiler = None
        if args.cpu_profile:
            profiler = cProfile.Profile(time.process_time)
        elif args.profile:
            profiler = cProfile.Profile()
        for _ in range(args.requests):
            if args.after_write:
                write()
            with capture_queries() as timed:
                s0 = server_cpu()
                c0, t0 = time.process_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                request()
                if profiler:
                    profiler.disable()
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - t0)
                server.append(server_cpu() - s0)
            sql.append(sum(q[2] for q in timed))
        slow = sorted(queries, key=lambda q: -q[2])[:5]
        total_sql = sum(q[2] for q in queries) * 1000
        print(
            f"\n{page}{after} ({user} {path or 'random cases'}): "
            f"cpu median {statistics.median(cpu) * 1000:.1f} ms, "
            f"wall median {statistics.median(wall) * 1000:.1f} ms, "
            f"SQL median {statistics.median(sql) * 1000:.1f} ms, "
            f"server CPU median {statistics.median(server) * 1000:.1f} ms, "
            f"cpu+server median {statistics.median(map(sum, zip(cpu, server, strict=True))) * 1000:.1f} ms; "
            "one request: "
            f"{len(queries)} queries taking {total_sql:.1f} ms"
        )
        for sql, _params, seconds in slow:
            print(f"  {seconds * 1000:7.1f} ms  {' '.join(sql.split())[:220]}")
        for sql_text, params, _seconds in slow[: args.explain]:
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else ""
            with connection.cursor() as cursor:
                cursor.execute((prefix or "EXPLAIN QUERY PLAN ") + sql_text, params)
                plan = "\n    ".join(str(row[-1]) for row in cursor.fetchall())
            print(f"  plan of: {' '.join(sql_text.split())[:400]}\n    {plan}")
        if args.all_queries:
            print("  every statement, in order:")
            for number, (sql, _params, seconds) in enumerate(queries, 1):
                print(f"  {number:3d} {seconds * 1000:5.1f} ms  {' '.join(sql.split())[:160]}")
        if profiler:
            print_profile(profiler, args.sort, args.top, args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
