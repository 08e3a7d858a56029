"""Next year's statutory holidays when the chinesecalendar package does not know them yet (X3).

The State Council publishes each year's arrangements (放假安排) late in the year before; a new
chinesecalendar release follows, sometimes weeks later, and 1.11.0 knows years up to 2026.
Without the year, every working-day clock would count the Spring Festival as working days. So:

- from 1 November, administrators are warned (on My work and by a message, once) while next
  year is unknown both to the package and to the app;
- they enter the notice as data — holiday ranges and swapped working days, with the notice as
  the source — checked and previewed as a calendar before it applies (``enter_notice``);
- for a year the installed package knows, the package decides and an entered notice is only
  kept for the record: upgrading the package takes over without a conflict.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import itertools
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop.org.calendars import _statutory_years, forget_calendars
from qloop.org.models import StatutoryNotice, User

# From this day of the year on, next year's holidays should be known.
WARN_FROM = (11, 1)
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def package_years() -> tuple[int, int]:
    """The first and last year the installed chinesecalendar knows."""
    return _statutory_years()


def package_knows(year: int) -> bool:
    first, last = package_years()
    return first <= year <= last


def current_notices() -> dict[int, StatutoryNotice]:
    """The newest notice of each year."""
    newest: dict[int, StatutoryNotice] = {}
    for notice in StatutoryNotice.objects.order_by("year", "entered_at", "pk"):
        newest[notice.year] = notice
    return newest


def entered_days() -> dict[dt.date, bool]:
    """Holidays (False) and swapped working days (True) of the entered notices, for the years
    the package does not know."""
    days: dict[dt.date, bool] = {}
    for year, notice in current_notices().items():
        if package_knows(year):
            continue
        data = NoticeData.from_notice(notice)
        days.update(dict.fromkeys(data.holiday_days(), False))
        days.update(dict.fromkeys(data.workdays, True))
    return days


def year_is_known(year: int) -> bool:
    return package_knows(year) or StatutoryNotice.objects.filter(year=year).exists()


def unknown_next_year(today: dt.date | None = None) -> int | None:
    """Next year, from 1 November on, while neither the package nor a notice knows it."""
    today = today or timezone.localdate()
    if (today.month, today.day) < WARN_FROM:
        return None
    year = today.year + 1
    return None if year_is_known(year) else year


@dataclass(frozen=True)
class Holiday:
    name: str
    first: dt.date
    last: dt.date


@dataclass
class NoticeData:
    """A notice as entered: the year, its source, holiday ranges and swapped working days."""

    year: int
    source: str
    holidays: list[Holiday] = field(default_factory=list)
    workdays: list[dt.date] = field(default_factory=list)

    @classmethod
    def from_notice(cls, notice: StatutoryNotice) -> NoticeData:
        return cls(
            year=notice.year,
            source=notice.source,
            holidays=[
                Holiday(name, dt.date.fromisoformat(a), dt.date.fromisoformat(b))
                for name, a, b in notice.holidays
            ],
            workdays=[dt.date.fromisoformat(d) for d in notice.workdays],
        )

    def holiday_days(self) -> list[dt.date]:
        days = []
        for h in self.holidays:
            day = h.first
            while day <= h.last:
                days.append(day)
                day += dt.timedelta(days=1)
        return days


def _date(text: str, line: str, errors: list[str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError:
        errors.append(_("“%(line)s”: %(date)s is not a date.") % {"line": line, "date": text})
        return None


def parse_notice(year_text: str, source: str, holidays_text: str, workdays_text: str) -> NoticeData:
    """Read and check the form: one holiday a line ("春节 2027-02-05 2027-02-11", or one date
    for a single day), swapped working days as dates. Raises ValidationError by field, in the
    user's language; nothing is saved here."""
    errors: dict[str, list[str]] = {}
    year = int(year_text) if year_text.strip().isdigit() else 0
    if not 2000 <= year <= 2100:
        errors["year"] = [_("Enter a year such as 2027.")]
    elif package_knows(year):
        errors["year"] = [
            _(
                "The installed chinesecalendar already knows %(year)d; its holidays apply and "
                "need not be entered."
            )
            % {"year": year}
        ]
    source = " ".join(source.split())
    if not source:
        errors["source"] = [_("Name the notice: its title and number, or its address.")]
    holiday_errors: list[str] = []
    holidays: list[Holiday] = []
    for raw in holidays_text.splitlines():
        line = " ".join(raw.replace("–", " ").replace("至", " ").replace("~", " ").split())
        if not line:
            continue
        dates = _DATE.findall(line)
        name = _DATE.sub("", line).strip() or _("Holiday")
        if len(dates) not in (1, 2):
            holiday_errors.append(
                _("“%(line)s”: write a name, then the first and last day off.") % {"line": line}
            )
            continue
        first = _date(dates[0], line, holiday_errors)
        last = _date(dates[-1], line, holiday_errors) if len(dates) == 2 else first
        if first is None or last is None:
            continue
        if last < first:
            holiday_errors.append(
                _("“%(line)s”: the last day is before the first.") % {"line": line}
            )
            continue
        holidays.append(Holiday(name[:40], first, last))
    workday_errors: list[str] = []
    workdays: list[dt.date] = []
    for text in _DATE.findall(workdays_text):
        day = _date(text, text, workday_errors)
        if day is not None and day not in workdays:
            workdays.append(day)
    leftover = _DATE.sub("", workdays_text).replace(",", " ").replace("，", " ").split()
    if leftover:
        workday_errors.append(
            _("Write the swapped working days as dates, such as 2027-02-14: not “%(text)s”.")
            % {"text": " ".join(leftover)}
        )
    if year:
        for h in holidays:
            if h.first.year != year or h.last.year != year:
                holiday_errors.append(
                    _("%(name)s: every day must be in %(year)d.") % {"name": h.name, "year": year}
                )
        for day in workdays:
            if day.year != year:
                workday_errors.append(
                    _("%(day)s is not in %(year)d.") % {"day": day.isoformat(), "year": year}
                )
    ordered = sorted(holidays, key=lambda h: h.first)
    for before, after in itertools.pairwise(ordered):
        if after.first <= before.last:
            holiday_errors.append(
                _("%(first)s and %(second)s overlap.")
                % {"first": before.name, "second": after.name}
            )
    off = {day: h.name for h in holidays for day in NoticeData(0, "", [h]).holiday_days()}
    for day in workdays:
        if day in off:
            workday_errors.append(
                _("%(day)s is a day off of %(name)s and cannot also be a working day.")
                % {"day": day.isoformat(), "name": off[day]}
            )
        elif day.weekday() < 5:
            workday_errors.append(
                _(
                    "%(day)s is a weekday, worked anyway; a swapped working day is a Saturday or Sunday."
                )
                % {"day": day.isoformat()}
            )
    if not holidays and not holiday_errors:
        holiday_errors.append(_("Enter at least one holiday."))
    if holiday_errors:
        errors["holidays"] = holiday_errors
    if workday_errors:
        errors["workdays"] = workday_errors
    if errors:
        raise ValidationError(errors)
    return NoticeData(year, source[:300], ordered, sorted(workdays))


def check_administrator(actor: User) -> None:
    if not actor.administers:
        raise PermissionDenied(_("Only administrators enter statutory holidays."))


def enter_notice(data: NoticeData, *, actor: User) -> StatutoryNotice:
    """Record the notice; from now on every working calendar with statutory holidays rests
    on its holidays and works on its swapped days (the newest notice of a year applies)."""
    check_administrator(actor)
    if package_knows(data.year):
        raise ValidationError({"year": [_("The installed chinesecalendar already knows it.")]})
    with transaction.atomic():
        notice = StatutoryNotice.objects.create(
            year=data.year,
            source=data.source,
            holidays=[[h.name, h.first.isoformat(), h.last.isoformat()] for h in data.holidays],
            workdays=[d.isoformat() for d in data.workdays],
            entered_by=actor,
        )
        transaction.on_commit(forget_calendars)
    forget_calendars()
    return notice


@dataclass(frozen=True)
class PreviewDay:
    day: dt.date | None
    kind: str  # "holiday", "swapped", "weekend", "work", "" (padding)
    name: str = ""


def preview(data: NoticeData) -> list[tuple[str, list[list[PreviewDay]]]]:
    """The year as twelve month grids (Monday first), each day marked as the notice makes it."""
    off = {day: h.name for h in data.holidays for day in NoticeData(0, "", [h]).holiday_days()}
    worked = set(data.workdays)
    months = []
    for month in range(1, 13):
        weeks = []
        for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(data.year, month):
            row = []
            for day in week:
                if day.month != month:
                    row.append(PreviewDay(None, ""))
                elif day in off:
                    row.append(PreviewDay(day, "holiday", off[day]))
                elif day in worked:
                    row.append(PreviewDay(day, "swapped"))
                elif day.weekday() >= 5:
                    row.append(PreviewDay(day, "weekend"))
                else:
                    row.append(PreviewDay(day, "work"))
            weeks.append(row)
        months.append((f"{data.year}-{month:02d}", weeks))
    return months


def warn_if_next_year_unknown(now: dt.datetime | None = None) -> bool:
    """Tell the administrators, once a year, that next year's holidays are unknown; True if
    told. Safe to run any number of times (the message already left decides)."""
    from qloop.notify.actions import notify
    from qloop.notify.models import Message, Notification

    now = now or timezone.now()
    year = unknown_next_year(timezone.localdate(now))
    if year is None:
        return False
    with transaction.atomic():
        told = (
            Notification.objects.filter(kind="holidays_unknown", data__year=year).exists()
            or Message.objects.filter(kind="holidays_unknown", data__year=year).exists()
        )
        if told:
            return False
        admins = [
            u
            for u in User.objects.filter(is_active=True).prefetch_related("memberships__role")
            if u.administers
        ]
        notify(
            admins,
            kind="holidays_unknown",
            data={
                "year": year,
                "known_until": package_years()[1],
                "url": settings.SITE_URL + reverse("statutory-holidays"),
            },
            at=now,
        )
    return True


def register_kinds() -> None:
    from django.utils.translation import gettext_lazy

    from qloop.notify.texts import Kind, register

    register(
        Kind(
            "holidays_unknown",
            gettext_lazy("Next year's statutory holidays are not known yet"),
            gettext_lazy("The statutory holidays of {{ year }} are not known yet (X3)."),
            gettext_lazy(
                "The working calendars know China's statutory holidays only up to "
                "{{ known_until }}. Until the holidays of {{ year }} are known, working-day "
                "deadlines in {{ year }} would count the Spring Festival as working days. Enter "
                "the State Council's notice for {{ year }} (or upgrade chinesecalendar once it "
                "knows the year):\n{{ url }}"
            ),
            channels=("app", "email"),
            sample={"year": 2027, "known_until": 2026, "url": "https://qloop.example.cn/"},
        )
    )
