"""When a clock reminds and escalates: plain arithmetic over a working calendar (X3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from qloop.org.calendars import Unit, WorkCalendar

# A reminder point: ("share", 0.5) of the running time, or ("before", hours) the due time.
Point = tuple[str, float]


def parse_reminders(text: str) -> list[Point]:
    """``"50%, 80%, 1h"`` → points; ValueError with a message for people on bad input."""
    points: list[Point] = []
    for raw in (text or "").replace("，", ",").split(","):
        item = raw.strip().lower()
        if not item:
            continue
        try:
            if item.endswith("%"):
                share = Decimal(item[:-1])
                if not 0 < share < 100:
                    raise ValueError
                points.append(("share", float(share) / 100))
            elif item.endswith("h"):
                hours = Decimal(item[:-1])
                if hours <= 0:
                    raise ValueError
                points.append(("before", float(hours)))
            else:
                raise ValueError
        except (InvalidOperation, ValueError):
            raise ValueError(
                _("“%(item)s” is not a reminder: write a share such as 50%% or hours such as 1h.")
                % {"item": raw.strip()}
            ) from None
    return points


def build(
    *,
    start: dt.datetime,
    due: dt.datetime,
    unit: Unit,
    calendar: WorkCalendar,
    reminders: Iterable[Point],
    ladder: Iterable[tuple[float, str]],
) -> list[dict[str, Any]]:
    """Reminders strictly between start and due, then the ladder's steps after due."""
    entries: list[tuple[dt.datetime, str, int, str]] = []
    span = calendar.elapsed(start, due, unit)
    for kind, value in reminders:
        if kind == "share":
            at = calendar.advance(start, span * value, unit)
        else:
            # Hours before the due time are working hours on a working clock.
            at = calendar.advance(due, -value * 3600, unit)
        if start < at < due:
            entries.append((at, "reminder", 0, ""))
    for level, (delay_hours, audience) in enumerate(ladder, start=1):
        at = calendar.advance(due, delay_hours * 3600, unit) if delay_hours else due
        entries.append((at, "escalation", level, audience))
    entries.sort(key=lambda e: (e[0], e[1] != "reminder", e[2]))
    unique: list[dict[str, Any]] = []
    for at, kind, level, audience in entries:
        item = {"at": at.isoformat(), "type": kind, "level": level, "to": audience}
        if kind == "reminder" and unique and unique[-1]["at"] == item["at"]:
            continue  # two points at one moment remind once
        unique.append(item)
    return unique


def at_of(entry: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(entry["at"])


def next_alert(schedule: list[dict[str, Any]], done: int) -> dt.datetime | None:
    return at_of(schedule[done]) if done < len(schedule) else None
