"""Past complaints and feedback imported from a workbook (issue 13), so that an organisation
starts with its paper years: a template to download, every row checked and reported, and
nothing imported unless every row is right (one transaction). A number given in the file is
kept (it must have the kind's form and be free); otherwise one is assigned; the numbering then
goes on after the highest number of each year.

Each row goes through ``register_case`` (the same checks as the registration form), without
clocks; a row with a closing date is closed with an event saying it was imported.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook

from qloop.cases.actions import (
    ContactData,
    ProductData,
    Registration,
    _validate_registration,
    register_case,
)
from qloop.cases.kinds import KINDS
from qloop.cases.models import Case, Event
from qloop.inputs import cell_text
from qloop.org.models import Sequence as NumberSequence
from qloop.org.models import User

MAX_ROWS = 5000
KINDS_IMPORTED = ("complaint", "feedback")

# field, heading, example
COLUMNS: list[tuple[str, Any, Any]] = [
    ("number", gettext_lazy("Number (empty: assigned)"), "QC-2019-000123"),
    ("kind", gettext_lazy("Kind (complaint/feedback)"), "complaint"),
    ("received_at", gettext_lazy("Received (YYYY-MM-DD HH:MM)"), "2019-05-06 09:30"),
    ("channel", gettext_lazy("Channel (phone/email/im/visit/letter)"), "phone"),
    ("contact_name", gettext_lazy("Contact"), "王芳"),
    ("contact_phone", gettext_lazy("Phone"), "13800138000"),
    ("contact_email", gettext_lazy("E-mail"), ""),
    ("organisation", gettext_lazy("Organisation"), "苏州恒通水务有限公司"),
    ("model", gettext_lazy("Model"), "QL-CP50"),
    ("specification", gettext_lazy("Specification"), "50-160, 7.5kW"),
    ("serial_number", gettext_lazy("Serial number"), ""),
    ("quantity", gettext_lazy("Quantity"), 2),
    ("symptom", gettext_lazy("Problem or content"), "机械密封处漏水"),
    ("category", gettext_lazy("Category code"), "1A"),
    ("severity", gettext_lazy("Severity (minor/major/critical)"), "minor"),
    ("feedback_type", gettext_lazy("Feedback type (feedback only)"), ""),
    ("closed_at", gettext_lazy("Closed (YYYY-MM-DD, empty: still open)"), "2019-05-20"),
    ("result", gettext_lazy("Result"), "更换机械密封，客户满意"),
]


@dataclass
class ImportReport:
    imported: int = 0
    numbers: list[str] = field(default_factory=list)
    errors: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def can_import(user: User) -> bool:
    return user.manages_cases


def template_xlsx() -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = str(_("History"))[:31]
    ws.append([str(heading) for _f, heading, _e in COLUMNS])
    ws.append([example for _f, _h, example in COLUMNS])
    for idx in range(1, len(COLUMNS) + 1):
        ws.column_dimensions[ws.cell(1, idx).column_letter].width = 18
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return cell_text(str(value)).strip()


def _moment(value: Any, *, end_of_day: bool = False) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time.max if end_of_day else dt.time(9, 0))
    else:
        raw = str(value).strip()
        try:
            moment = dt.datetime.fromisoformat(raw)
        except ValueError as exc:
            raise ValueError(_("Enter a date as YYYY-MM-DD (and a time as HH:MM).")) from exc
        if len(raw) <= 10 and end_of_day:
            moment = dt.datetime.combine(moment.date(), dt.time(18, 0))
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@dataclass
class _Row:
    line: int
    reg: Registration
    number: str
    closed_at: dt.datetime | None
    result: str


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{key}: {' '.join(str(m) for m in msgs)}" for key, msgs in exc.message_dict.items()
        ]
    return [str(m) for m in exc.messages]


def _check_row(line: int, values: dict[str, Any], seen: set[str]) -> tuple[_Row | None, list[str]]:
    errors: list[str] = []
    kind = _text(values.get("kind")) or "complaint"
    if kind not in KINDS_IMPORTED:
        errors.append(_("Kind: write complaint or feedback."))
        kind = "complaint"
    try:
        received_at = _moment(values.get("received_at"))
        if received_at is None:
            errors.append(_("Received: required."))
    except ValueError as exc:
        received_at, errors = None, [*errors, f"{_('Received')}: {exc}"]
    try:
        closed_at = _moment(values.get("closed_at"), end_of_day=True)
    except ValueError as exc:
        closed_at, errors = None, [*errors, f"{_('Closed')}: {exc}"]
    if closed_at and received_at and closed_at < received_at:
        errors.append(_("Closed: before it was received."))
    quantity_raw = _text(values.get("quantity"))
    quantity = None
    if quantity_raw:
        try:
            quantity = int(quantity_raw)
        except ValueError:
            errors.append(_("Quantity: enter a whole number."))
    number = _text(values.get("number")).upper()
    if number:
        prefix = KINDS[kind].prefix
        match = re.fullmatch(rf"{re.escape(prefix)}-(\d{{4}})-(\d{{6}})", number)
        if match is None:
            errors.append(
                _("Number: write it as %(example)s.") % {"example": f"{prefix}-2019-000123"}
            )
        elif number in seen or Case.objects.filter(number=number).exists():
            errors.append(_("Number: %(number)s is already used.") % {"number": number})
        seen.add(number)
    reg = Registration(
        kind=kind,
        channel=_text(values.get("channel")) or "phone",
        received_at=received_at,
        contact=ContactData(
            name=_text(values.get("contact_name")),
            phone=_text(values.get("contact_phone")),
            email=_text(values.get("contact_email")),
            organisation=_text(values.get("organisation")),
        ),
        product=ProductData(
            specification=_text(values.get("specification")),
            model=_text(values.get("model")),
            quantity=quantity,
            serial_number=_text(values.get("serial_number")),
        ),
        symptom=_text(values.get("symptom")),
        category_code=_text(values.get("category")),
        severity=_text(values.get("severity")) or "minor",
        feedback_type=_text(values.get("feedback_type")) if kind == "feedback" else "",
    )
    if received_at is not None:
        try:
            _validate_registration(reg, [])
        except ValidationError as exc:
            errors.extend(_messages(exc))
    if errors:
        return None, errors
    return _Row(line, reg, number, closed_at, _text(values.get("result"))), []


def import_history(data: bytes, *, actor: User) -> ImportReport:
    """Check every row, then import all of them in one transaction, or none."""
    if not can_import(actor):
        raise PermissionDenied
    report = ImportReport()
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationError(_("This is not an .xlsx workbook.")) from exc
    ws = wb.worksheets[0]
    fields = [f for f, _h, _e in COLUMNS]
    rows: list[_Row] = []
    seen: set[str] = set()
    for line, values in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        if all(v in (None, "") for v in values):
            continue
        if line - 1 > MAX_ROWS:
            report.errors.append((line, [_("At most %(n)s rows at a time.") % {"n": MAX_ROWS}]))
            break
        row, errors = _check_row(line, dict(zip(fields, values, strict=False)), seen)
        if errors:
            report.errors.append((line, errors))
        elif row is not None:
            rows.append(row)
    wb.close()
    if report.errors or not rows:
        if not rows and not report.errors:
            report.errors.append((0, [_("The workbook has no rows to import.")]))
        return report
    line = 0
    try:
        with transaction.atomic():
            # Numbers assigned in this import come after those kept from the file.
            _advance_numbering([r.number for r in rows if r.number])
            for item in rows:
                line = item.line
                report.numbers.append(_import_row(item, actor).number)
    except ValidationError as exc:
        report.numbers = []
        report.errors.append((line, _messages(exc)))
        return report
    report.imported = len(report.numbers)
    return report


def _import_row(row: _Row, actor: User) -> Case:
    case = register_case(
        row.reg,
        actor=actor,
        registered_at=timezone.now(),
        number=row.number,
        start_clocks=False,
    )
    Event.objects.create(case=case, actor=actor, verb="imported", data={"line": row.line})
    if row.closed_at is not None:
        Case.objects.filter(pk=case.pk).update(
            state="closed", closed_at=row.closed_at, next_due_at=None, deadline_state=""
        )
        Event.objects.create(
            case=case,
            actor=actor,
            verb="closed",
            at=row.closed_at,
            comment=row.result,
            data={"imported": True},
        )
    return case


def _advance_numbering(numbers: list[str]) -> None:
    """The application numbers on after the highest number kept for each kind and year."""
    highest: dict[str, int] = {}
    for number in numbers:
        key, _sep, digits = number.rpartition("-")
        highest[key] = max(highest.get(key, 0), int(digits))
    for key, top in highest.items():
        seq, _created = NumberSequence.objects.select_for_update().get_or_create(key=key)
        if seq.last_value < top:
            seq.last_value = top
            seq.save(update_fields=["last_value"])
