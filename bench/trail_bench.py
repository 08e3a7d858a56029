"""The tamper-evident trail (issue 9.17): what chaining costs per entry, and how long
``qloop verify-trail`` takes over millions of entries (and that its memory stays flat).

    # appending: chained case events, one transaction each, against a plain insert
    nice -n 10 .venv/bin/python bench/trail_bench.py append --entries 2000 \
        --database-url postgres://postgres@127.0.0.1:5432/qloop_trail_bench
    # verifying: N chained entries made by COPY, then `qloop manage verify_trail` timed
    nice -n 10 .venv/bin/python bench/trail_bench.py verify --entries 10000000 \
        --database-url postgres://postgres@127.0.0.1:5432/qloop_trail_bench

The PostgreSQL database is dropped and made afresh by the script (it refuses any name that
does not end in ``_bench``). Each run prints lines for bench/RESULTS-trail.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_common_arguments, setup_django

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def fresh_database(url: str) -> None:
    name = url.rsplit("/", 1)[-1]
    if not re.fullmatch(r"[a-z0-9_]+_bench", name):
        raise SystemExit("The database name must end in _bench (it is dropped and made afresh).")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")


def prepare(args: argparse.Namespace) -> Any:
    """A migrated database with the demo organisation and one case to hang entries on."""
    if args.database_url:
        fresh_database(args.database_url)
    else:
        db = Path(args.data_dir) / "qloop.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    setup_django(args.database_url, args.data_dir)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from qloop.cases.actions import register_case
    from qloop.demo.loader import load_organisation

    users = load_organisation()
    from qloop.cases.actions import ContactData, ProductData, Registration

    case = register_case(
        Registration(
            kind="complaint",
            channel="phone",
            contact=ContactData(name="王芳", phone="13800138000"),
            product=ProductData(model="QL-CP50", quantity=1),
            symptom="机械密封处漏水。",
        ),
        actor=users["cs"],
        photos=[],
    )
    return case, users


def run_append(args: argparse.Namespace) -> None:
    case, users = prepare(args)
    from django.db import connection, connections, models, transaction

    from qloop.cases.models import Event

    def chained(n: int, label: str) -> float:
        start = time.perf_counter()
        for i in range(n):
            with transaction.atomic():
                Event.objects.create(
                    case_id=case.pk,
                    actor=users["cs"],
                    verb="comment",
                    comment=f"{label} {i}",
                    data={"transition": "record_handling", "inputs": {"handling": "已电话答复"}},
                )
        return (time.perf_counter() - start) / n

    def plain(n: int) -> float:
        """The same row through the ORM as before the chain (no head lock, no hash), with a
        seq far from the chain's; removed again afterwards."""
        start = time.perf_counter()
        for i in range(n):
            with transaction.atomic():
                row = Event(
                    case_id=case.pk,
                    actor=users["cs"],
                    verb="comment",
                    comment=f"plain {i}",
                    data={"transition": "record_handling", "inputs": {"handling": "已电话答复"}},
                    seq=10**12 + i,
                )
                models.Model.save(row)
        elapsed = (time.perf_counter() - start) / n
        with connection.cursor() as cur:
            cur.execute("DELETE FROM cases_event WHERE seq >= %s", [10**12])
        return elapsed

    chained(50, "warm-up")
    per_chained = chained(args.entries, "chained")
    per_plain = plain(args.entries)

    # Writers at once: the head row serialises them; how many entries a second all together.
    threads_n = args.threads
    done: list[int] = []

    def writer(k: int) -> None:
        try:
            for i in range(args.entries // threads_n):
                with transaction.atomic():
                    Event.objects.create(case_id=case.pk, verb="comment", comment=f"t{k} {i}")
            done.append(args.entries // threads_n)
        finally:
            connections.close_all()

    start = time.perf_counter()
    threads = [threading.Thread(target=writer, args=(k,)) for k in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    concurrent = sum(done) / (time.perf_counter() - start)
    from common import database_label

    ok = subprocess.run(
        [PYTHON, "-m", "qloop.cli", "verify-trail"], env=os.environ, capture_output=True, text=True
    )
    print(
        f"append | {database_label()} | {args.entries} entries, one transaction each | "
        f"plain insert {per_plain * 1000:.2f} ms | chained {per_chained * 1000:.2f} ms "
        f"(+{(per_chained - per_plain) * 1000:.2f} ms) | {threads_n} writers at once: "
        f"{concurrent:.0f} entries/s | verify-trail exit {ok.returncode}"
    )


def run_verify(args: argparse.Namespace) -> None:
    if not args.database_url:
        raise SystemExit("The verify benchmark runs on PostgreSQL (--database-url).")
    case, users = prepare(args)
    from django.db import connection

    from qloop.cases.models import Event
    from qloop.org import trail
    from qloop.org.models import TrailHead

    fields = trail.content_fields(Event)
    names = [f.attname for f in fields]
    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(max(seq), 0), coalesce(max(id), 0) FROM cases_event")
        last_seq, last_id = cur.fetchone()
        head = TrailHead.objects.get(chain="cases.event")
        prev = head.hash
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    verbs = ["transition", "comment", "clock_breached", "approval_decided"]
    started = time.perf_counter()
    raw = connection.connection  # psycopg: COPY straight into the table
    columns = ", ".join(["id", "prev_hash", "hash", *names])
    with raw.cursor() as cur, cur.copy(f"COPY cases_event ({columns}) FROM STDIN") as copy:
        for i in range(1, args.entries + 1):
            seq = last_seq + i
            at = base + dt.timedelta(seconds=i)
            data = {
                "transition": "record_handling",
                "from": "handling",
                "to": "handling",
                "inputs": {"handling": f"第{i}次电话回访"},
            }
            values = [seq, users["cs"].pk, verbs[i % 4], [], f"记录 {i}", data, case.pk, at]
            digest = trail.entry_hash("cases.event", prev, trail.row_values(fields, values))
            row = [last_id + i, prev, digest, *values]
            row[3 + names.index("changes")] = "[]"
            row[3 + names.index("data")] = json.dumps(data, ensure_ascii=False)
            copy.write_row(row)
            prev = digest
            if i % 1_000_000 == 0:
                print(f"  … {i} rows in {time.perf_counter() - started:.0f} s", flush=True)
    raw.commit()
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE org_trailhead SET seq = %s, hash = %s WHERE chain = 'cases.event'",
            [last_seq + args.entries, prev],
        )
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('cases_event', 'id'), %s)",
            [last_id + args.entries],
        )
        cur.execute("ANALYZE cases_event")
        cur.execute("SELECT pg_size_pretty(pg_total_relation_size('cases_event'))")
        size = cur.fetchone()[0]
    loaded = time.perf_counter() - started
    connection.close()

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [PYTHON, "-m", "qloop.cli", "verify-trail"], env=os.environ, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb = after.ru_maxrss / 1024
    total = last_seq + args.entries
    from common import database_label

    print(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr)
    print(
        f"verify | {database_label()} | {total:,} entries ({size}) | loaded by COPY in "
        f"{loaded:.0f} s | verify-trail {seconds:.0f} s = {total / seconds:,.0f} entries/s | "
        f"peak memory of the command {peak_mb:.0f} MB | exit {proc.returncode} | "
        f"cpu {after.ru_utime - before.ru_utime:.0f} s user"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["append", "verify"])
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    add_common_arguments(parser)
    args = parser.parse_args()
    if args.what == "append":
        run_append(args)
    else:
        run_verify(args)


if __name__ == "__main__":
    main()
