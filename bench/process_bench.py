"""Benchmarks of the complaint process (issue: the complaint loop).

1. Transitions per second: complaints taken through the whole "not our product" path
   (assign, forward to Quality, dispose with an e-signature, close) through the same action
   the web pages and the API call.
2. The breach sweep over N open clocks, of which some are past due: the periodic job's cost.

    .venv/bin/python bench/process_bench.py transitions --cases 200 [--database-url …]
    .venv/bin/python bench/process_bench.py sweep --clocks 1000000 --due 10000 [--database-url …]

The sweep set-up writes rows with SQL (generate_series on PostgreSQL, a recursive CTE on SQLite),
since registering a million complaints through the action would take hours.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_common_arguments, setup_django


def _migrate_and_org() -> dict[str, Any]:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from qloop.demo.loader import load_organisation

    return load_organisation()


def transitions(args: argparse.Namespace) -> None:
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    users = _migrate_and_org()
    from qloop.cases.actions import ContactData, ProductData, Registration, register_case
    from qloop.process.engine import take_transition

    # The e-signature re-checks the password with Django's slow-on-purpose hasher; report the
    # engine's own cost with a fast hasher too, so both numbers are visible.
    hasher = args.hasher
    if hasher == "md5":
        from django.contrib.auth import hashers

        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
        hashers.get_hashers.cache_clear()  # the hasher list is cached at first use
        hashers.get_hashers_by_algorithm.cache_clear()
    users["qa_head"].password = make_password(settings.QLOOP_DEMO_PASSWORD)
    users["qa_head"].save(update_fields=["password"])
    sig = {"password": settings.QLOOP_DEMO_PASSWORD, "meaning": "approved"}
    cases = [
        register_case(
            Registration(
                kind="complaint",
                channel="phone",
                contact=ContactData(name="王芳", phone=f"1380000{i:04d}"),
                product=ProductData(model="QL-CP50"),
                symptom="机械密封处漏水",
            ),
            actor=users["cs"],
        )
        for i in range(args.cases)
    ]
    steps = [
        ("assign", "cs_head", {"handler": "cs"}, None),
        ("forward_to_quality", "cs", {"analysis": "需调查", "departments": ["PROD"]}, None),
        ("dispose_not_ours", "qa_head", {"findings": "安装不当"}, sig),
        ("close", "cs", {"answer": "已说明", "answer_channel": "phone"}, None),
    ]
    per_step: dict[str, list[float]] = {name: [] for name, *_ in steps}
    start = time.perf_counter()
    for case in cases:
        for name, actor, data, signature in steps:
            t0 = time.perf_counter()
            case = take_transition(case, name, data, actor=users[actor], signature=signature)
            per_step[name].append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    total = len(cases) * len(steps)
    print(
        f"database={settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} "
        f"hasher={hasher} cases={len(cases)} transitions={total} "
        f"seconds={elapsed:.2f} transitions_per_second={total / elapsed:.1f}"
    )
    for name, times in per_step.items():
        times.sort()
        print(
            f"  {name:20s} median={statistics.median(times) * 1000:.1f} ms "
            f"p95={times[int(len(times) * 0.95) - 1] * 1000:.1f} ms"
        )


_PG_SETUP = """
INSERT INTO cases_case (number, kind, profile, title, received_at, channel, severity,
    department_id, state, process_version, extra, created_at, updated_at, search_text,
    search_tokens, archive_reason, next_due_at)
SELECT 'SW-2026-' || lpad(g::text, 7, '0'), 'complaint', 'manufacturer', '基准测试', now(),
    'phone', 'minor', %(dept)s, 'investigating', 1, '{}'::jsonb, now(), now(), '', '', '',
    now() + interval '1 day'
FROM generate_series(1, %(n)s) g;
INSERT INTO process_clock (case_id, name, state, started_at, due_at)
SELECT id, 'investigation', 'running', now() - interval '1 day',
    CASE WHEN row_number() OVER (ORDER BY id) <= %(due)s THEN now() - interval '1 minute'
         ELSE now() + interval '1 day' END
FROM cases_case WHERE number LIKE 'SW-%%';
ANALYZE process_clock; ANALYZE cases_case;
"""

_SQLITE_SETUP = [
    """
    WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < %(n)s)
    INSERT INTO cases_case (number, kind, profile, title, received_at, channel, severity,
        department_id, state, process_version, extra, created_at, updated_at, search_text,
        search_tokens, archive_reason, next_due_at)
    SELECT 'SW-2026-' || printf('%%07d', i), 'complaint', 'manufacturer', '基准测试',
        datetime('now'), 'phone', 'minor', %(dept)s, 'investigating', 1, '{}',
        datetime('now'), datetime('now'), '', '', '', datetime('now', '+1 day')
    FROM g
    """,
    """
    INSERT INTO process_clock (case_id, name, state, started_at, due_at)
    SELECT id, 'investigation', 'running', datetime('now', '-1 day'),
        CASE WHEN id - (SELECT min(id) FROM cases_case WHERE number LIKE 'SW-%%') < %(due)s
             THEN datetime('now', '-1 minute') ELSE datetime('now', '+1 day') END
    FROM cases_case WHERE number LIKE 'SW-%%'
    """,
    "ANALYZE",
]


def sweep(args: argparse.Namespace) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    _migrate_and_org()
    from qloop.org.models import Department
    from qloop.process.clocks import sweep_breaches
    from qloop.process.models import Clock

    dept = Department.objects.get(code="CS").pk
    if not Clock.objects.filter(case__number__startswith="SW-").exists():
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            params = {"n": args.clocks, "due": args.due, "dept": dept}
            if connection.vendor == "postgresql":
                cur.execute(_PG_SETUP, params)
            else:
                for sql in _SQLITE_SETUP:
                    cur.execute(sql % params if "%(" in sql else sql)
        print(f"set-up: {args.clocks} cases and open clocks in {time.perf_counter() - t0:.1f} s")
    running = Clock.objects.filter(state="running").count()
    t0 = time.perf_counter()
    breached = sweep_breaches(timezone.now())
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = sweep_breaches(timezone.now())
    second = time.perf_counter() - t0
    print(
        f"database={connection.vendor} open_clocks={running} breached={breached} "
        f"sweep_seconds={first:.3f}; next sweep (nothing due) breached={again} "
        f"seconds={second:.4f}"
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(
                "EXPLAIN SELECT id FROM process_clock WHERE state = 'running' AND due_at < now()"
            )
            print("  plan:", " | ".join(r[0].strip() for r in cur.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_t = sub.add_parser("transitions")
    p_t.add_argument("--cases", type=int, default=200)
    p_t.add_argument("--hasher", choices=["default", "md5"], default="default")
    p_s = sub.add_parser("sweep")
    p_s.add_argument("--clocks", type=int, default=1_000_000)
    p_s.add_argument("--due", type=int, default=10_000)
    for p in (p_t, p_s):
        add_common_arguments(p)
    args = parser.parse_args()
    setup_django(args.database_url, args.data_dir)
    {"transitions": transitions, "sweep": sweep}[args.command](args)


if __name__ == "__main__":
    main()
