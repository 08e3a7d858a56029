"""Quality's page of recurring problems (issue 13): each group with its cases, to be linked to
one corrective action or dismissed with a reason. The rules live in ``qloop.cases.recurring``;
these views only read the form and show the outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qloop.cases import recurring
from qloop.cases.kinds import kind_label
from qloop.cases.models import RecurringGroup, RecurringState
from qloop.process.errors import Conflict

if TYPE_CHECKING:
    from qloop.org.models import User

SHOWS = ("open", "linked", "dismissed", "all")


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
def recurring_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not recurring.can_see_groups(user):
        raise PermissionDenied
    show = request.GET.get("show", "open")
    show = show if show in SHOWS else "open"
    qs = recurring.groups_for(user).select_related("corrective_action__case", "decided_by")
    if show != "all":
        qs = qs.filter(state=show)
    groups = list(qs.order_by("-raised_at", "-pk")[:50])  # the most recent 50
    rows: list[dict[str, Any]] = []
    for group in groups:
        members = list(
            recurring.visible_members(user, group).select_related("category", "product")[:50]
        )
        rows.append(
            {
                "group": group,
                "kind": kind_label(group.kind),
                "members": members,
                "count": group.cases.count(),
                "may_decide": group.state == RecurringState.OPEN
                and recurring.can_decide(user, group),
                "with_action": [c.number for c in members if hasattr(c, "corrective_action")],
                "events": [
                    (e, recurring.verb_label(e.verb))
                    for e in group.events.select_related("actor").order_by("-at", "-id")[:5]
                ],
            }
        )
    return render(
        request,
        "cases/recurring.html",
        {"rows": rows, "show": show, "rule": recurring.rule()},
    )


def _group(request: HttpRequest, group_id: int) -> RecurringGroup:
    group = recurring.groups_for(_user(request)).filter(pk=group_id).first()
    if group is None:
        raise Http404
    return group


def _act(request: HttpRequest, action: Any, done: str) -> HttpResponse:
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("recurring-list")


@login_required
@require_POST
def recurring_link(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    number = request.POST.get("case", "")
    return _act(
        request,
        lambda: recurring.link_corrective_action(group, number, actor=_user(request)),
        _("Recurring problem linked to the corrective action."),
    )


@login_required
@require_POST
def recurring_dismiss(request: HttpRequest, group_id: int) -> HttpResponse:
    group = _group(request, group_id)
    reason = request.POST.get("reason", "")
    return _act(
        request,
        lambda: recurring.dismiss(group, reason, actor=_user(request)),
        _("Recurring problem dismissed."),
    )
