"""Template helpers of the clinical pages."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def patient_of(context: Any, case: Any) -> dict[str, Any]:
    """The case's patient as the person looking may see them (masked for the others)."""
    from qloop.clinical.presentation import patient

    user = context["request"].user
    if case.kind == "finding":
        e = case.finding.entry
        return patient(user, case, e.patient_name, e.patient_id)
    if case.kind == "disease_report":
        r = case.disease_report
        return patient(user, case, r.patient_name, r.patient_id)
    if case.kind == "patient_opinion":
        o = case.patient_opinion
        return patient(user, case, o.patient_name, o.phone)
    return {"patient_name": "", "patient_id": "", "personal_data": False}


@register.filter
def minutes(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds / 60:.1f}"
