#!/usr/bin/env python3
"""CPU per request of case pages, with and without the navigation's context processor, and
the queries each runs (issue 14).

    .venv/bin/python bench/case_page_cpu.py --data-dir /tmp/qloop-bench/sqlite-100k \\
        --requests 15 cs:QC-2026-028497 qe:QC-2026-028409

"Without the navigation" computes the context processor once per person and reuses it: what
is left is the case page's own cost (the badge is measured on its own). Run it once with
``PYTHONPATH=<git archive of the base>/src`` and once without, one after the other, to compare
two versions under the same load (bench/RESULTS-pages.md, "Case page").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from common import add_common_arguments, setup_django


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("pages", nargs="+", help="user:CASE-NUMBER")
    args = parser.parse_args(argv)
    setup_django(args.database_url, args.data_dir)
    from django.template import engines
    from django.test import Client
    from scenarios import capture_queries

    from qloop.org.models import User
    from qloop.web import context_processors

    real = context_processors.qloop
    memo: dict[Any, dict[str, Any]] = {}

    def once(request: Any) -> dict[str, Any]:
        if request.user.pk not in memo:
            memo[request.user.pk] = real(request)
        return memo[request.user.pk]

    engine = engines["django"].engine  # type: ignore[attr-defined]
    for spec in args.pages:
        user, number = spec.split(":", 1)
        client = Client()
        client.force_login(User.objects.get(username=user))
        path = f"/cases/{number}/"
        line = [f"{spec:28s}"]
        for name, processor in (("full", real), ("page without nav", once)):
            context_processors.qloop = processor  # type: ignore[assignment]
            engine.__dict__.pop("template_context_processors", None)
            for _ in range(3):
                client.get(path)
            with capture_queries() as queries:
                assert client.get(path).status_code == 200, path
            cpu = []
            for _ in range(args.requests):
                c0 = time.process_time()
                client.get(path)
                cpu.append(time.process_time() - c0)
            line.append(
                f"{name} {statistics.median(cpu) * 1000:5.1f} ms (min {min(cpu) * 1000:4.1f}) "
                f"{len(queries):2d} queries"
            )
        context_processors.qloop = real  # type: ignore[assignment]
        engine.__dict__.pop("template_context_processors", None)
        print(" | ".join(line))
    return 0


if __name__ == "__main__":
    sys.exit(main())
