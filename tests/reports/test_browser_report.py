"""The 《顾客满意度调查总结报告》 in a real browser (R2.7, X4): Chromium prints it to an A4 PDF
and a PNG in test-output/reports/, for a person to look at; Chinese text, the charts, the
decisions and the signature lines are on the sheet, and nothing loads from the internet."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from qloop.cases.actions import register_case
from qloop.cases.models import Case, Category
from qloop.reports import actions
from qloop.reports.review import prepare_summary
from tests.browser.conftest import REPO_ROOT, PageWatch, log_in, pdf_to_png
from tests.conftest import registration
from tests.reports.surveydata import make_campaigns

pytestmark = pytest.mark.browser

REPORTS = REPO_ROOT / "test-output" / "reports"
ANALYSIS = "本次调查共回收有效问卷4份。售后服务满意度75%，高于产品质量的50%；产品质量问题集中在机械密封漏水。与上次调查相比，总体满意度由25%升至62.5%。"
IMPROVEMENTS = "一、出厂前对机械密封做100%气密性测试；二、售后服务承诺24小时内到达现场。"
MEASURE = "出厂前对机械密封做100%气密性测试"


def _decided_report(users: dict[str, Any]) -> Any:
    campaigns = make_campaigns(users)
    report = actions.draft_report(campaigns.current.pk, actor=users["sales"])
    actions.update_report(
        report, {"analysis": ANALYSIS, "improvements": IMPROVEMENTS}, actor=users["sales"]
    )
    actions.submit_report(report, actor=users["sales"])
    actions.add_decision(
        report,
        measure=MEASURE,
        owner=users["prod"],
        department=users["prod"].departments.get(),
        due=timezone.localdate() + dt.timedelta(days=30),
        actor=users["gm"],
    )
    return actions.decide_report(report, comment="同意，按期完成。", actor=users["gm"])


def _print(page: Any, stem: str) -> bytes:
    REPORTS.mkdir(parents=True, exist_ok=True)
    for old in REPORTS.glob(f"{stem}*"):
        old.unlink()
    page.emulate_media(media="screen")
    page.screenshot(path=str(REPORTS / f"{stem}.png"), full_page=True)
    page.emulate_media(media="print")
    pdf: bytes = page.pdf(format="A4", print_background=True)
    (REPORTS / f"{stem}.pdf").write_bytes(pdf)
    pdf_to_png(REPORTS / f"{stem}.pdf")  # the printed pages as pictures, for a person to check
    return pdf


def test_the_survey_summary_report_prints_as_a_paper_report(
    page: Any, demo_org: dict[str, Any], watch: PageWatch
) -> None:
    report = _decided_report(demo_org)
    log_in(page, "gm")

    page.goto(reverse("survey-report-print", args=[report.pk]))

    sheet = page.locator(".sheet").inner_text()
    for expected in (
        "苏州启环机电有限公司",
        report.number,
        "2026年度顾客满意度调查",
        ANALYSIS,
        IMPROVEMENTS,
        MEASURE,
        "同意，按期完成。",
        demo_org["sales"].printed_name,
        demo_org["gm"].printed_name,
        "62.5",
        "75.0%",
    ):
        assert expected in sheet, f"{expected!r} is not on the report"
    assert page.locator(".sheet svg.chart").count() >= 2
    # The charts are drawn, not empty boxes: bars for CSAT and NPS.
    assert page.locator(".sheet svg.chart rect").count() >= 6
    pdf = _print(page, f"survey-report-{report.number}")
    assert pdf.startswith(b"%PDF")
    assert not [u for u in watch.requests if not u.startswith(page.url.split("/reports")[0])]
    assert not watch.failed and not watch.errors, (watch.requests, watch.errors)


def test_the_management_review_summary_prints(
    page: Any, demo_org: dict[str, Any], watch: PageWatch
) -> None:
    from qloop.reports.models import ManagementReview

    _decided_report(demo_org)
    for code, days in (("1A", 3), ("1A", 40), ("2A", 70), ("3B", 200)):
        case = register_case(registration(), actor=demo_org["cs"])
        Case.objects.filter(pk=case.pk).update(
            category=Category.objects.get(code=code),
            received_at=timezone.now() - dt.timedelta(days=days),
        )
    review = ManagementReview.objects.create(
        held_on=timezone.localdate() + dt.timedelta(days=20), title="年度管理评审"
    )
    prepare_summary(review)
    log_in(page, "gm")

    page.goto(reverse("review-summary", args=[review.pk]))

    sheet = page.locator(".sheet").inner_text()
    assert "产品质量" in sheet and "售后服务质量" in sheet  # the R2.10 tree
    assert page.locator('[data-testid="cat-1A"]').inner_text() == "2"
    assert page.locator('[data-testid="cat-total"]').inner_text() == "4"
    assert "2026年度顾客满意度调查" in sheet and MEASURE in sheet
    pdf = _print(page, f"review-summary-{review.held_on:%Y-%m-%d}")
    assert pdf.startswith(b"%PDF")
    assert not watch.failed and not watch.errors
