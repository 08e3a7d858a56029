"""The dashboards: thin views over ``qloop.reports.dashboards`` (issue 13)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from qloop.org.models import Organisation, User
from qloop.reports.dashboards import BOARDS, board_for, boards_for, cards_for


@login_required
@require_GET
def dashboard(request: HttpRequest, board: str = "") -> HttpResponse:
    """A person's own board by default; another board if their role may see it (403)."""
    user: User = request.user  # type: ignore[assignment]
    profiles = Organisation.current_profiles()
    return render_board(request, board or board_for(user, profiles), profiles)


def render_board(request: HttpRequest, code: str, profiles: tuple[str, ...]) -> HttpResponse:
    """The board page; also the first page (``/``) of the roles that have one."""
    user: User = request.user  # type: ignore[assignment]
    spec = BOARDS.get(code)
    if spec is None or (spec.profile is not None and spec.profile not in profiles):
        raise Http404
    if not spec.shown_to(user):
        raise PermissionDenied
    cards = cards_for(user, code, profiles)
    return render(
        request,
        "reports/dashboard.html",
        {
            "board": spec,
            "boards": boards_for(user, profiles),
            "cards": [
                {
                    "card": card,
                    "out": out,
                    "chart_id": f"chart-{card.code}",
                    "data_id": f"chart-{card.code}-data",
                }
                for card, out in cards
            ],
        },
    )
