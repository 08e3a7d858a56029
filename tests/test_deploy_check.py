"""`qloop manage check --deploy` is clean with the production settings of the README, with the
attempt limits, the Content-Security-Policy and their middleware in place (issue 9)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

# The test run's own settings, which production does not have.
TEST_ONLY = ("QLOOP_HTTPS", "QLOOP_STATIC_MANIFEST", "QLOOP_CACHE", "DEBUG", "REDIS_URL")


def test_the_deploy_check_is_clean_with_the_readmes_production_settings(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY}
    env |= {
        # Only named: the check does not connect to the database.
        "DATABASE_URL": "postgres://qloop:secret@db.example.com:5432/qloop",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "qloop.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://qloop.example.com",
        "SITE_URL": "https://qloop.example.com",
        "QLOOP_BEHIND_TLS_PROXY": "true",
        "QLOOP_DATA_DIR": str(tmp_path),
    }

    done = subprocess.run(
        [sys.executable, "-m", "qloop.cli", "manage", "check", "--deploy", "--fail-level", "INFO"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
