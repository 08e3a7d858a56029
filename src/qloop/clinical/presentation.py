"""What the API and the case page show of the clinical kinds' records, masked for those who
may not see the patient (DESIGN: personal data only for those who need it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from qloop.cases.access import can_see_personal_data
from qloop.cases.models import Case
from qloop.clinical.access import mask_id, mask_name
from qloop.org.models import User


def _when(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def patient(user: User, case: Case, name: str, record: str) -> dict[str, Any]:
    full = can_see_personal_data(user, case)
    return {
        "patient_name": name if full else mask_name(name),
        "patient_id": record if full else mask_id(record),
        "personal_data": full,
    }


def finding_out(case: Case, user: User) -> dict[str, Any]:
    f = case.finding
    e = f.entry
    return {
        "kind": f.kind,
        "reason": f.reason,
        "entry": e.number,
        "entry_version": f.entry_version,
        "register": f.register.code,
        "test_code": f.test_code,
        "test_name": f.test_name,
        "result": f.sent_result,
        **patient(user, case, e.patient_name, e.patient_id),
        "sex": e.sex,
        "age_years": str(e.age_years) if e.age_years is not None else None,
        "ward": e.ward.code if e.ward else None,
        "bed": e.bed,
        "ordering_department": f.ordering_department.code if f.ordering_department else None,
        "ordering_doctor": e.ordering_doctor_name,
        "to_tell": f.recipient_user.username if f.recipient_user else None,
        "reported_at": _when(f.reported_at),
        "limit_minutes": f.limit_minutes,
        "acknowledged_at": _when(f.acknowledged_at),
        "acknowledged_by": f.acknowledged_by,
        "ack_method": f.ack_method or None,
        "ack_seconds": f.ack_seconds,
        "calls": [
            {
                "at": _when(c.at),
                "caller": c.caller.username,
                "receiver_name": c.receiver_name,
                "receiver_role": c.receiver_role,
                "name_matches": c.name_matches,
                "patient_id_matches": c.patient_id_matches,
                "result_matches": c.result_matches,
                "outcome_given": c.outcome_given,
                "outcome": c.outcome,
                "note": c.note,
            }
            for c in f.calls.select_related("caller")
        ],
        "disease": f.disease.code if f.disease else None,
        "disease_report": f.disease_report.number if f.disease_report else None,
        "clinical_action": f.clinical_action,
    }


def disease_report_out(case: Case, user: User) -> dict[str, Any]:
    r = case.disease_report
    out = {
        "disease": r.disease.code,
        "disease_class": r.disease.disease_class,
        "rule": {"version": r.rule.version, "hours": r.rule.hours, "source": r.rule.source}
        if r.rule
        else None,
        **patient(user, case, r.patient_name, r.patient_id),
        "sex": r.sex,
        "age_years": str(r.age_years) if r.age_years is not None else None,
        "classification": r.classification,
        "diagnosed_at": _when(r.diagnosed_at),
        "lab_result": r.lab_result,
        "reporting_department": r.reporting_department.code if r.reporting_department else None,
        "reporting_doctor": r.reporting_doctor,
        "network_report_id": r.network_report_id,
        "network_reported_at": _when(r.network_reported_at),
        "findings": list(case.linked_findings.values_list("case__number", flat=True)),
    }
    return out


def opinion_out(case: Case, user: User) -> dict[str, Any]:
    o = case.patient_opinion
    full = can_see_personal_data(user, case)
    return {
        "register": o.register.code,
        "opinion_type": o.opinion_type,
        "content": o.content,
        "patient_name": o.patient_name if full else mask_name(o.patient_name),
        "phone": o.phone if full else mask_id(o.phone) if o.phone else "",
        "from_public_page": o.from_public_page,
        "handling": o.handling,
        "answer": o.answer,
    }


def special_request_out(case: Case, user: User) -> dict[str, Any]:
    r = case.special_request
    return {
        "register": r.register.code,
        "requesting_department": r.requesting_department.code,
        "test_or_study": r.test_or_study,
        "clinical_reason": r.clinical_reason,
        "needed_by": r.needed_by.isoformat() if r.needed_by else None,
        "plan": r.plan,
        "decline_reason": r.decline_reason,
        "result": r.result,
    }


def issue_out(case: Case, user: User) -> dict[str, Any]:
    i = case.clinician_issue
    return {
        "register": i.register.code,
        "clinical_department": i.clinical_department.code,
        "question": i.question,
        "said": i.said,
        "important": i.important,
        "discussion": i.discussion,
        "improvement": i.improvement,
        "form": i.form_id,
    }
