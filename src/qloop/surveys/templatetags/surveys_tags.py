from __future__ import annotations

from typing import Any

from django import template

from qloop.surveys.access import can_see_results

register = template.Library()


@register.filter
def sees_surveys(user: Any) -> bool:
    """Whether the navigation shows the surveys link (the views check again)."""
    return bool(user.is_authenticated and can_see_results(user))
