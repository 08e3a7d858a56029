"""The ``qloop`` command: serve, worker, demo, token, sweep, and Django's commands via ``manage``."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from typing import Any

DEMO_CASES_ON_FIRST_START = 120


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qloop.settings")
    import django

    django.setup()


def _manage(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def _names_of(host: str) -> list[str]:
    """The names a browser may use for a server bound to ``host``: for 0.0.0.0 or ::, this
    machine's name and addresses besides loopback."""
    import socket

    names = ["localhost", "127.0.0.1", "[::1]"]
    if host not in ("0.0.0.0", "::", ""):  # noqa: S104 - compared with, not bound to
        return [*names, f"[{host}]" if ":" in host else host]
    machine = socket.gethostname()
    names.append(machine)
    try:
        infos = socket.getaddrinfo(machine, None)
    except OSError:
        infos = []
    for info in infos:
        address = str(info[4][0])
        names.append(f"[{address}]" if ":" in address else address)
    return list(dict.fromkeys(names))


def default_workers() -> str:
    """One sync web worker per CPU core, at least two (measured in bench/RESULTS-pages.md)."""
    return str(max(2, os.cpu_count() or 1))


def _site_url(host: str, port: int) -> str:
    """The address links in messages use when SITE_URL is unset: the one ``serve`` was started
    with (issue 12.20). Bound to every interface, the machine's first address another computer
    can reach (a customer's phone cannot open 127.0.0.1), else its name."""
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - compared with, not bound to
        reachable = [n for n in _names_of(host) if n not in ("localhost", "127.0.0.1", "[::1]")]
        ipv4 = [n for n in reachable if n.replace(".", "").isdigit()]
        host = (ipv4 or reachable or ["127.0.0.1"])[0]
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _banner(url: str, site_url: str) -> str:
    """What a person needs after the start: the address (first and last), the logins, where
    e-mails went. Printed once the server listens, so nothing buries it (issue 12.19)."""
    from django.conf import settings

    from qloop.org.models import User

    lines = ["", "=" * 64, f"QLoop is running at {url}"]
    if User.objects.filter(username="cs").exists():
        from qloop.demo.registry import demo_logins

        lines.append("Demo logins (password: QLOOP_DEMO_PASSWORD, default “demo”):")
        lines.append("  " + ", ".join(name for name, _who in demo_logins()))
    lines.append(f"Links in messages: {site_url}")
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        lines.append(
            f"E-mails are not sent: they are written to {settings.EMAIL_FILE_PATH} "
            "(and listed in the admin's outbox); set EMAIL_URL to send them."
        )
    lines.append(f"Data directory: {settings.DATA_DIR}   Stop with Ctrl+C.")
    lines.append(f"Open {url} in a browser.")
    lines.append("=" * 64)
    return "\n".join(lines) + "\n"


def serve(host: str, port: int, workers: int, *, debug: bool = False) -> int:
    """Migrate, load the demo on the first start, start the worker and the web server.

    DEBUG stays off unless asked for (``--debug`` or DEBUG=true): the debug page shows
    tracebacks and settings to whoever causes an error, and ``--host 0.0.0.0`` is reachable by
    every computer on the network. Without DEBUG Django answers only to the names in
    ALLOWED_HOSTS; unless it is set, those are the names this machine is reached by.
    Without SITE_URL, links in messages use the address the server was started with (the
    worker, started from here, inherits it).
    """
    if debug:
        os.environ["DEBUG"] = "true"
    if not os.environ.get("ALLOWED_HOSTS"):
        os.environ["ALLOWED_HOSTS"] = ",".join(_names_of(host))
    if not os.environ.get("SITE_URL"):
        os.environ["SITE_URL"] = _site_url(host, port)
    _django()
    from django.conf import settings
    from django.core.management import call_command

    from qloop.org.models import User

    call_command("migrate", interactive=False, verbosity=0)
    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)
    first_start = not User.objects.exists()
    if first_start and os.environ.get("QLOOP_NO_DEMO", "") == "":
        # A few months of history is enough to look around; its size is most of the first
        # start (issue 12.19, bench/start_bench.py). `qloop demo --cases 300` adds more.
        cases = int(os.environ.get("QLOOP_DEMO_CASES", "") or DEMO_CASES_ON_FIRST_START)
        print(f"First start: loading the demo organisation ({cases} complaints) …", flush=True)
        call_command("demo", cases=cases)
    worker = subprocess.Popen([sys.executable, "-m", "qloop.cli", "worker", "--quiet"])

    def stop(signum: int, frame: Any) -> None:
        worker.terminate()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"  # noqa: S104
    banner = _banner(url, settings.SITE_URL)
    try:
        from gunicorn.app.base import BaseApplication

        from qloop.wsgi import application

        def when_ready(server: Any) -> None:
            print(banner, flush=True)

        class App(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", workers)
                # Sync workers, no threads: side by side with the peer (bench/RESULTS-pages.md)
                # 2 × 4 threads halved registration and the login page on 2 cores and helped
                # no page; the pages are CPU-bound and threads share one interpreter lock.
                self.cfg.set("threads", int(os.environ.get("QLOOP_WEB_THREADS", "1")))
                self.cfg.set("accesslog", "-" if settings.DEBUG else None)
                # Gunicorn's start-up lines would follow the banner; warnings still show.
                self.cfg.set("loglevel", "info" if settings.DEBUG else "warning")
                self.cfg.set("timeout", 60)
                self.cfg.set("when_ready", when_ready)

            def load(self) -> Any:
                return application

        App().run()
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="qloop",
        description="QLoop 质量信息反馈系统 — quality information feedback. "
        "`qloop COMMAND --help` describes a command's flags.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p_serve = sub.add_parser(
        "serve",
        help="start the web server and the worker (migrates; loads the demo on the first start)",
        description="Migrate the database, load the demo organisation on the first start "
        "(unless QLOOP_NO_DEMO=1), start the background worker and the web server. "
        "E-mails go to files under the data directory unless EMAIL_URL is set. "
        "Environment: SITE_URL (the address in links; default the one served on), "
        "QLOOP_NO_DEMO=1, QLOOP_DEMO_CASES (default 120), QLOOP_DATA_DIR, EMAIL_URL.",
    )
    p_serve.add_argument(
        "--host",
        default=os.environ.get("QLOOP_HOST", "127.0.0.1"),
        help="address to listen on (default 127.0.0.1, this computer only; 0.0.0.0 for every "
        "computer on the network; env QLOOP_HOST)",
    )
    p_serve.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("QLOOP_PORT", "8000")),
        help="port to listen on (default 8000; env QLOOP_PORT). Without SITE_URL, links in "
        "messages use this host and port",
    )
    p_serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY", default_workers())),
        help="web server processes (default one per CPU core, at least 2; env WEB_CONCURRENCY; "
        "threads per process: env QLOOP_WEB_THREADS, default 1)",
    )
    p_serve.add_argument(
        "--debug",
        action="store_true",
        help="Django's DEBUG mode (tracebacks for developers; never on a shared network)",
    )
    p_worker = sub.add_parser("worker", help="run the background worker (deadline sweep, messages)")
    p_worker.add_argument("--quiet", action="store_true", help="log only warnings and errors")
    sub.add_parser("demo", help="load the demo organisation (idempotent)")
    p_token = sub.add_parser("token", help="API tokens")
    p_token.add_argument("action", choices=["create"], help="create a token")
    p_token.add_argument("username", help="the user the token acts as")
    p_token.add_argument("--name", default="cli", help="a name to recognise the token by")
    p_sweep = sub.add_parser("sweep", help="run the deadline sweep once")
    p_sweep.add_argument("--now", default="", help="ISO time to sweep as of")
    p_sweep.add_argument("--dry-run", action="store_true", help="report only, change nothing")
    p_verify = sub.add_parser(
        "verify-trail",
        help="check the audit trail's hash chains: exit 0 with the count, 1 at the first break",
    )
    p_verify.add_argument("--alert", action="store_true", help="alert administrators if broken")
    p_hl7 = sub.add_parser("hl7-listen", help="take HL7 v2 results over MLLP (clinical)")
    p_hl7.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p_hl7.add_argument("--port", type=int, default=2575, help="port to listen on (default 2575)")
    sub.add_parser("manage", help="Django's manage.py commands", add_help=False)

    if argv and argv[0] == "manage":
        _django()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["qloop manage", *argv[1:]])
        return 0
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.host, args.port, args.workers, debug=args.debug)
    _django()
    if args.command == "worker":
        _manage("run_huey", *(["--quiet"] if args.quiet else []))
    elif args.command == "demo":
        _manage("demo")
    elif args.command == "token":
        _manage("token", args.action, args.username, "--name", args.name)
    elif args.command == "hl7-listen":
        _manage("hl7_listen", "--host", args.host, "--port", str(args.port))
    elif args.command == "verify-trail":
        from django.core.management.base import CommandError

        try:
            _manage("verify_trail", *(["--alert"] if args.alert else []))
        except CommandError as exc:
            print(exc, file=sys.stderr)
            return exc.returncode
    elif args.command == "sweep":
        _manage(
            "sweep",
            *(["--now", args.now] if args.now else []),
            *(["--dry-run"] if args.dry_run else []),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
