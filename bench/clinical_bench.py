"""Benchmarks of the clinical profile (#11): HL7 v2 results accepted per second over MLLP with
their ACK, none lost when the listener is killed with SIGKILL, and the timeliness figures over a
million findings.

    # HL7 over MLLP into a fresh SQLite database (one listener process)
    .venv/bin/python bench/clinical_bench.py hl7 --messages 3000 --data-dir /tmp/qloop-bench/hl7
    # … several connections at once
    .venv/bin/python bench/clinical_bench.py hl7 --messages 3000 --connections 4 --data-dir …
    # kill -9 the listener mid-stream, start it again, resend what was not acknowledged
    .venv/bin/python bench/clinical_bench.py kill --messages 2000 --data-dir /tmp/qloop-bench/kill
    # the timeliness figures over a million findings (PostgreSQL)
    .venv/bin/python bench/clinical_bench.py timeliness --findings 1000000 \
        --database-url postgres://postgres@127.0.0.1:5432/qloop_clinical_bench

Each run prints one line for bench/RESULTS-clinical.md. Every database is made afresh (the
SQLite file is removed, the PostgreSQL database must be empty or made by this script).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from common import add_common_arguments, bench_environment

ROOT = Path(__file__).resolve().parent.parent
QLOOP = str(ROOT / ".venv" / "bin" / "qloop")
START, END = b"\x0b", b"\x1c\x0d"


def message(i: int, rng: random.Random) -> bytes:
    """An ORU^R01 from the LIS: one potassium result, about 2 % of them critical."""
    critical = rng.random() < 0.02
    value = f"{rng.uniform(2.0, 2.6):.1f}" if critical else f"{rng.uniform(3.6, 5.1):.1f}"
    flag = "LL" if critical else "N"
    charset = "GB 18030-2000" if i % 2 else "UNICODE UTF-8"
    text = "\r".join(
        [
            f"MSH|^~\\&|LIS|HOSP|QLOOP|HOSP|20261207083000||ORU^R01^ORU_R01|B{i:08d}|P|2.5.1||||||{charset}",
            f"PID|||{700000 + i % 50000}^^^HOSP^MR||王^建华||19590101|M",
            "PV1|1|I|IM1^^12||||||||IM",
            "ORC|RE||||||||||doctor^郑^国华",
            f"OBR|1||S{i:08d}|K^血钾^L|||20261207071000|||||||20261207073000||||||||20261207082900|||F",
            f"OBX|1|NM|K^血钾^L||{value}|mmol/L|3.5-5.3|{flag}|||F",
        ]
    )
    return text.encode("gb18030" if i % 2 else "utf-8") + b"\r"


def prepare(env: dict[str, str], data_dir: Path, recreate: bool = False) -> None:
    """A fresh database with the hospital, its registers and rules (``recreate``: the
    PostgreSQL database is dropped and made again first, so runs do not see each other's
    messages as duplicates)."""
    if data_dir.exists() and not env["DATABASE_URL"]:
        shutil.rmtree(data_dir)
    if recreate and env["DATABASE_URL"]:
        _recreate_database(env["DATABASE_URL"])
    data_dir.mkdir(parents=True, exist_ok=True)
    code = (
        "import django; django.setup();"
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from qloop.demo.loader import load_organisation; load_organisation();"
        "from qloop.demo.hospital import load_hospital; load_hospital();"
        "from qloop.clinical.setup import load_clinical_setup; load_clinical_setup();"
        "from qloop.org.models import Organisation; o = Organisation.current();"
        "o.profiles = [*o.profiles, 'clinical']; o.save()"
    )
    subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, check=True)


def _recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def server_cpu(url: str) -> float:
    """CPU seconds of the PostgreSQL backends serving this database (the listener's
    connection), read from /proc: the server's share of the work, which the listener's own
    CPU does not count. 0 on SQLite, or when the server runs elsewhere."""
    if not url:
        return 0.0
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        ]
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += _cpu_seconds(pid)
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_listener(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [QLOOP, "hl7-listen", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the listener did not start")


def send(
    port: int,
    payloads: list[tuple[int, bytes]],
    acked: set[int],
    window: int = 1,
    on_ack: Any = None,
) -> None:
    """One connection. ``window`` 1 is how an LIS usually sends: a message, wait for its ACK,
    the next. A larger window keeps that many messages sent and not yet acknowledged (MLLP
    answers in order on a connection), as a sender that pipelines does."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        buffer = bytearray()
        waiting: list[int] = []
        queue = list(payloads)
        while queue or waiting:
            burst = []
            while queue and len(waiting) < window:
                i, payload = queue.pop(0)
                burst.append(START + payload + END)
                waiting.append(i)
            if burst:
                sock.sendall(b"".join(burst))
            while END not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("closed")
                buffer.extend(chunk)
            while END in buffer:
                end = buffer.index(END)
                ack = bytes(buffer[1:end])
                del buffer[: end + 2]
                i = waiting.pop(0)
                if b"MSA|AA" not in ack:
                    raise SystemExit(f"message {i} not accepted: {ack!r}")
                acked.add(i)
                if on_ack is not None:
                    on_ack(len(acked))


def stored(env: dict[str, str], distinct: bool = False) -> Any:
    """Messages applied, results, findings (and the distinct MSH-10 applied) in the database."""
    code = (
        "import django; django.setup();"
        "from qloop.clinical.models import HL7Message, ResultEntry, Finding;"
        "applied = HL7Message.objects.filter(status='applied');"
        "print(applied.count(), ResultEntry.objects.count(), Finding.objects.count(),"
        " applied.values('sender', 'control_id').distinct().count())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, check=True, capture_output=True
    )
    counts = tuple(int(x) for x in out.stdout.split())
    return counts if distinct else counts[:3]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, and of the processes it started that are
    still running (a listener with ``--processes``; Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            with contextlib.suppress(OSError):
                total += _cpu_seconds(int(child))
    return total


def run_hl7(args: argparse.Namespace, env: dict[str, str]) -> None:
    prepare(env, Path(args.data_dir), args.recreate_database)
    rng = random.Random(11)
    payloads = [(i, message(i, rng)) for i in range(args.messages)]
    port = free_port()
    listener = start_listener(env, port)
    acked: set[int] = set()
    try:
        shares = [payloads[k :: args.connections] for k in range(args.connections)]
        cpu_before = _cpu_seconds(listener.pid)
        started = time.perf_counter()
        threads = [
            threading.Thread(target=send, args=(port, share, acked, args.window))
            for share in shares
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds(listener.pid) - cpu_before
        server = server_cpu(env["DATABASE_URL"])
    finally:
        listener.send_signal(signal.SIGTERM)
        listener.wait(timeout=30)
    applied, entries, findings = stored(env)
    load = os.getloadavg()[0]
    print(
        f"| HL7 over MLLP, {'PostgreSQL' if env['DATABASE_URL'] else 'SQLite'}, "
        f"{args.connections} connection(s), window {args.window} | {len(acked)} / "
        f"{args.messages} acknowledged | {seconds:.1f} s wall, listener CPU {cpu:.1f} s"
        f"{f', server backends {server:.1f} s' if env['DATABASE_URL'] else ''} | "
        f"**{len(acked) / seconds:.0f} messages/s** | stored {applied} messages, "
        f"{entries} results, {findings} findings | load ≈ {load:.1f} |"
    )


def _nobody_listens(port: int) -> None:
    """After the kill nothing may answer on the port any more: a process of the listener
    that outlived it (``--processes``) would take the resent messages in its place."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return
        time.sleep(0.1)
    raise SystemExit("something still answers on the port after the listener was killed")


def run_kill(args: argparse.Namespace, env: dict[str, str]) -> None:
    """Kill the listener with SIGKILL part-way (after ``--kill-at`` ACKs, or ``--kill-after``
    seconds), start it again, resend everything that had no ACK (an LIS resends what it did
    not see acknowledged): every message is stored exactly once."""
    prepare(env, Path(args.data_dir), args.recreate_database)
    rng = random.Random(12)
    payloads = [(i, message(i, rng)) for i in range(args.messages)]
    acked: set[int] = set()
    port = free_port()
    listener = start_listener(env, port)
    victim = listener.pid

    def kill(count: int = 0) -> None:
        if count >= args.kill_at:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)

    killer = threading.Timer(args.kill_after, kill)
    if not args.kill_at:
        killer.start()
    started = time.perf_counter()
    with contextlib.suppress(ConnectionError, OSError):
        send(port, payloads, acked, args.window, kill if args.kill_at else None)
    killer.cancel()
    listener.wait(timeout=30)
    killed = listener.returncode == -signal.SIGKILL
    at_kill = len(acked)
    _nobody_listens(port)
    listener = start_listener(env, port)
    try:
        # The messages in flight at the kill may or may not have been stored: they are
        # resent, and a stored one is acknowledged again without being applied twice.
        send(port, [p for p in payloads if p[0] not in acked], acked, args.window)
    finally:
        listener.send_signal(signal.SIGTERM)
        listener.wait(timeout=30)
    seconds = time.perf_counter() - started
    applied, entries, _findings, controls = stored(env, distinct=True)
    lost = args.messages - controls
    print(
        f"| kill -9 ({'killed' if killed else 'NOT killed'}) after {at_kill} ACKs, "
        f"{'PostgreSQL' if env['DATABASE_URL'] else 'SQLite'}, window {args.window} | "
        f"{len(acked)} / {args.messages} acknowledged after the restart, {seconds:.1f} s | "
        f"stored {applied} messages ({controls} distinct), {entries} results "
        f"(expected {args.messages}) | **{lost} lost, {applied - controls} doubled** | "
        f"load ≈ {os.getloadavg()[0]:.1f} |"
    )
    if not killed or lost or applied != args.messages or entries != args.messages:
        raise SystemExit("the listener was not killed, or messages were lost or doubled")


TIMELINESS_SQL = """
WITH ids AS (SELECT g AS n FROM generate_series(1, %(n)s) AS g)
INSERT INTO cases_case (number, kind, profile, title, received_at, channel, severity,
    department_id, state, process_version, extra, created_at, updated_at, search_text,
    search_tokens, archive_reason, closed_at, deadline_state)
SELECT 'FN-B-' || lpad(n::text, 8, '0'), 'finding', 'clinical', 'bench', now(), 'api', 'critical',
    %(dept)s, 'closed', 1, '{}'::jsonb, now(), now(), '', '', '', now(), ''
FROM ids;
"""


def run_timeliness(args: argparse.Namespace, env: dict[str, str]) -> None:
    if not env["DATABASE_URL"]:
        raise SystemExit("The timeliness benchmark runs on PostgreSQL (--database-url).")
    if not args.reuse:
        prepare(env, Path(args.data_dir), args.recreate_database)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    from qloop.clinical.models import ClinicalRegister

    lab = ClinicalRegister.objects.get(code="lab")
    started = time.perf_counter()
    with connection.cursor() as cur:
        if args.reuse:  # the findings of an earlier run are still there
            cur.execute("SELECT 1")
        else:
            _load_findings(cur, args, lab)
    loaded = time.perf_counter() - started
    _time_figures(args, loaded)


def _load_findings(cur: Any, args: argparse.Namespace, lab: Any) -> None:
    """A million findings made by the database itself (generate_series), not row by row."""
    cur.execute("SELECT id FROM org_department WHERE code IN ('IM','SURG','PED','OBGYN','ER')")
    depts = [r[0] for r in cur.fetchall()]
    cur.execute(TIMELINESS_SQL, {"n": args.findings, "dept": lab.department_id})
    # One result entry and one finding per case; a year of reports; 97 % acknowledged,
    # mostly within 15 minutes.
    cur.execute(
        """
        INSERT INTO clinical_resultentry (register_id, number, accession, patient_name,
            patient_id, sex, test_code, test_name, specimen, result_value, unit,
            reference_range, abnormal_flag, repeat_result, reported_at, source, version,
            created_at, bed, ordering_doctor_name, ordering_department_id)
        SELECT %(reg)s, 'LR-B-' || lpad(c.id::text, 9, '0'), '', '患者', c.id::text, 'U',
            (ARRAY['K','NA','GLU','HGB','PLT','WBC'])[1 + c.id %% 6], '检验', '', '2.0',
            '', '', 'LL', '', now() - (c.id %% 525600) * interval '1 minute', 'hl7', 1,
            now(), '', '', (%(depts)s::bigint[])[1 + c.id %% 5]
        FROM cases_case c WHERE c.kind = 'finding' AND c.number LIKE 'FN-B-%%'
        """,
        {"reg": lab.pk, "depts": depts},
    )
    cur.execute(
        """
        INSERT INTO clinical_finding (case_id, entry_id, entry_version, kind, reason,
            register_id, test_code, test_name, sent_result, ordering_department_id,
            reported_at, limit_minutes, acknowledged_at, acknowledged_by, ack_method,
            ack_seconds, clinical_action)
        SELECT c.id, e.id, 1, CASE WHEN c.id %% 10 = 0 THEN 'infectious' ELSE 'critical' END,
            'bench', %(reg)s, e.test_code, e.test_name, '2.0 (LL)', e.ordering_department_id,
            e.reported_at, 15,
            CASE WHEN c.id %% 33 = 0 THEN NULL
                 ELSE e.reported_at + ((c.id * 7919) %% 1500) * interval '1 second' END,
            'bench', 'readback',
            CASE WHEN c.id %% 33 = 0 THEN NULL ELSE (c.id * 7919) %% 1500 END, ''
        FROM cases_case c JOIN clinical_resultentry e ON e.patient_id = c.id::text
            AND e.number LIKE 'LR-B-%%'
        WHERE c.number LIKE 'FN-B-%%'
        """,
        {"reg": lab.pk},
    )
    cur.execute("ANALYZE clinical_finding")


def _time_figures(args: argparse.Namespace, loaded: float) -> None:
    import datetime as dt

    from django.utils import timezone

    from qloop.clinical import timeliness

    end = timezone.now() + dt.timedelta(days=1)
    start = end - dt.timedelta(days=366)
    timings = {}
    for group in ("register", "test", "ordering_department"):
        best = None
        for _ in range(3):
            t0 = time.perf_counter()
            rows = timeliness.figures(start, end, group=group)
            took = time.perf_counter() - t0
            best = took if best is None else min(best, took)
        timings[group] = (best, sum(r.total for r in rows))
    print(
        f"| timeliness, PostgreSQL, {args.findings:,} findings over a year (load {loaded:.0f} s) | "
        + " · ".join(
            f"per {g}: **{t * 1000:.0f} ms** ({n:,} counted)" for g, (t, n) in timings.items()
        )
        + f" | load ≈ {os.getloadavg()[0]:.1f} |"
    )


def run_profile(args: argparse.Namespace, env: dict[str, str]) -> None:
    """Where the time of one message goes: ``receive`` in this process (no socket), under
    cProfile, after a warm-up; prints wall and CPU time per message and the top functions."""
    import cProfile
    import pstats

    prepare(env, Path(args.data_dir), args.recreate_database)
    os.environ.update(env)
    import django

    django.setup()
    from qloop.clinical import hl7v2

    rng = random.Random(13)
    payloads = [message(i, rng) for i in range(args.messages + 50)]
    for raw in payloads[:50]:  # warm the caches and the code paths
        hl7v2.receive(raw, transport="mllp")
    # --cpu-profile: the profile in CPU time, so that waiting for the database is left out
    profiler = cProfile.Profile(time.process_time) if args.cpu_profile else cProfile.Profile()
    rest = payloads[50:]
    wall, cpu = time.perf_counter(), time.process_time()
    if args.top:
        profiler.enable()
    if args.batch:  # as the listener does: several messages, one transaction
        for k in range(0, len(rest), args.batch):
            hl7v2.receive_many(rest[k : k + args.batch], transport="mllp")
    else:
        for raw in rest:
            hl7v2.receive(raw, transport="mllp")
    profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = args.messages
    print(
        f"| profile, {'PostgreSQL' if env['DATABASE_URL'] else 'SQLite'}, {n} messages in "
        f"process, {f'batches of {args.batch}' if args.batch else 'one by one'} "
        f"process | {wall / n * 1000:.2f} ms wall, {cpu / n * 1000:.2f} ms CPU per message "
        f"({'under cProfile' if args.top else 'no profiler'}) | load ≈ {os.getloadavg()[0]:.1f} |"
    )
    if args.top:
        stats = pstats.Stats(profiler).sort_stats(args.sort)
        stats.print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", choices=["hl7", "kill", "timeliness", "profile"])
    add_common_arguments(parser)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument(
        "--window", type=int, default=1, help="messages sent ahead of their ACK, per connection"
    )
    parser.add_argument(
        "--kill-at", type=int, default=0, help="kill: SIGKILL once this many ACKs came back"
    )
    parser.add_argument("--kill-after", type=float, default=3.0)
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=0, help="profile: receive_many batch")
    parser.add_argument("--sort", default="cumulative", help="profile: pstats sort key")
    parser.add_argument(
        "--cpu-profile", action="store_true", help="profile: time functions in CPU time"
    )
    parser.add_argument(
        "--top",
        type=int,
        default=45,
        help="profile: lines of the profile (0: no profiler, times only)",
    )
    parser.add_argument(
        "--recreate-database",
        action="store_true",
        help="hl7/kill/profile on PostgreSQL: drop and create the database first",
    )
    parser.add_argument("--reuse", action="store_true", help="time the findings already loaded")
    args = parser.parse_args()
    env = bench_environment(args.database_url, args.data_dir)
    {
        "hl7": run_hl7,
        "kill": run_kill,
        "timeliness": run_timeliness,
        "profile": run_profile,
    }[args.scenario](args, env)


if __name__ == "__main__":
    main()
