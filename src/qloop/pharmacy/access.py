"""Who sees the pharmacy profile's cases and the patients in them (issue 10, DESIGN: patients'
data only for those who need them).

Drug quality, counterfeit and ADR cases are the pharmacy's: its pharmacists, head and ADR
monitoring officer see them all. Nobody else sees them (a 404, as for any case a person has no
part in) — manufacturer roles that see every case included — except the person who reported an
ADR (a physician, a nurse) for the reports they made. A group event is also seen by the medical
affairs office (医务科), to which it escalates; it lists reports, not patients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from qloop.pharmacy.processes import MEDICAL_AFFAIRS, PHARMACISTS

if TYPE_CHECKING:
    from qloop.cases.models import Case
    from qloop.org.models import User

NOBODY = Q(pk__in=[])


def in_pharmacy(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*PHARMACISTS))


def may_report_adr(user: User) -> bool:
    """A pharmacist, a physician or a nurse reports a suspected ADR (R3.6)."""
    from qloop.pharmacy.processes import PHYSICIANS

    return in_pharmacy(user) or user.has_role(*PHYSICIANS, "nurse")


def pharmacy_visibility(user: User) -> Q:
    return Q() if in_pharmacy(user) else NOBODY


def adr_visibility(user: User) -> Q:
    if in_pharmacy(user):
        return Q()
    return Q(registered_by_id=user.pk)


def group_visibility(user: User) -> Q:
    if in_pharmacy(user) or user.has_role(*MEDICAL_AFFAIRS):
        return Q()
    return NOBODY


def pharmacy_personal_data(user: User, case: Case) -> bool:
    """The patient's name and contact: the pharmacy, and whoever reported the ADR."""
    if not user.is_authenticated:
        return False
    return in_pharmacy(user) or (case.kind == "adr" and case.registered_by_id == user.pk)


def mask_name(name: str) -> str:
    return f"{name[:1]}{'*' * max(1, len(name) - 1)}" if name else ""


def mask_value(value: str) -> str:
    if not value:
        return ""
    return f"{'*' * max(0, len(value) - 3)}{value[-3:]}" if len(value) > 3 else "***"
