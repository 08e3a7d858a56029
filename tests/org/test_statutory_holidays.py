"""Next year's statutory holidays (issue 12.23, X3): chinesecalendar 1.11.0 knows up to 2026.

From 1 November administrators are warned (My work and a message) while next year is unknown;
they enter the State Council's notice in one form, checked and previewed before it applies; a
package that knows the year takes over. 2027 is the year the package does not know here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from qloop.notify.models import Message, Notification
from qloop.org import holidays
from qloop.org.calendars import default_calendar, forget_calendars
from qloop.org.models import StatutoryNotice

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST, LAST = holidays.package_years()
UNKNOWN = LAST + 1  # 2027 with chinesecalendar 1.11.0
SOURCE = "国务院办公厅关于2027年部分节假日安排的通知（示例）"
HOLIDAYS = f"""元旦 {UNKNOWN}-01-01 {UNKNOWN}-01-03
春节 {UNKNOWN}-02-05 {UNKNOWN}-02-12
国庆节 {UNKNOWN}-10-01 {UNKNOWN}-10-07"""
WORKDAYS = f"{UNKNOWN}-02-20\n{UNKNOWN}-10-09"


@pytest.fixture(autouse=True)
def _fresh_calendars() -> Iterator[None]:
    forget_calendars()
    yield
    forget_calendars()


def at(*args: int) -> Any:
    return time_machine.travel(dt.datetime(*args, tzinfo=SHANGHAI), tick=False)


def enter(users: dict[str, Any]) -> StatutoryNotice:
    data = holidays.parse_notice(str(UNKNOWN), SOURCE, HOLIDAYS, WORKDAYS)
    return holidays.enter_notice(data, actor=users["admin"])


def test_the_installed_package_does_not_know_the_year_tested() -> None:
    assert not holidays.package_knows(UNKNOWN)


def test_without_the_notice_the_spring_festival_counts_as_working_days(db: Any) -> None:
    assert default_calendar().is_working_day(dt.date(UNKNOWN, 2, 8))  # a Monday


def test_an_entered_notice_makes_holidays_rest_and_swapped_days_work(
    users: dict[str, Any],
) -> None:
    enter(users)
    calendar = default_calendar()

    assert not calendar.is_working_day(dt.date(UNKNOWN, 2, 8))
    assert not calendar.is_working_day(dt.date(UNKNOWN, 1, 1))
    assert calendar.is_working_day(dt.date(UNKNOWN, 2, 20))  # a Saturday worked
    assert calendar.is_working_day(dt.date(UNKNOWN, 2, 15))  # back to work on Monday
    # R2.3's two working days from Thursday 4 February at noon: Friday 5 to Friday 12 are
    # the festival, so the answer is due on Tuesday 16 February at noon, not on Monday 8.
    start = dt.datetime(UNKNOWN, 2, 4, 12, 0, tzinfo=SHANGHAI)
    due = calendar.add(start, 2, "working_days")
    assert due == dt.datetime(UNKNOWN, 2, 16, 12, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("holidays_text", "workdays_text", "field", "words"),
    [
        (
            f"春节 {UNKNOWN}-02-05 {UNKNOWN}-02-12\n元宵 {UNKNOWN}-02-12 {UNKNOWN}-02-13",
            "",
            "holidays",
            "overlap",
        ),
        (f"元旦 {UNKNOWN - 1}-12-31 {UNKNOWN}-01-02", "", "holidays", f"in {UNKNOWN}"),
        (HOLIDAYS, f"{UNKNOWN + 1}-01-09", "workdays", f"is not in {UNKNOWN}"),
        (HOLIDAYS, f"{UNKNOWN}-02-06", "workdays", "day off"),
        (HOLIDAYS, f"{UNKNOWN}-02-17", "workdays", "Saturday or Sunday"),
        (f"春节 {UNKNOWN}-02-12 {UNKNOWN}-02-05", "", "holidays", "before the first"),
        (f"春节 {UNKNOWN}-02-30", "", "holidays", "not a date"),
        ("", "", "holidays", "at least one"),
    ],
)
def test_a_notice_that_does_not_hold_together_is_refused_and_nothing_changes(
    users: dict[str, Any], holidays_text: str, workdays_text: str, field: str, words: str
) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        holidays.parse_notice(str(UNKNOWN), SOURCE, holidays_text, workdays_text)

    assert words in " ".join(refused.value.message_dict[field])
    assert not StatutoryNotice.objects.exists()


def test_a_year_the_package_knows_and_a_missing_source_are_refused(db: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        holidays.parse_notice(str(LAST), "", f"元旦 {LAST}-01-01", "")

    assert set(refused.value.message_dict) == {"year", "source"}


def test_only_administrators_enter_a_notice(users: dict[str, Any]) -> None:
    data = holidays.parse_notice(str(UNKNOWN), SOURCE, HOLIDAYS, WORKDAYS)
    with pytest.raises(PermissionDenied):
        holidays.enter_notice(data, actor=users["cs_head"])
    assert not StatutoryNotice.objects.exists()


def test_a_package_that_knows_the_year_takes_over_from_an_entered_notice(
    users: dict[str, Any],
) -> None:
    """As after upgrading chinesecalendar: a notice kept for a year the package now knows
    changes nothing (here: a notice for the package's last year that says otherwise)."""
    monday = next(dt.date(LAST, 3, d) for d in range(1, 8) if dt.date(LAST, 3, d).weekday() == 0)
    StatutoryNotice.objects.create(
        year=LAST,
        source="旧通知",
        holidays=[["假", monday.isoformat(), monday.isoformat()]],
        workdays=[],
        entered_by=users["admin"],
    )
    forget_calendars()

    assert default_calendar().is_working_day(monday)
    assert monday not in holidays.entered_days()


def test_administrators_are_warned_from_1_november_on_my_work_and_once_by_message(
    users: dict[str, Any], client_for: Any
) -> None:
    admin, clerk = client_for("admin"), client_for("cs")
    with at(UNKNOWN - 1, 10, 31, 9):
        assert holidays.unknown_next_year() is None
        assert not holidays.warn_if_next_year_unknown()
        assert 'id="holidays-unknown"' not in admin.get(reverse("my-work")).content.decode()
    with at(UNKNOWN - 1, 11, 1, 9):
        assert holidays.unknown_next_year() == UNKNOWN
        page = admin.get(reverse("my-work")).content.decode()
        assert 'id="holidays-unknown"' in page and str(UNKNOWN) in page
        assert 'id="holidays-unknown"' not in clerk.get(reverse("my-work")).content.decode()
        assert holidays.warn_if_next_year_unknown()
        assert not holidays.warn_if_next_year_unknown()  # once
    # In the bell, and by e-mail (the kind's default channels).
    bell = Notification.objects.filter(kind="holidays_unknown")
    assert {n.user.username for n in bell} == {"admin"}
    assert bell.get().data["year"] == UNKNOWN
    if users["admin"].email:
        mail = Message.objects.get(kind="holidays_unknown")
        assert str(UNKNOWN) in mail.subject and "/calendars/holidays/" in mail.body
    with at(UNKNOWN - 1, 12, 1, 9):
        enter(users)
        assert holidays.unknown_next_year() is None
        assert 'id="holidays-unknown"' not in admin.get(reverse("my-work")).content.decode()


def test_the_form_previews_the_year_as_a_calendar_before_it_applies(
    users: dict[str, Any], client_for: Any
) -> None:
    admin = client_for("admin")
    url = reverse("statutory-holidays")
    values = {"year": str(UNKNOWN), "source": SOURCE, "holidays": HOLIDAYS, "workdays": WORKDAYS}

    preview = admin.post(url, {**values, "preview": "1"})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert f'class="holiday" title="春节" data-date="{UNKNOWN}-02-08"' in html
    assert f'class="swapped" data-date="{UNKNOWN}-02-20"' in html
    assert 'id="apply"' in html
    assert not StatutoryNotice.objects.exists()  # a preview changes nothing

    wrong = admin.post(url, {**values, "workdays": f"{UNKNOWN}-02-06", "preview": "1"})
    assert wrong.status_code == 422 and 'id="apply"' not in wrong.content.decode()

    applied = admin.post(url, {**values, "apply": "1"})
    assert applied.status_code == 302
    notice = StatutoryNotice.objects.get()
    assert notice.source == SOURCE and notice.entered_by == users["admin"]
    assert not default_calendar().is_working_day(dt.date(UNKNOWN, 2, 8))
    assert client_for("cs").get(url).status_code == 403
    assert Client().get(url).status_code == 302
