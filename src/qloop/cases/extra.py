"""Organisation-defined extra fields (R1.2 "etc."): typed, validated, one set of rules for
the form, the API, the filters and the exports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from qloop.cases.choices import FieldType
from qloop.cases.models import Category, ExtraField
from qloop.inputs import validate_date
from qloop.org import refdata


def active_fields(kind: str) -> list[ExtraField]:
    """The active extra fields of a kind, from this process's copy (``qloop.org.refdata``)."""
    return list(
        refdata.cached(
            ("extra_fields", kind),
            lambda: tuple(ExtraField.objects.filter(kind=kind, is_active=True)),
        )
    )


def active_categories() -> tuple[Category, ...]:
    """The active categories with their parents, from this process's copy."""
    return refdata.cached(
        "categories",
        lambda: tuple(Category.objects.filter(is_active=True).select_related("parent")),
    )


def active_category(code: str) -> Category | None:
    """The active category of this code, if there is one."""
    return next((c for c in active_categories() if c.code == code), None)


def clean_value(field: ExtraField, raw: Any) -> Any:
    """The stored (JSON) value of ``raw`` for ``field``, or ValidationError with a clear message."""
    if raw is None or raw == "" or raw == []:
        if field.required and field.field_type != FieldType.BOOLEAN:
            raise ValidationError(_("This field is required."), code="required")
        return None
    kind = field.field_type
    try:
        if kind == FieldType.TEXT:
            value = str(raw).strip()
            if len(value) > 1000:
                raise ValidationError(_("At most 1000 characters."), code="max_length")
            return value
        if kind == FieldType.INTEGER:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError
            return int(str(raw).strip())
        if kind == FieldType.DECIMAL:
            if isinstance(raw, bool):
                raise ValueError
            number = Decimal(str(raw).strip())
            if not number.is_finite():
                raise ValueError
            return str(number)
        if kind == FieldType.DATE:
            day = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw).strip())
            validate_date(day)
            return day.isoformat()
        if kind == FieldType.BOOLEAN:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"true", "1", "yes", "on"}:
                return True
            if text in {"false", "0", "no", "off"}:
                return False
            raise ValueError
        if kind == FieldType.CHOICE:
            value = str(raw).strip()
            if value not in field.choices:
                raise ValidationError(
                    _("Choose one of: %(choices)s.") % {"choices": ", ".join(field.choices)},
                    code="invalid_choice",
                )
            return value
    except (ValueError, InvalidOperation) as exc:
        messages: dict[str, str] = {
            FieldType.INTEGER: _("Enter a whole number."),
            FieldType.DECIMAL: _("Enter a number."),
            FieldType.DATE: _("Enter a date as YYYY-MM-DD."),
            FieldType.BOOLEAN: _("Enter true or false."),
        }
        raise ValidationError(
            messages.get(str(kind), _("Enter a valid value.")), code="invalid"
        ) from exc
    raise ValidationError(_("Enter a valid value."), code="invalid")


def clean_extra(kind: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """Validate every extra field of ``kind``; errors are keyed by the field's code."""
    data = data or {}
    fields = active_fields(kind)
    known = {f.code for f in fields}
    errors: dict[str, list[ValidationError]] = {}
    for code in data:
        if code not in known:
            errors[code] = [ValidationError(_("There is no such field."), code="unknown")]
    cleaned: dict[str, Any] = {}
    for field in fields:
        try:
            value = clean_value(field, data.get(field.code))
        except ValidationError as exc:
            errors[field.code] = [exc]
            continue
        if value is not None:
            cleaned[field.code] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def form_field(field: ExtraField) -> forms.Field:
    """A Django form field for one extra field; the stored value is cleaned by clean_value."""
    common: dict[str, Any] = {
        "label": field.display_label,
        "required": field.required and field.field_type != FieldType.BOOLEAN,
        "help_text": field.help_text,
    }
    if field.field_type == FieldType.INTEGER:
        return forms.IntegerField(**common)
    if field.field_type == FieldType.DECIMAL:
        return forms.DecimalField(**common)
    if field.field_type == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if field.field_type == FieldType.BOOLEAN:
        return forms.BooleanField(**common)
    if field.field_type == FieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *field.display_choices], **common)
    return forms.CharField(max_length=1000, **common)


def display_value(field: ExtraField, value: Any) -> str:
    if value is None or value == "":
        return ""
    if field.field_type == FieldType.BOOLEAN:
        return _("Yes") if value else _("No")
    if field.field_type == FieldType.CHOICE:
        return field.choice_label(value)
    return str(value)
