"""What of the survey summary reports waits for whom (R2.7): shown on My work, counted in its
badge, so that nobody has to find it in the bell."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import F, QuerySet

from qloop.reports import access
from qloop.reports.models import ImprovementAction, ReportState, SurveyReport

if TYPE_CHECKING:
    from qloop.org.models import User


def reports_waiting_for(user: User) -> QuerySet[SurveyReport]:
    """Reports whose next step is this person's: submitted ones for the general manager to
    decide, drafts (new or sent back) for Supply and Sales to finish and submit; oldest
    first."""
    states = []
    if access.can_decide(user):
        states.append(ReportState.SUBMITTED)
    if access.can_draft(user):
        states.append(ReportState.DRAFT)
    if not states:
        return SurveyReport.objects.none()
    return (
        SurveyReport.objects.filter(state__in=states)
        .select_related("drafted_by", "submitted_by")
        .order_by(F("submitted_at").asc(nulls_last=True), "created_at", "id")
    )


def improvement_actions_for(user: User) -> QuerySet[ImprovementAction]:
    """The open improvement actions this person owns, soonest due first."""
    if not user.is_authenticated or not user.is_active:
        return ImprovementAction.objects.none()
    return (
        ImprovementAction.objects.open()
        .filter(owner=user)
        .select_related("report", "department")
        .order_by("due", "id")
    )
