"""The background worker consumes the real queue: Huey on SQLite by default, on Redis when
REDIS_URL is set (the PostgreSQL run of .ci/run)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from django.conf import settings


@pytest.fixture
def real_queue() -> Iterator[None]:
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = False
    HUEY.flush()
    yield
    HUEY.immediate = True


@pytest.mark.worker
def test_a_started_worker_runs_queued_jobs(real_queue: None) -> None:
    from huey.contrib.djhuey import HUEY

    from qloop.process.jobs import ping

    assert HUEY.name.startswith("qloop-test-"), "the test run must use a queue of its own"
    worker = subprocess.Popen(
        [sys.executable, "-m", "qloop.cli", "worker"],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        result = ping()
        assert result.get(blocking=True, timeout=60) == "pong"
    finally:
        worker.terminate()
        output = worker.communicate(timeout=20)[0].decode(errors="replace")
    expected = "RedisHuey" if settings.REDIS_URL else "SqliteHuey"
    assert type(HUEY).__name__ == expected, output
