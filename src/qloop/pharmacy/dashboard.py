"""The pharmacy profile's dashboard (issue 13): ADR reports against their Order 81 deadlines,
and the counterfeit and substandard drug cases still open (R3.4, R3.6), plugged into
``qloop.reports.dashboards`` like any profile's cards.

Every figure counts the clocks or cases first (indexed by name and state, or by kind and
state) and the cases by primary key, only over the cases the person may see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qloop.pharmacy.access import in_pharmacy
from qloop.pharmacy.processes import ADR_REPORT, CF_REPORT, GROUP_REPORT
from qloop.reports.dashboards import (
    Board,
    Card,
    CardOut,
    Figure,
    When,
    clocks_in_states,
    register_board,
    register_card,
    register_url,
    visible_cases,
)

if TYPE_CHECKING:
    from qloop.org.models import User

PHARMACY = "pharmacy"
OPEN_CLOCK = ("running", "paused", "breached")


def _with_clock(user: User, kind: str, name: str, states: tuple[str, ...]) -> int:
    from qloop.process.models import Clock

    clocks = clocks_in_states(Clock.objects.filter(name=name), states)
    return visible_cases(user).filter(kind=kind, pk__in=clocks.values("case_id")).count()


def adr_deadlines(user: User, when: When) -> CardOut:
    """ADR reports not yet sent within their deadline (R3.6), the late ones, and group events
    still to be reported."""
    return CardOut(
        [
            Figure(
                _("ADR reports to send"),
                _with_clock(user, "adr", ADR_REPORT, OPEN_CLOCK),
                register_url(kind="adr", clock=ADR_REPORT, clock_state="open"),
            ),
            Figure(
                _("Past the deadline"),
                _with_clock(user, "adr", ADR_REPORT, ("breached",)),
                register_url(kind="adr", clock=ADR_REPORT, clock_state="breached"),
                "danger",
            ),
            Figure(
                _("Group events to report"),
                _with_clock(user, "adr_group", GROUP_REPORT, OPEN_CLOCK),
                register_url(kind="adr_group", clock=GROUP_REPORT, clock_state="open"),
            ),
        ]
    )


def counterfeit_open(user: User, when: When) -> CardOut:
    """Counterfeit and substandard drug cases still open (R3.4), and those whose report to the
    drug regulator is late."""
    return CardOut(
        [
            Figure(
                _("Counterfeit cases open"),
                visible_cases(user).filter(kind="counterfeit").open().count(),
                register_url(kind="counterfeit", open=1),
            ),
            Figure(
                _("Report to the regulator late"),
                _with_clock(user, "counterfeit", CF_REPORT, ("breached",)),
                register_url(kind="counterfeit", clock=CF_REPORT, clock_state="breached"),
                "danger",
            ),
        ]
    )


def register_cards() -> None:
    register_board(Board("pharmacy", gettext_lazy("Pharmacy"), in_pharmacy, 35, profile=PHARMACY))
    register_card(
        Card(
            "pharmacy-adr",
            gettext_lazy("ADR report deadlines"),
            frozenset({"pharmacy"}),
            adr_deadlines,
            PHARMACY,
            order=10,
            shown_to=in_pharmacy,
        ),
        Card(
            "pharmacy-counterfeit",
            gettext_lazy("Counterfeit and substandard drugs"),
            frozenset({"pharmacy"}),
            counterfeit_open,
            PHARMACY,
            order=20,
            shown_to=in_pharmacy,
        ),
    )
