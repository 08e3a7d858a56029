#!/usr/bin/env python3
"""Set up and run QLoop with nothing but Python 3.11+.

    python3 dev.py serve   # install, migrate, load the demo, start web server and worker
    python3 dev.py test    # install with the test tools and run the whole test suite
    python3 dev.py lint    # ruff, formatting, migrations up to date, mypy

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
    sys.exit(f"usage: python3 dev.py serve|test|lint [args…] (got {command!r})")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
