"""What of the survey summary reports waits for whom (R2.7): shown on My work, counted in its
badge, so that nobody has to find it in the bell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import F, QuerySet

from qloop.prepared import Prepared, counted
from qloop.reports import access
from qloop.reports.models import ImprovementAction, ReportState, SurveyReport

if TYPE_CHECKING:
    from qloop.org.models import User


def reports_waiting_for(user: User) -> QuerySet[SurveyReport]:
    """Reports whose next step is this person's: submitted ones for the general manager to
    decide, drafts (new or sent back) for Supply and Sales to finish and submit; oldest
    first."""
    states = _waiting_states(user)
    if not states:
        return SurveyReport.objects.none()
    return _reports_in(states)


def _waiting_states(user: User) -> tuple[str, ...]:
    states: list[str] = []
    if access.can_decide(user):
        states.append(ReportState.SUBMITTED)
    if access.can_draft(user):
        states.append(ReportState.DRAFT)
    return tuple(states)


def _reports_in(states: tuple[str, ...]) -> QuerySet[SurveyReport]:
    return (
        SurveyReport.objects.filter(state__in=states)
        .select_related("drafted_by", "submitted_by")
        .order_by(F("submitted_at").asc(nulls_last=True), "created_at", "id")
    )


# My work's lists and the badge's counts, compiled once per process (qloop.prepared): which
# reports wait for a person depends only on the states they act in, which are worked out
# afresh every time; the improvement actions only on who owns them.
_READS: dict[tuple[Any, ...], Prepared[Any]] = {}


def _kept_read(key: tuple[Any, ...], build: Any, **arguments: type) -> Prepared[Any]:
    """The read ``build`` makes for ``key`` (a handful of keys: states and limits), compiled
    the first time it is asked for."""
    read = _READS.get(key)
    if read is None:
        read = _READS[key] = Prepared(build, **arguments)
    return read


def _reports_read(states: tuple[str, ...], limit: int) -> Prepared[Any]:
    return _kept_read(
        ("reports", states, limit),
        lambda: counted(_reports_in(states)) if limit < 0 else _reports_in(states)[:limit],
    )


def reports_waiting_list(user: User, limit: int) -> list[SurveyReport]:
    """The first ``limit`` of ``reports_waiting_for(user)``."""
    states = _waiting_states(user)
    return _reports_read(states, limit)() if states else []


def reports_waiting_count(user: User) -> int:
    """``reports_waiting_for(user).count()``."""
    states = _waiting_states(user)
    return _reports_read(states, -1)()[0] if states else 0


def improvement_actions_for(user: User) -> QuerySet[ImprovementAction]:
    """The open improvement actions this person owns, soonest due first."""
    if not user.is_authenticated or not user.is_active:
        return ImprovementAction.objects.none()
    return _owned_actions(user)


def _owned_actions(owner: Any) -> QuerySet[ImprovementAction]:
    return (
        ImprovementAction.objects.open()
        .filter(owner=owner)
        .select_related("report", "department")
        .order_by("due", "id")
    )


def _actions_read(limit: int) -> Prepared[Any]:
    return _kept_read(
        ("actions", limit),
        lambda owner: (
            counted(_owned_actions(owner)) if limit < 0 else _owned_actions(owner)[:limit]
        ),
        owner=int,
    )


def improvement_actions_list(user: User, limit: int) -> list[ImprovementAction]:
    """The first ``limit`` of ``improvement_actions_for(user)``."""
    if not user.is_authenticated or not user.is_active:
        return []
    return _actions_read(limit)(owner=user.pk)


def improvement_actions_count(user: User) -> int:
    """``improvement_actions_for(user).count()``."""
    if not user.is_authenticated or not user.is_active:
        return 0
    return _actions_read(-1)(owner=user.pk)[0]
