"""How long the first start takes (issue 12 point 19): from `serve` to the first page.

Two cases, each on a fresh data folder and the default embedded set-up (SQLite, no Redis, no
SITE_URL, no EMAIL_URL), timed by the wall clock:

- ``--venv built``: the virtual environment exists (as after a first `dev.py lint` or an
  earlier start); ``.venv/bin/qloop serve`` — migrate, collectstatic, demo, worker, server;
- ``--venv none``: a fresh ``git clone`` of this repository, then ``python3 dev.py serve``,
  which also creates .venv and installs the pinned dependencies (from pip's cache and the
  machine's package index: network speed is not QLoop's own).

For each it prints, as JSON, the seconds to: the demo starting ("First start" line), the
banner, the login page answering 200, and the output's line count and whether the banner is
its end. Run it with nothing else heavy on the machine:

    nice -n 10 .venv/bin/python bench/start_bench.py --venv built
    nice -n 10 .venv/bin/python bench/start_bench.py --venv none
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What a person's shell does not have: the test and CI settings.
NOT_IN_A_FRESH_SHELL = (
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "EMAIL_URL",
    "QLOOP_DATA_DIR",
    "QLOOP_NO_DEMO",
    "DJANGO_SETTINGS_MODULE",
    "VIRTUAL_ENV",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def run(command: list[str], cwd: Path, *, timeout: float, source: str = "") -> dict[str, object]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in NOT_IN_A_FRESH_SHELL}
    if source:
        env["PYTHONPATH"] = source
    log_path = cwd / "serve.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    marks: dict[str, float] = {}
    try:
        while time.monotonic() - started < timeout:
            if server.poll() is not None:
                raise SystemExit(f"serve stopped:\n{log_path.read_text()}")
            text = log_path.read_text(encoding="utf-8", errors="replace")
            now = round(time.monotonic() - started, 1)
            if "First start" in text:
                marks.setdefault("demo_started", now)
            if "QLoop is running at" in text:
                marks.setdefault("banner", now)
            try:
                if status(port, "/login/") == 200:
                    marks["first_page"] = round(time.monotonic() - started, 1)
                    break
            except OSError:
                pass
            time.sleep(0.25)
        else:
            raise SystemExit(f"no first page after {timeout} s:\n{log_path.read_text()}")
        time.sleep(2)  # let anything printed after the banner arrive
        lines = [
            line
            for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines()
            if line.strip()
        ]
        marks["output_lines"] = len(lines)
        marks["banner_is_last"] = (
            bool(lines) and lines[-1].startswith("====") and ("Open http" in lines[-2])
        )
        return marks
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", choices=["built", "none"], default="built")
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument(
        "--source",
        default="",
        help="another checkout's src/ to run with the built .venv (e.g. the commit before)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qloop-start-") as tmp:
        work = Path(tmp)
        if args.venv == "built":
            # A fresh data folder is what a fresh clone has (var/ is not in git).
            result = run(
                [str(ROOT / ".venv" / "bin" / "qloop"), "serve"],
                work,
                timeout=600,
                source=args.source,
            )
            result["source"] = args.source or "this checkout"
        else:
            clone = work / "qloop"
            t0 = time.monotonic()
            subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
            cloned = round(time.monotonic() - t0, 1)
            result = run([sys.executable, "dev.py", "serve"], clone, timeout=args.timeout)
            result["clone"] = cloned
        result["venv"] = args.venv
        result["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
