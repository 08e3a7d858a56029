"""Small filters for the report pages: stored names in the reader's language, numbers."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def in_language(names: Any) -> str:
    """A stored {"zh-hans": …, "en": …, "zh-hant": …} name in the reader's language."""
    if not isinstance(names, dict):
        return str(names or "")
    lang = (get_language() or "zh-hans").lower()
    return str(names.get(lang) or names.get("zh-hans") or "")


@register.filter
def number(value: Any, digits: int = 1) -> str:
    """A number with ``digits`` decimals, or a dash when there is none."""
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value):.{int(digits)}f}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def all_answers(results: Any) -> int | None:
    """Every answer a campaign got: by personal link, public link or paper, as the results
    page and each question count them (``answered`` alone is the personal links')."""
    if not results:
        return None
    return int(results.get("answered") or 0) + int(results.get("public_answers") or 0)


@register.filter
def percent(fraction: Any) -> str:
    """A fraction 0–1 as a percentage (the response rate)."""
    if fraction is None or fraction == "":
        return "—"
    try:
        return f"{float(fraction) * 100:.1f}%"
    except (TypeError, ValueError):
        return str(fraction)


@register.filter
def signed(value: Any) -> str:
    """A difference with its sign (+3.5, −2.0), or nothing."""
    if value is None:
        return ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return ""
    return f"+{v:.1f}" if v > 0 else (f"−{-v:.1f}" if v < 0 else "±0")


@register.simple_tag
def change(current: Any, previous: Any) -> str:
    if current is None or previous is None:
        return ""
    return signed(float(current) - float(previous))


@register.filter
def get(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
