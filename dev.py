#!/usr/bin/env python3
"""Set up and run QLoop with nothing but Python 3.11+.

    python3 dev.py serve [--host H] [--port P] [--workers N] [--debug]
                           # install, migrate, load the demo, start web server and worker
    python3 dev.py test [pytest args]   # install with the test tools and run pytest
    python3 dev.py lint    # ruff, formatting, migrations up to date, mypy
    python3 dev.py --help  # this text; `python3 dev.py serve --help` describes each flag

The virtual environment lives in ./.venv; installs are pinned by constraints.txt and are
redone only when pyproject.toml or constraints.txt change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

HELP = """usage: python3 dev.py [COMMAND] [FLAGS…]

Set up QLoop in ./.venv (pinned by constraints.txt; reinstalled only when pyproject.toml or
constraints.txt change) and run it. Commands:

  serve   (the default) migrate, load the demo organisation on the first start, start the
          worker and the web server, then print the address and the demo logins.
          Flags:
            --host H      address to listen on (default 127.0.0.1; 0.0.0.0 = the network)
            --port P      port (default 8000); links in messages use host:port unless
                          SITE_URL is set
            --workers N   web server processes (default one per CPU core, at least 2)
            --debug       Django's DEBUG mode (never on a shared network)
          E-mails are written to var/mail/ (and listed in the admin's outbox) unless
          EMAIL_URL is set; QLOOP_NO_DEMO=1 starts without the demo.
  test    install the test tools and run pytest; flags go to pytest
          (e.g. python3 dev.py test tests/surveys -q)
  lint    ruff, formatting, makemigrations --check, mypy

`python3 dev.py serve --help` lists the server's flags as `qloop serve --help` describes them."""

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _ensure_env(extras: str) -> None:
    if not (BIN / "python").exists():
        print("Creating the virtual environment in .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + (ROOT / "constraints.txt").read_bytes()
    ).hexdigest()
    stamp = VENV / f".installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("Installing QLoop and its pinned dependencies …", flush=True)
    target = f".[{extras}]" if extras else "."
    subprocess.run(
        [
            str(BIN / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-c",
            "constraints.txt",
            "-e",
            target,
        ],
        cwd=ROOT,
        check=True,
    )
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs on whatever python3 is
        sys.exit("QLoop needs Python 3.11 or newer.")
    command = argv[0] if argv else "serve"
    rest = argv[1:]
    if command in ("-h", "--help", "help"):
        print(HELP)
        return 0
    if command == "serve":
        _ensure_env("")
        return subprocess.call([str(BIN / "qloop"), "serve", *rest], cwd=ROOT)
    if command == "test":
        _ensure_env("dev")
        return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)
    if command == "lint":
        _ensure_env("dev")
        steps = [
            [str(BIN / "ruff"), "check", "."],
            [str(BIN / "ruff"), "format", "--check", "."],
            [str(BIN / "qloop"), "manage", "makemigrations", "--check", "--dry-run"],
            [str(BIN / "mypy")],
        ]
        for step in steps:
            print(
                "$",
                " ".join(Path(step[0]).name if i == 0 else a for i, a in enumerate(step)),
                flush=True,
            )
            if subprocess.call(step, cwd=ROOT) != 0:
                return 1
        return 0
    print(HELP, file=sys.stderr)
    sys.exit(f"\nunknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
