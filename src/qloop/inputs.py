"""The rules every input obeys, wherever it comes in: web forms, the API, actions, filters.

One place, so a form, an API schema and an action can never disagree about what is storable:

- **Text** holds no control character except tab, line feed and carriage return. U+000B (a
  line break pasted from Word), U+0001 and the like cannot be written into an Excel cell, and
  PostgreSQL cannot store NUL at all; a lone surrogate cannot be encoded. They are refused on
  the way in with a message naming the field, instead of breaking an export or a query later.
- **Dates** a person gives lie between ``EARLIEST_DATE`` and ``LATEST_DATE``: the calendar,
  the time zones and both databases hold every day of that range; a year 1 or 9999 does not
  survive a time-zone conversion. Filters clamp into the range instead of failing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# C0 controls but tab (09), line feed (0A) and carriage return (0D); lone surrogates.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")

EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)


def control_character(value: Any) -> str | None:
    """The first character that may not be stored, as ``U+000B``, in a string, or in a list's
    items or a dict's keys and values (extra fields, a step's inputs); else None."""
    if isinstance(value, str):
        found = CONTROL_CHARACTERS.search(value)
        return f"U+{ord(found.group()):04X}" if found else None
    if isinstance(value, Mapping):
        return next(filter(None, map(control_character, [*value.keys(), *value.values()])), None)
    if isinstance(value, list | tuple):
        return next(filter(None, map(control_character, value)), None)
    return None


def control_character_message(code_point: str) -> str:
    return _(
        "This text contains a control character (%(char)s) that cannot be stored. It often "
        "comes with text pasted from another program: remove it and try again."
    ) % {"char": code_point}


def validate_text(value: Any) -> None:
    """A Django validator for every text field: refuses a control character (see above)."""
    found = control_character(value)
    if found:
        raise ValidationError(control_character_message(found), code="control_character")


def check_texts(fields: Mapping[str, Any]) -> None:
    """For actions: refuse, keyed by field name, every given text holding a control character.

    ``fields`` maps the name the caller knows the field by to its value (a string, or a list or
    dict of them). Raises one ValidationError naming every field at fault; nothing is written.
    """
    errors = {}
    for name, value in fields.items():
        found = control_character(value)
        if found:
            errors[name] = [
                ValidationError(control_character_message(found), code="control_character")
            ]
    if errors:
        raise ValidationError(errors)


class InputRulesForm(forms.Form):
    """The base of QLoop's forms: every text field refuses control characters and every date
    field dates out of range, with the messages above, however and whenever it was added (the
    organisation's extra fields come in ``__init__``)."""

    def full_clean(self) -> None:
        self.add_input_rules()
        super().full_clean()

    def add_input_rules(self) -> None:
        """The text and date rules on every field of the form (once per field)."""
        for field in self.fields.values():
            rule = (
                validate_text
                if isinstance(field, forms.CharField)
                else validate_date
                if isinstance(field, forms.DateField | forms.DateTimeField)
                else None
            )
            if rule is not None and rule not in field.validators:
                field.validators.append(rule)

    def refusal(self, fallback: str) -> str:
        """For a page that answers a refused form with a message: ``fallback`` when a field is
        only missing, else the form's own messages (a control character, a date out of range)."""
        errors = self.errors.as_data()
        if {e.code for errs in errors.values() for e in errs} <= {"required"}:
            return fallback
        return " ".join(m for errs in errors.values() for err in errs for m in err.messages)


def cell_text(value: str) -> str:
    """Text as an Excel cell can hold it: the characters XML 1.0 forbids are dropped, so a
    character already stored (before these checks, or written around them) never breaks an
    export."""
    cleaned = CONTROL_CHARACTERS.sub("", value)
    return cleaned.replace("\ufffe", "").replace("\uffff", "")


def date_range_message() -> str:
    return _("Enter a date between %(start)s and %(end)s.") % {
        "start": EARLIEST_DATE.isoformat(),
        "end": LATEST_DATE.isoformat(),
    }


def validate_date(value: dt.date | None) -> None:
    """A Django validator for a date a person gives (a due date, a period's bounds)."""
    if value is not None and not EARLIEST_DATE <= _as_date(value) <= LATEST_DATE:
        raise ValidationError(date_range_message(), code="date_range")


def check_dates(fields: Mapping[str, dt.date | None]) -> None:
    """For actions: refuse, keyed by field name, every date outside the range."""
    errors = {}
    for name, value in fields.items():
        try:
            validate_date(value)
        except ValidationError as exc:
            errors[name] = exc.error_list
    if errors:
        raise ValidationError(errors)


def clamp_date(value: dt.date) -> dt.date:
    """A filter's date moved into the range: 0001-01-01 means "from the start", 9999-12-31
    "until the end", and both ends of the range can be turned into times in any time zone."""
    return min(max(_as_date(value), EARLIEST_DATE), LATEST_DATE)


def _as_date(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
