"""The reports app's pages in the generated permission matrix (tests/web/test_permissions.py).

Supply and Sales drafts, the general manager decides, administrators set review dates; the
people who see all cases read reports; an improvement action's owner and department complete
it. ``report_routes(Route)`` takes the matrix's Route class to avoid a circular import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from qloop.cases.models import Case
from qloop.org.models import User
from qloop.reports import access, actions
from qloop.reports.models import (
    ImprovementAction,
    ManagementReview,
    PeriodSummary,
    SurveyReport,
)
from tests.conftest import PASSWORD
from tests.reports.surveydata import make_campaigns

DONE = 302


def _draft(case: Case, users: dict[str, User]) -> dict[str, Any]:
    campaigns = make_campaigns(users)
    report = actions.draft_report(campaigns.current.pk, actor=users["sales"])
    actions.update_report(
        report, {"analysis": "分析", "improvements": "改进"}, actor=users["sales"]
    )
    return {"report_id": report.pk}


def _submitted(case: Case, users: dict[str, User]) -> dict[str, Any]:
    kwargs = _draft(case, users)
    actions.submit_report(SurveyReport.objects.get(pk=kwargs["report_id"]), actor=users["sales"])
    return kwargs


def _action(case: Case, users: dict[str, User]) -> dict[str, Any]:
    kwargs = _submitted(case, users)
    action = actions.add_decision(
        SurveyReport.objects.get(pk=kwargs["report_id"]),
        measure="出厂前密封测试",
        owner=users["prod"],
        department=users["prod"].departments.get(),
        due=timezone.localdate() + dt.timedelta(days=30),
        actor=users["gm"],
    )
    return {"action_id": action.pk}


def _review(case: Case, users: dict[str, User]) -> dict[str, Any]:
    review = ManagementReview.objects.create(held_on=timezone.localdate() + dt.timedelta(days=10))
    return {"review_id": review.pk}


def _report() -> SurveyReport:
    return SurveyReport.objects.get()


def _when(allowed: Callable[[User], bool], status: int, *, hidden: int = 403) -> Any:
    """``status`` for those allowed; 403 for other readers; ``hidden`` for non-readers."""

    def expect(user: User, case: Case) -> int:
        if allowed(user):
            return status
        return 403 if access.can_read_reports(user) else hidden

    return expect


def _completes(user: User, case: Case) -> int:
    action = ImprovementAction.objects.get()
    if access.can_complete_action(user, action):
        return DONE
    return 403 if access.can_read_reports(user) or action.owner_id == user.pk else 404


def _summary(case: Case, users: dict[str, User]) -> dict[str, Any]:
    from qloop.reports import period_summaries

    start = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return {"summary_id": period_summaries.produce("general_manager", "month", start).pk}


def _signed_summary(case: Case, users: dict[str, User]) -> dict[str, Any]:
    from qloop.reports import period_summaries

    kwargs = _summary(case, users)
    period_summaries.sign_off(
        PeriodSummary.objects.get(pk=kwargs["summary_id"]),
        actor=users["gm"],
        signature={"password": PASSWORD, "meaning": "approved"},
    )
    return kwargs


def _kept_summary(case: Case, users: dict[str, User]) -> dict[str, Any]:
    """A signed-off summary whose PDF the worker has kept (the job run here, as at commit)."""
    from qloop.reports import period_summaries

    kwargs = _signed_summary(case, users)
    period_summaries.keep_files(kwargs["summary_id"])
    return {**kwargs, "fmt": "pdf"}


def _summary_rule(status: int, *, sign: bool = False) -> Any:
    """Readers of the general manager's summaries get ``status`` (signers only, with
    ``sign``): other readers 403, everyone else 404."""
    from qloop.reports import period_summaries

    reads = period_summaries.RECIPIENT_SETS["general_manager"].readers
    signs = period_summaries.RECIPIENT_SETS["general_manager"].signers

    def expect(user: User, case: Case) -> int:
        if not user.is_authenticated or not reads(user):
            return 404
        if sign and not signs(user):
            return 403
        return status

    return expect


def _archive_rule(user: User, case: Case) -> int:
    from qloop.reports import period_summaries

    return 200 if period_summaries.RECIPIENT_SETS["general_manager"].readers(user) else 403


def _summary_probe(case: Case) -> Any:
    s = PeriodSummary.objects.get()
    return (s.state, s.counted_at, s.sendings.count())


def summary_routes(route: Any) -> list[Any]:
    """The period summaries (X5)."""
    return [
        route("period-summary-list", "get", _archive_rule),
        route("period-summary", "get", _summary_rule(200), prepare=_summary),
        route("period-summary-print", "get", _summary_rule(200), prepare=_summary),
        route("period-summary-xlsx", "get", _summary_rule(200), prepare=_summary),
        route("period-summary-file", "get", _summary_rule(200), prepare=_kept_summary),
        route(
            "period-summary-sign",
            "post",
            _summary_rule(DONE, sign=True),
            data=lambda p: {"password": PASSWORD},
            probe=_summary_probe,
            prepare=_summary,
        ),
        route(
            "period-summary-recount",
            "post",
            _summary_rule(DONE, sign=True),
            probe=_summary_probe,
            prepare=_summary,
        ),
        route(
            "period-summary-send",
            "post",
            _summary_rule(DONE, sign=True),
            data=lambda p: {"sent_to": "总经理", "channel": "email"},
            probe=_summary_probe,
            prepare=_signed_summary,
        ),
    ]


def report_routes(route: Any) -> list[Any]:
    reads = access.can_read_reports
    return [
        route("survey-report-list", "get", _when(reads, 200)),
        route("survey-report-create", "get", _when(access.can_draft, 200, hidden=403)),
        route("survey-report-detail", "get", _when(reads, 200, hidden=404), prepare=_draft),
        route(
            "survey-report-edit",
            "post",
            _when(access.can_draft, DONE, hidden=404),
            data=lambda p: {"analysis": "新的分析"},
            probe=lambda case: _report().analysis,
            prepare=_draft,
        ),
        route(
            "survey-report-refresh",
            "post",
            _when(access.can_draft, DONE, hidden=404),
            probe=lambda case: list(_report().events.values_list("verb", flat=True)),
            prepare=_draft,
        ),
        route(
            "survey-report-submit",
            "post",
            _when(access.can_draft, DONE, hidden=404),
            probe=lambda case: _report().state,
            prepare=_draft,
        ),
        route(
            "survey-report-return",
            "post",
            _when(access.can_decide, DONE, hidden=404),
            data=lambda p: {"comment": "请补充"},
            probe=lambda case: _report().state,
            prepare=_submitted,
        ),
        route(
            "survey-report-add-decision",
            "post",
            _when(access.can_decide, DONE, hidden=404),
            data=lambda p: {
                "measure": "加强检验",
                "owner": "prod",
                "department": "PROD",
                "due": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
            },
            probe=lambda case: ImprovementAction.objects.count(),
            prepare=_submitted,
        ),
        route(
            "survey-report-decide",
            "post",
            _when(access.can_decide, DONE, hidden=404),
            data=lambda p: {"comment": "同意"},
            probe=lambda case: _report().state,
            prepare=_submitted,
        ),
        route("survey-report-print", "get", _when(reads, 200, hidden=404), prepare=_draft),
        route("improvement-action-list", "get", lambda user, case: 200),
        route(
            "improvement-action-done",
            "post",
            _completes,
            data=lambda p: {"result": "已完成"},
            probe=lambda case: ImprovementAction.objects.get().done_at,
            prepare=_action,
        ),
        *summary_routes(route),
        route("review-list", "get", _when(reads, 200)),
        route(
            "review-list",
            "post",
            _when(access.can_set_reviews, DONE),
            data=lambda p: {"held_on": (timezone.localdate() + dt.timedelta(days=60)).isoformat()},
            probe=lambda case: ManagementReview.objects.count(),
        ),
        route("review-summary", "get", _when(reads, 200), prepare=_review),
        route(
            "review-prepare",
            "post",
            _when(access.can_set_reviews, DONE),
            probe=lambda case: ManagementReview.objects.get().summaries.count(),
            prepare=_review,
        ),
    ]
