"""Working-time arithmetic on working calendars (X3, R1.3, R2.3).

A deadline runs in calendar hours or days (24 × 7), or in working hours or days: only the
working periods (e.g. 08:30–12:00 and 13:30–17:30) of working days count. A day works or rests
by, in this order: an override entered in the app (a factory shutdown, an extra working
Saturday); the Chinese statutory holidays and swapped working days of the ``chinese_calendar``
package, for the years it knows; the calendar's working weekdays.

``WorkCalendar`` is an immutable snapshot of one calendar; ``get_calendar`` hands out cached
snapshots so that a sweep over many clocks does not query the database per clock. Everything
happens in local time (``settings.TIME_ZONE``); all datetimes in and out are aware.

Working time is counted in whole microseconds internally, so that ``working_seconds`` and
``add_working_seconds`` are exact inverses. When an amount of working time ends exactly where a
working period ends, the due time is that end (Friday 17:30), not the start of the next period.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, get_args

import chinese_calendar
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    from qloop.org.models import WorkingCalendar

log = logging.getLogger(__name__)

Unit = Literal["minutes", "hours", "days", "working_hours", "working_days"]
UNITS: tuple[Unit, ...] = get_args(Unit)

STANDARD_PERIODS: tuple[tuple[str, str], ...] = (("08:30", "12:00"), ("13:30", "17:30"))
MONDAY_TO_FRIDAY: tuple[int, ...] = (0, 1, 2, 3, 4)
CACHE_SECONDS = 60.0

_US = 1_000_000  # microseconds in a second
_DAY_US = 86_400 * _US
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")


class NoWorkingTime(ValueError):
    """The calendar has no working time left to count (no working day, or no working hours)."""


class InvalidPeriods(ValueError):
    """Working periods that cannot be used; ``message`` is translated, for forms and admin."""

    def __init__(self, message: _StrPromise, code: str, params: dict[str, Any] | None = None):
        self.message = message
        self.code = code
        self.params = params or {}
        super().__init__(str(message) % self.params if self.params else str(message))


def _minutes(text: object, *, end: bool) -> int:
    """Minutes since midnight of an ``HH:MM`` string; ``24:00`` is allowed as an end."""
    if isinstance(text, str) and (_TIME.match(text) or (end and text == "24:00")):
        hours, minutes = text.split(":")
        return int(hours) * 60 + int(minutes)
    raise InvalidPeriods(
        _("“%(value)s” is not a time of day written as HH:MM, such as 08:30."),
        "time",
        {"value": text},
    )


def parse_periods(raw: object) -> tuple[tuple[int, int], ...]:
    """Working periods as (start, end) microseconds since midnight, checked.

    ``raw`` is a list of ``["HH:MM", "HH:MM"]`` pairs, in order and not overlapping; an empty
    list is allowed here (a calendar that only counts days), the model asks for at least one.
    """
    if not isinstance(raw, list | tuple) or not all(
        isinstance(pair, list | tuple) and len(pair) == 2 for pair in raw
    ):
        raise InvalidPeriods(
            _('Working hours are a list of [start, end] pairs, such as [["08:30", "12:00"]].'),
            "shape",
        )
    periods: list[tuple[int, int]] = []
    previous: tuple[str, str, int] | None = None  # start, end, end in minutes
    for start_text, end_text in raw:
        start, end = _minutes(start_text, end=False), _minutes(end_text, end=True)
        if start >= end:
            raise InvalidPeriods(
                _("A working period must end after it starts: %(start)s–%(end)s."),
                "order",
                {"start": start_text, "end": end_text},
            )
        if previous is not None and start < previous[2]:
            raise InvalidPeriods(
                _(
                    "Working periods must be in order and must not overlap: "
                    "%(first)s and %(second)s."
                ),
                "overlap",
                {"first": f"{previous[0]}–{previous[1]}", "second": f"{start_text}–{end_text}"},
            )
        periods.append((start * 60 * _US, end * 60 * _US))
        previous = (start_text, end_text, end)
    return tuple(periods)


@cache
def _statutory_years() -> tuple[int, int]:
    """The first and last year the installed ``chinese_calendar`` has data for."""
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


class WorkCalendar:
    """An immutable snapshot of one working calendar, with the arithmetic the clocks use."""

    __slots__ = (
        "_day_us",
        "_first_finite_year",
        "_last_finite_year",
        "_periods_us",
        "_tz",
        "_years",
        "calendar_id",
        "code",
        "entered",
        "overrides",
        "periods",
        "statutory",
        "workdays",
    )

    def __init__(
        self,
        *,
        periods: Sequence[Sequence[str]] = STANDARD_PERIODS,
        workdays: Iterable[int] = MONDAY_TO_FRIDAY,
        statutory: bool = True,
        overrides: Mapping[dt.date, bool] | None = None,
        tz: dt.tzinfo | None = None,
        calendar_id: int | None = None,
        code: str = "",
        entered: Mapping[dt.date, bool] | None = None,
    ) -> None:
        self._periods_us = parse_periods(list(periods))
        self.periods: tuple[tuple[str, str], ...] = tuple((a, b) for a, b in periods)
        self.workdays = frozenset(workdays)
        if not self.workdays <= set(range(7)):
            raise ValueError(f"weekdays are 0 (Monday) to 6 (Sunday), not {sorted(self.workdays)}")
        self.statutory = statutory
        self.overrides: Mapping[dt.date, bool] = MappingProxyType(dict(overrides or {}))
        # Statutory days of the years the package does not know, from the notices entered in
        # the app (qloop.org.holidays); for a year the package knows, the package decides.
        first, last = _statutory_years()
        self.entered: Mapping[dt.date, bool] = MappingProxyType(
            {d: w for d, w in (entered or {}).items() if not first <= d.year <= last}
        )
        self._tz = tz or timezone.get_default_timezone()
        self.calendar_id = calendar_id
        self.code = code
        self._day_us = sum(end - start for start, end in self._periods_us)
        # Working days that do not come from the weekday rule (overrides, swapped working
        # days) lie in these years; a calendar without working weekdays has none outside.
        special = [day.year for day, working in self.overrides.items() if working]
        if statutory:
            special += [day.year for day in chinese_calendar.workdays]
            special += [day.year for day, working in self.entered.items() if working]
        self._first_finite_year = min(special, default=dt.MAXYEAR + 1)
        self._last_finite_year = max(special, default=dt.MINYEAR - 1)
        # Memo: the sorted ordinals of the working days of each year, built when first needed.
        self._years: dict[int, list[int]] = {}

    def __setattr__(self, name: str, value: object) -> None:
        # A snapshot is shared by every caller of get_calendar(): nobody may change it.
        if hasattr(self, name):
            raise AttributeError(f"a WorkCalendar cannot be changed ({name})")
        super().__setattr__(name, value)

    def __repr__(self) -> str:
        return (
            f"WorkCalendar(code={self.code!r}, periods={self.periods!r}, "
            f"workdays={sorted(self.workdays)!r}, statutory={self.statutory!r}, "
            f"overrides={len(self.overrides)})"
        )

    # Days -----------------------------------------------------------------------------------

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is worked: override, then statutory calendar, then weekday rule."""
        if isinstance(day, dt.datetime):
            day = self._local(day).date()
        override = self.overrides.get(day)
        if override is not None:
            return override
        if self.statutory:
            first, last = _statutory_years()
            if first <= day.year <= last:
                if day in chinese_calendar.holidays:
                    return False
                if day in chinese_calendar.workdays:
                    return True
            else:
                entered = self.entered.get(day)
                if entered is not None:
                    return entered
        return day.weekday() in self.workdays

    def _working_days_of(self, year: int) -> list[int]:
        days = self._years.get(year)
        if days is None:
            first = dt.date(year, 1, 1).toordinal()
            last = dt.date(year, 12, 31).toordinal()
            days = [
                o for o in range(first, last + 1) if self.is_working_day(dt.date.fromordinal(o))
            ]
            self._years[year] = days
        return days

    def _next_year(self, year: int, step: int) -> int:
        year += step
        beyond = year > self._last_finite_year if step > 0 else year < self._first_finite_year
        if (not self.workdays and beyond) or not dt.MINYEAR <= year <= dt.MAXYEAR:
            raise NoWorkingTime(
                f"calendar {self.code or '(unsaved)'} has no further working day "
                f"{'after' if step > 0 else 'before'} {year - step}"
            )
        return year

    def _nth_working_day_after(self, ordinal: int, n: int) -> int:
        """The ordinal of the ``n``-th (≥ 1) working day after the day ``ordinal``."""
        year = dt.date.fromordinal(ordinal).year
        days = self._working_days_of(year)
        index = bisect.bisect_right(days, ordinal)
        while index + n > len(days):
            n -= len(days) - index
            year = self._next_year(year, 1)
            days, index = self._working_days_of(year), 0
        return days[index + n - 1]

    def _nth_working_day_before(self, ordinal: int, n: int) -> int:
        """The ordinal of the ``n``-th (≥ 1) working day before the day ``ordinal``."""
        year = dt.date.fromordinal(ordinal).year
        days = self._working_days_of(year)
        index = bisect.bisect_left(days, ordinal)  # working days before: days[:index]
        while n > index:
            n -= index
            year = self._next_year(year, -1)
            days = self._working_days_of(year)
            index = len(days)
        return days[index - n]

    def _count_working_days(self, first: int, stop: int) -> int:
        """How many working days among the day ordinals ``first`` ≤ d < ``stop``."""
        if stop <= first:
            return 0
        count = 0
        last_year = dt.date.fromordinal(stop - 1).year
        for year in range(dt.date.fromordinal(first).year, last_year + 1):
            days = self._working_days_of(year)
            count += bisect.bisect_left(days, stop) - bisect.bisect_left(days, first)
        return count

    # Time within a day ----------------------------------------------------------------------

    def _local(self, moment: dt.datetime) -> dt.datetime:
        if timezone.is_naive(moment):
            raise ValueError(f"an aware datetime is needed, not {moment!r}")
        return timezone.localtime(moment, self._tz).replace(tzinfo=None)

    def _split(self, moment: dt.datetime) -> tuple[int, int]:
        """(day ordinal, microseconds since local midnight) of an aware datetime."""
        local = self._local(moment)
        since_midnight = (
            (local.hour * 60 + local.minute) * 60 + local.second
        ) * _US + local.microsecond
        return local.toordinal(), since_midnight

    def _join(self, ordinal: int, since_midnight: int) -> dt.datetime:
        naive = dt.datetime.combine(dt.date.fromordinal(ordinal), dt.time()) + dt.timedelta(
            microseconds=since_midnight
        )
        return timezone.make_aware(naive, self._tz)

    def _worked_by(self, since_midnight: int) -> int:
        """Working microseconds of a working day from midnight up to this time of day."""
        return sum(
            min(max(since_midnight - start, 0), end - start) for start, end in self._periods_us
        )

    def _time_when_worked(self, amount: int) -> int:
        """The earliest time of day by which ``amount`` (0 < amount ≤ a day's) has been worked."""
        for start, end in self._periods_us:
            if amount <= end - start:
                return start + amount
            amount -= end - start
        raise AssertionError("more than a day's working time")  # pragma: no cover

    # Working time ---------------------------------------------------------------------------

    def working_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """The working time between two instants, in seconds; 0 if ``end`` ≤ ``start``."""
        return self._working_us(start, end) / _US

    def _working_us(self, start: dt.datetime, end: dt.datetime) -> int:
        if end <= start:
            return 0
        first, since_first = self._split(start)
        last, since_last = self._split(end)
        if first == last:
            if not self.is_working_day(dt.date.fromordinal(first)):
                return 0
            return max(0, self._worked_by(since_last) - self._worked_by(since_first))
        total = self._day_us * self._count_working_days(first + 1, last)
        if self.is_working_day(dt.date.fromordinal(first)):
            total += self._day_us - self._worked_by(since_first)
        if self.is_working_day(dt.date.fromordinal(last)):
            total += self._worked_by(since_last)
        return max(0, total)

    def add_working_seconds(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """``start`` plus this much working time: the earliest instant by which it has passed.

        A negative amount counts back: the earliest instant that much working time before.
        """
        amount = round(seconds * _US)
        if amount == 0:
            return start
        if self._day_us == 0:
            raise NoWorkingTime(f"calendar {self.code or '(unsaved)'} has no working hours")
        ordinal, since_midnight = self._split(start)
        working_today = self.is_working_day(dt.date.fromordinal(ordinal))
        if amount > 0:
            rest = amount
            if working_today:
                target = self._worked_by(since_midnight) + amount
                if target <= self._day_us:
                    return self._join(ordinal, self._time_when_worked(target))
                rest = target - self._day_us
            days = -(-rest // self._day_us)  # the day it ends on, counting working days
            landing = self._nth_working_day_after(ordinal, days)
            return self._join(landing, self._time_when_worked(rest - (days - 1) * self._day_us))
        rest = -amount
        if working_today:
            worked = self._worked_by(since_midnight)
            if rest < worked:
                return self._join(ordinal, self._time_when_worked(worked - rest))
            rest -= worked
        days = rest // self._day_us + 1
        landing = self._nth_working_day_before(ordinal, days)
        return self._join(landing, self._time_when_worked(days * self._day_us - rest))

    # The clocks' API ------------------------------------------------------------------------

    def add(self, start: dt.datetime, amount: float, unit: Unit) -> dt.datetime:
        """The due time of a deadline of ``amount`` ``unit`` starting at ``start``.

        ``working_days`` count whole working days after the day of ``start`` and land at the
        same time of day (received on a holiday, counting starts on the next working day).
        """
        if amount < 0 or math.isnan(amount):
            raise ValueError(f"a deadline cannot be {amount} {unit} long")
        if unit == "working_days":
            if amount != int(amount):
                raise ValueError(f"working days are counted whole, not {amount}")
            if amount == 0:
                return start
            local = self._local(start)
            landing = dt.date.fromordinal(
                self._nth_working_day_after(local.toordinal(), int(amount))
            )
            return timezone.make_aware(dt.datetime.combine(landing, local.time()), self._tz)
        return self.advance(start, _seconds_of(amount, unit), unit)

    def elapsed(self, start: dt.datetime, end: dt.datetime, unit: Unit) -> float:
        """Seconds of the unit's kind of time from ``start`` to ``end``; 0 if ``end`` ≤ ``start``.

        Wall seconds for ``hours`` and ``days``, working seconds for the working units.
        """
        if _is_working(unit):
            return self.working_seconds(start, end)
        return max(0.0, (_utc(end) - _utc(start)).total_seconds())

    def advance(self, start: dt.datetime, seconds: float, unit: Unit) -> dt.datetime:
        """``start`` plus ``seconds`` of the unit's kind of time: the inverse of ``elapsed``."""
        if _is_working(unit):
            return self.add_working_seconds(start, seconds)
        # Through UTC: an hour is an hour even across a daylight-saving change.
        return (_utc(start) + dt.timedelta(seconds=seconds)).astimezone(self._tz)


def _utc(moment: dt.datetime) -> dt.datetime:
    if timezone.is_naive(moment):
        raise ValueError(f"an aware datetime is needed, not {moment!r}")
    return moment.astimezone(dt.UTC)


def _is_working(unit: str) -> bool:
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; one of {', '.join(UNITS)}")
    return unit.startswith("working_")


_UNIT_SECONDS = {"minutes": 60, "days": 86_400}


def _seconds_of(amount: float, unit: Unit) -> float:
    return amount * _UNIT_SECONDS.get(unit, 3_600)


# Snapshots of the calendars in the database -------------------------------------------------

_cache: dict[int | None, tuple[float, WorkCalendar]] = {}
_generation = 0
_lock = threading.Lock()
_clock: Callable[[], float] = time.monotonic


def forget_calendars() -> None:
    """Drop every cached snapshot; called when a calendar or an override is saved or deleted."""
    global _generation
    with _lock:
        _generation += 1
        _cache.clear()


def snapshot(calendar: WorkingCalendar) -> WorkCalendar:
    """A ``WorkCalendar`` of one calendar row and its overrides (one query for the overrides)."""
    return WorkCalendar(
        periods=calendar.periods,
        workdays=calendar.workdays,
        statutory=calendar.statutory,
        overrides=dict(calendar.overrides.values_list("date", "working")),
        calendar_id=calendar.pk,
        code=calendar.code,
        entered=_entered_days(),
    )


def _entered_days() -> dict[dt.date, bool]:
    from qloop.org.holidays import entered_days

    return entered_days()


def _load(calendar_id: int | None) -> WorkCalendar:
    from qloop.org.models import WorkingCalendar

    row = None
    if calendar_id is not None:
        row = WorkingCalendar.objects.filter(pk=calendar_id).first()
        if row is None:
            log.warning("working calendar %s is gone; using the default calendar", calendar_id)
    if row is None:
        row = WorkingCalendar.objects.filter(is_default=True).first()
    if row is None:
        # No calendar in the database (it was deleted): the standard one, statutory holidays.
        return WorkCalendar(code="standard", entered=_entered_days())
    return snapshot(row)


def get_calendar(calendar_id: int | None = None) -> WorkCalendar:
    """The snapshot of a calendar (``None``: the default one), cached for about a minute.

    Saving or deleting a calendar or an override drops the cache of this process at once;
    other processes see the change when their copy expires. A calendar that no longer exists
    gives the default calendar.
    """
    now = _clock()
    hit = _cache.get(calendar_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    generation = _generation
    calendar = _load(calendar_id)
    with _lock:
        # A change saved while we were loading wins: do not keep what we read before it.
        if generation == _generation:
            _cache[calendar_id] = (now + CACHE_SECONDS, calendar)
    return calendar


def default_calendar() -> WorkCalendar:
    """The snapshot of the default calendar, cached like ``get_calendar``."""
    return get_calendar(None)
