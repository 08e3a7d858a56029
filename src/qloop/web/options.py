"""``<select>`` options rendered in one go, and kept between pages (issue 14): the register's
filter and a case step's person input list every active person, too many options for a
template loop."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

_SELECTED = mark_safe(" selected")


def select_options(choices: Iterable[tuple[str, str | Promise]], selected: str) -> SafeString:
    """``<option value="v">label</option>`` for each choice, escaped, ``selected`` marked."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, _SELECTED if value == selected else "", label) for value, label in choices),
    )


# (language, (value, id(label)) per choice) → (the choices, held so that no id is reused, the
# rendered options)
_RENDERED: dict[tuple[Any, ...], tuple[list[Any], str]] = {}


def kept_select_options(choices: Iterable[tuple[str, str | Promise]], selected: str) -> SafeString:
    """``select_options`` for choices whose labels are fixed objects (the processes' states,
    the kinds, a module's constants): rendered once per language and set of labels, then only
    this request's choice marked. Translating and escaping some sixty state labels cost every
    register page about 0.8 ms (issue 14)."""
    from django.utils.translation import get_language

    items = list(choices)
    key = (get_language(), tuple((value, id(label)) for value, label in items))
    found = _RENDERED.get(key)
    if found is None:
        if len(_RENDERED) >= 256:  # labels made afresh on each call would never be found
            _RENDERED.clear()
        found = _RENDERED[key] = (items, str(select_options(items, "")))
    return mark_selected(found[1], selected)


def mark_selected(rendered: str, value: str) -> SafeString:
    """Options rendered earlier (and kept) with this request's choice marked."""
    if value:
        option = format_html('<option value="{}"', value)
        rendered = rendered.replace(f"{option}>", f"{option}{_SELECTED}>", 1)
    return mark_safe(rendered)  # noqa: S308 - rendered by format_html_join, values escaped


def active_people() -> list[tuple[str, str]]:
    """(user name, printed name) of everyone active in a department, by user name: who may
    handle a case or be named in a step. Rows, not instances."""
    from qloop.org.models import User

    rows = (
        User.objects.filter(is_active=True, memberships__isnull=False)
        .distinct()
        .order_by("username")
        .values_list("username", "display_name", "first_name", "last_name")
    )
    return [
        (username, User.printed_name_of(username, display_name, first, last))
        for username, display_name, first, last in rows
    ]
