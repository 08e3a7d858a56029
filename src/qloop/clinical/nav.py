"""The clinical profile's menu entries (shown while the profile is on; views check again)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qloop.clinical.processes import (
    CLINICIANS,
    DEPARTMENT_STAFF,
    INFECTION_CONTROL,
    MEDICAL_AFFAIRS,
)
from qloop.org.models import Profile
from qloop.web.nav import NavItem, register_nav

if TYPE_CHECKING:
    from qloop.org.models import User


def works_in_department(user: User) -> bool:
    return user.is_authenticated and (user.administers or user.has_role(*DEPARTMENT_STAFF))


def follows_findings(user: User) -> bool:
    return user.is_authenticated and (
        user.administers
        or user.has_role(*DEPARTMENT_STAFF, *CLINICIANS, *MEDICAL_AFFAIRS, *INFECTION_CONTROL)
    )


def reads_timeliness(user: User) -> bool:
    return user.is_authenticated and (
        user.administers or user.has_role(*DEPARTMENT_STAFF, *MEDICAL_AFFAIRS)
    )


def register_entries() -> None:
    clinical = Profile.CLINICAL
    register_nav(
        NavItem(
            _("Department registers"),
            "clinical-registers",
            clinical,
            shown_to=works_in_department,
            order=60,
        ),
        NavItem(
            pgettext_lazy("clinical", "Findings"),
            "clinical-findings",
            clinical,
            shown_to=follows_findings,
            order=61,
        ),
        NavItem(
            _("Timeliness"), "clinical-timeliness", clinical, shown_to=reads_timeliness, order=62
        ),
        NavItem(
            _("Information feedback forms"),
            "clinical-feedback-forms",
            clinical,
            shown_to=follows_findings,
            order=63,
        ),
    )
