"""Sending survey invitations and submitting the summary report ask first, saying how many and
to whom (issue 12 point 15, R2.6, R2.7), in headless Chromium under the strict CSP: the
question comes from static/qloop/page.js (``data-confirm``), not from an inline script.

Screenshots land in test-output/screenshots/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.browser.conftest import PageWatch, log_in

pytestmark = pytest.mark.browser

Shot = Callable[[Any, str], Path]


def _answer_dialogs(page: Any, answers: list[bool]) -> list[str]:
    """Say no, then yes (in the order given) to the page's questions; what they said."""
    said: list[str] = []

    def on_dialog(dialog: Any) -> None:
        said.append(dialog.message)
        if dialog.type == "alert" or (answers and answers.pop(0)):
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", on_dialog)
    return said


def test_sending_invitations_says_how_many_and_to_whom_before_anything_is_sent(
    page: Any, demo_org: dict[str, Any], screenshot: Shot, watch: PageWatch
) -> None:
    from qloop.cases.models import Contact
    from qloop.notify.models import Message
    from qloop.surveys import actions
    from qloop.surveys.models import Invitation

    sales = demo_org["sales"]
    campaign = actions.create_campaign(
        actions.create_from_template("csat", actor=sales),
        title="2027 年度顾客满意度调查",
        opens_at=timezone.now() - dt.timedelta(hours=1),
        closes_at=timezone.now() + dt.timedelta(days=30),
        actor=sales,
    )
    people = [
        Contact.objects.create(name="王芳", email="wang@example.cn", organisation="恒通水务"),
        Contact.objects.create(name="李雷", email="li@example.cn", organisation="恒通水务"),
        Contact.objects.create(name="赵六", phone="13700000000", organisation="东方泵业"),
    ]
    already = Contact.objects.create(name="韩梅梅", email="han@example.cn", organisation="东方泵业")
    actions.invite_contacts(campaign, [already.pk], base_url="http://x/", actor=sales)
    said = _answer_dialogs(page, [False, True])
    log_in(page, "sales")
    page.goto(reverse("campaign-invite", args=[campaign.pk]))

    # Nothing ticked: told to choose, nothing sent.
    page.get_by_role("button", name="发送邀请").click()
    page.wait_for_timeout(300)
    assert said == ["请至少选择一位联系人。"]
    # The header box ticks everyone not yet invited.
    page.get_by_label("全选").check()
    assert page.locator("input[name=contacts]:checked").count() == len(people)
    screenshot(page, "all-chosen")
    page.get_by_role("button", name="发送邀请").click()  # answered no
    page.wait_for_timeout(300)
    assert Invitation.objects.count() == 1
    question = said[1]
    assert question.startswith(f"发送 {len(people)} 份邀请"), question
    for person in people:
        assert person.name in question
    assert "wang@example.cn" in question and "仅专属链接" in question
    assert "韩梅梅" not in question

    with page.expect_navigation():
        page.get_by_role("button", name="发送邀请").click()  # answered yes
    assert Invitation.objects.count() == 1 + len(people)
    assert Message.objects.filter(kind="survey_invitation").count() == 1 + 2  # e-mail only
    # Every invitation shows its personal link and a QR code to print.
    assert page.locator("td.personal-link input").count() == 1 + len(people)
    screenshot(page, "invited")
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)


def test_submitting_the_summary_report_names_the_general_manager_first(
    page: Any, demo_org: dict[str, Any], screenshot: Shot, watch: PageWatch
) -> None:
    from qloop.demo.aftersales import load_aftersales
    from qloop.reports.models import ReportState, SurveyReport

    load_aftersales(demo_org)
    report = SurveyReport.objects.get()
    assert report.state == ReportState.DRAFT
    gm = demo_org["gm"]
    said = _answer_dialogs(page, [False, True])
    log_in(page, "sales")
    page.goto(reverse("survey-report-detail", args=[report.pk]))

    page.get_by_role("button", name="提交总经理").click()  # answered no
    page.wait_for_timeout(300)
    report.refresh_from_db()
    assert report.state == ReportState.DRAFT
    assert report.title in said[0] and gm.printed_name in said[0], said

    with page.expect_navigation():
        page.get_by_role("button", name="提交总经理").click()  # answered yes
    report.refresh_from_db()
    assert report.state == ReportState.SUBMITTED
    screenshot(page, "submitted")
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)
