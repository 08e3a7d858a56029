"""Kept for older imports: working-day arithmetic now lives in ``qloop.org.calendars``.

Both functions use the default working calendar (its statutory holidays, swapped working days
and the overrides entered in the app).
"""

from __future__ import annotations

import datetime as dt

from qloop.org.calendars import default_calendar


def is_working_day(day: dt.date) -> bool:
    return default_calendar().is_working_day(day)


def add_days(start: dt.datetime, days: int, *, working: bool) -> dt.datetime:
    """``start`` plus ``days`` calendar days, or plus ``days`` working days at the same time of day.

    A working-day deadline counts whole working days after the day of ``start``; a case
    received on a holiday starts counting on the next working day.
    """
    if not working:
        return start + dt.timedelta(days=days)
    return default_calendar().add(start, days, "working_days")
