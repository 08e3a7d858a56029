"""After-sales in a real browser (issue #5, R2.2–R2.11): Supply and Sales registers a piece of
feedback through the form and takes it through handling, escalation to the general manager and
a complaint case raised from it; the two named registers printed by Chromium to A4 landscape
PDF and PNG and exported to Excel with the same rows; the customer directory; the survey
results of the demo's latest campaign with last year's for comparison, and the summary report's
print page. Screenshots land in test-output/screenshots/, PDFs and PNGs in test-output/reports/.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from tests.browser.conftest import REPO_ROOT, PageWatch, log_in, pdf_to_png

pytestmark = pytest.mark.browser

Shot = Callable[[Any, str], Path]
REPORTS = REPO_ROOT / "test-output" / "reports"

SYMPTOM = "客户来电：上月到货的三台QL-CP50离心泵机械密封处漏水，更换密封圈后仍滴漏，要求尽快处理。"
HANDLING = "已联系品质部确认同批次机械密封情况，安排售后人员携带备件上门。"
ANSWER = "已电话告知客户两天内上门更换机械密封。"
REASON = "客户要求赔偿停产损失，超出供销部权限。"
INSTRUCTIONS = "先为客户更换机械密封，赔偿事宜待品质部调查结论后再议。"
RAISE_REASON = "同批次三台均漏水，属产品质量问题，转客户服务部立案调查。"
RESULT = "已更换三台泵的机械密封，运行一周无泄漏，客户确认。"


def zh(message: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


def feedback_state(state: str) -> str:
    from qloop.process.definitions import state_label

    with translation.override(settings.LANGUAGE_CODE):
        return str(state_label("feedback", state))


def switch_to(page: Any, username: str) -> None:
    page.context.clear_cookies()
    log_in(page, username)
    # The first page is the person's board or My work (issue 13); these tests start on My work.
    if not page.url.endswith(reverse("my-work")):
        page.goto(reverse("my-work"))


def take_step(page: Any, shot: Shot, name: str, values: dict[str, str]) -> None:
    """Open the step in "Next steps", fill it, send it, and see it confirmed."""
    form = page.locator(f"#step-{name}")
    if "show" not in (form.get_attribute("class") or "").split():
        page.locator(f"#btn-step-{name}").click()
        page.wait_for_selector(f"#step-{name}.collapse.show", state="visible")
    for field, value in values.items():
        target = page.locator(f"#{name}-{field}")
        if target.evaluate("e => e.tagName.toLowerCase()") == "select":
            target.select_option(value)
        else:
            target.fill(value)
    shot(page, f"{name}-filled")
    with page.expect_navigation() as nav:
        page.locator(f"#step-{name} form > button").click()
    assert nav.value is not None and nav.value.status == 200, f"step {name} refused"
    assert page.locator(".alert-success").inner_text().strip(), f"no confirmation after {name}"


def state_shown(page: Any) -> str:
    return str(page.locator("#case-state").inner_text().strip())


def assert_clean(watch: PageWatch) -> None:
    assert not watch.errors, watch.errors
    assert not watch.failed, watch.failed


def test_sales_handles_feedback_escalates_it_and_raises_a_complaint(
    page: Any, screenshot: Shot, demo_org: dict[str, Any], watch: PageWatch
) -> None:
    """R2.4, R2.10, R2.11, R2.3, R2.8: the form asks for the type and the R2.10 category; the
    handler is named, handling and the answer are recorded, what cannot be handled at once goes
    to the general manager, whose instructions send it back; a complaint case is raised from it
    and each case links to the other."""
    from qloop.cases.models import Case

    switch_to(page, "sales")
    page.goto(reverse("case-create") + "?kind=feedback")
    # The R2.10 tree is offered: groups 1–3 with their sub-categories.
    categories = page.locator("#id_category option").all_inner_texts()
    assert any("1D" in c for c in categories) and any("3D" in c for c in categories), categories
    page.select_option("#id_channel", "phone")
    page.fill("#id_contact_phone", "13951234567")
    page.fill("#id_contact_name", "周海涛")
    page.fill("#id_contact_organisation", "苏州恒通水务有限公司")
    page.fill("#id_product_model", "QL-CP50")
    page.fill("#id_product_quantity", "3")
    page.select_option("#id_feedback_type", "complaint")
    page.fill("#id_symptom", SYMPTOM)
    page.select_option("#id_category", "1D")
    screenshot(page, "feedback-form")
    with page.expect_navigation():
        page.locator("#registration-form button[type=submit]").click()
    number = page.locator("#case-number").inner_text().strip()
    assert number.startswith("FB-"), number
    assert page.locator("#feedback-type").inner_text().strip() == zh("Complaint")
    assert state_shown(page) == feedback_state("new")
    screenshot(page, "feedback-registered")

    take_step(page, screenshot, "assign", {"handler": "sales"})
    assert state_shown(page) == feedback_state("handling")
    take_step(page, screenshot, "record_handling", {"handling": HANDLING})
    take_step(page, screenshot, "answer_customer", {"answer": ANSWER, "answer_channel": "phone"})
    assert HANDLING in page.locator("#feedback-handling").inner_text()
    take_step(page, screenshot, "escalate", {"reason": REASON})
    assert state_shown(page) == feedback_state("escalated")
    screenshot(page, "escalated")

    # The general manager finds it and gives instructions.
    switch_to(page, "gm")
    page.goto(reverse("case-detail", args=[number]))
    assert page.locator("#btn-step-instruct").is_visible()
    take_step(page, screenshot, "instruct", {"instructions": INSTRUCTIONS})
    assert state_shown(page) == feedback_state("handling")
    assert INSTRUCTIONS in page.locator("body").inner_text()
    screenshot(page, "instructed")

    # Back with Supply and Sales: a complaint case is raised, linked both ways.
    switch_to(page, "sales")
    page.goto(reverse("case-detail", args=[number]))
    take_step(page, screenshot, "raise_complaint", {"reason": RAISE_REASON})
    raised = page.locator("a.raised-case")
    assert raised.count() == 1
    complaint = raised.inner_text().strip()
    assert complaint.startswith("QC-"), complaint
    screenshot(page, "complaint-raised")
    with page.expect_navigation():
        raised.click()
    assert page.locator("#case-number").inner_text().strip() == complaint
    assert page.locator("#source-case").inner_text().strip() == number
    assert RAISE_REASON in page.locator("#timeline").inner_text()
    screenshot(page, "complaint-links-back")
    with page.expect_navigation():
        page.locator("#source-case").click()
    take_step(page, screenshot, "close", {"result": RESULT})
    assert state_shown(page) == feedback_state("closed")
    screenshot(page, "closed")

    case = Case.objects.get(number=number)
    assert case.category is not None
    assert (case.state, case.category.code, case.feedback.feedback_type) == (
        "closed",
        "1D",
        "complaint",
    )
    assert case.feedback.instructed_by == demo_org["gm"]
    assert Case.objects.get(number=complaint).source_case == case
    assert_clean(watch)


@pytest.fixture
def demo_aftersales(demo_org: dict[str, Any]) -> dict[str, Any]:
    """The demo's customers, feedback, surveys and report, as ``qloop demo`` makes them."""
    from qloop.demo.aftersales import load_aftersales

    load_aftersales(demo_org)
    return demo_org


@pytest.mark.parametrize(
    ("url_name", "title", "slug"),
    [
        ("feedback-handling-record", "Customer Feedback Handling Record", "feedback-handling"),
        (
            "complaint-feedback-record",
            "Customer Complaint and Feedback Record",
            "complaints-and-feedback",
        ),
    ],
)
def test_the_named_registers_print_on_a4_landscape_and_export_the_same_rows(
    page: Any,
    screenshot: Shot,
    demo_aftersales: dict[str, Any],
    watch: PageWatch,
    url_name: str,
    title: str,
    slug: str,
) -> None:
    """R2.3, R2.5 a, R2.11, X4: a period's rows, printed A4 landscape and in the workbook."""
    today = timezone.localdate()
    start = (today - dt.timedelta(days=200)).isoformat()
    switch_to(page, "sales")
    page.goto(reverse(url_name))
    page.fill("input[name=from]", start)
    page.fill("input[name=to]", today.isoformat())
    with page.expect_navigation():
        page.locator("form.period button[type=submit]").click()
    assert page.locator("h1").inner_text().strip() == zh(title)
    rows = page.locator("#register tbody tr")
    numbers = [rows.nth(i).locator("td").first.inner_text().strip() for i in range(rows.count())]
    assert len(numbers) >= 40, numbers
    assert all(n.startswith(("FB-", "QC-")) for n in numbers), numbers
    screenshot(page, f"{slug}-page")

    REPORTS.mkdir(parents=True, exist_ok=True)
    pdf = REPORTS / f"{slug}-register.pdf"
    page.pdf(path=str(pdf), format="A4", landscape=True, print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF")
    for png in pdf_to_png(pdf, first_page_only=True):
        assert png.stat().st_size > 10_000, "the first printed page is empty"

    with page.expect_download() as download:
        page.locator("#xlsx-link").click()
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert sheet is not None
    exported = [r[0] for r in sheet.iter_rows(min_row=4, values_only=True) if r and r[0]]
    assert exported == numbers
    assert_clean(watch)


def test_the_customer_directory_finds_a_customer_and_records_a_visit(
    page: Any, screenshot: Shot, demo_aftersales: dict[str, Any], watch: PageWatch
) -> None:
    """R2.4, R2.5 b, R2.7: search, the customer's people, history and cases; a new visit."""
    from qloop.customers.models import ContactRecord, CustomerOrganisation

    customer = (
        CustomerOrganisation.objects.filter(people__contact__cases__kind="feedback")
        .distinct()
        .first()
    )
    assert customer is not None
    person = customer.people.select_related("contact").first()
    assert person is not None
    switch_to(page, "sales")
    page.goto(reverse("customer-list"))
    assert page.locator("#customer-table tbody tr").count() == 18
    screenshot(page, "directory")
    page.fill("#id_q", person.contact.name)
    with page.expect_navigation():
        page.locator("#id_q").press("Enter")
    found = page.locator("#customer-table tbody a")
    assert customer.name in found.all_inner_texts()
    screenshot(page, "search")
    with page.expect_navigation():
        found.filter(has_text=customer.name).first.click()
    assert page.locator("#customer-name").inner_text().strip().startswith(customer.name)
    assert person.contact.name in page.locator("#contact-persons").inner_text()
    assert page.locator("#contact-records li").count() >= 2
    assert page.locator("#customer-cases tbody tr a").count() >= 1
    screenshot(page, "customer")

    before = ContactRecord.objects.filter(customer=customer).count()
    summary = "上门回访：三台QL-CP50更换机械密封后运行正常，客户满意。"
    page.fill("#id_date", timezone.localdate().isoformat())
    page.select_option("#id_way", "visit")
    page.select_option("#id_contact", str(person.contact_id))
    page.fill("#id_summary", summary)
    with page.expect_navigation():
        page.locator("#add-record button").click()
    assert summary in page.locator("#contact-records li").first.inner_text()
    screenshot(page, "visit-recorded")
    assert ContactRecord.objects.filter(customer=customer).count() == before + 1
    assert_clean(watch)


def test_survey_results_compare_with_last_year_and_the_report_prints(
    page: Any, screenshot: Shot, demo_aftersales: dict[str, Any], watch: PageWatch
) -> None:
    """R2.6, R2.7: the latest campaign's CSAT, NPS, response rate and comments beside last
    year's; its summary report draft on an A4 print page."""
    from qloop.reports.models import SurveyReport
    from qloop.surveys.models import Campaign

    latest = Campaign.objects.order_by("-opens_at").first()
    assert latest is not None
    switch_to(page, "sales")
    page.goto(reverse("campaign-results", args=[latest.pk]))
    csat = page.locator("#csat").inner_text().strip()
    assert csat.endswith("%") and 0 <= float(csat[:-1]) <= 100
    assert -100 <= float(page.locator("#nps").inner_text()) <= 100
    indices = page.locator("#indices").inner_text()
    assert zh("previous") in indices
    assert page.locator("#follow-ups tbody tr").count() >= 1
    assert "服务" in page.locator("#result-comments").inner_text()
    screenshot(page, "results")

    report = SurveyReport.objects.get(campaign_id=latest.pk)
    page.goto(reverse("survey-report-print", args=[report.pk]))
    body = page.locator("body").inner_text()
    assert report.number in body and "备件库" in body
    screenshot(page, "report-print")
    REPORTS.mkdir(parents=True, exist_ok=True)
    pdf = REPORTS / "survey-summary-report-demo.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    pdf_to_png(pdf, first_page_only=True)
    assert_clean(watch)
