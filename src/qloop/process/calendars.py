"""Working-day arithmetic on the Chinese statutory calendar (holidays and swapped working days)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from django.utils import timezone


def is_working_day(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # Beyond the years the package knows: fall back to Monday–Friday.
        return day.weekday() < 5


def add_days(start: dt.datetime, days: int, *, working: bool) -> dt.datetime:
    """``start`` plus ``days`` calendar days, or plus ``days`` working days at the same time of day.

    A working-day deadline counts whole working days after the day of ``start``; a case
    received on a holiday starts counting on the next working day.
    """
    if not working:
        return start + dt.timedelta(days=days)
    local = timezone.localtime(start)
    day = local.date()
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return local.replace(year=day.year, month=day.month, day=day.day)
