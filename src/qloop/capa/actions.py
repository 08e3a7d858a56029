"""Writing the 8D record of a corrective action."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qloop import inputs
from qloop.capa.models import EIGHT_D_FIELDS, CorrectiveAction
from qloop.cases import access
from qloop.cases.models import Case, Event
from qloop.org.models import User
from qloop.process.definitions import process_for
from qloop.process.errors import Conflict


def eight_d_open(case: Case) -> bool:
    """The 8D record is written while the case's process is in its corrective states."""
    return case.state in process_for(case.kind, case.process_version).states_in("corrective")


def can_edit_eight_d(user: User, case: Case) -> bool:
    if case.is_archived or not eight_d_open(case):
        return False
    ca = getattr(case, "corrective_action", None)
    quality = process_for(case.kind, case.process_version).role_set("quality")
    return (
        user.is_superuser or user.has_role(*quality) or (ca is not None and ca.owner_id == user.pk)
    )


def update_eight_d(case: Case, values: dict[str, Any], *, actor: User) -> CorrectiveAction:
    """Change D0–D8; one event lists each changed discipline with its old and new text."""
    access.check_can_see(actor, case)
    if not eight_d_open(case):
        raise Conflict(_("The 8D record is written during corrective action."))
    if not can_edit_eight_d(actor, case):
        raise PermissionDenied
    unknown = [k for k in values if k not in EIGHT_D_FIELDS]
    if unknown:
        raise ValidationError({k: [_("This field cannot be changed.")] for k in unknown})
    inputs.check_texts(values)
    with transaction.atomic():
        ca, _created = CorrectiveAction.objects.select_for_update().get_or_create(case=case)
        diff = []
        for key, value in values.items():
            new = (value or "").strip()
            if len(new) > 10_000:
                raise ValidationError({key: [_("At most %(n)s characters.") % {"n": 10_000}]})
            old = getattr(ca, key)
            if old != new:
                setattr(ca, key, new)
                diff.append(
                    {
                        "field": key,
                        "label": str(ca._meta.get_field(key).verbose_name),  # type: ignore[union-attr]
                        "old": old,
                        "new": new,
                    }
                )
        if diff:
            ca.save()
            Event.objects.create(case=case, actor=actor, verb="eight_d_changed", changes=diff)
    return ca
