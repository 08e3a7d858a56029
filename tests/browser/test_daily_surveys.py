"""Surveys as a new user met them (issue 12 points 2, 3, 4 and 7), in headless Chromium.

- The printable card's QR code is printed to a PDF by Chromium, turned into a picture by
  pdftoppm and read by zxing-cpp: it scans to the public link (R2.6).
- The 《顾客满意度调查总结报告》 counts answers as the results page does, its charts' labels
  are drawn whole, and printed it fills page 1 (R2.7, X4).
- An ended campaign is called the same on its page and in the list.

Screenshots and printed pages land in test-output/screenshots/ and test-output/reports/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from tests.browser.conftest import REPO_ROOT, PageWatch, log_in, pdf_to_png

pytestmark = pytest.mark.browser

Shot = Callable[[Any, str], Path]
REPORTS = REPO_ROOT / "test-output" / "reports"


def zh(message: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


def assert_clean(watch: PageWatch) -> None:
    """No script error and no failed request. The bare print pages have no icon, so Chromium
    asks for /favicon.ico (a 404 until issue 12 point 21 gives the site one): that console
    message is left out, as long as no page request failed."""
    failed = [f for f in watch.failed if not f.endswith("/favicon.ico")]
    errors = [
        e
        for e in watch.errors
        if failed or not e.startswith("console: Failed to load resource: the server responded")
    ]
    assert not errors and not failed, (errors, failed)


def print_pdf(page: Any, stem: str) -> Path:
    """The page as Chromium prints it on A4, kept under test-output/reports/."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    for old in REPORTS.glob(f"{stem}*"):
        old.unlink()
    page.emulate_media(media="print")
    pdf = REPORTS / f"{stem}.pdf"
    pdf.write_bytes(page.pdf(format="A4", print_background=True))
    page.emulate_media(media="screen")
    return pdf


@pytest.fixture
def demo_surveys(demo_org: dict[str, Any]) -> dict[str, Any]:
    """The demo's customers, its two closed campaigns of the default questionnaire (personal
    links and paper answers) and the summary report draft of the latest one."""
    from qloop.demo.aftersales import load_aftersales

    load_aftersales(demo_org)
    return demo_org


def test_the_printed_card_s_qr_code_scans_to_the_public_link(
    page: Any,
    demo_org: dict[str, Any],
    live_server: Any,
    screenshot: Shot,
    watch: PageWatch,
    settings: Any,
) -> None:
    """R2.6: the card is printed and pinned up; a phone must read its code from the paper.
    The link is the site's address (SITE_URL, issue 12.16), here the test server's."""
    settings.SITE_URL = live_server.url
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    from qloop.surveys import actions

    questionnaire = actions.create_from_template("csat", actor=demo_org["sales"])
    campaign = actions.create_campaign(
        questionnaire, title="2026 年度顾客满意度调查", actor=demo_org["sales"]
    )
    log_in(page, "sales")
    page.goto(reverse("campaign-card", args=[campaign.pk]))
    svg = page.locator(".qr-card svg")
    assert (svg.get_attribute("viewBox") or "").startswith("0 0 ")
    # Drawn whole: the code (quiet zone included) is as wide as it is tall, nothing cut.
    box = svg.bounding_box()
    assert box is not None and abs(box["width"] - box["height"]) < 1
    screenshot(page, "card")

    pdf = print_pdf(page, f"survey-card-{campaign.pk}")
    [picture] = pdf_to_png(pdf, resolution=150, first_page_only=True) or pytest.skip(
        "pdftoppm is missing: the printed card cannot be turned into a picture"
    )
    decoded = zxingcpp.read_barcodes(Image.open(picture))
    assert [d.text for d in decoded] == [f"{live_server.url}/survey/p/{campaign.public_token}/"]
    assert_clean(watch)


def test_the_summary_report_counts_labels_and_prints_like_the_results_page(
    page: Any, demo_surveys: dict[str, Any], screenshot: Shot, watch: PageWatch
) -> None:
    """R2.7, X4: the report says as many answers as the results page and its own table; every
    chart label is drawn whole, on screen and in print; page 1 is not left half empty."""
    from PIL import Image

    from qloop.reports.models import SurveyReport
    from qloop.surveys.results import campaign_results

    report = SurveyReport.objects.get()
    results = campaign_results(report.campaign_id)
    everyone = results.answered + results.public_answers
    assert results.public_answers > 0  # paper answers: the case of the issue
    log_in(page, "gm")

    page.goto(reverse("campaign-results", args=[report.campaign_id]))
    on_results = page.locator("#result-recommend").inner_text()
    assert f"{zh('answers')}: {everyone}" in on_results  # the results page counts everyone
    screenshot(page, "results-page")
    page.goto(reverse("survey-report-detail", args=[report.pk]))
    shown = page.locator('[data-testid="answered"]').inner_text()
    assert shown.startswith(str(everyone)), shown
    assert str(results.public_answers) in shown
    clipped = page.evaluate(CLIPPED_LABELS)
    assert clipped == [], clipped
    screenshot(page, "report-page")

    page.goto(reverse("survey-report-print", args=[report.pk]))
    assert page.locator('[data-testid="answered"]').inner_text().startswith(str(everyone))
    page.emulate_media(media="print")
    clipped = page.evaluate(CLIPPED_LABELS)
    assert clipped == [], clipped
    pdf = print_pdf(page, f"survey-report-{report.number}")
    pages = pdf_to_png(pdf, resolution=50)
    if pages:
        # Page 1 is used down to its foot: the charts are not pushed whole onto page 2.
        assert _inked_share(Image.open(pages[0])) > 0.85
    assert_clean(watch)


# Every bar label of every chart whose drawn box starts left of its chart, or is cut at the
# chart's edge: what the reader would see clipped.
CLIPPED_LABELS = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const frame = svg.getBoundingClientRect();
    for (const label of svg.querySelectorAll('text.bar-label')) {
      const box = label.getBoundingClientRect();
      if (box.left < frame.left - 0.5 || box.right > frame.right + 0.5) {
        out.push(label.textContent);
      }
    }
  }
  return out;
}"""


def _inked_share(picture: Any) -> float:
    """How far down the page the last printed line is, as a share of the page's height."""
    grey = picture.convert("L")
    width, height = grey.size
    pixels = grey.load()
    for y in range(height - 1, -1, -1):
        if any(pixels[x, y] < 200 for x in range(0, width, 2)):
            return (y + 1) / height
    return 0.0


def test_an_ended_campaign_is_called_ended_on_its_page_and_in_the_list(
    page: Any, demo_org: dict[str, Any], screenshot: Shot, watch: PageWatch
) -> None:
    from qloop.surveys import actions
    from qloop.surveys.models import Campaign

    questionnaire = actions.create_from_template("csat", actor=demo_org["sales"])
    now = timezone.now()
    ended = actions.create_campaign(
        questionnaire,
        title="2025 年度顾客满意度调查",
        opens_at=now - dt.timedelta(days=60),
        actor=demo_org["sales"],
    )
    Campaign.objects.filter(pk=ended.pk).update(closes_at=now - dt.timedelta(days=30))
    log_in(page, "sales")

    page.goto(reverse("survey-home"))
    row = page.locator("tr", has=page.get_by_role("link", name="2025 年度顾客满意度调查"))
    in_list = row.locator(".campaign-status").inner_text()
    page.goto(reverse("campaign-detail", args=[ended.pk]))
    on_page = page.locator("h1 .campaign-status").inner_text()
    assert in_list == on_page == zh_ctx("survey campaign", "closed")
    screenshot(page, "ended-campaign")
    assert_clean(watch)


def zh_ctx(context: str, message: str) -> str:
    from django.utils.translation import pgettext

    with translation.override(settings.LANGUAGE_CODE):
        return pgettext(context, message)
