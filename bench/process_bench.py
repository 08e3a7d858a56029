"""Benchmarks of the complaint process (issue: the complaint loop).

1. Transitions per second: complaints taken through the whole "not our product" path
   (assign, forward to Quality, dispose with an e-signature, close) through the same action
   the web pages and the API call.
2. The deadline sweep over N open clocks, of which some are past due (breaches and the first
   escalation step) and some have a reminder due: the periodic job's cost, with the bell
   notifications and outbox messages it writes.
3. The breach statement alone on that set-up, with and without marking the cases breached
   (``Case.deadline_state``), each run rolled back.

    .venv/bin/python bench/process_bench.py transitions --cases 200 [--database-url …]
    .venv/bin/python bench/process_bench.py sweep --clocks 1000000 --due 10000 --alerts 10000 \
        [--database-url …]

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


# Every clock gets a schedule as ``qloop.process.schedule.build`` writes one for a 48-hour clock
# with reminders at 50 % and 1 h before due, and a two-step ladder (at due, 24 h after). Three
# groups, by row number: ``due`` clocks past due (their two reminders done: the sweep breaches
# them and fires ladder step 1), ``alerts`` clocks with their first reminder due now, and the rest
# started an hour ago (nothing due for 23 hours). Even rows are answer clocks (ladder "handler,
# role:cs_head" then "role:general_manager"), odd rows investigation clocks ("role:quality_head"
# then "role:general_manager"). Times and schedules come from Python as parameters.
def _by_group(g: str, what: str) -> str:
    """A CASE over the row number ``g`` choosing the parameter ``<group>_<what>``."""
    return (
        f"CASE WHEN {g} <= %(due)s THEN %(due_{what})s "
        f"WHEN {g} <= %(due)s + %(alerts)s THEN %(alert_{what})s ELSE %(rest_{what})s END"
    )


def _by_group_and_clock(g: str) -> str:
    return (
        f"CASE WHEN {g} <= %(due)s THEN "
        f"CASE WHEN {g} %% 2 = 0 THEN %(due_ca)s ELSE %(due_inv)s END "
        f"WHEN {g} <= %(due)s + %(alerts)s THEN "
        f"CASE WHEN {g} %% 2 = 0 THEN %(alert_ca)s ELSE %(alert_inv)s END "
        f"ELSE CASE WHEN {g} %% 2 = 0 THEN %(rest_ca)s ELSE %(rest_inv)s END END"
    )


# The row number of a bench case, from its number SW-2026-0000001.
_G_PG = "substr(c.number, 9)::int"
_G_SQLITE = "CAST(substr(c.number, 9) AS INTEGER)"

_PG_SETUP = f"""
INSERT INTO cases_case (number, kind, profile, title, received_at, channel, severity,
    department_id, state, process_version, extra, created_at, updated_at, search_text,
    search_tokens, archive_reason, next_due_at, deadline_state, handler_id)
SELECT 'SW-2026-' || lpad(g::text, 7, '0'), 'complaint', 'manufacturer', '基准测试', now(),
    'phone', 'minor', %(dept)s, 'investigating', 1, '{{}}'::jsonb, now(), now(), '', '', '',
    {_by_group("g", "due")}, 'running',
    (%(handlers)s::bigint[])[1 + g %% cardinality(%(handlers)s::bigint[])]
FROM generate_series(1, %(n)s) g;
INSERT INTO process_clock (case_id, name, state, started_at, due_at, unit, schedule,
    alerts_done, next_alert_at)
SELECT c.id, CASE WHEN {_G_PG} %% 2 = 0 THEN 'customer_answer' ELSE 'investigation' END,
    'running', {_by_group(_G_PG, "start")}, {_by_group(_G_PG, "due")}, 'hours',
    ({_by_group_and_clock(_G_PG)})::jsonb,
    CASE WHEN {_G_PG} <= %(due)s THEN 2 ELSE 0 END, {_by_group(_G_PG, "next")}
FROM cases_case c WHERE c.number LIKE 'SW-%%';
ANALYZE process_clock; ANALYZE cases_case;
"""

_SQLITE_SETUP = [
    f"""
    WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < %(n)s)
    INSERT INTO cases_case (number, kind, profile, title, received_at, channel, severity,
        department_id, state, process_version, extra, created_at, updated_at, search_text,
        search_tokens, archive_reason, next_due_at, deadline_state, handler_id)
    SELECT 'SW-2026-' || printf('%%07d', i), 'complaint', 'manufacturer', '基准测试',
        datetime('now'), 'phone', 'minor', %(dept)s, 'investigating', 1, '{{}}',
        datetime('now'), datetime('now'), '', '', '', {_by_group("i", "due")}, 'running',
        json_extract(%(handlers_json)s, '$[' || (i %% %(handler_count)s) || ']')
    FROM g
    """,
    f"""
    INSERT INTO process_clock (case_id, name, state, started_at, due_at, unit, schedule,
        alerts_done, next_alert_at)
    SELECT c.id,
        CASE WHEN {_G_SQLITE} %% 2 = 0 THEN 'customer_answer' ELSE 'investigation' END,
        'running', {_by_group(_G_SQLITE, "start")}, {_by_group(_G_SQLITE, "due")}, 'hours',
        {_by_group_and_clock(_G_SQLITE)},
        CASE WHEN {_G_SQLITE} <= %(due)s THEN 2 ELSE 0 END, {_by_group(_G_SQLITE, "next")}
    FROM cases_case c WHERE c.number LIKE 'SW-%%'
    """,
    "ANALYZE",
]

# --rearm: put the past-due and reminder groups back as the set-up left them (times from now),
# and forget what earlier sweeps wrote, so that the sweep can be timed again on the same rows.
_REARM = [
    "DELETE FROM notify_deliveryattempt",
    "DELETE FROM notify_message",
    "DELETE FROM notify_notification",
    "DELETE FROM cases_event WHERE verb IN ('clock_breached', 'clock_escalated')",
    """
    UPDATE process_clock SET state = 'running', breached_at = NULL, stopped_at = NULL,
        started_at = {start}, due_at = {due}, schedule = {schedule},
        alerts_done = CASE WHEN {g} <= %(due)s THEN 2 ELSE 0 END, next_alert_at = {next}
    FROM cases_case c
    WHERE c.id = process_clock.case_id AND c.number LIKE 'SW-%%'
        AND c.number <= 'SW-2026-' || {last}
    """,
    """
    UPDATE cases_case SET next_due_at = {due_c}, deadline_state = 'running'
    WHERE number LIKE 'SW-%%' AND number <= 'SW-2026-' || {last}
    """,
]


def _rearm_statements(vendor: str) -> list[str]:
    g = _G_PG if vendor == "postgresql" else _G_SQLITE
    g_case = g.replace("c.number", "number")
    last = (
        "lpad((%(due)s + %(alerts)s)::text, 7, '0')"
        if vendor == "postgresql"
        else "printf('%%07d', %(due)s + %(alerts)s)"
    )
    schedule = _by_group_and_clock(g)
    if vendor == "postgresql":
        schedule = f"({schedule})::jsonb"
    fields = {
        "g": g,
        "start": _by_group(g, "start"),
        "due": _by_group(g, "due"),
        "schedule": schedule,
        "next": _by_group(g, "next"),
        "due_c": _by_group(g_case, "due"),
        "last": last,
    }
    return [sql.format(**fields) for sql in _REARM]


_LADDERS = {
    "ca": ("handler, role:cs_head", "role:general_manager"),
    "inv": ("role:quality_head", "role:general_manager"),
}


def _schedule(start: Any, due: Any, ladder: tuple[str, str]) -> list[dict[str, Any]]:
    """What ``schedule.build`` makes of a 48-hour clock, "50%, 1h" and the ladder."""
    import datetime as dt

    hour = dt.timedelta(hours=1)
    entries = [
        (start + 24 * hour, "reminder", 0, ""),
        (due - hour, "reminder", 0, ""),
        (due, "escalation", 1, ladder[0]),
        (due + 24 * hour, "escalation", 2, ladder[1]),
    ]
    return [{"at": at.isoformat(), "type": t, "level": lv, "to": to} for at, t, lv, to in entries]


def _setup_params(args: argparse.Namespace, dept: int, handlers: list[int]) -> dict[str, Any]:
    import datetime as dt
    import json

    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    hour = dt.timedelta(hours=1)
    # (start, due, alerts already done) per group
    groups = {
        "due": (now - 49 * hour, now - dt.timedelta(minutes=1), 2),
        "alert": (now - 25 * hour, now + 23 * hour, 0),
        "rest": (now - hour, now + 47 * hour, 0),
    }
    sqlite = connection.vendor == "sqlite"

    def when(value: dt.datetime) -> Any:
        # SQLite stores Django's text form; quote it for the %-formatted statements.
        if sqlite:
            return "'" + value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "'"
        return value

    params: dict[str, Any] = {
        "n": args.clocks,
        "due": args.due,
        "alerts": args.alerts,
        "dept": dept,
        "handlers": handlers,
        "handlers_json": "'" + json.dumps(handlers) + "'",
        "handler_count": len(handlers),
    }
    for group, (start, due, done) in groups.items():
        params[f"{group}_start"] = when(start)
        params[f"{group}_due"] = when(due)
        for key, ladder in _LADDERS.items():
            text = json.dumps(_schedule(start, due, ladder))
            params[f"{group}_{key}"] = "'" + text + "'" if sqlite else text
        sched = _schedule(start, due, _LADDERS["ca"])
        nxt = dt.datetime.fromisoformat(sched[done]["at"])
        params[f"{group}_next"] = when(nxt)
    return params


def _bench_people(robots: int) -> list[int]:
    """Ten handlers in CS (so reminders go to a person, not the department's heads), every
    ladder role filled, and ``robots`` webhook robots on CS and QA (never called here)."""
    from qloop.notify.models import Robot
    from qloop.org.models import Department, Membership, Role, User

    cs = Department.objects.get(code="CS")
    clerk = Role.objects.get(code="cs_clerk")
    handlers = []
    for i in range(1, 11):
        user, _ = User.objects.get_or_create(
            username=f"bench_h{i:02d}",
            defaults={"display_name": f"基准处理人{i:02d}", "email": f"bench_h{i:02d}@example.com"},
        )
        Membership.objects.get_or_create(user=user, department=cs, role=clerk)
        handlers.append(user.pk)
    for role in ("cs_head", "quality_head", "general_manager"):
        if not User.objects.filter(memberships__role__code=role, is_active=True).exists():
            raise SystemExit(f"No active member holds the role {role}: the ladder would be empty.")
    if robots and not Robot.objects.filter(name__startswith="bench ").exists():
        for code in ("CS", "QA")[:robots]:
            Robot.objects.create(
                name=f"bench {code}",
                channel="webhook",
                url="http://127.0.0.1:9/never-called",
                department=Department.objects.get(code=code),
            )
    return handlers


def _outbox_counts() -> dict[str, int]:
    from django.db.models import Count

    from qloop.notify.models import Message, Notification

    counts = {"notifications": Notification.objects.count()}
    for row in Message.objects.values("channel").annotate(n=Count("id")):
        counts[f"messages_{row['channel']}"] = row["n"]
    return counts


def sweep(args: argparse.Namespace) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    _migrate_and_org()
    from qloop.org.models import Department
    from qloop.process import clocks
    from qloop.process.models import Clock

    dept = Department.objects.get(code="CS").pk
    handlers = _bench_people(args.robots)
    params = _setup_params(args, dept, handlers)
    sqlite = connection.vendor == "sqlite"
    if not Clock.objects.filter(case__number__startswith="SW-").exists():
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            if sqlite:
                for sql in _SQLITE_SETUP:
                    cur.execute(sql % params if "%(" in sql else sql)
            else:
                cur.execute(_PG_SETUP, params)
        print(
            f"set-up: {args.clocks} cases and open clocks ({args.due} past due, {args.alerts} "
            f"with a reminder due) in {time.perf_counter() - t0:.1f} s"
        )
    elif args.rearm:
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            for sql in _rearm_statements(connection.vendor):
                if sqlite:
                    cur.execute(sql % params)
                else:
                    cur.execute(sql, params)
        print(f"re-armed {args.due} + {args.alerts} clocks in {time.perf_counter() - t0:.1f} s")
    running = Clock.objects.filter(state="running").count()
    due_alerts = Clock.objects.filter(next_alert_at__lte=timezone.now()).count()
    before = _outbox_counts()
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    t0 = time.perf_counter()
    report = clocks.sweep(timezone.now())
    first = time.perf_counter() - t0
    if profiler is not None:
        profiler.stop()
    t0 = time.perf_counter()
    again = clocks.sweep(timezone.now())
    second = time.perf_counter() - t0
    after = _outbox_counts()
    written = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    print(
        f"database={connection.vendor} open_clocks={running} alerts_due_before={due_alerts}\n"
        f"  sweep: breached={report.breached} reminders={report.reminders} "
        f"escalations={report.escalations} people={report.people} cases={len(report.cases)} "
        f"seconds={first:.3f}\n"
        f"  written: {' '.join(f'{k}={v}' for k, v in sorted(written.items()))}\n"
        f"  next sweep (nothing due): breached={again.breached} reminders={again.reminders} "
        f"escalations={again.escalations} seconds={second:.4f}"
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for sql in (
                "EXPLAIN SELECT id FROM process_clock WHERE state = 'running' AND due_at < now()",
                "EXPLAIN SELECT id FROM process_clock WHERE next_alert_at <= now() "
                "AND state IN ('running', 'breached') ORDER BY next_alert_at LIMIT 1000",
            ):
                cur.execute(sql)
                print("  plan:", " | ".join(r[0].strip() for r in cur.fetchall()))
    if profiler is not None:
        print(profiler.output_text(unicode=True, color=False, show_all=False))


def breaches(args: argparse.Namespace) -> None:
    """The breach statement alone on the ``sweep`` set-up (issue 12: a breach also marks its
    case, ``Case.deadline_state``): each run re-arms the past-due clocks, then times marking
    them inside a transaction that is rolled back, with and without the case update, in turn."""
    from django.db import connection, transaction
    from django.utils import timezone

    from qloop.process import clocks

    if connection.vendor != "postgresql":
        raise SystemExit("breaches: PostgreSQL only (SQLite marks breaches in Python batches)")
    from qloop.org.models import Department

    _migrate_and_org()
    params = _setup_params(args, Department.objects.get(code="CS").pk, _bench_people(args.robots))
    with_cases = clocks._BREACH_SQL
    start = with_cases.index("cases AS (")
    without_cases = with_cases[: start - 2] + with_cases[with_cases.index("\n)", start) + 2 :]
    timings: dict[str, list[float]] = {"with the case update": [], "without": []}
    with transaction.atomic(), connection.cursor() as cur:
        for sql in _rearm_statements(connection.vendor):
            cur.execute(sql, params)
    for _run in range(args.repeat):
        for name, sql in (("with the case update", with_cases), ("without", without_cases)):
            with transaction.atomic(), connection.cursor() as cur:
                t0 = time.perf_counter()
                cur.execute(sql, {"now": timezone.now()})
                marked = cur.fetchone()[0]
                timings[name].append(time.perf_counter() - t0)
                transaction.set_rollback(True)
    for name, seconds in timings.items():
        print(
            f"{name}: breached={marked} median={statistics.median(seconds):.3f} s "
            f"runs={' '.join(f'{s:.3f}' for s in seconds)}"
        )


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
    p_s.add_argument("--due", type=int, default=10_000, help="clocks past due")
    p_s.add_argument(
        "--alerts", type=int, default=10_000, help="more running clocks with a reminder due now"
    )
    p_s.add_argument(
        "--robots",
        type=int,
        default=1,
        choices=[0, 1, 2],
        help="webhook robots on CS (and QA) that copy their members' messages (default 1)",
    )
    p_s.add_argument("--profile", action="store_true", help="pyinstrument the first sweep")
    p_s.add_argument(
        "--rearm",
        action="store_true",
        help="on an existing set-up: make the --due and --alerts clocks due again (and delete "
        "the notifications, messages and clock events earlier sweeps wrote)",
    )
    p_b = sub.add_parser("breaches", help="time the breach statement alone (after `sweep`)")
    p_b.add_argument("--clocks", type=int, default=1_000_000)
    p_b.add_argument("--due", type=int, default=10_000)
    p_b.add_argument("--alerts", type=int, default=10_000)
    p_b.add_argument("--robots", type=int, default=1, choices=[0, 1, 2])
    p_b.add_argument("--repeat", type=int, default=5)
    for p in (p_t, p_s, p_b):
        add_common_arguments(p)
    args = parser.parse_args()
    setup_django(args.database_url, args.data_dir)
    {"transitions": transitions, "sweep": sweep, "breaches": breaches}[args.command](args)


if __name__ == "__main__":
    main()
