"""A customer answers the survey on a phone, through the QR code's link (R2.6).

Drives Debian's Chromium through Playwright (see tests/browser/conftest.py); skips when it
is missing. Screenshots go to test-output/screenshots/.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.urls import reverse

from qloop.surveys import actions
from qloop.surveys.models import Response
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_a_customer_scans_the_qr_code_and_answers_on_a_phone(
    page: Any,
    phone_page: Any,
    demo_org: dict[str, Any],
    live_server: Any,
    screenshot: Any,
    settings: Any,
) -> None:
    # Links are the site's address (SITE_URL, issue 12.16), here the test server's.
    settings.SITE_URL = live_server.url
    zxingcpp = pytest.importorskip("zxingcpp")
    settings.SITE_URL = live_server.url  # links and QR codes are built on SITE_URL
    from PIL import Image

    questionnaire = actions.create_from_template("csat", actor=demo_org["sales"])
    campaign = actions.create_campaign(
        questionnaire, title="2026 年度顾客满意度调查", actor=demo_org["sales"]
    )

    # Supply and Sales opens the campaign and takes the QR code for the printed card.
    log_in(page, "sales")
    page.goto(reverse("campaign-detail", args=[campaign.pk]))
    screenshot(page, "campaign")
    png = page.request.get(reverse("campaign-qr", args=[campaign.pk, "png"]))
    assert png.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.body())))
    link = decoded[0].text
    assert link == f"{live_server.url}/survey/p/{campaign.public_token}/"
    page.goto(reverse("campaign-card", args=[campaign.pk]))
    assert page.locator(".qr-card svg").is_visible()
    assert "2026 年度顾客满意度调查" in page.content()
    screenshot(page, "printable-card")

    # The customer, not logged in, opens the link on a phone.
    phone = phone_page
    phone.goto(link)
    assert phone.locator("h1").inner_text() == "顾客满意度调查表"
    scale_button = phone.locator("label[for='q_recommend-10']")
    box = scale_button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44  # a thumb's size
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    screenshot(phone, "answer-page")

    # Forgetting the recommendation: told which question, the ratings stay as tapped.
    ratings = [q.code for q in questionnaire.questions.filter(type="rating")]
    for code in ratings:
        phone.locator(f"label[for='q_{code}-5']").tap()
    phone.locator("label[for='q_quality_parts-2']").tap()
    phone.fill("textarea[name=q_comments]", "外购电机噪音偏大")
    phone.locator("button[type=submit]").tap()
    phone.wait_for_selector("#form-errors")
    assert phone.locator("#question-recommend .invalid-feedback").is_visible()
    assert phone.locator("#q_quality_parts-2").is_checked()
    assert phone.input_value("textarea[name=q_comments]") == "外购电机噪音偏大"
    screenshot(phone, "missing-answer")

    phone.locator("label[for='q_recommend-8']").tap()
    phone.locator("button[type=submit]").tap()
    phone.wait_for_selector("#thanks")
    screenshot(phone, "thanks")

    response = Response.objects.get()
    assert response.source == "public" and response.low_score  # the 2 on purchased parts
    assert response.answers.get(question__code="recommend").value == 8

    # The same phone in English.
    phone.goto(link + "?lang=en")
    assert phone.locator("h1").inner_text() == "Customer Satisfaction Survey"
    screenshot(phone, "english")

    # Results: the answer is counted.
    page.goto(reverse("campaign-results", args=[campaign.pk]))
    assert page.locator("#public-answers").inner_text() == "1"
    screenshot(page, "results")
