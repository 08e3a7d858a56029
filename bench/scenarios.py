#!/usr/bin/env python3
"""Latency and throughput of the register's list, search and "My work" on a generated database.

    .venv/bin/python bench/scenarios.py --data-dir /tmp/qloop-bench/sqlite-100k
    .venv/bin/python bench/scenarios.py --database-url postgres://postgres@127.0.0.1:5432/qloop_bench \\
        --data-dir /tmp/qloop-bench/pg --label "PostgreSQL, 1,000,000 cases"

Part 1, one user: each scenario is requested in-process through Django's test client (the whole
stack from middleware to template, without HTTP), a few times to warm up and then ``--requests``
times; the median and the 95th percentile are reported.

Part 2, eight clients: gunicorn is started on 127.0.0.1 (``-w 2``, sync, as ``qloop serve``
runs it), two demo users log in through the login form, and eight threads with keep-alive
connections send requests as fast as answers come back, for a fixed number of requests or a time
limit, whichever comes first; throughput and latency percentiles are reported.

``--explain`` prints ``EXPLAIN ANALYZE`` of the case queries each scenario runs, instead.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

# Run as a script, this folder is on sys.path.
from common import (
    add_common_arguments,
    database_label,
    machine_description,
    setup_django,
)

CJK_WORD = "漏水"  # 2 characters, in one of the eighteen complaint symptoms


@dataclass
class Scenario:
    """One request a person makes, as who."""

    name: str
    user: str
    path: str
    what: str


@dataclass
class Result:
    """Latency of one scenario, in milliseconds."""

    name: str
    path: str
    n: int
    median: float
    p95: float
    minimum: float
    maximum: float
    queries: int = 0
    cpu: float = 0.0
    note: str = ""
    rps: float = 0.0
    errors: int = 0
    clients: int = 1


@dataclass
class Report:
    label: str
    database: str
    cases: int
    machine: str
    started: str
    load_before: str
    command: str
    revision: str
    single: list[Result] = field(default_factory=list)
    concurrent: list[Result] = field(default_factory=list)
    load_after: str = ""


def scenarios(phone_prefix: str, case_number: str = "") -> list[Scenario]:
    """The requests measured: list, filtered list, two searches, My work, the case page, and
    the API."""
    q_cjk = urllib.parse.quote(CJK_WORD)
    on_case = (
        [
            Scenario("case_page", "cs", f"/cases/{case_number}/", f"case page {case_number}"),
            Scenario("api_case", "cs", f"/api/v1/cases/{case_number}", f"API case {case_number}"),
        ]
        if case_number
        else []
    )
    return [
        *on_case,
        Scenario("list", "cs", "/cases/", "list, first page, newest first"),
        Scenario(
            "list_filtered",
            "cs",
            "/cases/?state=investigating&department=QA",
            "list filtered by state and department",
        ),
        Scenario("search_cjk", "cs", f"/cases/?q={q_cjk}", f"search “{CJK_WORD}”"),
        Scenario(
            "search_phone", "cs", f"/cases/?q={phone_prefix}", f"search phone prefix {phone_prefix}"
        ),
        Scenario("my_work_qe", "qe", "/my-work/", "My work of qe (quality engineer)"),
        Scenario("my_work_cs", "cs", "/my-work/", "My work of cs (CS clerk, with the CS queue)"),
        Scenario("api_list", "cs", "/api/v1/cases", "API list, first page"),
        Scenario("api_search_cjk", "cs", f"/api/v1/cases?q={q_cjk}", f"API search “{CJK_WORD}”"),
        Scenario(
            "api_search_phone",
            "cs",
            f"/api/v1/cases?q={phone_prefix}",
            f"API search phone prefix {phone_prefix}",
        ),
    ]


def newest_case_number() -> str:
    """The newest case with the most events among the last hundred: a long timeline."""
    from django.db.models import Count

    from qloop.cases.models import Case

    recent = Case.objects.order_by("-id")[:100].values_list("id", flat=True)
    case = (
        Case.objects.filter(id__in=list(recent))
        .annotate(n=Count("events"))
        .order_by("-n", "-id")
        .values_list("number", flat=True)
        .first()
    )
    return case or ""


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarise(name: str, path: str, times: list[float], **extra: Any) -> Result:
    ms = [t * 1000 for t in times]
    return Result(
        name=name,
        path=path,
        n=len(ms),
        median=round(statistics.median(ms), 1),
        p95=round(percentile(ms, 95), 1),
        minimum=round(min(ms), 1),
        maximum=round(max(ms), 1),
        **extra,
    )


def revision() -> str:
    """The commit measured, and which source files differed from it (a shared working tree)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True, text=True
        ).stdout.split("\n")
    except OSError:
        return "?"
    changed = sorted(line[3:] for line in dirty if line.strip())
    return head + (f" with uncommitted changes to {', '.join(changed)}" if changed else "")


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def wait_for_quiet(threshold: float, max_wait: float) -> None:
    """Wait until the 1-minute load average is below ``threshold`` (other work on a shared
    machine inflates every number), but no longer than ``max_wait`` seconds."""
    deadline = time.monotonic() + max_wait
    while True:
        one = float(load_average().split()[0]) if load_average() != "?" else 0.0
        if one < threshold or time.monotonic() >= deadline:
            return
        print(f"  load average {one:.2f} ≥ {threshold}; waiting …", flush=True)
        time.sleep(30)


@contextlib.contextmanager
def capture_queries() -> Iterator[list[tuple[str, Any, float]]]:
    """The SQL, parameters and time of every query run inside the block (DEBUG stays off)."""
    from django.db import connection

    seen: list[tuple[str, Any, float]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append((sql, params, time.perf_counter() - t0))

    with connection.execute_wrapper(wrapper):
        yield seen


# One user, in-process ------------------------------------------------------------------------------


def _note(response: Any) -> str:
    """What the page says about how many cases it found."""
    if response["Content-Type"].startswith("application/json"):
        data = json.loads(response.content)
        if "count" not in data:
            return ""
        return f"{data['count']}{'+' if data['count_is_capped'] else ''} found"
    text = response.content.decode()
    m = re.search(r"<span>([^<]*\d[^<]*)</span>\s*(?:<span>|</div>)", text)
    return m.group(1).strip() if m else ""


def run_single(
    items: list[Scenario], requests: int, warmup: int, max_seconds: float
) -> list[Result]:
    from django.test import Client

    from qloop.org.models import User

    clients: dict[str, Client] = {}
    results = []
    for sc in items:
        client = clients.get(sc.user)
        if client is None:
            client = clients[sc.user] = Client()
            client.force_login(User.objects.get(username=sc.user))
        for _ in range(warmup):
            response = client.get(sc.path)
            if response.status_code != 200:
                raise SystemExit(f"{sc.path} as {sc.user}: HTTP {response.status_code}")
        with capture_queries() as queries:
            response = client.get(sc.path)
        note = _note(response)
        times: list[float] = []
        cpu: list[float] = []
        deadline = time.monotonic() + max_seconds
        while len(times) < requests and time.monotonic() < deadline:
            c0 = time.process_time()
            t0 = time.perf_counter()
            response = client.get(sc.path)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            if response.status_code != 200:
                raise SystemExit(f"{sc.path} as {sc.user}: HTTP {response.status_code}")
        result = summarise(
            sc.name,
            sc.path,
            times,
            queries=len(queries),
            note=note,
            cpu=round(statistics.median(cpu) * 1000, 1),
        )
        print(
            f"  {sc.name:<18} n={result.n:<3} median {result.median:7.1f} ms  "
            f"p95 {result.p95:7.1f} ms  python cpu {result.cpu:6.1f} ms  "
            f"({result.queries} queries; {note})",
            flush=True,
        )
        results.append(result)
    return results


def run_explain(items: list[Scenario]) -> None:
    """EXPLAIN ANALYZE every query on cases_case that each scenario runs."""
    from django.db import connection
    from django.test import Client

    from qloop.org.models import User

    analyse = (
        "EXPLAIN (ANALYZE, BUFFERS) "
        if connection.vendor == "postgresql"
        else "EXPLAIN QUERY PLAN "
    )
    for sc in items:
        client = Client()
        client.force_login(User.objects.get(username=sc.user))
        client.get(sc.path)
        with capture_queries() as queries:
            client.get(sc.path)
        print(f"\n=== {sc.name}: {sc.path} as {sc.user}")
        for sql, params, seconds in queries:
            if "cases_case" not in sql or not sql.startswith("SELECT"):
                continue
            print(f"\n--- {seconds * 1000:.1f} ms: {sql[:800]} {params}")
            with connection.cursor() as cur:
                cur.execute(analyse + sql, params)
                for row in cur.fetchall():
                    print("   ", " ".join(str(c) for c in row))


# Eight clients through gunicorn -------------------------------------------------------------------


class HttpClient:
    """A keep-alive HTTP/1.1 connection to 127.0.0.1 with a session cookie."""

    def __init__(self, port: int, cookie: str = "") -> None:
        self.port = port
        self.cookie = cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes, list[str]]:
        hdrs = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookie:
            hdrs["Cookie"] = self.cookie
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
        data = resp.read()
        cookies = resp.headers.get_all("Set-Cookie") or []
        return resp.status, dict(resp.headers), data, cookies


def login(port: int, username: str, password: str) -> str:
    """Log in through the login form (with its CSRF token); return the Cookie header."""
    client = HttpClient(port)
    status, _h, body, cookies = client.request("GET", "/login/")
    jar = SimpleCookie()
    for c in cookies:
        jar.load(c)
    m = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or m is None or "csrftoken" not in jar:
        raise SystemExit(f"GET /login/ gave HTTP {status} without a CSRF token")
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": m.group(1).decode()}
    )
    client.cookie = f"csrftoken={jar['csrftoken'].value}"
    status, _h, _b, cookies = client.request(
        "POST", "/login/", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    for c in cookies:
        jar.load(c)
    if status != 302 or "sessionid" not in jar:
        raise SystemExit(f"Logging in as {username} failed (HTTP {status})")
    return f"sessionid={jar['sessionid'].value}; csrftoken={jar['csrftoken'].value}"


def start_gunicorn(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    venv_bin = Path(sys.executable).parent
    cmd = [
        str(venv_bin / "gunicorn"),
        "qloop.wsgi",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env={**os.environ, **env})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            status = HttpClient(port).request("GET", "/healthz")[0]
            if status == 200:
                return proc
        except OSError:
            pass
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited on start")
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("gunicorn did not answer within 90 s")


def drive(
    port: int,
    plan: list[tuple[str, str]],
    clients: int,
    total: int,
    max_seconds: float,
) -> tuple[list[float], int, float]:
    """``clients`` threads take requests (path, cookie) from ``plan`` round-robin until
    ``total`` are done or time is up; returns latencies, errors and wall time."""
    lock = threading.Lock()
    counter = {"next": 0}
    times: list[float] = []
    errors = [0]
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        conns: dict[str, HttpClient] = {}
        while True:
            with lock:
                i = counter["next"]
                counter["next"] += 1
            if i >= total or time.monotonic() > deadline:
                return
            path, cookie = plan[i % len(plan)]
            conn = conns.get(cookie)
            if conn is None:
                conn = conns[cookie] = HttpClient(port, cookie)
            t0 = time.perf_counter()
            try:
                status = conn.request("GET", path)[0]
            except (OSError, http.client.HTTPException):
                status = 0
            elapsed = time.perf_counter() - t0
            with lock:
                times.append(elapsed)
                if status != 200:
                    errors[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors[0], time.perf_counter() - started


def run_concurrent(
    items: list[Scenario],
    env: dict[str, str],
    *,
    port: int,
    clients: int,
    total: int,
    max_seconds: float,
    workers: int,
    threads: int,
) -> list[Result]:
    proc = start_gunicorn(env, port, workers, threads)
    try:
        password = env["QLOOP_DEMO_PASSWORD"]
        cookies = {u: login(port, u, password) for u in sorted({s.user for s in items})}
        by_name = {s.name: s for s in items}
        runs: list[tuple[str, list[Scenario]]] = [
            (name, [by_name[name]])
            for name in ("list", "search_cjk", "search_phone", "my_work_qe", "my_work_cs")
        ]
        runs.append(("mix (all nine)", items))
        results = []
        for name, group in runs:
            plan = [(s.path, cookies[s.user]) for s in group]
            drive(port, plan, clients, clients * 2, 30)  # warm-up: every worker, every query
            times, errors, wall = drive(port, plan, clients, total, max_seconds)
            result = summarise(
                name,
                group[0].path if len(group) == 1 else "(round-robin)",
                times,
                rps=round(len(times) / wall, 1),
                errors=errors,
                clients=clients,
            )
            print(
                f"  {name:<18} n={result.n:<4} {result.rps:6.1f} req/s  median "
                f"{result.median:7.1f} ms  p95 {result.p95:7.1f} ms  errors {errors}",
                flush=True,
            )
            results.append(result)
        return results
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


# Report -----------------------------------------------------------------------------------------------


def markdown(report: Report) -> str:
    lines = [
        f"### {report.label}",
        "",
        f"{report.database}, {report.cases:,} cases; {report.started}; "
        f"load average before {report.load_before}, after {report.load_after}; "
        f"code at {report.revision}.",
        "",
        f"`{report.command}`",
        "",
        "One user (in-process, Django test client):",
        "",
        "| scenario | request | median ms | p95 ms | Python CPU ms | n | queries | found |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in report.single:
        lines.append(
            f"| {r.name} | `{urllib.parse.unquote(r.path)}` | {r.median:.1f} | {r.p95:.1f} | "
            f"{r.cpu:.1f} | {r.n} | {r.queries} | {r.note} |"
        )
    if report.concurrent:
        clients = report.concurrent[0].clients
        lines += [
            "",
            f"{clients} concurrent clients through gunicorn (`-w 2 --threads 4`):",
            "",
            "| scenario | req/s | median ms | p95 ms | n | errors |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in report.concurrent:
            lines.append(
                f"| {r.name} | {r.rps:.1f} | {r.median:.1f} | {r.p95:.1f} | {r.n} | {r.errors} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--label", default="", help="title of this run in the report")
    parser.add_argument("--requests", type=int, default=60, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first")
    parser.add_argument(
        "--max-seconds", type=float, default=90, help="time limit per scenario (both parts)"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--concurrent-requests", type=int, default=400, help="requests per concurrent run"
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--no-concurrent", action="store_true", help="skip part 2")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the queries and stop")
    parser.add_argument("--output", default="", help="write the report as JSON here, too")
    parser.add_argument(
        "--quiet-load",
        type=float,
        default=0.0,
        help="before each part, wait until the 1-minute load average is below this",
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=600, help="but wait at most this many seconds"
    )
    args = parser.parse_args(argv)

    env = setup_django(args.database_url, args.data_dir)
    from django.core.management import call_command

    from qloop.cases.models import Case, Contact

    # The code may have moved on since the register was generated (new indexes, new tables).
    call_command("migrate", interactive=False, verbosity=1)

    newest = Contact.objects.order_by("-id").values_list("phone", flat=True).first() or "1380000"
    items = scenarios(newest[:7], newest_case_number())
    if args.only:
        wanted = set(args.only.split(","))
        items = [s for s in items if s.name in wanted]
    if args.explain:
        run_explain(items)
        return 0

    command = shlex.join(
        [".venv/bin/python", "bench/scenarios.py", *(sys.argv[1:] if argv is None else argv)]
    )
    if args.quiet_load:
        wait_for_quiet(args.quiet_load, args.quiet_wait)
    report = Report(
        label=args.label or "benchmark",
        database=database_label(),
        cases=Case.objects.count(),
        machine=machine_description(),
        started=dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        load_before=load_average(),
        command=command,
        revision=revision(),
    )
    print(f"{report.label}: {report.database}, {report.cases:,} cases", flush=True)
    print(f"Machine: {report.machine}; load average {report.load_before}", flush=True)
    print("One user, in-process:", flush=True)
    report.single = run_single(items, args.requests, args.warmup, args.max_seconds)
    if not args.no_concurrent:
        if args.quiet_load:
            wait_for_quiet(args.quiet_load, args.quiet_wait)
        print(f"{args.clients} clients through gunicorn:", flush=True)
        report.concurrent = run_concurrent(
            items,
            env,
            port=args.port,
            clients=args.clients,
            total=args.concurrent_requests,
            max_seconds=args.max_seconds,
            workers=args.workers,
            threads=args.threads,
        )
    report.load_after = load_average()
    print()
    print(markdown(report))
    if args.output:
        Path(args.output).write_text(
            json.dumps(asdict(report), ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
