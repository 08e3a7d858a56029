"""The pharmacy profile's menu entries (shown while the profile is on; views check again)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from qloop.org.models import Profile
from qloop.pharmacy.access import in_pharmacy
from qloop.web.nav import NavItem, register_nav


def register_entries() -> None:
    pharmacy = Profile.PHARMACY
    register_nav(
        NavItem(_("Drug catalogue"), "pharmacy-drugs", pharmacy, shown_to=in_pharmacy, order=50),
        NavItem(
            _("ADR group events"),
            "case-list",
            pharmacy,
            query="kind=adr_group",
            shown_to=in_pharmacy,
            order=51,
        ),
        NavItem(_("ADR signals"), "pharmacy-signals", pharmacy, shown_to=in_pharmacy, order=52),
        # The periodic summaries (R3.2) are in the reports' "Period summaries" entry (X5).
    )
