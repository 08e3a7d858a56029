"""Shared set-up for the benchmark scripts: point QLoop at a benchmark database and start Django.

Both scripts run QLoop as production would (DEBUG off) but over plain HTTP on 127.0.0.1, with
their own data folder so that the developer's ``var/`` is never touched.
"""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = str(Path(tempfile.gettempdir()) / "qloop-bench")
# The demo users' password in benchmark databases; only ever used on 127.0.0.1.
DEFAULT_PASSWORD = "bench-Qloop-2026"  # noqa: S105


def add_common_arguments(parser: object) -> None:
    """``--database-url`` and ``--data-dir``, shared by every script in bench/."""
    parser.add_argument(  # type: ignore[attr-defined]
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="postgres://… for PostgreSQL; empty for SQLite in the data folder (default: "
        "$DATABASE_URL)",
    )
    parser.add_argument(  # type: ignore[attr-defined]
        "--data-dir",
        default=os.environ.get("QLOOP_DATA_DIR", DEFAULT_DATA_DIR),
        help=f"QLOOP_DATA_DIR for the run (default: $QLOOP_DATA_DIR or {DEFAULT_DATA_DIR})",
    )


def bench_environment(database_url: str, data_dir: str) -> dict[str, str]:
    """The environment variables QLoop reads, set for a benchmark run."""
    if Path(data_dir).resolve() == (Path(__file__).resolve().parent.parent / "var"):
        raise SystemExit("Refusing to benchmark in the development data folder var/.")
    env = {
        "DATABASE_URL": database_url,
        "QLOOP_DATA_DIR": str(Path(data_dir).resolve()),
        "QLOOP_DEMO_PASSWORD": os.environ.get("QLOOP_DEMO_PASSWORD", DEFAULT_PASSWORD),
        "DEBUG": "false",
        "QLOOP_HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "qloop.settings",
    }
    return env


def setup_django(database_url: str, data_dir: str) -> dict[str, str]:
    """Apply the benchmark environment to this process and start Django."""
    env = bench_environment(database_url, data_dir)
    Path(env["QLOOP_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    import django

    django.setup()
    return env


def database_label() -> str:
    """``PostgreSQL 15.20`` or ``SQLite 3.40.1``, for reports."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SHOW server_version")
            return f"PostgreSQL {cur.fetchone()[0].split()[0]}"
        cur.execute("SELECT sqlite_version()")
        return f"SQLite {cur.fetchone()[0]}"


def machine_description() -> str:
    """CPU count, model and memory of this machine, for the results file."""
    cpus = os.cpu_count() or 0
    model = ""
    meminfo = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                meminfo = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
                break
    except OSError:
        pass
    try:
        nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout
    except OSError:
        nproc = ""
    parts = [
        f"{cpus} CPUs (nproc {nproc.strip() or '?'})",
        model,
        meminfo,
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
    ]
    return ", ".join(p for p in parts if p)


def print_profile(profiler: Any, sort: str, top: int, save: str | None = None) -> None:
    """The top of a cProfile, sorted; also written to ``save`` (pstats) when given."""
    import io
    import pstats

    out = io.StringIO()
    stats: Any = pstats.Stats(profiler, stream=out)
    stats.sort_stats(sort).print_stats(top)
    if save:
        stats.dump_stats(save)
    print(out.getvalue())
