#!/usr/bin/env python3
"""Time the period summaries' figures (X5) on a benchmark database.

    .venv/bin/python bench/summaries_bench.py --data-dir /tmp/qloop-bench/sqlite-100k

For the month, quarter and year just ended, counts one recipient set's figures (the period,
the one before and the same one last year: three times ``manufacturer_figures``) and prints
the wall and CPU time and the number of queries. Nothing is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from common import add_common_arguments, database_label, setup_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    setup_django(args.database_url, args.data_dir)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from qloop.cases.models import Case
    from qloop.reports import period_summaries as ps

    print(f"Database: {database_label()}; cases: {Case.objects.count():,}")
    item = ps.RECIPIENT_SETS["general_manager"]
    today = timezone.localdate()
    for kind in ("month", "quarter", "year"):
        start, _end = ps.previous_period(kind, ps.period_bounds(kind, today)[0])
        walls, cpus = [], []
        for _i in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            with CaptureQueriesContext(connection) as ctx:
                figures = ps.count_figures(item, kind, start)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        print(
            f"{kind:8} from {start}: received {figures['current']['received']:,}; "
            f"best {min(walls) * 1000:.0f} ms wall, {min(cpus) * 1000:.0f} ms CPU, "
            f"{len(ctx.captured_queries)} queries"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
