"""Periodic jobs of the pharmacy profile, run by the Huey worker."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from qloop.pharmacy.summaries import produce_due


@db_periodic_task(crontab(minute="20", hour="6", day="1"))
def pharmacy_summaries() -> int:
    """On the first of the month: the summaries of the month (and quarter) just ended (R3.2)."""
    return len(produce_due())
