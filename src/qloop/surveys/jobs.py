"""Periodic jobs of the surveys app, run by the Huey worker."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from qloop.surveys.overdue import warn_if_no_recent_survey


@db_periodic_task(crontab(minute="17", hour="8"))
def survey_overdue_check() -> bool:
    """Warn Supply and Sales when no satisfaction survey ran for 11 months (R2.5 c)."""
    return warn_if_no_recent_survey()
