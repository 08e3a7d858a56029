"""Periodic jobs of the organisation app, run by the Huey worker."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from qloop.org.holidays import warn_if_next_year_unknown
from qloop.org.trail import check_and_alert


# 18:41 UTC is 02:41 in China: a quiet hour (Huey reads crontabs in UTC).
@db_periodic_task(crontab(minute="41", hour="18"))
def verify_trail_daily() -> bool:
    """Every night: walk the hash chains of every trail and alert the administrators when an
    entry was changed, deleted or inserted behind QLoop's back (issue 9.17). True when intact."""
    return all(report.ok for report in check_and_alert())


@db_periodic_task(crontab(minute="23", hour="8"))
def statutory_holidays_check() -> bool:
    """From 1 November, tell the administrators once when next year's holidays are unknown."""
    return warn_if_next_year_unknown()
