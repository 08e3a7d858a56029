"""Patients' opinions, special test requests and clinicians' issues: cases a laboratory or
radiology department registers and handles (R5.3, R5.4, R5.6, R5.7)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from qloop.cases.models import Case
from qloop.clinical.models import (
    ClinicalRegister,
    ClinicianIssue,
    FeedbackForm,
    OpinionType,
    PatientOpinion,
    SpecialRequest,
)
from qloop.org.models import Department, User

MAX_TEXT = 5000


def _register(code: Any, errors: dict[str, list[str]]) -> ClinicalRegister | None:
    found = ClinicalRegister.objects.filter(code=str(code or ""), is_active=True).first()
    if found is None:
        errors["register"] = [_("Choose the laboratory or radiology.")]
    return found


def _text(
    detail: dict[str, Any], name: str, errors: dict[str, list[str]], *, required: bool
) -> str:
    value = detail.pop(name, "")
    if not isinstance(value, str):
        errors[name] = [_("This value has the wrong type.")]
        return ""
    value = value.strip()
    if required and not value:
        errors[name] = [_("This field is required.")]
    elif len(value) > MAX_TEXT:
        errors[name] = [_("At most %(n)s characters.") % {"n": MAX_TEXT}]
    return value


def _no_unknown(detail: dict[str, Any], errors: dict[str, list[str]]) -> None:
    for unknown in detail:
        errors[str(unknown)] = [_("This step takes no such field.")]


def clean_opinion(detail: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {"register": _register(detail.pop("register", ""), errors)}
    opinion_type = detail.pop("opinion_type", OpinionType.SUGGESTION)
    if opinion_type not in OpinionType.values:
        errors["opinion_type"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(OpinionType.values)}
        ]
    out["opinion_type"] = opinion_type
    out["content"] = _text(detail, "content", errors, required=True)
    out["patient_name"] = _text(detail, "patient_name", errors, required=False)[:60]
    out["phone"] = _text(detail, "phone", errors, required=False)[:30]
    out["from_public_page"] = bool(detail.pop("from_public_page", False))
    _no_unknown(detail, errors)
    if errors:
        raise ValidationError(errors)
    return out


def create_opinion(case: Case, detail: dict[str, Any], actor: User | None) -> None:
    PatientOpinion.objects.create(case=case, **detail)


def opinion_title(detail: dict[str, Any]) -> str:
    return f"{OpinionType(detail['opinion_type']).label}: {detail['content'][:40]}"


def clean_special_request(detail: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {"register": _register(detail.pop("register", ""), errors)}
    code = detail.pop("requesting_department", "")
    dept = Department.objects.filter(code=str(code or ""), is_active=True).first()
    if dept is None:
        errors["requesting_department"] = [_("There is no such department.")]
    out["requesting_department"] = dept
    out["test_or_study"] = _text(detail, "test_or_study", errors, required=True)[:200]
    out["clinical_reason"] = _text(detail, "clinical_reason", errors, required=True)
    needed = detail.pop("needed_by", None) or None
    if needed is not None and not isinstance(needed, dt.date):
        try:
            needed = dt.date.fromisoformat(str(needed))
        except ValueError:
            errors["needed_by"] = [_("Enter a date as YYYY-MM-DD.")]
            needed = None
    out["needed_by"] = needed
    _no_unknown(detail, errors)
    if errors:
        raise ValidationError(errors)
    return out


def create_special_request(case: Case, detail: dict[str, Any], actor: User | None) -> None:
    SpecialRequest.objects.create(case=case, **detail)


def clean_issue(detail: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {"register": _register(detail.pop("register", ""), errors)}
    code = detail.pop("clinical_department", "")
    dept = Department.objects.filter(code=str(code or ""), is_active=True).first()
    if dept is None:
        errors["clinical_department"] = [_("There is no such department.")]
    out["clinical_department"] = dept
    form = detail.pop("_form", None)
    out["form"] = form if isinstance(form, FeedbackForm) else None
    out["question"] = _text(detail, "question", errors, required=False)[:500]
    out["said"] = _text(detail, "said", errors, required=True)
    out["important"] = bool(detail.pop("important", False))
    _no_unknown(detail, errors)
    if errors:
        raise ValidationError(errors)
    return out


def create_issue(case: Case, detail: dict[str, Any], actor: User | None) -> None:
    ClinicianIssue.objects.create(case=case, **detail)


def register_department(detail: dict[str, Any]) -> Department | None:
    register = detail.get("register")
    return register.department if isinstance(register, ClinicalRegister) else None


# --- step effects ----------------------------------------------------------------------------


def close_patient_opinion(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    PatientOpinion.objects.filter(pk=case.pk).update(
        handling=cleaned["handling"], answer=cleaned.get("answer") or ""
    )


def accept_special_request(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    SpecialRequest.objects.filter(pk=case.pk).update(plan=cleaned["plan"])


def decline_special_request(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    SpecialRequest.objects.filter(pk=case.pk).update(decline_reason=cleaned["reason"])


def complete_special_request(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    SpecialRequest.objects.filter(pk=case.pk).update(result=cleaned["result"])


def take_up_issue(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    ClinicianIssue.objects.filter(pk=case.pk).update(discussion=cleaned["discussion"])


def close_issue(case: Case, cleaned: dict[str, Any], actor: User, now: Any) -> None:
    ClinicianIssue.objects.filter(pk=case.pk).update(improvement=cleaned["improvement"])


CASEWORK_EFFECTS = [
    close_patient_opinion,
    accept_special_request,
    decline_special_request,
    complete_special_request,
    take_up_issue,
    close_issue,
]
