"""ADR reports as .xlsx, one row per suspect drug, in the order of the national form
《药品不良反应/事件报告表》 (Order 81, appendix 1), for staff who type them into the national
system. Streamed with openpyxl's write-only mode."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from qloop.cases.models import Case
from qloop.pharmacy.models import AdrDrug, AdrReport, DrugRole

COLUMNS: list[tuple[Any, Any]] = [
    (_("Number"), lambda c, r, d: c.number),
    (_("Report type"), lambda c, r, d: r.get_report_type_display()),
    (_("Seriousness"), lambda c, r, d: r.get_seriousness_display()),
    (_("Reporting unit type"), lambda c, r, d: r.get_unit_type_display()),
    (_("Patient name"), lambda c, r, d: r.patient_name),
    (_("Sex"), lambda c, r, d: r.get_sex_display()),
    (_("Birth date"), lambda c, r, d: r.birth_date.isoformat() if r.birth_date else ""),
    (_("Age"), lambda c, r, d: r.age_years if r.age_years is not None else ""),
    (_("Ethnicity"), lambda c, r, d: r.ethnicity),
    (_("Weight (kg)"), lambda c, r, d: str(r.weight_kg or "")),
    (_("Patient contact"), lambda c, r, d: r.patient_contact),
    (_("Underlying disease"), lambda c, r, d: r.underlying_disease),
    (_("Hospital"), lambda c, r, d: r.hospital),
    (_("Record number"), lambda c, r, d: r.record_number),
    (_("Past ADR"), lambda c, r, d: r.past_adr),
    (_("Family ADR"), lambda c, r, d: r.family_adr),
    (_("Relevant history"), lambda c, r, d: ", ".join([*r.history, r.history_other]).strip(", ")),
    (_("Approval number"), lambda c, r, d: d.approval_number if d else ""),
    (_("Brand name"), lambda c, r, d: d.brand_name if d else ""),
    (_("Generic name"), lambda c, r, d: d.generic_name if d else ""),
    (_("Manufacturer"), lambda c, r, d: d.manufacturer if d else ""),
    (_("Batch number"), lambda c, r, d: d.batch_number if d else ""),
    (_("Dose"), lambda c, r, d: d.dose if d else ""),
    (_("Route"), lambda c, r, d: d.route if d else ""),
    (_("Times per day"), lambda c, r, d: d.times_per_day if d else ""),
    (_("Started"), lambda c, r, d: d.started_on.isoformat() if d and d.started_on else ""),
    (_("Stopped"), lambda c, r, d: d.stopped_on.isoformat() if d and d.stopped_on else ""),
    (_("Reason for use"), lambda c, r, d: d.reason if d else ""),
    (
        _("Concomitant drug"),
        lambda c, r, d: "; ".join(
            x.generic_name for x in r.drugs.all() if x.role == DrugRole.CONCOMITANT
        ),
    ),
    (_("Reaction"), lambda c, r, d: r.reaction),
    (_("Onset"), lambda c, r, d: _when(r.onset_at)),
    (_("Course and treatment"), lambda c, r, d: r.course),
    (_("Outcome"), lambda c, r, d: r.get_outcome_display()),
    (_("Sequelae"), lambda c, r, d: r.sequelae),
    (_("Cause of death"), lambda c, r, d: r.death_cause),
    (_("Time of death"), lambda c, r, d: _when(r.death_at)),
    (_("Dechallenge"), lambda c, r, d: r.get_dechallenge_display()),
    (_("Rechallenge"), lambda c, r, d: r.get_rechallenge_display()),
    (_("Effect on the underlying disease"), lambda c, r, d: r.disease_effect),
    (_("Causality (reporter)"), lambda c, r, d: r.get_causality_reporter_display()),
    (_("Signed (reporter)"), lambda c, r, d: r.causality_reporter_signed),
    (_("Causality (unit)"), lambda c, r, d: r.get_causality_unit_display()),
    (_("Signed (unit)"), lambda c, r, d: r.causality_unit_signed),
    (_("Reporter"), lambda c, r, d: r.reporter_name),
    (_("Reporter phone"), lambda c, r, d: r.reporter_phone),
    (_("Reporter occupation"), lambda c, r, d: r.reporter_occupation),
    (_("Reporter e-mail"), lambda c, r, d: r.reporter_email),
    (_("Reporting unit"), lambda c, r, d: r.reporting_unit),
    (_("Unit contact"), lambda c, r, d: r.unit_contact),
    (_("Unit phone"), lambda c, r, d: r.unit_phone),
    (_("Report date"), lambda c, r, d: r.report_date.isoformat() if r.report_date else ""),
]


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def adr_workbook(cases: Iterable[Case]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("ADR")
    ws.append([str(label) for label, _get in COLUMNS])
    ids = [c.pk for c in cases]
    reports = (
        AdrReport.objects.filter(pk__in=ids)
        .select_related("case")
        .prefetch_related("drugs")
        .order_by("case__received_at")
    )
    for report in reports.iterator(chunk_size=500):
        suspects: list[AdrDrug | None] = [
            d for d in report.drugs.all() if d.role == DrugRole.SUSPECT
        ]
        suspects = suspects or [None]
        for drug in suspects:
            ws.append([get(report.case, report, drug) for _label, get in COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
