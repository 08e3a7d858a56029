"""Working calendars: working hours, weekends, Chinese statutory holidays, overrides (X3, R2.3)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from qloop.org import calendars
from qloop.org.calendars import (
    UNITS,
    NoWorkingTime,
    Unit,
    WorkCalendar,
    default_calendar,
    get_calendar,
)
from qloop.org.models import CalendarOverride, Department, WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0
STANDARD = WorkCalendar(tz=SHANGHAI)
SIX_DAYS = WorkCalendar(workdays=range(6), tz=SHANGHAI)
FIRST_YEAR, LAST_YEAR = calendars._statutory_years()


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def day(year: int, month: int, dom: int) -> dt.date:
    return dt.date(year, month, dom)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test reads the calendars of its own database state, and leaves none behind."""
    calendars.forget_calendars()
    yield
    calendars.forget_calendars()


# Which days work ---------------------------------------------------------------------------


def test_the_standard_calendar_is_the_statutory_calendar_for_every_year_the_package_knows() -> None:
    one = dt.timedelta(days=1)
    current = dt.date(FIRST_YEAR, 1, 1)
    while current.year <= LAST_YEAR:
        assert STANDARD.is_working_day(current) == chinese_calendar.is_workday(current), current
        current += one


@pytest.mark.parametrize("year", [FIRST_YEAR - 1, LAST_YEAR + 1, LAST_YEAR + 30])
def test_beyond_the_years_the_package_knows_it_falls_back_to_the_weekday_rule(year: int) -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    current = dt.date(year, 1, 1)
    while current.year == year:
        assert STANDARD.is_working_day(current) == (current.weekday() < 5)
        assert SIX_DAYS.is_working_day(current) == (current.weekday() < 6)
        current += dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("date", "working"),
    [
        # 2026 Spring Festival: 15–23 February off; Saturday 14 and Saturday 28 worked.
        pytest.param(day(2026, 2, 13), True, id="2026-friday-before"),
        pytest.param(day(2026, 2, 14), True, id="2026-swapped-saturday-before"),
        pytest.param(day(2026, 2, 16), False, id="2026-new-years-eve-monday"),
        pytest.param(day(2026, 2, 20), False, id="2026-friday-in-the-holiday"),
        pytest.param(day(2026, 2, 23), False, id="2026-last-day-off"),
        pytest.param(day(2026, 2, 24), True, id="2026-back-to-work"),
        pytest.param(day(2026, 2, 28), True, id="2026-swapped-saturday-after"),
        # 2025 Spring Festival: 28 January – 4 February off; Sunday 26 Jan and Saturday 8 Feb worked.
        pytest.param(day(2025, 1, 26), True, id="2025-swapped-sunday-before"),
        pytest.param(day(2025, 1, 27), True, id="2025-monday-before"),
        pytest.param(day(2025, 1, 28), False, id="2025-new-years-eve"),
        pytest.param(day(2025, 2, 4), False, id="2025-last-day-off"),
        pytest.param(day(2025, 2, 5), True, id="2025-back-to-work"),
        pytest.param(day(2025, 2, 8), True, id="2025-swapped-saturday-after"),
        # National Day golden weeks: 1–7 October 2026, 1–8 October 2025.
        pytest.param(day(2026, 9, 20), True, id="2026-swapped-sunday-before-national-day"),
        pytest.param(day(2026, 10, 1), False, id="2026-national-day"),
        pytest.param(day(2026, 10, 7), False, id="2026-last-day-of-golden-week"),
        pytest.param(day(2026, 10, 10), True, id="2026-swapped-saturday-after-national-day"),
        pytest.param(day(2025, 9, 28), True, id="2025-swapped-sunday-before-national-day"),
        pytest.param(day(2025, 10, 8), False, id="2025-last-day-of-golden-week"),
        pytest.param(day(2025, 10, 11), True, id="2025-swapped-saturday-after-national-day"),
        # Ordinary weekends.
        pytest.param(day(2026, 11, 21), False, id="ordinary-saturday"),
        pytest.param(day(2026, 11, 22), False, id="ordinary-sunday"),
    ],
)
def test_statutory_holidays_and_swapped_working_days(date: dt.date, working: bool) -> None:
    assert STANDARD.is_working_day(date) is working


def test_a_snapshot_cannot_be_changed() -> None:
    with pytest.raises(AttributeError):
        STANDARD.workdays = frozenset(range(7))  # type: ignore[misc]
    with pytest.raises(TypeError):
        STANDARD.overrides[day(2026, 11, 23)] = False  # type: ignore[index]


def test_a_calendar_may_ignore_the_statutory_holidays() -> None:
    plain = WorkCalendar(statutory=False, tz=SHANGHAI)
    assert plain.is_working_day(day(2026, 10, 1))  # a Thursday
    assert not plain.is_working_day(day(2026, 2, 14))  # a Saturday, swapped for everyone else


def test_a_six_day_week_works_saturdays_but_not_statutory_holidays() -> None:
    assert SIX_DAYS.is_working_day(day(2026, 11, 21))  # ordinary Saturday
    assert not SIX_DAYS.is_working_day(day(2026, 11, 22))  # Sunday
    assert not SIX_DAYS.is_working_day(day(2026, 2, 21))  # Saturday inside Spring Festival
    assert not SIX_DAYS.is_working_day(day(2026, 10, 3))  # Saturday inside National Day
    assert SIX_DAYS.is_working_day(day(2026, 9, 20))  # swapped Sunday: worked by law
    # Friday 16:00 plus 4 working hours: Saturday morning, not Monday.
    assert SIX_DAYS.add(local(2026, 11, 20, 16, 0), 4, "working_hours") == local(
        2026, 11, 21, 11, 0
    )
    assert SIX_DAYS.add(local(2026, 11, 20, 10, 0), 2, "working_days") == local(2026, 11, 23, 10, 0)


def test_overrides_win_over_the_package_and_the_weekday_rule() -> None:
    factory = WorkCalendar(
        tz=SHANGHAI,
        overrides={
            day(2026, 11, 23): False,  # 工厂停产检修, a Monday
            day(2026, 11, 28): True,  # 加班周六
            day(2026, 2, 14): False,  # the swapped Saturday before Spring Festival: not here
            day(2026, 10, 6): True,  # works one day of the golden week
        },
    )
    assert not factory.is_working_day(day(2026, 11, 23))
    assert factory.is_working_day(day(2026, 11, 28))
    assert not factory.is_working_day(day(2026, 2, 14))
    assert factory.is_working_day(day(2026, 10, 6))
    assert factory.is_working_day(day(2026, 11, 24))  # untouched days keep the rules

    # A shutdown Monday: Friday 16:00 + 4 working hours ends on Tuesday.
    assert factory.add(local(2026, 11, 20, 16, 0), 4, "working_hours") == local(2026, 11, 24, 11, 0)
    # An extra working Saturday counts, with the calendar's own working hours.
    assert factory.add(local(2026, 11, 27, 16, 0), 4, "working_hours") == local(2026, 11, 28, 11, 0)
    assert factory.add(local(2026, 11, 27, 9, 0), 1, "working_days") == local(2026, 11, 28, 9, 0)
    # The package's swapped Saturday is a day off here: Friday 13 Feb → Tuesday 24 Feb.
    assert factory.add(local(2026, 2, 13, 15, 0), 1, "working_days") == local(2026, 2, 24, 15, 0)
    # The golden week day worked.
    assert factory.add(local(2026, 9, 30, 10, 0), 1, "working_days") == local(2026, 10, 6, 10, 0)


# Working hours -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        pytest.param(local(2026, 11, 23, 11, 0), 2, local(2026, 11, 23, 14, 30), id="over-lunch"),
        pytest.param(local(2026, 11, 23, 12, 30), 1, local(2026, 11, 23, 14, 30), id="from-lunch"),
        pytest.param(local(2026, 11, 23, 7, 0), 1, local(2026, 11, 23, 9, 30), id="before-work"),
        pytest.param(local(2026, 11, 23, 17, 0), 1, local(2026, 11, 24, 9, 0), id="over-night"),
        pytest.param(local(2026, 11, 23, 20, 0), 1, local(2026, 11, 24, 9, 30), id="in-the-night"),
        pytest.param(local(2026, 11, 20, 16, 0), 4, local(2026, 11, 23, 11, 0), id="over-weekend"),
        pytest.param(local(2026, 11, 20, 16, 0), 1.5, local(2026, 11, 20, 17, 30), id="to-closing"),
        pytest.param(local(2026, 11, 23, 8, 30), 7.5, local(2026, 11, 23, 17, 30), id="one-day"),
        pytest.param(local(2026, 11, 23, 8, 30), 48, local(2026, 12, 1, 11, 30), id="48-hours"),
        pytest.param(local(2026, 11, 21, 10, 0), 0.25, local(2026, 11, 23, 8, 45), id="saturday"),
        pytest.param(
            local(2026, 9, 30, 16, 0), 4, local(2026, 10, 8, 11, 0), id="over-national-day"
        ),
        pytest.param(
            local(2026, 2, 13, 16, 0), 4, local(2026, 2, 14, 11, 0), id="onto-swapped-saturday"
        ),
        pytest.param(
            local(2026, 2, 14, 16, 0), 4, local(2026, 2, 24, 11, 0), id="over-spring-festival"
        ),
        pytest.param(
            local(2025, 1, 27, 17, 0), 1.5, local(2025, 2, 5, 9, 30), id="over-spring-festival-2025"
        ),
        pytest.param(local(2026, 11, 23, 11, 0), 0, local(2026, 11, 23, 11, 0), id="nothing"),
    ],
)
def test_working_hours_count_only_working_periods_of_working_days(
    start: dt.datetime, hours: float, due: dt.datetime
) -> None:
    assert STANDARD.add(start, hours, "working_hours") == due
    assert STANDARD.working_seconds(start, due) == hours * HOUR


def test_working_seconds_between_two_instants() -> None:
    friday = local(2026, 11, 20, 16, 0)
    assert STANDARD.working_seconds(friday, local(2026, 11, 23, 11, 0)) == 4 * HOUR
    assert STANDARD.working_seconds(friday, friday) == 0
    assert STANDARD.working_seconds(local(2026, 11, 23, 11, 0), friday) == 0  # backwards
    assert STANDARD.working_seconds(local(2026, 11, 21, 9, 0), local(2026, 11, 22, 17, 0)) == 0
    assert STANDARD.working_seconds(local(2026, 11, 23, 12, 0), local(2026, 11, 23, 13, 30)) == 0
    # The whole of the 2026 National Day holiday: two working hours on 30 September evening
    # and 8 October morning only.
    assert (
        STANDARD.working_seconds(local(2026, 9, 30, 16, 30), local(2026, 10, 8, 9, 30)) == 2 * HOUR
    )
    # A year: 2026's 248 statutory working days of 7.5 hours.
    assert STANDARD.working_seconds(local(2026, 1, 1, 0, 0), local(2027, 1, 1, 0, 0)) == (
        len(chinese_calendar.get_workdays(day(2026, 1, 1), day(2026, 12, 31))) * 7.5 * HOUR
    )
    # Other time zones in, same instants.
    utc = dt.UTC
    assert (
        STANDARD.working_seconds(
            dt.datetime(2026, 11, 20, 8, 0, tzinfo=utc), dt.datetime(2026, 11, 23, 3, 0, tzinfo=utc)
        )
        == 4 * HOUR
    )


def test_counting_back_in_working_time() -> None:
    monday = local(2026, 11, 23, 11, 0)
    assert STANDARD.add_working_seconds(monday, -4 * HOUR) == local(2026, 11, 20, 16, 0)
    assert STANDARD.add_working_seconds(monday, -2.5 * HOUR) == local(2026, 11, 20, 17, 30)
    # Back to the start of the afternoon is the same working instant as the end of the morning:
    # the earliest of them, as when counting forward.
    assert STANDARD.add_working_seconds(local(2026, 11, 23, 14, 30), -1 * HOUR) == local(
        2026, 11, 23, 12, 0
    )
    assert STANDARD.add_working_seconds(local(2026, 11, 23, 14, 30), -1.5 * HOUR) == local(
        2026, 11, 23, 11, 30
    )
    assert STANDARD.advance(monday, -HOUR, "hours") == local(2026, 11, 23, 10, 0)


def test_working_days_keep_the_time_of_day() -> None:
    """The rule of the R2.3 answer clock: whole working days after the day it starts."""
    assert STANDARD.add(local(2026, 11, 20, 10, 0), 2, "working_days") == local(2026, 11, 24, 10, 0)
    assert STANDARD.add(local(2026, 9, 30, 10, 0), 2, "working_days") == local(2026, 10, 9, 10, 0)
    assert STANDARD.add(local(2026, 10, 9, 10, 0), 2, "working_days") == local(2026, 10, 12, 10, 0)
    assert STANDARD.add(local(2026, 2, 13, 15, 0), 2, "working_days") == local(2026, 2, 24, 15, 0)
    # Received on a holiday: counting starts on the next working day.
    assert STANDARD.add(local(2026, 10, 3, 11, 0), 2, "working_days") == local(2026, 10, 9, 11, 0)
    # Received on a Saturday evening, out of hours: the time of day is kept all the same.
    assert STANDARD.add(local(2026, 11, 21, 22, 0), 1, "working_days") == local(2026, 11, 23, 22, 0)
    assert STANDARD.add(local(2026, 11, 20, 10, 0), 0, "working_days") == local(2026, 11, 20, 10, 0)
    assert STANDARD.add(local(2026, 11, 20, 10, 0), 2.0, "working_days") == local(
        2026, 11, 24, 10, 0
    )
    # 30 working days over the turn of the year into the years the package does not know.
    assert STANDARD.add(local(2026, 12, 1, 9, 0), 30, "working_days") == local(2027, 1, 12, 9, 0)


def test_calendar_hours_and_days_run_through_nights_weekends_and_holidays() -> None:
    start = local(2026, 9, 30, 10, 0)
    assert STANDARD.add(start, 48, "hours") == local(2026, 10, 2, 10, 0)
    assert STANDARD.add(start, 2, "days") == local(2026, 10, 2, 10, 0)
    assert STANDARD.add(start, 1.5, "hours") == local(2026, 9, 30, 11, 30)
    assert STANDARD.elapsed(start, local(2026, 10, 2, 10, 0), "days") == 48 * HOUR
    assert STANDARD.elapsed(start, local(2026, 10, 2, 10, 0), "hours") == 48 * HOUR
    assert STANDARD.elapsed(local(2026, 10, 2, 10, 0), start, "hours") == 0
    assert STANDARD.advance(start, 48 * HOUR, "days") == local(2026, 10, 2, 10, 0)
    # Out in the configured time zone, whatever came in.
    utc_start = start.astimezone(dt.UTC)
    due = STANDARD.add(utc_start, 2, "days")
    assert due == local(2026, 10, 2, 10, 0)
    assert due.utcoffset() == dt.timedelta(hours=8)


def test_working_days_elapse_and_advance_in_working_time() -> None:
    start = local(2026, 11, 20, 16, 0)
    due = STANDARD.add(start, 2, "working_days")  # Tuesday 16:00
    assert STANDARD.elapsed(start, due, "working_days") == 15 * HOUR
    assert STANDARD.advance(start, 15 * HOUR, "working_days") == due


def test_a_clock_paused_and_resumed_keeps_its_remaining_working_time() -> None:
    """Pause-style use: the budget is working time; the time paused does not count."""
    started = local(2026, 11, 23, 9, 0)  # Monday
    budget = STANDARD.elapsed(started, STANDARD.add(started, 8, "working_hours"), "working_hours")
    assert budget == 8 * HOUR
    paused = local(2026, 11, 23, 11, 0)
    used = STANDARD.elapsed(started, paused, "working_hours")
    assert used == 2 * HOUR
    resumed = local(2026, 11, 25, 14, 0)  # Wednesday afternoon
    due = STANDARD.advance(resumed, budget - used, "working_hours")
    assert due == local(2026, 11, 26, 11, 0)  # 3.5 h Wednesday, 2.5 h Thursday morning
    assert used + STANDARD.elapsed(resumed, due, "working_hours") == budget

    # Paused into the National Day holiday and resumed after it.
    started = local(2026, 9, 29, 15, 0)
    paused = local(2026, 9, 30, 10, 0)
    used = STANDARD.working_seconds(started, paused)
    assert used == 2.5 * HOUR + 1.5 * HOUR
    due = STANDARD.add_working_seconds(local(2026, 10, 8, 8, 0), 8 * HOUR - used)
    assert due == local(2026, 10, 8, 14, 0)


# Properties --------------------------------------------------------------------------------

MINUTES = st.lists(st.integers(0, 24 * 60), min_size=2, max_size=8, unique=True).map(sorted)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def work_calendars(draw: st.DrawFn) -> WorkCalendar:
    bounds = draw(MINUTES)
    bounds = bounds[: len(bounds) // 2 * 2]
    periods = [(_hhmm(a), _hhmm(b)) for a, b in zip(bounds[::2], bounds[1::2], strict=True)]
    return WorkCalendar(
        periods=periods,
        workdays=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        statutory=draw(st.booleans()),
        overrides=draw(
            st.dictionaries(
                st.dates(dt.date(2024, 1, 1), dt.date(2028, 12, 31)), st.booleans(), max_size=30
            )
        ),
        tz=SHANGHAI,
    )


CALENDARS = st.one_of(st.just(STANDARD), st.just(SIX_DAYS), work_calendars())
MOMENTS = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis adds the time zone
    max_value=dt.datetime(2028, 12, 31),  # noqa: DTZ001
    timezones=st.just(SHANGHAI),
)
SHARES = st.floats(0, 40, allow_nan=False)  # up to 40 days' worth of the unit's time
WORKING_UNITS: list[Unit] = ["working_hours", "working_days"]
PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def worth(calendar: WorkCalendar, unit: Unit, days: float) -> float:
    """Seconds of the unit's kind of time in ``days`` days (working days: of working time)."""
    if unit in ("hours", "days"):
        return round(days * 86_400, 6)
    minutes = sum(
        int(end[:2]) * 60 + int(end[3:]) - int(start[:2]) * 60 - int(start[3:])
        for start, end in calendar.periods
    )
    return round(days * minutes * 60, 6)


@PROPERTIES
@given(calendar=CALENDARS, start=MOMENTS, days=SHARES, unit=st.sampled_from(UNITS))
def test_advance_then_elapsed_gives_back_the_amount(
    calendar: WorkCalendar, start: dt.datetime, days: float, unit: Unit
) -> None:
    seconds = worth(calendar, unit, days)
    due = calendar.advance(start, seconds, unit)
    assert due >= start
    assert calendar.elapsed(start, due, unit) == pytest.approx(seconds, abs=1e-6)


@PROPERTIES
@given(calendar=CALENDARS, start=MOMENTS, end=MOMENTS, unit=st.sampled_from(UNITS))
def test_elapsed_then_advance_reaches_end_with_no_working_time_left(
    calendar: WorkCalendar, start: dt.datetime, end: dt.datetime, unit: Unit
) -> None:
    assume(start <= end)
    reached = calendar.advance(start, calendar.elapsed(start, end, unit), unit)
    # The earliest instant with the same amount of time behind it: ``end`` itself, or the end
    # of the last working period before it.
    assert reached <= end
    assert calendar.elapsed(reached, end, unit) == 0
    if unit in ("hours", "days"):
        assert reached == end
    # One microsecond more of the unit's time is beyond ``end``.
    assert calendar.advance(start, calendar.elapsed(start, end, unit) + 1e-6, unit) > end


@PROPERTIES
@given(
    calendar=CALENDARS,
    start=MOMENTS,
    a=SHARES,
    b=SHARES,
    unit=st.sampled_from(UNITS),
)
def test_more_time_is_never_due_earlier(
    calendar: WorkCalendar, start: dt.datetime, a: float, b: float, unit: Unit
) -> None:
    low, high = sorted((worth(calendar, unit, a), worth(calendar, unit, b)))
    assert calendar.advance(start, low, unit) <= calendar.advance(start, high, unit)
    assert calendar.add(start, low / HOUR, "working_hours") <= calendar.add(
        start, high / HOUR, "working_hours"
    )


@PROPERTIES
@given(calendar=CALENDARS, moments=st.lists(MOMENTS, min_size=3, max_size=3).map(sorted))
def test_working_time_adds_up_and_never_exceeds_wall_time(
    calendar: WorkCalendar, moments: list[dt.datetime]
) -> None:
    a, b, c = moments
    ab, bc, ac = (
        calendar.working_seconds(a, b),
        calendar.working_seconds(b, c),
        calendar.working_seconds(a, c),
    )
    assert ab + bc == pytest.approx(ac, abs=1e-6)
    assert 0 <= ab <= (b - a).total_seconds()
    assert calendar.working_seconds(c, a) == 0


@PROPERTIES
@given(calendar=CALENDARS, start=MOMENTS, days=SHARES)
def test_counting_back_returns_to_the_start_of_the_working_time(
    calendar: WorkCalendar, start: dt.datetime, days: float
) -> None:
    seconds = worth(calendar, "working_hours", days)
    ahead = calendar.add_working_seconds(start, seconds)
    back = calendar.add_working_seconds(ahead, -seconds)
    assert back <= start
    assert calendar.working_seconds(back, start) == 0
    assert calendar.working_seconds(back, ahead) == pytest.approx(seconds, abs=1e-6)


@PROPERTIES
@given(calendar=CALENDARS, start=MOMENTS, days=st.integers(0, 60))
def test_working_days_land_on_a_working_day_at_the_same_time_of_day(
    calendar: WorkCalendar, start: dt.datetime, days: int
) -> None:
    due = calendar.add(start, days, "working_days")
    following = calendar.add(start, days + 1, "working_days")
    assert due.time() == following.time() == start.time()
    assert start <= due < following
    if days:
        assert calendar.is_working_day(due.date())
        # Exactly ``days`` working days after the start's day, up to and including due's day.
        between = [
            start.date() + dt.timedelta(days=i)
            for i in range(1, (due.date() - start.date()).days + 1)
        ]
        assert sum(calendar.is_working_day(d) for d in between) == days


# Guards and speed --------------------------------------------------------------------------


def test_a_calendar_without_any_working_day_refuses_clearly() -> None:
    never = WorkCalendar(workdays=[], statutory=False, tz=SHANGHAI)
    start = local(2026, 11, 20, 16, 0)
    for unit in WORKING_UNITS:
        with pytest.raises(NoWorkingTime, match="no further working day"):
            never.add(start, 1, unit)
    with pytest.raises(ValueError, match="no further working day"):
        never.add_working_seconds(start, -HOUR)
    assert never.working_seconds(start, local(2030, 1, 1, 0, 0)) == 0
    assert never.add(start, 2, "days") == local(2026, 11, 22, 16, 0)


def test_a_calendar_of_only_exceptional_working_days_runs_out_of_them() -> None:
    only_swapped = WorkCalendar(workdays=[], statutory=True, tz=SHANGHAI)
    assert only_swapped.add(local(2026, 2, 1, 9, 0), 1, "working_days") == local(2026, 2, 14, 9, 0)
    with pytest.raises(NoWorkingTime):
        only_swapped.add(local(2026, 2, 1, 9, 0), 100, "working_days")
    overrides_only = WorkCalendar(
        workdays=[], statutory=False, overrides={day(2026, 12, 5): True}, tz=SHANGHAI
    )
    assert overrides_only.add(local(2026, 11, 20, 9, 0), 1, "working_hours") == local(
        2026, 12, 5, 9, 30
    )


def test_a_calendar_without_working_hours_counts_no_working_time() -> None:
    no_hours = WorkCalendar(periods=[], tz=SHANGHAI)
    start = local(2026, 11, 20, 16, 0)
    assert no_hours.working_seconds(start, local(2026, 12, 20, 16, 0)) == 0
    with pytest.raises(NoWorkingTime, match="no working hours"):
        no_hours.add(start, 1, "working_hours")
    assert no_hours.add(start, 1, "working_days") == local(2026, 11, 23, 16, 0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda c: c.add(dt.datetime(2026, 11, 20, 16, 0), 1, "working_hours"),  # noqa: DTZ001
            "aware",
            id="naive",
        ),
        pytest.param(
            lambda c: c.elapsed(dt.datetime(2026, 11, 20, 16, 0), local(2026, 1, 1), "hours"),  # noqa: DTZ001
            "aware",
            id="naive-wall",
        ),
        pytest.param(lambda c: c.add(local(2026, 11, 20), 1, "weeks"), "unknown unit", id="unit"),
        pytest.param(lambda c: c.add(local(2026, 11, 20), 1.5, "working_days"), "whole", id="half"),
        pytest.param(lambda c: c.add(local(2026, 11, 20), -1, "hours"), "cannot be", id="negative"),
        pytest.param(
            lambda c: WorkCalendar(periods=[("12:00", "08:30")]), "must end after", id="periods"
        ),
        pytest.param(lambda c: WorkCalendar(workdays=[7]), "0 \\(Monday\\)", id="weekday"),
    ],
)
def test_bad_input_is_refused(call: Callable[[WorkCalendar], Any], message: str) -> None:
    with translation.override("en"), pytest.raises(ValueError, match=message):
        call(STANDARD)


def test_adding_thirty_working_days_is_fast_enough_for_the_sweep() -> None:
    calendar = WorkCalendar(tz=SHANGHAI)
    start = local(2026, 11, 20, 16, 0)
    calendar.add(start, 30, "working_days")  # builds the two years once
    calls = 5_000
    began = time.perf_counter()
    for i in range(calls):
        moment = start + dt.timedelta(minutes=7 * i)
        calendar.add(moment, 30, "working_days")
        calendar.add(moment, 30 * 7.5, "working_hours")
        calendar.elapsed(start, moment, "working_hours")
    per_call = (time.perf_counter() - began) / (3 * calls)
    assert per_call < 200e-6, f"{per_call * 1e6:.0f} µs per call"


# The calendars in the database -------------------------------------------------------------


@pytest.mark.django_db
def test_every_installation_starts_with_the_standard_calendar() -> None:
    standard = WorkingCalendar.objects.get(is_default=True)
    assert standard.code == "standard"
    assert (standard.name, standard.name_zh_hant, standard.name_en) == (
        "标准工作日历",
        "標準工作日曆",
        "Standard working calendar",
    )
    assert standard.periods == [["08:30", "12:00"], ["13:30", "17:30"]]
    assert standard.workdays == [0, 1, 2, 3, 4]
    assert standard.statutory
    snapshot = default_calendar()
    assert snapshot.calendar_id == standard.pk
    assert snapshot.add(local(2026, 11, 20, 16, 0), 4, "working_hours") == local(
        2026, 11, 23, 11, 0
    )
    with translation.override("en"):
        assert str(standard) == "Standard working calendar"
    with translation.override("zh-hant"):
        assert str(standard) == "標準工作日曆"


@pytest.mark.django_db
def test_there_is_always_exactly_one_default_calendar() -> None:
    standard = WorkingCalendar.objects.get(code="standard")
    night = WorkingCalendar.objects.create(code="night", name="夜班", is_default=True)
    standard.refresh_from_db()
    assert not standard.is_default
    assert list(WorkingCalendar.objects.filter(is_default=True)) == [night]
    assert default_calendar().code == "night"

    # Unticking the only default is refused in forms and ignored in code.
    night.is_default = False
    with pytest.raises(ValidationError) as refused:
        night.full_clean()
    assert "is_default" in refused.value.message_dict
    night.save()
    night.refresh_from_db()
    assert night.is_default

    WorkingCalendar.objects.all().delete()
    first = WorkingCalendar.objects.create(code="only", name="唯一")
    assert first.is_default


@pytest.mark.django_db
def test_without_any_calendar_in_the_database_the_standard_rules_apply() -> None:
    WorkingCalendar.objects.all().delete()
    snapshot = get_calendar()
    assert snapshot.calendar_id is None
    assert snapshot.add(local(2026, 9, 30, 16, 0), 4, "working_hours") == local(2026, 10, 8, 11, 0)


@pytest.mark.django_db
def test_a_department_runs_on_its_own_calendar_or_the_default_one() -> None:
    six = WorkingCalendar.objects.create(code="plant-2", name="二厂", workdays=[0, 1, 2, 3, 4, 5])
    assembly = Department.objects.create(code="ASM", name="总装车间", calendar=six)
    office = Department.objects.create(code="OFF", name="办公室")
    saturday = day(2026, 11, 21)
    assert assembly.working_calendar().is_working_day(saturday)
    assert assembly.working_calendar().calendar_id == six.pk
    assert not office.working_calendar().is_working_day(saturday)
    assert office.working_calendar().code == "standard"
    assert six.work_calendar().workdays == frozenset(range(6))

    six.delete()
    assembly.refresh_from_db()
    assert assembly.calendar is None
    assert assembly.working_calendar().code == "standard"


@pytest.mark.django_db
def test_snapshots_are_cached_and_renewed_when_an_override_is_saved_or_deleted(
    django_assert_num_queries: Any, django_capture_on_commit_callbacks: Any
) -> None:
    standard = WorkingCalendar.objects.get(code="standard")
    monday = day(2026, 11, 23)
    # The calendar, its overrides and the entered statutory notices (issue 12.23).
    with django_assert_num_queries(3):
        assert get_calendar().is_working_day(monday)
    with django_assert_num_queries(0):
        for _ in range(1000):
            assert get_calendar().is_working_day(monday)
        assert get_calendar(None) is default_calendar()

    with django_capture_on_commit_callbacks(execute=True):
        shutdown = CalendarOverride.objects.create(
            calendar=standard, date=monday, working=False, note="工厂停产检修"
        )
    assert not get_calendar().is_working_day(monday)
    assert not get_calendar(standard.pk).is_working_day(monday)
    assert get_calendar().add(local(2026, 11, 20, 16, 0), 4, "working_hours") == local(
        2026, 11, 24, 11, 0
    )

    shutdown.working = True
    shutdown.save()
    assert get_calendar().is_working_day(monday)
    shutdown.delete()
    assert get_calendar().overrides == {}

    standard.workdays = [0, 1, 2, 3, 4, 5]
    standard.save()
    assert get_calendar().is_working_day(day(2026, 11, 21))


@pytest.mark.django_db
def test_cached_snapshots_expire_after_a_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(calendars, "_clock", lambda: now[0])
    first = get_calendar()
    # A change made elsewhere (another process): no signal reaches this one.
    WorkingCalendar.objects.filter(code="standard").update(workdays=[0, 1, 2, 3, 4, 5, 6])
    now[0] += 59
    assert get_calendar() is first
    now[0] += 2
    renewed = get_calendar()
    assert renewed is not first
    assert renewed.workdays == frozenset(range(7))


@pytest.mark.django_db
def test_a_calendar_that_is_gone_gives_the_default_calendar() -> None:
    assert get_calendar(987_654).code == "standard"


def test_the_old_process_helpers_use_the_default_calendar(db: Any) -> None:
    from qloop.process.calendars import add_days, is_working_day

    assert not is_working_day(day(2026, 10, 1))
    assert is_working_day(day(2026, 10, 10))
    assert add_days(local(2026, 9, 30, 10, 0), 2, working=True) == local(2026, 10, 9, 10, 0)
    assert add_days(local(2026, 9, 30, 10, 0), 2, working=False) == local(2026, 10, 2, 10, 0)


# Validation and the admin ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("periods", "english", "chinese"),
    [
        pytest.param(
            [["08:30", "12:00"], ["11:30", "17:30"]],
            "Working periods must be in order and must not overlap: 08:30–12:00 and 11:30–17:30.",
            "工作时段必须按先后排列且不能重叠：08:30–12:00 与 11:30–17:30。",
            id="overlap",
        ),
        pytest.param(
            [["13:30", "17:30"], ["08:30", "12:00"]],
            "Working periods must be in order and must not overlap: 13:30–17:30 and 08:30–12:00.",
            "工作时段必须按先后排列且不能重叠：13:30–17:30 与 08:30–12:00。",
            id="out-of-order",
        ),
        pytest.param(
            [["17:30", "08:30"]],
            "A working period must end after it starts: 17:30–08:30.",
            "工作时段的结束时间必须晚于开始时间：17:30–08:30。",
            id="backwards",
        ),
        pytest.param(
            [["8h30", "12:00"]],
            "“8h30” is not a time of day written as HH:MM, such as 08:30.",
            "“8h30”不是 HH:MM 格式的时间（例如 08:30）。",
            id="not-a-time",
        ),
        pytest.param(
            [["24:00", "24:00"]],
            "“24:00” is not a time of day written as HH:MM, such as 08:30.",
            "“24:00”不是 HH:MM 格式的时间（例如 08:30）。",
            id="midnight-start",
        ),
        pytest.param(
            "08:30-12:00",
            'Working hours are a list of [start, end] pairs, such as [["08:30", "12:00"]].',
            '工作时间应为 [开始, 结束] 时段的列表，例如 [["08:30", "12:00"]]。',
            id="not-a-list",
        ),
        pytest.param(
            [],
            "Give at least one working period, such as 08:30-17:30.",
            "请至少填写一个工作时段，例如 08:30-17:30。",
            id="empty",
        ),
    ],
)
def test_invalid_working_hours_are_explained_in_the_reader_s_language(
    periods: Any, english: str, chinese: str
) -> None:
    calendar = WorkingCalendar(code="bad", name="坏日历", periods=periods)
    for language, expected in (("en", english), ("zh-hans", chinese)):
        with translation.override(language):
            with pytest.raises(ValidationError) as refused:
                calendar.full_clean()
            assert refused.value.message_dict == {"periods": [expected]}


@pytest.mark.django_db
def test_working_weekdays_must_be_weekday_numbers() -> None:
    calendar = WorkingCalendar(code="bad", name="坏日历", workdays=["Monday"])
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            calendar.full_clean()
        assert refused.value.message_dict == {
            "workdays": ["Working weekdays are numbers from 0 (Monday) to 6 (Sunday)."]
        }


def test_a_working_day_until_midnight_is_allowed() -> None:
    round_the_clock = WorkCalendar(periods=[("00:00", "24:00")], tz=SHANGHAI)
    assert round_the_clock.add(local(2026, 11, 20, 22, 0), 4, "working_hours") == local(
        2026, 11, 23, 2, 0
    )
    assert round_the_clock.add(local(2026, 11, 20, 20, 0), 4, "working_hours") == local(
        2026, 11, 21, 0, 0
    )


@pytest.fixture
def administrator(users: dict[str, Any]) -> Client:
    """The demo's system administrator, logged in to the admin."""
    client = Client()
    client.force_login(users["admin"])
    return client


def _calendar_form(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "plant-2",
        "name": "二厂日历",
        "name_zh_hant": "二廠日曆",
        "name_en": "Plant 2",
        "periods": "8:00-12:00，13:00-17:00",
        "workdays": ["0", "1", "2", "3", "4", "5"],
        "statutory": "on",
        "overrides-TOTAL_FORMS": "2",
        "overrides-INITIAL_FORMS": "0",
        "overrides-MIN_NUM_FORMS": "0",
        "overrides-MAX_NUM_FORMS": "1000",
        "overrides-0-date": "2026-08-14",
        "overrides-0-note": "工厂停产检修",
        "overrides-1-date": "2026-11-28",
        "overrides-1-working": "on",
        "overrides-1-note": "加班周六",
    }
    data.update(changes)
    return data


def test_an_administrator_adds_a_calendar_with_its_exceptions(administrator: Client) -> None:
    response = administrator.get(reverse("admin:org_workingcalendar_add"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "08:30-12:00, 13:30-17:30" in html  # the default, as people type it
    assert "星期六" in html

    response = administrator.post(reverse("admin:org_workingcalendar_add"), _calendar_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    plant = WorkingCalendar.objects.get(code="plant-2")
    assert plant.periods == [["08:00", "12:00"], ["13:00", "17:00"]]
    assert plant.workdays == [0, 1, 2, 3, 4, 5]
    assert not plant.is_default
    assert dict(plant.overrides.values_list("date", "working")) == {
        day(2026, 8, 14): False,
        day(2026, 11, 28): True,
    }
    snapshot = get_calendar(plant.pk)
    assert not snapshot.is_working_day(day(2026, 8, 14))
    assert snapshot.add(local(2026, 11, 27, 16, 0), 2, "working_hours") == local(2026, 11, 28, 9, 0)

    listing = administrator.get(reverse("admin:org_workingcalendar_changelist")).content.decode()
    assert "08:00–12:00, 13:00–17:00" in listing
    change = administrator.get(reverse("admin:org_workingcalendar_change", args=[plant.pk]))
    assert "工厂停产检修" in change.content.decode()


@pytest.mark.parametrize(
    ("periods", "message"),
    [
        pytest.param(
            "08:30-12:00, 11:00-17:30",
            "工作时段必须按先后排列且不能重叠：08:30–12:00 与 11:00–17:30。",
            id="overlap",
        ),
        pytest.param(
            "08:30-12:00, 下午", "“下午”不是 08:30-12:00 这样的工作时段。", id="not-a-period"
        ),
        pytest.param("25:00-26:00", "“25:00”不是 HH:MM 格式的时间（例如 08:30）。", id="hour-25"),
        pytest.param("", "请至少填写一个工作时段，例如 08:30-17:30。", id="empty"),
    ],
)
def test_the_admin_explains_bad_working_hours(
    administrator: Client, periods: str, message: str
) -> None:
    response = administrator.post(
        reverse("admin:org_workingcalendar_add"), _calendar_form(periods=periods)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WorkingCalendar.objects.filter(code="plant-2").exists()


def test_the_admin_refuses_two_exceptions_on_one_date(administrator: Client) -> None:
    response = administrator.post(
        reverse("admin:org_workingcalendar_add"),
        _calendar_form(**{"overrides-1-date": "2026-08-14"}),
    )
    assert response.status_code == 200
    assert not WorkingCalendar.objects.filter(code="plant-2").exists()


def test_the_default_calendar_cannot_be_deleted_or_unticked_in_the_admin(
    administrator: Client,
) -> None:
    standard = WorkingCalendar.objects.get(code="standard")
    response = administrator.post(reverse("admin:org_workingcalendar_delete", args=[standard.pk]))
    assert response.status_code == 403
    response = administrator.post(
        reverse("admin:org_workingcalendar_change", args=[standard.pk]),
        _calendar_form(code="standard", **{"overrides-TOTAL_FORMS": "0"}),
    )
    assert response.status_code == 200
    assert "必须有一个默认日历：请改为把另一个日历设为默认。" in response.content.decode()
    standard.refresh_from_db()
    assert standard.is_default


def test_an_administrator_gives_a_department_its_calendar(
    administrator: Client, users: dict[str, Any]
) -> None:
    plant = WorkingCalendar.objects.create(
        code="plant-2", name="二厂日历", workdays=[0, 1, 2, 3, 4, 5]
    )
    production = Department.objects.get(code="PROD")
    page = administrator.get(reverse("admin:org_department_change", args=[production.pk]))
    assert "二厂日历" in page.content.decode()
    production.calendar = plant
    production.save()
    assert production.working_calendar().is_working_day(day(2026, 11, 21))
