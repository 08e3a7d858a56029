"""Register entries from a spreadsheet (R5.1): a template, a report row by row, and nothing
imported unless every row is right (one transaction)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook

from qloop.clinical.actions import ResultData, can_write_register, clean_result, register_result
from qloop.clinical.models import ClinicalRegister, EntrySource
from qloop.org.models import User

MAX_ROWS = 5000

# field, heading, example
COLUMNS: list[tuple[str, Any, Any]] = [
    ("ordering_department", gettext_lazy("Ordering department code"), "IM"),
    ("ordering_doctor_name", gettext_lazy("Ordering doctor"), "郑国华"),
    ("patient_name", gettext_lazy("Patient name"), "王建华"),
    ("patient_id", gettext_lazy("Record number"), "880123"),
    ("sex", gettext_lazy("Sex (M/F/U)"), "M"),
    ("age_years", gettext_lazy("Age (years)"), 67),
    ("ward", gettext_lazy("Ward code"), "IM1"),
    ("bed", gettext_lazy("Bed"), "12"),
    ("test_code", gettext_lazy("Test code"), "K"),
    ("test_name", gettext_lazy("Test or study"), "血钾"),
    ("specimen", gettext_lazy("Specimen"), "血清"),
    ("result_value", gettext_lazy("Result"), "4.1"),
    ("unit", gettext_lazy("Unit"), "mmol/L"),
    ("reference_range", gettext_lazy("Reference range"), "3.5-5.3"),
    ("abnormal_flag", gettext_lazy("Abnormal flag"), ""),
    ("repeat_result", gettext_lazy("Repeat result"), ""),
    ("accession", gettext_lazy("Specimen number"), "S2612070001"),
    ("collected_at", gettext_lazy("Collected (YYYY-MM-DD HH:MM)"), "2026-12-07 07:40"),
    ("received_at", gettext_lazy("Received (YYYY-MM-DD HH:MM)"), "2026-12-07 08:05"),
    ("reported_at", gettext_lazy("Reported (YYYY-MM-DD HH:MM)"), "2026-12-07 08:50"),
]


@dataclass
class ImportReport:
    imported: int = 0
    findings: int = 0
    errors: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def template_workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "results"
    ws.append([str(label) for _name, label, _example in COLUMNS])
    ws.append([example for _name, _label, example in COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _moment(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return timezone.make_aware(value) if timezone.is_naive(value) else value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"):
        try:
            return timezone.make_aware(dt.datetime.strptime(text, fmt))  # noqa: DTZ007
        except ValueError:
            continue
    raise ValueError(text)


def _row_data(values: dict[str, Any]) -> tuple[ResultData | None, list[str]]:
    problems: list[str] = []
    kwargs: dict[str, Any] = {}
    for name, label, _example in COLUMNS:
        value = values.get(name)
        if name in {"collected_at", "received_at", "reported_at"}:
            try:
                kwargs[name] = _moment(value)
            except ValueError:
                problems.append(
                    _("%(column)s: write the time as YYYY-MM-DD HH:MM.") % {"column": label}
                )
        elif name == "age_years":
            try:
                kwargs[name] = None if value in (None, "") else Decimal(str(value))
            except InvalidOperation:
                problems.append(_("%(column)s: write a number.") % {"column": label})
        else:
            kwargs[name] = "" if value is None else str(value).strip()
    kwargs["sex"] = (kwargs.get("sex") or "U").upper()
    if problems:
        return None, problems
    return ResultData(**kwargs), []


def import_workbook(upload: Any, *, register: ClinicalRegister, actor: User) -> ImportReport:
    """Check every row, then write them all or none."""
    if not can_write_register(actor, register):
        raise PermissionDenied
    report = ImportReport()
    try:
        wb = load_workbook(upload, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        report.errors.append((0, [_("This is not an .xlsx workbook.")]))
        return report
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(h or "").strip() for h in next(rows, ())]
    labels = {str(label): name for name, label, _example in COLUMNS}
    names = [labels.get(h) for h in header]
    missing = [str(label) for name, label, _e in COLUMNS if name not in names]
    if missing:
        report.errors.append((1, [_("Missing columns: %(c)s.") % {"c": ", ".join(missing)}]))
        return report
    parsed: list[tuple[int, ResultData]] = []
    for number, row in enumerate(rows, start=2):
        if number - 1 > MAX_ROWS:
            report.errors.append((number, [_("At most %(n)s rows.") % {"n": MAX_ROWS}]))
            break
        if not any(v not in (None, "") for v in row):
            continue
        values = {name: value for name, value in zip(names, row, strict=False) if name}
        data, problems = _row_data(values)
        if data is None:
            report.errors.append((number, problems))
            continue
        try:
            clean_result(data, register)
        except ValidationError as exc:
            report.errors.append((number, _named(exc)))
            continue
        parsed.append((number, data))
    if report.errors:
        return report
    try:
        with transaction.atomic():
            for number, data in parsed:
                try:
                    _entry, opened = register_result(
                        data, register=register, actor=actor, source=EntrySource.IMPORT
                    )
                except ValidationError as exc:
                    report.errors.append((number, _named(exc)))
                    continue
                report.imported += 1
                report.findings += len(opened)
            if report.errors:
                raise _RollBack
    except _RollBack:
        report.imported = report.findings = 0
    return report


def _named(exc: ValidationError) -> list[str]:
    """The problems of a row, each under its column's heading."""
    headings = {name: str(label) for name, label, _e in COLUMNS}
    return [f"{headings.get(k, k)}: {'; '.join(v)}" for k, v in exc.message_dict.items()]


class _RollBack(Exception):
    """Leave the transaction without writing: some row was wrong."""
