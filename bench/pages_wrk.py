#!/usr/bin/env python3
"""Requests per second of QLoop's main pages through gunicorn, loaded by wrk exactly as the peer
harness loads django-helpdesk (``../shared/peers/django-helpdesk``: ``wrk -t1 -c2``, the same
Lua script), for one or more gunicorn configurations (issue 14).

    .venv/bin/python bench/pages_wrk.py --data-dir /tmp/qloop-bench/sqlite-100k \\
        --config 2x1 --config 2x4 --config 4x1 --duration 10

A configuration is ``WORKERSxTHREADS``. Pages: /healthz and /login/ (the floor), the register
(/cases/), a case page (the newest, and one of 2,000 at random per request as the peer's ticket
page is measured), My work (qe), the API list, and registration (the form POST → 302).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from common import DEFAULT_PASSWORD, add_common_arguments, bench_environment
from scenarios import HttpClient, load_average, login, start_gunicorn

LUA = Path(__file__).resolve().parent / "wrk" / "bench.lua"


def registration_body(port: int, cookie: str) -> str:
    """A valid complaint form with the form's CSRF token; ``{n}`` varies the serial number."""
    client = HttpClient(port, cookie)
    status, _h, body, _c = client.request("GET", "/cases/new/")
    m = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or m is None:
        raise SystemExit(f"GET /cases/new/ gave HTTP {status} without a CSRF token")
    from django.utils import timezone

    received = (timezone.localtime() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    form = {
        "csrfmiddlewaretoken": m.group(1).decode(),
        "received_at": received,
        "channel": "phone",
        "contact_name": "李建国",
        "contact_gender": "male",
        "contact_phone": "13912345678",
        "contact_email": "ljg@example.cn",
        "contact_organisation": "无锡新区自来水公司",
        "product_specification": "65-200, 15kW",
        "product_model": "QL-CP65",
        "product_quantity": "3",
        "product_serial_number": "CP65-BENCH-NNN",
        "symptom": "泵体异响，振动明显。",
        "current_status": "已停机。",
        "category": "1A",
        "severity": "major",
    }
    return urllib.parse.urlencode(form).replace("NNN", "{n}")


def wrk(port: int, path: str, seconds: int, cookie: str = "", **env: str) -> dict[str, Any]:
    cmd = [
        "wrk",
        "-t1",
        "-c2",
        f"-d{seconds}s",
        "--timeout=120s",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}{path}",
    ]
    run_env = {
        **os.environ,
        "BENCH_PATH": path,
        "BENCH_COOKIE": cookie,
        "BENCH_MAX_REQ": "20000",
        **env,
    }
    out = subprocess.run(
        cmd, env=run_env, capture_output=True, text=True, timeout=seconds + 180, check=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line[len("RESULT ") :])
    result["command"] = " ".join(cmd)
    return result


def workers_cpu(master: int) -> float:
    """CPU seconds (user + system) used so far by gunicorn's workers, the master's children:
    the server's own cost per request, apart from wrk's and the kernel's network work."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # fields[1] is the parent's pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--config", action="append", default=[], help="WORKERSxTHREADS")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--case", default="", help="case number for the case page")
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--output", default="", help="append the results as JSON lines here")
    args = parser.parse_args(argv)
    env = bench_environment(args.database_url, args.data_dir)
    os.environ.update(env)
    import django

    django.setup()
    from scenarios import newest_case_number

    def random_case_numbers(count: int) -> list[str]:
        from qloop.cases.models import Case

        ids = list(Case.objects.values_list("id", flat=True))
        chosen = random.Random(14).sample(ids, min(count, len(ids)))
        return list(Case.objects.filter(id__in=chosen).values_list("number", flat=True))

    number = args.case or newest_case_number()
    password = os.environ.get("QLOOP_DEMO_PASSWORD", DEFAULT_PASSWORD)
    for config in args.config or ["2x1"]:
        workers, threads = (int(x) for x in config.split("x"))
        proc = start_gunicorn(env, args.port, workers, threads)
        try:
            cs = login(args.port, "cs", password)
            qe = login(args.port, "qe", password)
            pages: list[tuple[str, str, str, dict[str, str]]] = [
                ("healthz", "/healthz", "", {}),
                ("login page", "/login/", "", {}),
                ("register /cases/", "/cases/", cs, {}),
                ("case page", f"/cases/{number}/", cs, {}),
                ("My work (qe)", "/my-work/", qe, {}),
                ("API list", "/api/v1/cases", cs, {}),
                (
                    "registration POST",
                    "/cases/new/",
                    cs,
                    {
                        "BENCH_METHOD": "POST",
                        "BENCH_BODY": registration_body(args.port, cs),
                        "BENCH_EXPECT": "302",
                    },
                ),
            ]
            # The peer's ticket page takes a random ticket each request: so does this one,
            # over 2,000 cases drawn from the whole register.
            paths_file = Path(env["QLOOP_DATA_DIR"]) / "bench-case-paths.txt"
            paths_file.write_text(
                "".join(f"/cases/{n}/\n" for n in random_case_numbers(2000)), encoding="utf-8"
            )
            pages.insert(4, ("case page (random)", "/cases/", cs, {"BENCH_PATHS": str(paths_file)}))
            if args.only:
                wanted = set(args.only.split(","))
                pages = [p for p in pages if p[0] in wanted]
            for name, path, cookie, extra in pages:
                load = load_average()
                before = workers_cpu(proc.pid)
                r = wrk(args.port, path, args.duration, cookie, **extra)
                served = r["requests"]
                cpu_ms = (workers_cpu(proc.pid) - before) * 1000 / served if served else 0.0
                r.update(
                    page=name,
                    config=config,
                    load=load,
                    at=time.strftime("%H:%M:%S"),
                    workers_cpu_ms=round(cpu_ms, 2),
                )
                print(
                    f"{config:>4} {name:<20} {r['rps']:8.1f} req/s  p50 {r['p50_us'] / 1000:7.1f}"
                    f" ms  p95 {r['p95_us'] / 1000:7.1f} ms  workers' CPU {cpu_ms:5.2f} ms/req"
                    f"  bad {r['bad_status']}  (load {load})",
                    flush=True,
                )
                if args.output:
                    with open(args.output, "a", encoding="utf-8") as f:
                        f.write(json.dumps(r, ensure_ascii=False) + "\n")
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
