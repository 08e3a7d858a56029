"""Pages of the survey summary report (R2.7), its improvement actions and the management
review. Thin: each view checks who may act, calls one action and says how it went."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qloop.cases.kinds import kind_label
from qloop.notify.actions import people_with_role
from qloop.org.models import Department, User
from qloop.process.errors import Conflict
from qloop.reports import access, actions, review
from qloop.reports.models import (
    ImprovementAction,
    ManagementReview,
    ReportState,
    SurveyReport,
)
from qloop.reports.presentation import question_rows, survey_charts, trend_chart
from qloop.reports.survey_data import campaign_choices


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    return {"": [str(m) for m in exc.messages]}


def _act(request: HttpRequest, action: Callable[[], object], done: str) -> bool:
    """Run an action and tell the person how it went; a refused action changed nothing."""
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
        return True
    return False


def _date(raw: str, field: str) -> dt.date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationError({field: [_("Enter a date as YYYY-MM-DD.")]}) from exc


def _report(request: HttpRequest, report_id: int) -> SurveyReport:
    return access.get_report_for_user(_user(request), report_id)


# --- survey summary reports -------------------------------------------------------------


@login_required
@require_GET
def survey_report_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_read_reports(user):
        raise PermissionDenied
    reports = SurveyReport.objects.select_related("drafted_by", "decided_by")[:200]
    return render(
        request,
        "reports/survey_report_list.html",
        {"reports": reports, "can_draft": access.can_draft(user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_report_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not access.can_draft(user):
        raise PermissionDenied
    values: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {
            k: request.POST.get(k, "") for k in ("campaign", "title", "period_start", "period_end")
        }
        try:
            try:
                campaign_id = int(values["campaign"])
            except ValueError as exc:
                raise ValidationError({"campaign": [_("Choose a survey campaign.")]}) from exc
            report = actions.draft_report(
                campaign_id,
                actor=user,
                title=values["title"],
                period_start=_date(values["period_start"], "period_start"),
                period_end=_date(values["period_end"], "period_end"),
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("Report drafted from the survey results."))
            return redirect("survey-report-detail", report_id=report.pk)
    return render(
        request,
        "reports/survey_report_create.html",
        {"campaigns": campaign_choices(), "values": values, "errors": errors},
        status=422 if errors else 200,
    )


def _report_context(report: SurveyReport, *, printed: bool = False) -> dict[str, Any]:
    return {
        "report": report,
        "results": report.results,
        "previous": report.results.get("previous") or {},
        "rows": question_rows(report.results),
        # Printed, a long chart comes in pieces that fill the page; on screen, in one piece.
        "charts": survey_charts(report.results, per_piece=4 if printed else 0),
        "actions": list(report.actions.select_related("owner", "department", "done_by")),
        "today": timezone.localdate(),
    }


def _render_detail(
    request: HttpRequest,
    report: SurveyReport,
    *,
    status: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    decision_values: dict[str, Any] | None = None,
    decision_errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    user = _user(request)
    may_draft = access.can_draft(user) and report.state == ReportState.DRAFT
    may_decide = access.can_decide(user) and report.state == ReportState.SUBMITTED
    context = _report_context(report)
    context.update(
        {
            "may_edit": may_draft,
            "may_decide": may_decide,
            "values": values
            or {
                "title": report.title,
                "period_start": report.period_start.isoformat() if report.period_start else "",
                "period_end": report.period_end.isoformat() if report.period_end else "",
                "analysis": report.analysis,
                "improvements": report.improvements,
            },
            "errors": errors or {},
            "decision_values": decision_values or {},
            "decision_errors": decision_errors or {},
            "events": list(report.events.select_related("actor")),
            "departments": Department.objects.filter(is_active=True) if may_decide else [],
            "people": User.objects.filter(is_active=True, memberships__isnull=False)
            .distinct()
            .order_by("username")
            if may_decide
            else [],
            # Who the submission goes to, named in its confirmation (issue 12.15).
            "deciders": ", ".join(p.printed_name for p in people_with_role(*access.decider_roles()))
            if may_draft
            else "",
            "user_can_complete": {
                a.pk for a in context["actions"] if access.can_complete_action(user, a)
            },
        }
    )
    return render(request, "reports/survey_report_detail.html", context, status=status)


@login_required
@require_GET
def survey_report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    return _render_detail(request, _report(request, report_id))


@login_required
@require_POST
def survey_report_edit(request: HttpRequest, report_id: int) -> HttpResponse:
    """Save the draft's text; refused input is shown again with the message, not lost."""
    user = _user(request)
    report = _report(request, report_id)
    if not access.can_draft(user):
        raise PermissionDenied
    values = {k: request.POST[k] for k in actions.EDITABLE_FIELDS if k in request.POST}
    try:
        parsed: dict[str, Any] = dict(values)
        for key in ("period_start", "period_end"):
            if key in parsed:
                parsed[key] = _date(parsed[key], key)
        actions.update_report(report, parsed, actor=user)
    except ValidationError as exc:
        return _render_detail(request, report, status=422, values=values, errors=_errors(exc))
    except Conflict as exc:
        return _render_detail(
            request, report, status=409, values=values, errors={"": [exc.message]}
        )
    messages.success(request, _("Report saved."))
    return redirect("survey-report-detail", report_id=report.pk)


def _report_step(
    request: HttpRequest,
    report_id: int,
    allowed: Callable[[User], bool],
    step: Callable[[SurveyReport, User], object],
    done: str,
) -> HttpResponse:
    """One step on a report by somebody allowed to take it, then back to the report."""
    user = _user(request)
    report = _report(request, report_id)
    if not allowed(user):
        raise PermissionDenied
    _act(request, lambda: step(report, user), done)
    return redirect("survey-report-detail", report_id=report.pk)


@login_required
@require_POST
def survey_report_refresh(request: HttpRequest, report_id: int) -> HttpResponse:
    return _report_step(
        request,
        report_id,
        access.can_draft,
        lambda report, user: actions.refresh_results(report, actor=user),
        _("Survey results updated."),
    )


@login_required
@require_POST
def survey_report_submit(request: HttpRequest, report_id: int) -> HttpResponse:
    return _report_step(
        request,
        report_id,
        access.can_draft,
        lambda report, user: actions.submit_report(report, actor=user),
        _("Report submitted to the general manager."),
    )


@login_required
@require_POST
def survey_report_return(request: HttpRequest, report_id: int) -> HttpResponse:
    comment = request.POST.get("comment", "")
    return _report_step(
        request,
        report_id,
        access.can_decide,
        lambda report, user: actions.return_report(report, comment, actor=user),
        _("Report sent back to Supply and Sales."),
    )


@login_required
@require_POST
def survey_report_add_decision(request: HttpRequest, report_id: int) -> HttpResponse:
    """The general manager records one improvement measure with its owner and due date."""
    user = _user(request)
    report = _report(request, report_id)
    if not access.can_decide(user):
        raise PermissionDenied
    values = {k: request.POST.get(k, "") for k in ("measure", "owner", "department", "due")}
    try:
        actions.add_decision(
            report,
            measure=values["measure"],
            owner=User.objects.filter(username=values["owner"]).first()
            if values["owner"]
            else None,
            department=Department.objects.filter(code=values["department"]).first()
            if values["department"]
            else None,
            due=_date(values["due"], "due"),
            actor=user,
        )
    except ValidationError as exc:
        return _render_detail(
            request, report, status=422, decision_values=values, decision_errors=_errors(exc)
        )
    except Conflict as exc:
        return _render_detail(
            request,
            report,
            status=409,
            decision_values=values,
            decision_errors={"": [exc.message]},
        )
    messages.success(request, _("Improvement measure recorded; its owner has been told."))
    return redirect(f"/reports/surveys/{report.pk}/#decisions")


@login_required
@require_POST
def survey_report_decide(request: HttpRequest, report_id: int) -> HttpResponse:
    comment = request.POST.get("comment", "")
    return _report_step(
        request,
        report_id,
        access.can_decide,
        lambda report, user: actions.decide_report(report, comment=comment, actor=user),
        _("Decision recorded."),
    )


@login_required
@require_GET
def survey_report_print(request: HttpRequest, report_id: int) -> HttpResponse:
    """《顾客满意度调查总结报告》 as an A4 page that prints like the paper report (X4)."""
    report = _report(request, report_id)
    context = _report_context(report, printed=True)
    events = list(report.events.select_related("actor"))
    context["drafted"] = next((e for e in events if e.verb == "drafted"), None)
    return render(request, "reports/survey_report_print.html", context)


# --- improvement actions ----------------------------------------------------------------


@login_required
@require_GET
def improvement_action_list(request: HttpRequest) -> HttpResponse:
    """Every improvement action the person may see; open ones first, overdue marked."""
    user = _user(request)
    show = request.GET.get("show", "open")
    qs = ImprovementAction.objects.for_user(user).select_related(
        "report", "owner", "department", "done_by"
    )
    if show == "open":
        qs = qs.open()
    elif show == "overdue":
        qs = qs.overdue()
    items = list(qs.order_by("done_at", "due", "id")[:300])
    return render(
        request,
        "reports/improvement_actions.html",
        {
            "items": items,
            "show": show,
            "today": timezone.localdate(),
            "user_can_complete": {a.pk for a in items if access.can_complete_action(user, a)},
        },
    )


@login_required
@require_POST
def improvement_action_done(request: HttpRequest, action_id: int) -> HttpResponse:
    user = _user(request)
    action = ImprovementAction.objects.for_user(user).filter(pk=action_id).first()
    if action is None:
        raise Http404
    _act(
        request,
        lambda: actions.complete_action(action, request.POST.get("result", ""), actor=user),
        _("Improvement action done."),
    )
    back = request.POST.get("next", "")
    return redirect(
        back
        if back in {f"/reports/surveys/{action.report_id}/", "/my-work/"}
        else "improvement-action-list"
    )


# --- management review ------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def review_list(request: HttpRequest) -> HttpResponse:
    """The management review dates; administrators add one here (or in the admin)."""
    user = _user(request)
    if not access.can_read_reports(user):
        raise PermissionDenied
    values: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not access.can_set_reviews(user):
            raise PermissionDenied
        values = {k: request.POST.get(k, "") for k in ("held_on", "title", "notes")}
        try:
            review.create_review(
                _date(values["held_on"], "held_on"),
                title=values["title"],
                notes=values["notes"],
                actor=user,
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("Management review date saved."))
            return redirect("review-list")
    reviews = list(ManagementReview.objects.prefetch_related("summaries")[:100])
    return render(
        request,
        "reports/reviews.html",
        {
            "reviews": [(r, review.preparation_date(r), r.latest_summary) for r in reviews],
            "may_set": access.can_set_reviews(user),
            "values": values,
            "errors": errors,
            "today": timezone.localdate(),
        },
        status=422 if errors else 200,
    )


@login_required
@require_GET
def review_summary(request: HttpRequest, review_id: int) -> HttpResponse:
    """The prepared summary as a printable page, as it was when prepared."""
    user = _user(request)
    if not access.can_read_reports(user):
        raise PermissionDenied
    item = ManagementReview.objects.filter(pk=review_id).first()
    if item is None:
        raise Http404
    summary = item.latest_summary
    context: dict[str, Any] = {
        "review": item,
        "summary": summary,
        "may_set": access.can_set_reviews(user),
        "preparation_date": review.preparation_date(item),
    }
    if summary is not None:
        data = summary.data
        kinds = [(k, str(kind_label(k))) for k in data["categories"]["kinds"]]
        context.update(
            {
                "data": data,
                "kinds": kinds,
                "trend": trend_chart(data["months"], kinds),
            }
        )
    return render(request, "reports/review_summary.html", context)


@login_required
@require_POST
def review_prepare(request: HttpRequest, review_id: int) -> HttpResponse:
    user = _user(request)
    if not access.can_set_reviews(user):
        raise PermissionDenied
    item = ManagementReview.objects.filter(pk=review_id).first()
    if item is None:
        raise Http404
    _act(request, lambda: review.prepare_now(item, actor=user), _("Summary prepared."))
    return redirect("review-summary", review_id=item.pk)
