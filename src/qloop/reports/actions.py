"""Every write to survey summary reports and their improvement actions (R2.7).

Each runs in one transaction, checks permission and state, changes the rows, writes the event
that records the change (who, when, old and new text) and tells the people concerned.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop import inputs
from qloop.notify.actions import notify, people_with_role
from qloop.org.models import Department, User
from qloop.org.models import Sequence as NumberSequence
from qloop.process.errors import Conflict
from qloop.reports import access
from qloop.reports.models import (
    ImprovementAction,
    ReportEvent,
    ReportState,
    SurveyReport,
)
from qloop.reports.survey_data import campaign_period, results_snapshot

MAX_TEXT = 20_000
EDITABLE_FIELDS = ("title", "period_start", "period_end", "analysis", "improvements")


def report_url(report: SurveyReport) -> str:
    return f"{settings.SITE_URL}/reports/surveys/{report.pk}/"


def _headline(results: dict[str, Any]) -> dict[str, Any]:
    return {k: results.get(k) for k in ("invited", "answered", "response_rate", "csat", "nps")}


def _new_number(now: dt.datetime) -> str:
    year = timezone.localtime(now).year
    return f"SR-{year}-{NumberSequence.next_value(f'SR-{year}'):04d}"


def _check_period(start: dt.date | None, end: dt.date | None) -> None:
    inputs.check_dates({"period_start": start, "period_end": end})
    if start and end and end < start:
        raise ValidationError({"period_end": [_("The period ends before it starts.")]})


def draft_report(
    campaign_id: int,
    *,
    actor: User,
    title: str = "",
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
) -> SurveyReport:
    """Start a report from a campaign's results; the numbers are taken now and kept."""
    if not access.can_draft(actor):
        raise PermissionDenied
    inputs.check_texts({"title": title})
    results = results_snapshot(campaign_id)
    default_start, default_end = campaign_period(campaign_id)
    period_start = period_start or default_start
    period_end = period_end or default_end
    _check_period(period_start, period_end)
    title = title.strip() or _("Customer satisfaction survey summary report: %(campaign)s") % {
        "campaign": results.get("title", "")
    }
    now = timezone.now()
    with transaction.atomic():
        report = SurveyReport.objects.create(
            number=_new_number(now),
            campaign_id=campaign_id,
            title=title[:200],
            period_start=period_start,
            period_end=period_end,
            results=results,
            results_at=now,
            drafted_by=actor,
            created_at=now,
        )
        ReportEvent.objects.create(
            report=report,
            actor=actor,
            at=now,
            verb="drafted",
            data={"campaign": campaign_id, "results": _headline(results)},
        )
    return report


def _locked(report: SurveyReport) -> SurveyReport:
    return SurveyReport.objects.select_for_update().get(pk=report.pk)


def _field_label(name: str) -> str:
    return str(SurveyReport._meta.get_field(name).verbose_name)  # type: ignore[union-attr]


def update_report(report: SurveyReport, values: dict[str, Any], *, actor: User) -> SurveyReport:
    """Change the title, period, analysis or proposed improvements of a draft.

    One event lists each changed field with its old and new text, so nothing written is lost.
    """
    if not access.can_draft(actor):
        raise PermissionDenied
    unknown = [k for k in values if k not in EDITABLE_FIELDS]
    if unknown:
        raise ValidationError({k: [_("This field cannot be changed.")] for k in unknown})
    inputs.check_texts(values)
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if key.startswith("period_"):
            cleaned[key] = value or None
            continue
        text = (value or "").strip()
        if len(text) > MAX_TEXT:
            raise ValidationError({key: [_("At most %(n)s characters.") % {"n": MAX_TEXT}]})
        if key == "title" and not text:
            raise ValidationError({"title": [_("The report needs a title.")]})
        cleaned[key] = text[:200] if key == "title" else text
    with transaction.atomic():
        report = _locked(report)
        if report.state != ReportState.DRAFT:
            raise Conflict(_("Only a draft can be changed."))
        _check_period(
            cleaned.get("period_start", report.period_start),
            cleaned.get("period_end", report.period_end),
        )
        diff = []
        for key, new in cleaned.items():
            old = getattr(report, key)
            if old != new:
                setattr(report, key, new)
                diff.append(
                    {
                        "field": key,
                        "label": _field_label(key),
                        "old": old.isoformat() if isinstance(old, dt.date) else old,
                        "new": new.isoformat() if isinstance(new, dt.date) else new,
                    }
                )
        if diff:
            report.save()
            ReportEvent.objects.create(report=report, actor=actor, verb="edited", changes=diff)
    return report


def refresh_results(report: SurveyReport, *, actor: User) -> SurveyReport:
    """Take the campaign's numbers again (late answers), while the report is a draft."""
    if not access.can_draft(actor):
        raise PermissionDenied
    results = results_snapshot(report.campaign_id)
    with transaction.atomic():
        report = _locked(report)
        if report.state != ReportState.DRAFT:
            raise Conflict(_("Only a draft can be changed."))
        old = _headline(report.results)
        report.results, report.results_at = results, timezone.now()
        report.save(update_fields=["results", "results_at"])
        ReportEvent.objects.create(
            report=report,
            actor=actor,
            verb="results_refreshed",
            data={"old": old, "new": _headline(results)},
        )
    return report


def submit_report(report: SurveyReport, *, actor: User) -> SurveyReport:
    """Send the draft to the general manager for decision (R2.7)."""
    if not access.can_draft(actor):
        raise PermissionDenied
    with transaction.atomic():
        report = _locked(report)
        if report.state != ReportState.DRAFT:
            raise Conflict(_("This report has already been submitted."))
        errors: dict[str, list[str]] = {}
        if not report.analysis.strip():
            errors["analysis"] = [_("Write the analysis of the results before submitting.")]
        if not report.improvements.strip():
            errors["improvements"] = [_("Propose improvements before submitting.")]
        if errors:
            raise ValidationError(errors)
        report.state = ReportState.SUBMITTED
        report.submitted_by, report.submitted_at = actor, timezone.now()
        report.save(update_fields=["state", "submitted_by", "submitted_at"])
        ReportEvent.objects.create(
            report=report,
            actor=actor,
            verb="submitted",
            changes=[{"field": "state", "old": ReportState.DRAFT, "new": ReportState.SUBMITTED}],
        )
        notify(
            people_with_role(*access.decider_roles()),
            kind="survey_report_submitted",
            data=_note(report, actor),
            exclude=actor,
        )
    return report


def return_report(report: SurveyReport, comment: str, *, actor: User) -> SurveyReport:
    """The general manager sends a submitted report back to its drafters with a reason."""
    if not access.can_decide(actor):
        raise PermissionDenied
    inputs.check_texts({"comment": comment})
    comment = comment.strip()
    if not comment:
        raise ValidationError({"comment": [_("Say what should be changed.")]})
    with transaction.atomic():
        report = _locked(report)
        if report.state != ReportState.SUBMITTED:
            raise Conflict(_("Only a submitted report can be sent back."))
        report.state = ReportState.DRAFT
        report.save(update_fields=["state"])
        ReportEvent.objects.create(
            report=report,
            actor=actor,
            verb="returned",
            comment=comment,
            changes=[{"field": "state", "old": ReportState.SUBMITTED, "new": ReportState.DRAFT}],
        )
        notify(
            [report.drafted_by, *([report.submitted_by] if report.submitted_by else [])],
            kind="survey_report_returned",
            data={**_note(report, actor), "comment": comment[:200]},
            exclude=actor,
        )
    return report


def add_decision(
    report: SurveyReport,
    *,
    measure: str,
    owner: User | None,
    department: Department | None,
    due: dt.date | None,
    actor: User,
) -> ImprovementAction:
    """The general manager decides one improvement measure; it becomes a tracked action."""
    if not access.can_decide(actor):
        raise PermissionDenied
    inputs.check_texts({"measure": measure})
    errors: dict[str, list[str]] = {}
    measure = measure.strip()
    if not measure:
        errors["measure"] = [_("Say what is to be improved.")]
    elif len(measure) > MAX_TEXT:
        errors["measure"] = [_("At most %(n)s characters.") % {"n": MAX_TEXT}]
    if owner is None or not owner.is_active:
        errors["owner"] = [_("Choose the person responsible.")]
    if department is None or not department.is_active:
        errors["department"] = [_("Choose the department responsible.")]
    elif owner is not None and department.pk not in owner.department_ids:
        errors["owner"] = [_("The person responsible is not in this department.")]
    if due is None:
        errors["due"] = [_("Enter a due date as YYYY-MM-DD.")]
    elif due < timezone.localdate():
        errors["due"] = [_("The due date has already passed.")]
    elif due > inputs.LATEST_DATE:
        errors["due"] = [inputs.date_range_message()]
    if errors:
        raise ValidationError(errors)
    assert owner is not None and department is not None and due is not None
    with transaction.atomic():
        report = _locked(report)
        if report.state != ReportState.SUBMITTED:
            raise Conflict(_("Decisions are recorded on a submitted report."))
        action = ImprovementAction.objects.create(
            report=report,
            measure=measure,
            owner=owner,
            department=department,
            due=due,
            created_by=actor,
        )
        ReportEvent.objects.create(
            report=report,
            actor=actor,
            verb="decision_added",
            comment=measure,
            data={
                "action": action.pk,
                "owner": owner.printed_name,
                "department": department.code,
                "due": due.isoformat(),
            },
        )
        notify(
            [owner],
            kind="improvement_action_assigned",
            data={
                **_note(report, actor),
                "measure": measure[:200],
                "due": due.isoformat(),
                "url": f"{settings.SITE_URL}/reports/actions/",
            },
            exclude=actor,
        )
    return action


def decide_report(report: SurveyReport, *, comment: str, actor: User) -> SurveyReport:
    """The general manager closes the decision: the report is decided and signed (R2.7)."""
    if not access.can_decide(actor):
        raise PermissionDenied
    inputs.check_texts({"comment": comment})
    comment = comment.strip()
    if len(comment) > MAX_TEXT:
        raise ValidationError({"comment": [_("At most %(n)s characters.") % {"n": MAX_TEXT}]})
    with transaction.atomic():
        report = _locked(report)
        if report.state != ReportState.SUBMITTED:
            raise Conflict(_("Only a submitted report can be decided."))
        if not comment and not report.actions.exists():
            raise ValidationError(
                {"comment": [_("Record at least one improvement measure or a comment.")]}
            )
        report.state = ReportState.DECIDED
        report.decided_by, report.decided_at = actor, timezone.now()
        report.decision_comment = comment
        report.save(update_fields=["state", "decided_by", "decided_at", "decision_comment"])
        ReportEvent.objects.create(
            report=report,
            actor=actor,
            verb="decided",
            comment=comment,
            changes=[{"field": "state", "old": ReportState.SUBMITTED, "new": ReportState.DECIDED}],
        )
        notify(
            [report.drafted_by, *([report.submitted_by] if report.submitted_by else [])],
            kind="survey_report_decided",
            data=_note(report, actor),
            exclude=actor,
        )
    return report


def complete_action(action: ImprovementAction, result: str, *, actor: User) -> ImprovementAction:
    """The owner (or the department) records what was done; the GM is told."""
    if not access.can_complete_action(actor, action):
        raise PermissionDenied
    inputs.check_texts({"result": result})
    result = result.strip()
    if not result:
        raise ValidationError({"result": [_("Say what was done.")]})
    if len(result) > MAX_TEXT:
        raise ValidationError({"result": [_("At most %(n)s characters.") % {"n": MAX_TEXT}]})
    with transaction.atomic():
        action = (
            ImprovementAction.objects.select_for_update().select_related("report").get(pk=action.pk)
        )
        if action.done_at is not None:
            raise Conflict(_("This action is already done."))
        action.done_at, action.done_by, action.result = timezone.now(), actor, result
        action.save(update_fields=["done_at", "done_by", "result"])
        ReportEvent.objects.create(
            report=action.report,
            actor=actor,
            verb="action_done",
            comment=result,
            data={"action": action.pk, "measure": action.measure[:200]},
        )
        notify(
            [action.created_by],
            kind="improvement_action_done",
            data={**_note(action.report, actor), "measure": action.measure[:200]},
            exclude=actor,
        )
    return action


def _note(report: SurveyReport, actor: User) -> dict[str, Any]:
    return {
        "report": report.pk,
        "number": report.number,
        "title": report.title[:200],
        "actor": actor.printed_name,
        "url": report_url(report),
    }
