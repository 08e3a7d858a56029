#!/usr/bin/env python3
"""Issue 13: how long an export takes and how much memory the worker holds, and how fast each
dashboard answers, on a database filled by generate.py.

    .venv/bin/python bench/manage_bench.py export --data-dir /tmp/qloop-bench/sqlite-100k \\
        --format xlsx --limit 100000
    .venv/bin/python bench/manage_bench.py dashboards --data-dir /tmp/qloop-bench/sqlite-100k
    .venv/bin/python bench/manage_bench.py http --data-dir /tmp/qloop-bench/sqlite-100k \
        --clients 8 --requests 400 --port 8104
    .venv/bin/python bench/manage_bench.py similar --data-dir /tmp/qloop-bench/sqlite-100k

``export`` runs the worker's own function (``qloop.reports.exports.write_job``) in this
process, as the Huey worker does, and reports the wall time and the peak resident memory
(``ru_maxrss``) before and after. ``dashboards`` renders each board's cards for the demo
persona whose first page it is, ``--repeat`` times, and reports the median and 95th percentile.
``http`` starts gunicorn (``--workers`` × ``--threads``) on ``--port``, logs each persona in
through the login form, and has ``--clients`` concurrent users request each board's page
(``/dashboard/<board>/``, the whole page: cards, template, session, navigation counts) until
``--requests`` are done — back to back, or with ``--think`` seconds of reading between pages;
it reports requests per second, the median and the 95th percentile.
``similar`` times ``similar_cases()`` (the registration form's suggestion) for the models with
the most complaints, with a problem text of each.

Data loaded by generate.py bypasses the application: run ``qloop manage rebuild_case_counts``
first (the dashboards' daily counts and the similar-case statistics).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

from common import add_common_arguments, database_label, setup_django


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    """CPU seconds of this process: on a machine shared with other work, closer to what the
    export costs than the wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def export(args: argparse.Namespace) -> None:
    from django.core.files.storage import default_storage

    from qloop.org.models import User
    from qloop.reports.exports import request_export, write_job
    from qloop.reports.models import ExportJob

    user = User.objects.get(username=args.user)
    params = {"sort": "received_at"}
    if args.limit:
        # The oldest --limit cases: received up to the day of the limit-th one.
        from qloop.cases.models import Case

        last = Case.objects.order_by("received_at").values_list("received_at", flat=True)[
            args.limit - 1 : args.limit
        ]
        if last:
            params["received_to"] = last[0].date().isoformat()
    from django.conf import settings

    settings.QLOOP_EXPORT_INLINE_ROWS = 0
    before = _rss_mb()
    job = request_export(user, "cases", params, args.format)
    assert isinstance(job, ExportJob)
    start, cpu_start = time.perf_counter(), _cpu()
    done = write_job(job.pk)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu_start
    assert done is not None, "the job was not written"
    size = default_storage.size(done.file_name) / 1e6
    print(
        f"{database_label()}: {done.rows_done:,} rows to {args.format} in {seconds:.1f} s "
        f"({done.rows_done / seconds:,.0f} rows/s), CPU {cpu:.1f} s "
        f"({done.rows_done / cpu:,.0f} rows per CPU second), file {size:.1f} MB, "
        f"peak RSS {before:.0f} MB before, {_rss_mb():.0f} MB after; state {done.state}"
    )
    default_storage.delete(done.file_name)


def dashboards(args: argparse.Namespace) -> None:
    from qloop.org.models import Organisation, User
    from qloop.reports.dashboards import cards_for

    profiles = Organisation.current_profiles()
    for board, username in (
        ("cs", "cs"),
        ("quality", "qa_head"),
        ("department", "prod"),
        ("management", "gm"),
    ):
        user = User.objects.get(username=username)
        cards_for(user, board, profiles)  # warm-up
        times, cpu = [], []
        for _ in range(args.repeat):
            user = User.objects.get(username=username)  # role flags read afresh, as a request
            start, cpu_start = time.perf_counter(), time.process_time()
            cards_for(user, board, profiles)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - cpu_start) * 1000)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(
            f"{database_label()} {board:<11} ({username}): median {statistics.median(times):.1f} ms,"
            f" p95 {p95:.1f} ms over {len(times)}; CPU median {statistics.median(cpu):.1f} ms"
        )


BOARDS = (("cs", "cs"), ("quality", "qa_head"), ("department", "prod"), ("management", "gm"))


def http(args: argparse.Namespace) -> None:
    """Eight (``--clients``) people at once on each board, through gunicorn."""
    from common import bench_environment
    from scenarios import drive, load_average, login, percentile, start_gunicorn

    env = bench_environment(args.database_url, args.data_dir)
    proc = start_gunicorn(env, args.port, args.workers, args.threads)
    try:
        cookies = {u: login(args.port, u, env["QLOOP_DEMO_PASSWORD"]) for _b, u in BOARDS}
        print(
            f"{database_label()}, gunicorn {args.workers}x{args.threads}, {args.clients} clients,"
            f" load average before: {load_average()}"
        )
        for board, username in BOARDS:
            plan = [(f"/dashboard/{board}/", cookies[username])]
            drive(args.port, plan, args.clients, args.clients * 2, 60)  # warm-up
            cpu0 = _children_cpu(proc.pid)
            if args.think:
                times, errors, wall = _users(args.port, plan[0], args.clients, args)
            else:
                times, errors, wall = drive(args.port, plan, args.clients, args.requests, 300)
            cpu = _children_cpu(proc.pid) - cpu0
            ms = sorted(t * 1000 for t in times)
            print(
                f"  {board:<11} ({username:<7}) n={len(ms)} {len(ms) / wall:6.1f} req/s  "
                f"p50 {percentile(ms, 50):6.1f} ms  p95 {percentile(ms, 95):6.1f} ms  "
                f"server CPU {cpu * 1000 / max(1, len(ms)):5.1f} ms/request  errors {errors}",
                flush=True,
            )
        print(f"load average after: {load_average()}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except Exception:
            proc.kill()


def _users(
    port: int, target: tuple[str, str], clients: int, args: argparse.Namespace
) -> tuple[list[float], int, float]:
    """``clients`` people each opening the page, reading it for ``--think`` seconds on average
    (uniformly 0.5–1.5 times), and opening it again, until ``--requests`` are done."""
    import random
    import threading

    from scenarios import HttpClient

    path, cookie = target
    lock = threading.Lock()
    times: list[float] = []
    errors = [0]
    left = [args.requests]

    def person(seed: int) -> None:
        rng = random.Random(seed)
        conn = HttpClient(port, cookie)
        time.sleep(rng.uniform(0, args.think))  # people do not arrive together
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            start = time.perf_counter()
            status = conn.request("GET", path)[0]
            elapsed = time.perf_counter() - start
            with lock:
                times.append(elapsed)
                errors[0] += status != 200
            time.sleep(args.think * rng.uniform(0.5, 1.5))

    threads = [threading.Thread(target=person, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors[0], time.perf_counter() - started


def _children_cpu(pid: int) -> float:
    """CPU seconds used so far by gunicorn's master and workers (from /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def similar(args: argparse.Namespace) -> None:
    """The registration form's suggestion for the models with the most complaints."""
    from django.db.models import Count

    from qloop.cases.models import Case
    from qloop.cases.similar import similar_cases
    from qloop.org.models import User

    user = User.objects.get(username="cs")
    top = list(
        Case.objects.filter(kind="complaint")
        .exclude(product__model="")
        .values_list("product__model")
        .annotate(n=Count("id"))
        .order_by("-n")[:3]
    )
    for model, n in top:
        texts = list(
            Case.objects.filter(kind="complaint", product__model=model)
            .order_by("-id")
            .values_list("product__symptom", flat=True)[:20]
        )
        similar_cases(user, texts[0], model=model)  # warm-up
        times, cpu = [], []
        for i in range(args.repeat):
            start, cpu_start = time.perf_counter(), time.process_time()
            found, suggested = similar_cases(user, texts[i % len(texts)], model=model)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - cpu_start) * 1000)
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(
            f"{database_label()} similar {model} ({n:,} complaints): median "
            f"{statistics.median(times):.1f} ms, p95 {p95:.1f} ms over {len(times)}; "
            f"CPU median {statistics.median(cpu):.1f} ms; last: {len(found)} found, "
            f"suggested {suggested or '-'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export")
    e.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    e.add_argument("--limit", type=int, default=0, help="rows (default: every case)")
    e.add_argument("--user", default="cs")
    d = sub.add_parser("dashboards")
    d.add_argument("--repeat", type=int, default=20)
    h = sub.add_parser("http")
    h.add_argument("--clients", type=int, default=8)
    h.add_argument("--requests", type=int, default=400, help="per board")
    h.add_argument("--port", type=int, default=8104)
    h.add_argument("--workers", type=int, default=2)
    h.add_argument("--threads", type=int, default=4)
    h.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds each user reads a page before the next (0: back to back)",
    )
    s = sub.add_parser("similar")
    s.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    setup_django(args.database_url, args.data_dir)
    commands = {"export": export, "dashboards": dashboards, "similar": similar, "http": http}
    commands[args.command](args)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
