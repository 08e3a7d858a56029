#!/usr/bin/env python3
"""A web worker's memory under an hour of mixed load (issue 14: "under 150 MB after an hour").

    .venv/bin/python bench/soak.py --data-dir /tmp/qloop-bench/sqlite-100k --minutes 60 \\
        --rate 8 --output bench/results/soak-100k.jsonl

Starts gunicorn as ``qloop serve`` does (sync workers, no threads; ``--workers``, default 2),
logs in the CS clerk, a quality engineer and the general manager, and sends a mix of what they
do at about ``--rate`` requests a second from two client threads: the register with filters
and pages, search, random case pages, My work, the boards, the API, and registrations (the
form POST, so the register grows). Every ``--every`` seconds it writes each worker's resident
memory (VmRSS, and the peak VmHWM, from ``/proc``) with the requests so far. The workers are
never restarted (gunicorn's ``max_requests`` is off, as in ``qloop serve``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from common import DEFAULT_PASSWORD, add_common_arguments, bench_environment
from pages_wrk import registration_body
from scenarios import HttpClient, load_average, login, start_gunicorn


def children(pid: int) -> list[int]:
    """The gunicorn master's worker processes."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command may hold spaces and parentheses: the parent pid follows the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def memory_mb(pid: int) -> dict[str, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = round(int(rest.split()[0]) / 1024, 1)
    return values


def case_numbers(limit: int) -> list[str]:
    from qloop.cases.models import Case

    numbers = list(Case.objects.order_by("?").values_list("number", flat=True)[:limit])
    if not numbers:
        raise SystemExit("the register is empty: run bench/generate.py first")
    return numbers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--rate", type=float, default=8, help="requests a second, about")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--every", type=int, default=60, help="seconds between samples")
    parser.add_argument("--port", type=int, default=8793)
    parser.add_argument("--output", default="", help="append the samples as JSON lines here")
    args = parser.parse_args(argv)
    env = bench_environment(args.database_url, args.data_dir)
    os.environ.update(env)
    import django

    django.setup()
    numbers = case_numbers(5000)
    password = os.environ.get("QLOOP_DEMO_PASSWORD", DEFAULT_PASSWORD)
    proc = start_gunicorn(env, args.port, args.workers, 1)
    counts = {"requests": 0, "errors": 0}
    lock = threading.Lock()
    stop = threading.Event()
    try:
        cs, qe, gm = (login(args.port, u, password) for u in ("cs", "qe", "gm"))
        form = registration_body(args.port, cs)
        rng = random.Random(14)
        # (weight, method, path-maker, cookie, expected status)
        mix: list[tuple[int, str, Any, str, int]] = [
            (30, "GET", lambda: f"/cases/{rng.choice(numbers)}/", cs, 200),
            (12, "GET", lambda: f"/cases/?page={rng.randint(1, 40)}", cs, 200),
            (6, "GET", lambda: "/cases/?state=open&severity=major", qe, 200),
            (
                6,
                "GET",
                lambda: "/cases/?q=" + quote(rng.choice(["异响", "泄漏", "振动", "电机"])),
                cs,
                200,
            ),
            (12, "GET", lambda: "/my-work/", qe, 200),
            (6, "GET", lambda: "/my-work/", cs, 200),
            (5, "GET", lambda: "/", gm, 200),
            (4, "GET", lambda: "/", qe, 200),
            (8, "GET", lambda: "/api/v1/cases", cs, 200),
            (6, "GET", lambda: f"/api/v1/cases/{rng.choice(numbers)}", cs, 200),
            (5, "POST", lambda: "/cases/new/", cs, 302),
        ]
        weights = [m[0] for m in mix]
        interval = 2.0 / args.rate  # two client threads
        deadline = time.monotonic() + args.minutes * 60

        def client(seed: int) -> None:
            local = random.Random(seed)
            conns = {c: HttpClient(args.port, c) for c in (cs, qe, gm)}
            n = 0
            while not stop.is_set() and time.monotonic() < deadline:
                started = time.monotonic()
                _w, method, path, cookie, expect = local.choices(mix, weights)[0]
                body, headers = None, None
                if method == "POST":
                    n += 1
                    body = form.replace("{n}", f"{seed}-{n}")
                    headers = {"Content-Type": "application/x-www-form-urlencoded"}
                try:
                    status = conns[cookie].request(method, path(), body, headers)[0]
                except Exception:  # a failed request is counted, not fatal
                    status = 0
                with lock:
                    counts["requests"] += 1
                    counts["errors"] += status != expect
                stop.wait(max(0.0, interval - (time.monotonic() - started)))

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in (1, 2)]
        for t in threads:
            t.start()
        began = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(min(args.every, max(0.0, deadline - time.monotonic())))
            sample = {
                "minute": round((time.monotonic() - began) / 60, 1),
                **counts,
                "load": load_average(),
                "workers": {str(pid): memory_mb(pid) for pid in children(proc.pid)},
            }
            print(json.dumps(sample), flush=True)
            if args.output:
                with open(args.output, "a", encoding="utf-8") as f:
                    f.write(json.dumps(sample) + "\n")
        stop.set()
        for t in threads:
            t.join(timeout=130)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
