"""Loaded with ``-p`` before Django reads its settings: the test run's own environment."""

from __future__ import annotations

import os

# A queue of the test run's own, so a developer's running `qloop serve` never takes its jobs;
# and one per xdist worker, or one worker's test flushes the queue (or kills the consumer)
# another worker's test is waiting on.
_queue = os.environ.setdefault("QLOOP_QUEUE_NAME", f"qloop-test-{os.getpid()}")
_xdist = os.environ.get("PYTEST_XDIST_WORKER")
if _xdist and not _queue.endswith(f"-{_xdist}"):
    os.environ["QLOOP_QUEUE_NAME"] = f"{_queue}-{_xdist}"
# Rate-limit counters live in memory, so no run inherits another's (wrong passwords are
# counted in the database, rolled back with each test).
os.environ["QLOOP_CACHE"] = "locmem"
# The test client speaks plain HTTP; production's HTTPS redirect would answer every request 301.
os.environ["QLOOP_HTTPS"] = "false"
# Tests serve static files straight from the source, without a collectstatic manifest.
os.environ["QLOOP_STATIC_MANIFEST"] = "false"
