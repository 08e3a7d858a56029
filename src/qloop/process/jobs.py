"""Periodic jobs of the process app, run by the Huey worker."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, task

from qloop.process.clocks import sweep_breaches


@db_periodic_task(crontab(minute="*"))
def sweep_clocks() -> int:
    """Mark breached deadlines within a minute of the breach (X3)."""
    return sweep_breaches()


@task()
def ping() -> str:
    """Answers "pong": shows that a worker is consuming the queue."""
    return "pong"
