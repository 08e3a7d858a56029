"""Periodic jobs of the process app, run by the Huey worker."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, task

from qloop.process.clocks import sweep


@db_periodic_task(crontab(minute="*"))
def sweep_clocks() -> int:
    """Within a minute: mark breached deadlines, remind before due times, climb the
    escalation ladders (X3, R2.8)."""
    return sweep().breached


@task()
def ping() -> str:
    """Answers "pong": shows that a worker is consuming the queue."""
    return "pong"
