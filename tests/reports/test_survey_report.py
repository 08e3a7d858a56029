"""The 《顾客满意度调查总结报告》 (R2.7): drafted by Supply and Sales from a campaign's results,
analysed and improved, submitted to the general manager, who decides the measures; each
measure is a tracked action."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qloop.notify.models import Notification
from qloop.reports import actions
from qloop.reports.models import ImprovementAction, ReportEvent, ReportState, SurveyReport
from tests.reports.surveydata import COMMENT, Campaigns, make_campaigns

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaigns(users: dict[str, Any]) -> Campaigns:
    return make_campaigns(users)


@pytest.fixture
def report(campaigns: Campaigns, users: dict[str, Any]) -> SurveyReport:
    return actions.draft_report(campaigns.current.pk, actor=users["sales"])


def _submitted(report: SurveyReport, users: dict[str, Any]) -> SurveyReport:
    actions.update_report(
        report,
        {"analysis": "售后服务满意度高于产品质量。", "improvements": "加强出厂检验。"},
        actor=users["sales"],
    )
    return actions.submit_report(report, actor=users["sales"])


def _in_days(n: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=n)).isoformat()


def test_the_draft_takes_its_numbers_from_the_campaign_results(
    campaigns: Campaigns, client_for: Callable[[str], Client]
) -> None:
    client = client_for("sales")

    response = client.post(reverse("survey-report-create"), {"campaign": campaigns.current.pk})

    report = SurveyReport.objects.get()
    assert response.status_code == 302
    assert report.state == ReportState.DRAFT
    assert report.number.startswith(f"SR-{timezone.localdate().year}-")
    assert (report.results["csat"], report.results["nps"]) == (62.5, 25.0)
    assert report.results["answered"] == 3 and report.results["public_answers"] == 1
    assert report.results["previous"]["csat"] == 25.0
    # The period defaults to when the campaign ran.
    assert report.period_start == timezone.localdate(campaigns.current.opens_at)
    page = client.get(reverse("survey-report-detail", args=[report.pk])).content.decode()
    assert 'data-testid="csat">62.5<' in page
    assert 'data-testid="nps">25.0<' in page
    assert 'data-testid="response-rate">75.0%<' in page
    assert "+37.5" in page  # CSAT against the previous campaign's 25.0
    assert "<svg" in page and "产品质量" in page
    assert COMMENT in page


def test_an_unknown_campaign_is_refused_with_a_message_and_nothing_is_drafted(
    client_for: Callable[[str], Client], users: dict[str, Any]
) -> None:
    client = client_for("sales")
    client.cookies["django_language"] = "en"

    response = client.post(reverse("survey-report-create"), {"campaign": "999999"})
    empty = client.post(reverse("survey-report-create"), {"campaign": ""})

    assert response.status_code == 422
    assert "No such survey campaign." in response.content.decode()
    assert empty.status_code == 422
    assert "Choose a survey campaign." in empty.content.decode()
    assert not SurveyReport.objects.exists()


@pytest.mark.parametrize("persona", ["cs", "qe", "prod", "gm"])
def test_only_supply_and_sales_drafts_the_report(
    persona: str, campaigns: Campaigns, client_for: Callable[[str], Client]
) -> None:
    response = client_for(persona).post(
        reverse("survey-report-create"), {"campaign": campaigns.current.pk}
    )
    assert response.status_code == 403
    assert not SurveyReport.objects.exists()


def test_editing_keeps_every_version_with_who_changed_it(
    report: SurveyReport, client_for: Callable[[str], Client], users: dict[str, Any]
) -> None:
    client = client_for("sales")
    url = reverse("survey-report-edit", args=[report.pk])

    client.post(url, {"analysis": "第一稿：产品质量满意度偏低。", "improvements": "加强检验。"})
    client.post(url, {"analysis": "第二稿：产品质量满意度50%。", "improvements": "加强检验。"})

    report.refresh_from_db()
    assert report.analysis == "第二稿：产品质量满意度50%。"
    edits = list(ReportEvent.objects.filter(report=report, verb="edited"))
    assert len(edits) == 2  # the second save changed only the analysis
    assert [c["field"] for c in edits[1].changes] == ["analysis"]
    assert edits[1].changes[0]["old"] == "第一稿：产品质量满意度偏低。"
    assert edits[1].actor == users["sales"]
    history = client.get(reverse("survey-report-detail", args=[report.pk])).content.decode()
    assert "第一稿：产品质量满意度偏低。" in history and "第二稿" in history


def test_the_report_history_cannot_be_rewritten_or_removed(report: SurveyReport) -> None:
    """X2: the report's trail is evidence, like a case's: no entry is changed or deleted,
    one by one or in bulk."""
    entry = report.events.get()
    entry.comment = "改写历史"
    for rewrite in (
        entry.save,
        entry.delete,
        lambda: report.events.update(comment="x"),
        lambda: ReportEvent.objects.all().delete(),
    ):
        with pytest.raises(TypeError, match="append-only"), transaction.atomic():
            rewrite()
    assert list(report.events.values_list("verb", "comment")) == [(entry.verb, "")]


def test_a_refused_edit_shows_what_was_typed_and_changes_nothing(
    report: SurveyReport, client_for: Callable[[str], Client]
) -> None:
    client = client_for("sales")
    client.cookies["django_language"] = "en"

    response = client.post(
        reverse("survey-report-edit", args=[report.pk]),
        {
            "analysis": "很长的分析，不能丢。",
            "period_start": "2026-05-01",
            "period_end": "2026-04-01",
        },
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert "The period ends before it starts." in page
    assert "很长的分析，不能丢。" in page
    report.refresh_from_db()
    assert report.analysis == ""
    assert not report.events.filter(verb="edited").exists()


def test_submitting_needs_analysis_and_improvements(
    report: SurveyReport, client_for: Callable[[str], Client]
) -> None:
    client = client_for("sales")
    client.cookies["django_language"] = "en"

    response = client.post(reverse("survey-report-submit", args=[report.pk]), follow=True)

    assert "Write the analysis of the results before submitting." in response.content.decode()
    report.refresh_from_db()
    assert report.state == ReportState.DRAFT


def test_a_submitted_report_goes_to_the_general_manager_and_is_no_longer_editable(
    report: SurveyReport, client_for: Callable[[str], Client], users: dict[str, Any]
) -> None:
    _submitted(report, users)

    refused = client_for("sales").post(
        reverse("survey-report-edit", args=[report.pk]), {"analysis": "改"}
    )

    assert refused.status_code == 409
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED
    assert report.analysis == "售后服务满意度高于产品质量。"
    note = Notification.objects.get(user=users["gm"], kind="survey_report_submitted")
    assert note.data["number"] == report.number


def test_the_general_manager_decides_and_each_measure_becomes_a_tracked_action(
    report: SurveyReport, client_for: Callable[[str], Client], users: dict[str, Any]
) -> None:
    _submitted(report, users)
    gm = client_for("gm")

    added = gm.post(
        reverse("survey-report-add-decision", args=[report.pk]),
        {
            "measure": "出厂前100%密封测试",
            "owner": "prod",
            "department": "PROD",
            "due": _in_days(30),
        },
    )
    decided = gm.post(reverse("survey-report-decide", args=[report.pk]), {"comment": "同意"})

    assert added.status_code == 302 and decided.status_code == 302
    action = ImprovementAction.objects.get()
    assert (action.owner, action.department.code) == (users["prod"], "PROD")
    report.refresh_from_db()
    assert report.state == ReportState.DECIDED and report.decided_by == users["gm"]
    assert Notification.objects.filter(user=users["prod"], kind="improvement_action_assigned")
    assert Notification.objects.filter(user=users["sales"], kind="survey_report_decided")
    # The owner finds it on the list, though they cannot read every report.
    page = client_for("prod").get(reverse("improvement-action-list")).content.decode()
    assert "出厂前100%密封测试" in page


@pytest.mark.parametrize("persona", ["sales", "qa_head", "cs_head"])
def test_only_the_general_manager_records_decisions(
    persona: str, report: SurveyReport, client_for: Callable[[str], Client], users: dict[str, Any]
) -> None:
    _submitted(report, users)
    client = client_for(persona)

    add = client.post(
        reverse("survey-report-add-decision", args=[report.pk]),
        {"measure": "x", "owner": "prod", "department": "PROD", "due": _in_days(30)},
    )
    decide = client.post(reverse("survey-report-decide", args=[report.pk]), {"comment": "同意"})

    assert (add.status_code, decide.status_code) == (403, 403)
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED
    assert not ImprovementAction.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"measure": "", "owner": "prod", "department": "PROD"}, "Say what is to be improved."),
        (
            {"measure": "改进", "owner": "sales", "department": "PROD"},
            "The person responsible is not in this department.",
        ),
        (
            {"measure": "改进", "owner": "prod", "department": "PROD", "due": "2020-01-01"},
            "The due date has already passed.",
        ),
        (
            {"measure": "改进", "owner": "prod", "department": "PROD", "due": "明天"},
            "Enter a date as YYYY-MM-DD.",
        ),
    ],
)
def test_a_bad_decision_is_refused_with_a_message(
    data: dict[str, str],
    message: str,
    report: SurveyReport,
    client_for: Callable[[str], Client],
    users: dict[str, Any],
) -> None:
    _submitted(report, users)
    gm = client_for("gm")
    gm.cookies["django_language"] = "en"

    response = gm.post(
        reverse("survey-report-add-decision", args=[report.pk]), {"due": _in_days(10), **data}
    )

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ImprovementAction.objects.exists()


def test_the_general_manager_may_send_the_report_back(
    report: SurveyReport, client_for: Callable[[str], Client], users: dict[str, Any]
) -> None:
    _submitted(report, users)

    client_for("gm").post(
        reverse("survey-report-return", args=[report.pk]), {"comment": "请补充服务响应分析"}
    )

    report.refresh_from_db()
    assert report.state == ReportState.DRAFT
    assert Notification.objects.get(user=users["sales"], kind="survey_report_returned")
    # Back in draft, Supply and Sales may edit again.
    actions.update_report(report, {"analysis": "补充：服务响应"}, actor=users["sales"])


def test_overdue_actions_are_marked_and_the_owner_records_the_result(
    report: SurveyReport, client_for: Callable[[str], Client], users: dict[str, Any]
) -> None:
    _submitted(report, users)
    action = actions.add_decision(
        report,
        measure="更换密封件供应商",
        owner=users["prod"],
        department=users["prod"].departments.get(),
        due=timezone.localdate() + dt.timedelta(days=5),
        actor=users["gm"],
    )
    later = timezone.now() + dt.timedelta(days=8)

    with time_machine.travel(later, tick=False):
        overdue = client_for("gm").get(reverse("improvement-action-list") + "?show=overdue")
        done = client_for("prod").post(
            reverse("improvement-action-done", args=[action.pk]), {"result": "已更换为新供应商"}
        )
        prod = client_for("prod")
        prod.cookies["django_language"] = "en"
        again = prod.post(
            reverse("improvement-action-done", args=[action.pk]), {"result": "再次"}, follow=True
        )

    assert f'data-testid="action-{action.pk}"' in overdue.content.decode()
    assert "table-danger" in overdue.content.decode()
    assert done.status_code == 302
    action.refresh_from_db()
    assert action.result == "已更换为新供应商" and action.done_by == users["prod"]
    assert Notification.objects.filter(user=users["gm"], kind="improvement_action_done")
    assert "This action is already done." in again.content.decode()
    action.refresh_from_db()
    assert action.result == "已更换为新供应商"  # unchanged by the second try
    assert ImprovementAction.objects.overdue().count() == 0


def test_someone_else_may_not_complete_an_action(
    report: SurveyReport, client_for: Callable[[str], Client], users: dict[str, Any]
) -> None:
    _submitted(report, users)
    action = actions.add_decision(
        report,
        measure="更换密封件供应商",
        owner=users["prod"],
        department=users["prod"].departments.get(),
        due=timezone.localdate() + dt.timedelta(days=5),
        actor=users["gm"],
    )

    response = client_for("cs").post(
        reverse("improvement-action-done", args=[action.pk]), {"result": "x"}
    )

    assert response.status_code == 403
    action.refresh_from_db()
    assert action.done_at is None


def test_the_printed_report_has_the_numbers_text_decisions_and_signature_lines(
    report: SurveyReport, client_for: Callable[[str], Client], users: dict[str, Any]
) -> None:
    _submitted(report, users)
    actions.add_decision(
        report,
        measure="出厂前100%密封测试",
        owner=users["prod"],
        department=users["prod"].departments.get(),
        due=timezone.localdate() + dt.timedelta(days=30),
        actor=users["gm"],
    )
    actions.decide_report(report, comment="同意，按期完成", actor=users["gm"])

    gm = client_for("gm")
    gm.cookies["django_language"] = "en"
    page = gm.get(reverse("survey-report-print", args=[report.pk])).content.decode()

    assert "Customer Satisfaction Survey Summary Report" in page
    assert "苏州启环机电有限公司" in page  # the organisation's name heads the sheet
    assert "62.5" in page and "25.0" in page and "75.0%" in page
    assert page.count("<svg") >= 2
    assert "售后服务满意度高于产品质量。" in page and "加强出厂检验。" in page
    assert "出厂前100%密封测试" in page and "同意，按期完成" in page
    assert users["gm"].printed_name in page and users["sales"].printed_name in page
    assert "paper.css" in page
