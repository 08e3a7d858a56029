"""The register's rows for exports, with the organisation's extra fields as columns; the
workbook and CSV writers are in ``qloop.reports.exports``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from qloop.cases import access
from qloop.cases.extra import active_fields, display_value
from qloop.cases.models import CaseQuerySet
from qloop.inputs import cell_text

if TYPE_CHECKING:
    from qloop.org.models import User


def _safe(value: object) -> object:
    """A value as a cell holds it safely: a text that starts like a formula is written as text,
    so opening the file runs nothing; characters a workbook cannot hold are dropped, so one
    stored before the input checks (or by an import) never breaks the export for everyone."""
    if not isinstance(value, str):
        return value
    value = cell_text(value)
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def case_headers(kind: str) -> list[str]:
    """The register's columns, with the organisation's extra fields for ``kind``."""
    return [
        _("Number"),
        _("Received at"),
        _("State"),
        _("Channel"),
        _("Severity"),
        _("Category"),
        _("Owning department"),
        _("Handler"),
        _("Contact"),
        _("Gender"),
        _("Phone"),
        _("E-mail"),
        _("QQ number"),
        _("Organisation"),
        _("Specification"),
        _("Model"),
        _("Quantity"),
        _("Serial number"),
        _("Symptom"),
        _("Current status"),
        _("Next deadline"),
        _("Overdue"),
    ] + [d.display_label for d in active_fields(kind)]


# Characters per column in the workbook (1-based); the rest are 14 wide.
CASE_WIDTHS = {1: 18, 2: 17, 19: 50, 20: 30}


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def case_rows(qs: CaseQuerySet, user: User, *, kind: str) -> Iterator[list[object]]:
    """The register's rows one at a time, read from the database in chunks: an export of a
    million cases holds a chunk, never the million (X4)."""
    from qloop.cases.models import Case, Contact

    extra_defs = active_fields(kind)
    # Choice labels looked up once, not per cell: get_FOO_display hashes lazy strings on every
    # call and was half the time of a large export.
    channels = {str(v): str(label) for v, label in Case._meta.get_field("channel").flatchoices}
    severities = {str(v): str(label) for v, label in Case._meta.get_field("severity").flatchoices}
    genders = {str(v): str(label) for v, label in Contact._meta.get_field("gender").flatchoices}
    states: dict[tuple[str, str], str] = {}
    yes = str(_("Yes"))
    rows = qs.select_related("contact", "product", "category", "department", "handler")
    for case in rows.iterator(chunk_size=2000):
        c, p = case.contact, getattr(case, "product", None)
        reach = access.contact_details(user, case)
        key = (case.kind, case.state)
        if key not in states:
            states[key] = case.state_label
        yield [
            case.number,
            _naive(case.received_at),
            states[key],
            channels.get(case.channel, case.channel),
            severities.get(case.severity, case.severity),
            str(case.category) if case.category else "",
            str(case.department),
            str(case.handler) if case.handler else "",
            c.name if c else "",
            genders.get(c.gender, c.gender) if c else "",
            reach["phone"],
            reach["email"],
            reach["qq"],
            c.organisation if c else "",
            p.specification if p else "",
            p.model if p else "",
            p.quantity if p else None,
            p.serial_number if p else "",
            p.symptom if p else "",
            p.current_status if p else "",
            _naive(case.next_due_at),
            yes if case.is_overdue else "",
        ] + [display_value(d, case.extra.get(d.code)) for d in extra_defs]
