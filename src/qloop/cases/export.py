"""The register's rows for exports, with the organisation's extra fields as columns; the
workbook and CSV writers are in ``qloop.reports.exports``."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from qloop.cases import access
from qloop.cases.choices import FieldType
from qloop.cases.extra import active_fields
from qloop.cases.models import CaseQuerySet, ExtraField
from qloop.inputs import cell_text

if TYPE_CHECKING:
    from qloop.org.models import User


def _safe(value: object) -> object:
    """A value as a cell holds it safely: a text that starts like a formula is written as text,
    so opening the file runs nothing; characters a workbook cannot hold are dropped, so one
    stored before the input checks (or by an import) never breaks the export for everyone."""
    if not isinstance(value, str):
        return value
    value = cell_text(value)
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def case_headers(kind: str) -> list[str]:
    """The register's columns, with the organisation's extra fields for ``kind``."""
    return [
        _("Number"),
        _("Received at"),
        _("State"),
        _("Channel"),
        _("Severity"),
        _("Category"),
        _("Owning department"),
        _("Handler"),
        _("Contact"),
        _("Gender"),
        _("Phone"),
        _("E-mail"),
        _("QQ number"),
        _("Organisation"),
        _("Specification"),
        _("Model"),
        _("Quantity"),
        _("Serial number"),
        _("Symptom"),
        _("Current status"),
        _("Next deadline"),
        _("Overdue"),
    ] + [d.display_label for d in active_fields(kind)]


# Characters per column in the workbook (1-based); the rest are 14 wide.
CASE_WIDTHS = {1: 18, 2: 17, 19: 50, 20: 30}


# Columns read for each case: plain tuples, not six model instances per row (X4).
_FIELDS = (
    "pk",
    "number",
    "kind",
    "state",
    "channel",
    "severity",
    "received_at",
    "next_due_at",
    "deadline_state",
    "archived_at",
    "extra",
    "category_id",
    "department_id",
    "handler_id",
    "registered_by_id",
    "contact_id",
    "contact__name",
    "contact__gender",
    "contact__phone",
    "contact__email",
    "contact__qq",
    "contact__organisation",
    "product__pk",
    "product__specification",
    "product__model",
    "product__quantity",
    "product__serial_number",
    "product__symptom",
    "product__current_status",
)
_CHUNK = 2000


def _extra_formatter(field: ExtraField) -> Callable[[Any], str]:
    """``display_value`` for one field with its labels looked up once: asked per cell, the
    reader's language and the choice table were a fifth of a large export's time."""
    if field.field_type == FieldType.BOOLEAN:
        yes, no = str(_("Yes")), str(_("No"))
        return lambda value: "" if value is None or value == "" else (yes if value else no)
    if field.field_type == FieldType.CHOICE:
        labels = dict(field.display_choices)
        return lambda value: (
            "" if value is None or value == "" else labels.get(str(value), str(value))
        )
    return lambda value: "" if value is None or value == "" else str(value)


def _names(model: type[Any]) -> dict[int, str]:
    """Every row of a small table (departments, categories) by id, as ``str()`` shows it."""
    return {obj.pk: str(obj) for obj in model.objects.all()}


def case_rows(qs: CaseQuerySet, user: User, *, kind: str) -> Iterator[list[object]]:
    """The register's rows one at a time, read from the database in chunks: an export of a
    million cases holds a chunk, never the million (X4).

    Rows are read as tuples (``values_list``) with the contact and product joined, and the
    names of departments, categories and handlers looked up once: building six model
    instances per row was a quarter of a large export's time. Who sees a contact's details
    is decided as ``access.contact_details`` decides it; a kind with a rule of its own (the
    pharmacy's, the clinical kinds') is asked with the case itself, fetched for its chunk."""
    from qloop.cases.kinds import KINDS
    from qloop.cases.models import Case, Category, Contact
    from qloop.org.models import Department
    from qloop.org.models import User as UserModel
    from qloop.process.definitions import CLOSED_STATES, state_label
    from qloop.process.models import deadline_status

    extra = [(d.code, _extra_formatter(d)) for d in active_fields(kind)]
    tz = timezone.get_current_timezone()

    def naive(value: dt.datetime | None) -> dt.datetime | None:
        return value.astimezone(tz).replace(tzinfo=None) if value else None

    # Choice labels looked up once, not per cell: get_FOO_display hashes lazy strings on every
    # call and was half the time of a large export.
    channels = {str(v): str(label) for v, label in Case._meta.get_field("channel").flatchoices}
    severities = {str(v): str(label) for v, label in Case._meta.get_field("severity").flatchoices}
    genders = {str(v): str(label) for v, label in Contact._meta.get_field("gender").flatchoices}
    categories = _names(Category)
    departments = _names(Department)
    people: dict[int, str] = {}
    states: dict[tuple[str, str], str] = {}
    own_rule = {code for code, spec in KINDS.items() if spec.personal_data is not None}
    sees_all = bool(user.sees_personal_data)
    yes = str(_("Yes"))

    def person(pk: int | None) -> str:
        if pk is None:
            return ""
        if pk not in people:
            found = UserModel.objects.filter(pk=pk).first()
            people[pk] = str(found) if found is not None else ""
        return people[pk]

    rows = qs.values_list(*_FIELDS).iterator(chunk_size=_CHUNK)
    while chunk := list(itertools.islice(rows, _CHUNK)):
        special = [r[0] for r in chunk if r[2] in own_rule and r[15] is not None]
        cases = (
            Case.objects.select_related(*access.detail_relations()).in_bulk(special)
            if special
            else {}
        )
        for (
            pk,
            number,
            case_kind,
            state,
            channel,
            severity,
            received_at,
            next_due_at,
            deadline_state,
            archived_at,
            extras,
            category_id,
            department_id,
            handler_id,
            registered_by_id,
            contact_id,
            name,
            gender,
            phone,
            email,
            qq,
            organisation,
            product_id,
            specification,
            model,
            quantity,
            serial_number,
            symptom,
            current_status,
        ) in chunk:
            key = (case_kind, state)
            if key not in states:
                states[key] = str(state_label(case_kind, state))
            if contact_id is None:
                phone = email = qq = ""
            else:
                if case_kind in own_rule:
                    full = access.can_see_personal_data(user, cases[pk])
                else:
                    full = sees_all or handler_id == user.pk or registered_by_id == user.pk
                if not full:
                    phone, email, qq = access.mask(phone), access.mask(email), access.mask(qq)
            status = (
                None
                if state in CLOSED_STATES or archived_at is not None
                else deadline_status(deadline_state, next_due_at)
            )
            has_product = product_id is not None
            values = extras or {}
            yield [
                number,
                naive(received_at),
                states[key],
                channels.get(channel, channel),
                severities.get(severity, severity),
                categories.get(category_id, "") if category_id else "",
                departments.get(department_id, ""),
                person(handler_id),
                name if contact_id is not None else "",
                genders.get(gender, gender) if contact_id is not None else "",
                phone,
                email,
                qq,
                organisation if contact_id is not None else "",
                specification if has_product else "",
                model if has_product else "",
                quantity if has_product else None,
                serial_number if has_product else "",
                symptom if has_product else "",
                current_status if has_product else "",
                naive(next_due_at),
                yes if status is not None and status.is_late else "",
            ] + [show(values.get(code)) for code, show in extra]
