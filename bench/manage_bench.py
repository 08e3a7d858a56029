#!/usr/bin/env python3
"""Issue 13: how long an export takes and how much memory the worker holds, and how fast each
dashboard answers, on a database filled by generate.py.

    .venv/bin/python bench/manage_bench.py export --data-dir /tmp/qloop-bench/sqlite-100k \\
        --format xlsx --limit 100000
    .venv/bin/python bench/manage_bench.py dashboards --data-dir /tmp/qloop-bench/sqlite-100k

``export`` runs the worker's own function (``qloop.reports.exports.write_job``) in this
process, as the Huey worker does, and reports the wall time and the peak resident memory
(``ru_maxrss``) before and after. ``dashboards`` renders each board's cards for the demo
persona whose first page it is, ``--repeat`` times, and reports the median and 95th percentile.
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args()
    setup_django(args.database_url, args.data_dir)
    {"export": export, "dashboards": dashboards}[args.command](args)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
