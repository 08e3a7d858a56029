"""The register as an Excel workbook, with the organisation's extra fields as columns."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from qloop.cases import access
from qloop.cases.extra import active_fields, display_value
from qloop.cases.models import CaseQuerySet
from qloop.inputs import cell_text

if TYPE_CHECKING:
    from qloop.org.models import User

MAX_ROWS = 100_000


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


def export_cases_xlsx(qs: CaseQuerySet, user: User, *, kind: str) -> bytes:
    extra_defs = active_fields(kind)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Register")[:31]
    headers = [
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
    ] + [d.display_label for d in extra_defs]
    ws.append([_safe(h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE7F3")
    for case in qs.select_related("contact", "product", "category", "department", "handler")[
        :MAX_ROWS
    ]:
        c, p = case.contact, getattr(case, "product", None)
        reach = access.contact_details(user, case)
        row = [
            case.number,
            timezone.localtime(case.received_at).replace(tzinfo=None),
            case.state_label,
            case.get_channel_display(),
            case.get_severity_display(),
            str(case.category) if case.category else "",
            str(case.department),
            str(case.handler) if case.handler else "",
            c.name if c else "",
            c.get_gender_display() if c else "",
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
            timezone.localtime(case.next_due_at).replace(tzinfo=None) if case.next_due_at else None,
            _("Yes") if case.is_overdue else "",
        ] + [display_value(d, case.extra.get(d.code)) for d in extra_defs]
        ws.append([_safe(v) for v in row])
    widths = {1: 18, 2: 17, 19: 50, 20: 30}
    for idx in range(1, len(headers) + 1):
        ws.column_dimensions[get_column_letter(idx)].width = widths.get(idx, 14)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if cell.column in (2, 21):
                cell.number_format = "yyyy-mm-dd hh:mm"
            cell.alignment = Alignment(vertical="top", wrap_text=cell.column in (19, 20))
    ws.freeze_panes = "B2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
