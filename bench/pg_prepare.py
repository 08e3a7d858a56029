#!/usr/bin/env python3
"""Client and PostgreSQL server CPU per request with and without prepared statements
(``QLOOP_PG_PREPARE``, issue 14): run it once with ``plain`` and once with ``prep``, in turns.

    .venv/bin/python bench/pg_prepare.py plain --database-url postgres://postgres@127.0.0.1:5432/qloop_pg1m \\
        --data-dir /tmp/pg1m-1m /cases/QC-2026-289241/ /cases/ /api/v1/cases

The server's CPU is read from ``/proc/<backend pid>/schedstat`` (same machine only).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from common import add_common_arguments, setup_django


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("mode", choices=["plain", "prep"])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--user", default="cs")
    args = parser.parse_args(argv)
    import os

    os.environ["QLOOP_PG_PREPARE"] = "1" if args.mode == "prep" else "0"
    setup_django(args.database_url, args.data_dir)
    from django.db import connection
    from django.test import Client

    from qloop.org.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=args.user))

    def server_ms() -> float:
        pid = connection.connection.info.backend_pid
        with open(f"/proc/{pid}/schedstat", encoding="ascii") as f:
            return int(f.read().split()[0]) / 1e6

    for path in args.paths:
        for _ in range(5):
            assert client.get(path).status_code == 200, path
        cpu, server = [], []
        for _ in range(args.requests):
            s0, c0 = server_ms(), time.process_time()
            client.get(path)
            cpu.append((time.process_time() - c0) * 1000)
            server.append(server_ms() - s0)
        print(
            f"{args.mode} {path}: client CPU {statistics.median(cpu):.2f} ms, "
            f"server CPU {statistics.median(server):.2f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
