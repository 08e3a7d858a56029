"""What the API and the case page show of the pharmacy kinds' records, masked for those who
may not see the patient."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from qloop.cases.access import can_see_personal_data
from qloop.cases.models import Case
from qloop.org.models import User
from qloop.pharmacy.access import mask_name, mask_value
from qloop.pharmacy.models import AdrReport, DrugBatch


def _when(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def drug_out(drug: Any, batch: DrugBatch | None) -> dict[str, Any] | None:
    if drug is None:
        return None
    return {
        "id": drug.pk,
        "generic_name": drug.generic_name,
        "dosage_form": drug.dosage_form,
        "brand_name": drug.brand_name,
        "approval_number": drug.approval_number,
        "strength": drug.strength,
        "manufacturer": drug.manufacturer,
        "batch_number": batch.batch_number if batch else None,
        "expiry": _day(batch.expiry) if batch else None,
    }


def sendings_out(case: Case) -> list[dict[str, Any]]:
    return [
        {
            "at": _when(s.at),
            "channel": s.channel,
            "recipient": s.recipient,
            "by": s.by.username,
            "reference": s.reference,
            "note": s.note,
        }
        for s in case.sendings.select_related("by")
    ]


def drug_feedback_out(case: Case, user: User) -> dict[str, Any]:
    f = case.drug_feedback
    full = can_see_personal_data(user, case)
    return {
        "drug": drug_out(f.drug, f.batch),
        "drug_text": f.drug_text,
        "batch_text": f.batch_text,
        "problem": f.problem,
        "description": f.description,
        "source": f.source,
        "from_public_page": f.from_public_page,
        "patient_name": f.patient_name if full else mask_name(f.patient_name),
        "patient_phone": f.patient_phone if full else mask_value(f.patient_phone),
        "personal_data": full,
        "major": f.major,
        "major_reason": f.major_reason,
        "cause": f.cause,
        "resolution": f.resolution,
        "answer": f.answer,
        "answered_at": _when(f.answered_at),
        "archived_for_inspection_at": _when(f.archived_for_inspection_at),
        "sendings": sendings_out(case),
    }


def counterfeit_out(case: Case, user: User) -> dict[str, Any]:
    c = case.counterfeit
    return {
        "drug": drug_out(c.drug, c.batch),
        "where_found": c.where_found,
        "how_found": c.how_found,
        "criteria": c.criteria,
        "finding": c.finding,
        "holds": [
            {
                "store": h.store,
                "quantity": h.quantity,
                "unit": h.unit,
                "held_at": _when(h.held_at),
                "released_at": _when(h.released_at),
            }
            for h in case.stock_holds.all()
        ],
        "testing_institute": c.testing_institute,
        "sample_sent_on": _day(c.sample_sent_on),
        "sample_quantity": c.sample_quantity,
        "test_report_number": c.test_report_number,
        "test_result": c.test_result,
        "test_conforms": c.test_conforms,
        "disposal": c.disposal,
        "disposed_quantity": c.disposed_quantity,
        "sendings": sendings_out(case),
    }


def rule_out(report: AdrReport) -> dict[str, Any] | None:
    rule = report.rule
    if rule is None:
        return None
    return {
        "category": rule.category,
        "version": rule.version,
        "valid_from": _day(rule.valid_from),
        "days": rule.days,
        "hours": rule.hours,
        "immediate": rule.immediate,
        "needs_call": rule.needs_call,
        "source": rule.source,
    }


def adr_out(case: Case, user: User) -> dict[str, Any]:
    r = case.adr
    full = can_see_personal_data(user, case)

    def hide(value: str) -> str:
        return value if full else mask_value(value)

    return {
        "report_type": r.report_type,
        "follow_up_of": r.follow_up_of.number if r.follow_up_of else None,
        "seriousness": r.seriousness,
        "category": r.category,
        "unit_type": r.unit_type,
        "personal_data": full,
        "patient_name": r.patient_name if full else mask_name(r.patient_name),
        "sex": r.sex,
        "birth_date": _day(r.birth_date) if full else None,
        "age_years": r.age_years,
        "ethnicity": r.ethnicity,
        "weight_kg": str(r.weight_kg) if r.weight_kg is not None else None,
        "patient_contact": hide(r.patient_contact),
        "hospital": r.hospital,
        "record_number": hide(r.record_number),
        "underlying_disease": r.underlying_disease,
        "past_adr": r.past_adr,
        "family_adr": r.family_adr,
        "history": r.history,
        "history_other": r.history_other,
        "reaction": r.reaction,
        "onset_at": _when(r.onset_at),
        "course": r.course,
        "outcome": r.outcome,
        "sequelae": r.sequelae,
        "death_cause": r.death_cause,
        "death_at": _when(r.death_at),
        "dechallenge": r.dechallenge,
        "rechallenge": r.rechallenge,
        "disease_effect": r.disease_effect,
        "causality_reporter": r.causality_reporter,
        "causality_reporter_signed": r.causality_reporter_signed,
        "causality_unit": r.causality_unit,
        "causality_unit_signed": r.causality_unit_signed,
        "reporter_name": r.reporter_name,
        "reporter_phone": r.reporter_phone,
        "reporter_occupation": r.reporter_occupation,
        "reporter_email": r.reporter_email,
        "reporting_unit": r.reporting_unit,
        "unit_contact": r.unit_contact,
        "unit_phone": r.unit_phone,
        "report_date": _day(r.report_date),
        "aware_at": _when(r.aware_at),
        "rule": rule_out(r),
        "part_of_group": r.part_of_group,
        "group": r.group.number if r.group else None,
        "quality_suspected": r.quality_suspected,
        "department": r.department.code if r.department else None,
        "drugs": [
            {
                "role": d.role,
                "drug_id": d.drug_id,
                "approval_number": d.approval_number,
                "brand_name": d.brand_name,
                "generic_name": d.generic_name,
                "manufacturer": d.manufacturer,
                "batch_number": d.batch_number,
                "dose": d.dose,
                "route": d.route,
                "times_per_day": d.times_per_day,
                "started_on": _day(d.started_on),
                "stopped_on": _day(d.stopped_on),
                "reason": d.reason,
            }
            for d in r.drugs.all()
        ],
        "missing": r.missing(),
        "sendings": sendings_out(case),
    }


def adr_group_out(case: Case, user: User) -> dict[str, Any]:
    g = case.adr_group
    return {
        "drug": drug_out(g.drug, g.batch),
        "area": g.area,
        "using_unit": g.using_unit,
        "exposed": g.exposed,
        "affected": g.affected,
        "serious": g.serious,
        "deaths": g.deaths,
        "first_use_on": _day(g.first_use_on),
        "first_onset_on": _day(g.first_onset_on),
        "devices": g.devices,
        "detected": g.detected,
        "reports": list(
            case.group_members.order_by("aware_at").values_list("case__number", flat=True)
        ),
        "sendings": sendings_out(case),
    }
