"""Periodic jobs of the org app, run by the Huey worker."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from qloop.org.holidays import warn_if_next_year_unknown


@db_periodic_task(crontab(minute="23", hour="8"))
def statutory_holidays_check() -> bool:
    """From 1 November, tell the administrators once when next year's holidays are unknown."""
    return warn_if_next_year_unknown()
