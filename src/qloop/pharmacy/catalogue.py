"""The drug catalogue: drugs and their batches, kept by the pharmacy, and their import from a
spreadsheet with a report row by row (nothing imported while a row is wrong, unless the person
chooses to import the good rows)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook

from qloop import inputs
from qloop.org.models import User
from qloop.pharmacy.models import Drug, DrugBatch
from qloop.pharmacy.processes import PHARMACISTS

MAX_ROWS = 5000

# field, heading, example, max length, required
COLUMNS: list[tuple[str, Any, Any, int, bool]] = [
    ("generic_name", gettext_lazy("Generic name"), "阿莫西林", 120, True),
    ("dosage_form", gettext_lazy("Dosage form"), "胶囊", 40, True),
    ("brand_name", gettext_lazy("Brand name"), "阿莫仙", 120, False),
    ("approval_number", gettext_lazy("Approval number"), "国药准字H44021351", 40, True),
    ("strength", gettext_lazy("Strength"), "0.25g", 80, True),
    ("manufacturer", gettext_lazy("Manufacturer"), "珠海联邦制药股份有限公司", 120, True),
    ("batch_number", gettext_lazy("Batch number"), "2406123", 40, False),
    ("expiry", gettext_lazy("Expiry (YYYY-MM-DD)"), "2027-05-31", 10, False),
]


def can_keep_catalogue(user: User) -> bool:
    return user.is_authenticated and (user.administers or user.has_role(*PHARMACISTS))


@dataclass
class RowReport:
    row: int
    problems: list[str]
    drug: str = ""
    created_drug: bool = False
    created_batch: bool = False


@dataclass
class ImportReport:
    rows: list[RowReport] = field(default_factory=list)
    imported: int = 0
    drugs_created: int = 0
    batches_created: int = 0
    file_error: str = ""

    @property
    def errors(self) -> list[RowReport]:
        return [r for r in self.rows if r.problems]

    @property
    def good(self) -> int:
        return sum(1 for r in self.rows if not r.problems)

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.errors


def template_workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "drugs"
    ws.append([str(label) for _n, label, _e, _m, _r in COLUMNS])
    ws.append([example for _n, _l, example, _m, _r in COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip().replace("/", "-"))


def clean_row(values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """One catalogue line checked; the problems each under its column's heading."""
    problems: list[str] = []
    out: dict[str, Any] = {}
    for name, label, _example, limit, required in COLUMNS:
        raw = values.get(name)
        if name == "expiry":
            try:
                out[name] = _date(raw)
            except ValueError:
                problems.append(_("%(column)s: write the date as YYYY-MM-DD.") % {"column": label})
            continue
        text = "" if raw is None else str(raw).strip()
        try:
            inputs.validate_text(text)
        except ValidationError as exc:
            problems.append(f"{label}: {'; '.join(exc.messages)}")
            continue
        if required and not text:
            problems.append(_("%(column)s: this field is required.") % {"column": label})
        elif len(text) > limit:
            problems.append(
                _("%(column)s: at most %(n)s characters.") % {"column": label, "n": limit}
            )
        out[name] = text
    if out.get("expiry") and not out.get("batch_number"):
        problems.append(_("An expiry date belongs to a batch: give the batch number."))
    return out, problems


def upsert(values: dict[str, Any]) -> tuple[Drug, DrugBatch | None, bool, bool]:
    """The drug (by manufacturer and approval number) and batch of a clean line, made if new;
    a known drug's other fields are brought up to date."""
    drug, created_drug = Drug.objects.get_or_create(
        manufacturer=values["manufacturer"],
        approval_number=values["approval_number"],
        defaults={k: values[k] for k in ("generic_name", "dosage_form", "brand_name", "strength")},
    )
    if not created_drug:
        changed = [
            k
            for k in ("generic_name", "dosage_form", "brand_name", "strength")
            if values[k] and getattr(drug, k) != values[k]
        ]
        for k in changed:
            setattr(drug, k, values[k])
        if changed:
            drug.save(update_fields=changed)
    batch, created_batch = None, False
    if values.get("batch_number"):
        batch, created_batch = DrugBatch.objects.get_or_create(
            drug=drug,
            batch_number=values["batch_number"],
            defaults={"expiry": values.get("expiry")},
        )
        if not created_batch and values.get("expiry") and batch.expiry != values["expiry"]:
            batch.expiry = values["expiry"]
            batch.save(update_fields=["expiry"])
    return drug, batch, created_drug, created_batch


def import_catalogue(upload: Any, *, actor: User, good_rows: bool = False) -> ImportReport:
    """Check every row; write all of them, or none while any is wrong — unless ``good_rows``:
    then the right ones are written and the wrong ones reported."""
    if not can_keep_catalogue(actor):
        raise PermissionDenied
    report = ImportReport()
    try:
        wb = load_workbook(upload, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        report.file_error = _("This is not an .xlsx workbook.")
        return report
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(h or "").strip() for h in next(rows, ())]
    labels: dict[str, str] = {}
    for language in ("zh-hans", "zh-hant", "en"):
        # A template downloaded in one language is read in any of them.
        with translation.override(language):
            for name, label, _e, _m, _r in COLUMNS:
                labels[str(label)] = name
    for name, *_rest in COLUMNS:
        labels[name] = name  # the field names work as headings too
    names = [labels.get(h) for h in header]
    missing = [str(label) for name, label, _e, _m, req in COLUMNS if req and name not in names]
    if missing:
        report.file_error = _("Missing columns: %(c)s.") % {"c": ", ".join(missing)}
        return report
    parsed: list[tuple[RowReport, dict[str, Any]]] = []
    seen: dict[tuple[str, str, str], int] = {}
    for number, row in enumerate(rows, start=2):
        if number - 1 > MAX_ROWS:
            report.file_error = _("At most %(n)s rows.") % {"n": MAX_ROWS}
            return report
        if not any(v not in (None, "") for v in row):
            continue
        values = {name: value for name, value in zip(names, row, strict=False) if name}
        cleaned, problems = clean_row(values)
        key = (
            cleaned.get("manufacturer", ""),
            cleaned.get("approval_number", ""),
            cleaned.get("batch_number", ""),
        )
        if not problems and key in seen:
            problems.append(_("The same batch is already on row %(row)s.") % {"row": seen[key]})
        seen.setdefault(key, number)
        line = RowReport(
            number,
            problems,
            drug=" ".join(str(cleaned.get(k) or "") for k in ("generic_name", "strength")),
        )
        report.rows.append(line)
        if not problems:
            parsed.append((line, cleaned))
    if report.errors and not good_rows:
        return report
    with transaction.atomic():
        for line, cleaned in parsed:
            _drug, _batch, line.created_drug, line.created_batch = upsert(cleaned)
            report.imported += 1
            report.drugs_created += int(line.created_drug)
            report.batches_created += int(line.created_batch)
    return report


def find_drug(approval_number: str, manufacturer: str = "") -> Drug | None:
    qs = Drug.objects.filter(approval_number=approval_number.strip(), is_active=True)
    if manufacturer.strip():
        qs = qs.filter(manufacturer=manufacturer.strip())
    found = list(qs[:2])
    return found[0] if len(found) == 1 else None
