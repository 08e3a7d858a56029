"""The clinical profile's dashboard cards (issue 13): findings waiting for the clinician's
acknowledgement and this month's timeliness (R5.5), plugged into ``qloop.reports.dashboards``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qloop.clinical import timeliness
from qloop.clinical.nav import follows_findings, reads_timeliness
from qloop.clinical.processes import CLINICIAN_ACK
from qloop.reports.dashboards import (
    Board,
    Card,
    CardOut,
    Figure,
    When,
    local_start,
    register_board,
    register_card,
    register_url,
    visible_cases,
)

if TYPE_CHECKING:
    from qloop.org.models import User


def findings_waiting(user: User, when: When) -> CardOut:
    """Findings whose acknowledgement clock is still open, and those already late."""
    from qloop.process.models import Clock

    figures = []
    for label, states, filter_state, tone in (
        (_("Waiting for acknowledgement"), ("running", "paused", "breached"), "open", ""),
        (_("Late"), ("breached",), "breached", "danger"),
    ):
        clocks = Clock.objects.filter(name=CLINICIAN_ACK, state__in=states)
        n = visible_cases(user).filter(kind="finding", pk__in=clocks.values("case_id")).count()
        figures.append(
            Figure(
                label,
                n,
                register_url(kind="finding", clock=CLINICIAN_ACK, clock_state=filter_state),
                tone,
            )
        )
    return CardOut(figures)


def timeliness_this_month(user: User, when: When) -> CardOut:
    """This month's 危急值通报率 and 及时率, from the timeliness figures (R5.5)."""
    start = local_start(when.month_start)
    end = when.now
    total = timeliness.total(timeliness.figures(start, end))
    url = f"{reverse('clinical-timeliness')}?from={when.month_start.isoformat()}"
    figures = [
        Figure(_("Findings this month"), total.total, url),
        Figure(_("Acknowledged (%)"), round(total.ack_rate or 0), url),
        Figure(_("On time (%)"), round(total.on_time_rate or 0), url),
        Figure(_("Unacknowledged"), total.unacknowledged, url, "danger"),
    ]
    return CardOut(figures)


def register_cards() -> None:
    register_board(
        Board(
            "clinical",
            gettext_lazy("Laboratory and radiology"),
            follows_findings,
            40,
            profile="clinical",
        )
    )
    register_card(
        Card(
            "clinical-findings",
            gettext_lazy("Findings waiting for acknowledgement"),
            frozenset({"clinical", "management"}),
            findings_waiting,
            "clinical",
            order=12,
            shown_to=follows_findings,
        ),
        Card(
            "clinical-timeliness",
            gettext_lazy("Timeliness this month"),
            frozenset({"clinical", "management"}),
            timeliness_this_month,
            "clinical",
            order=14,
            shown_to=reads_timeliness,
        ),
    )
