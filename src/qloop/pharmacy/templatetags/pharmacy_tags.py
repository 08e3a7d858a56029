"""The case page's view of a pharmacy record: the same masked dictionary the API gives."""

from __future__ import annotations

from typing import Any

from django import template

from qloop.cases.kinds import KINDS

register = template.Library()


@register.simple_tag(takes_context=True)
def pharmacy_detail(context: dict[str, Any], case: Any) -> dict[str, Any]:
    spec = KINDS[case.kind]
    assert spec.detail_out is not None
    return spec.detail_out(case, context["user"])


@register.filter
def criterion_label(value: str) -> str:
    from qloop.pharmacy.models import Criterion

    return str(dict(Criterion.choices).get(value, value))
