"""Every page keeps to its Content-Security-Policy (issue 9 point 7), in a real browser.

Headless Chromium opens the main pages, as a logged-in administrator (who sees them all) and
as a visitor (login, a public survey), and fails on any violation the browser reports — the
``securitypolicyviolation`` events and the console's "Refused to …" lines — and on anything in
the served HTML that the policy would block if it ran: an inline script, an inline event
handler (``onclick=…``), a ``style`` attribute or block. A few things people do on the pages
(switch the language, choose all contacts, confirm closing a survey, open the API docs) check
that the behaviour moved to static files still works.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests.browser.conftest import PageWatch, log_in

pytestmark = pytest.mark.browser

# Collects what the browser refuses, from before the page's own scripts run.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber} ${e.sample}`);
});
"""
# What the policy (no 'unsafe-inline') would refuse, found in the HTML as served.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|<[^>]*\sstyle\s*=", re.IGNORECASE)


@pytest.fixture
def demo_data(demo_org: dict[str, Any]) -> dict[str, Any]:
    """The demo with cases, customers, surveys, reports and a management review, and a survey
    open now (the demo's are over)."""
    from qloop.surveys.actions import create_campaign
    from qloop.surveys.models import Questionnaire

    call_command("demo", cases=12, stdout=io.StringIO())
    questionnaire = Questionnaire.objects.order_by("id").first()
    assert questionnaire is not None
    open_now = create_campaign(
        questionnaire,
        title="2026 年度顾客满意度调查（补充）",
        opens_at=timezone.now() - dt.timedelta(days=1),
        closes_at=timezone.now() + dt.timedelta(days=30),
        actor=demo_org["sales"],
    )
    return {**demo_org, "open_campaign": open_now}


def main_pages() -> list[str]:
    """The pages a person uses, with real objects in them."""
    from qloop.cases.models import Case, Contact
    from qloop.customers.models import CustomerOrganisation
    from qloop.notify.models import MessageTemplate
    from qloop.org.models import User
    from qloop.reports.models import ManagementReview, SurveyReport
    from qloop.surveys.models import Campaign, Questionnaire

    complaint = Case.objects.filter(kind="complaint").order_by("-id").first()
    feedback = Case.objects.filter(kind="feedback").first()
    campaign = Campaign.objects.order_by("-id").first()  # the one open now
    questionnaire = Questionnaire.objects.first()
    customer = CustomerOrganisation.objects.first()
    report = SurveyReport.objects.first()
    review = ManagementReview.objects.first()
    assert complaint and feedback and campaign and questionnaire and customer
    assert report and review and Contact.objects.exists()
    template = MessageTemplate.objects.create(
        kind="task_assigned",
        language="zh-hans",
        subject="{{ number }}：{{ task }}",
        body="{{ link }}",
    )
    pages = [
        reverse("my-work"),
        reverse("case-list"),
        reverse("case-list") + "?kind=feedback",
        reverse("case-detail", args=[complaint.number]),
        reverse("case-detail", args=[feedback.number]),
        reverse("case-edit", args=[complaint.number]),
        reverse("case-create"),
        reverse("case-create") + "?kind=feedback",
        reverse("case-report", args=[complaint.number]),
        reverse("approvals"),
        reverse("notifications"),
        reverse("process-diagram", args=["complaint"]),
        reverse("feedback-handling-record"),
        reverse("complaint-feedback-record"),
        reverse("customer-list"),
        reverse("customer-detail", args=[customer.pk]),
        reverse("tokens"),
        reverse("message-settings"),
        reverse("survey-home"),
        reverse("questionnaire-builder", args=[questionnaire.pk]),
        reverse("campaign-detail", args=[campaign.pk]),
        reverse("campaign-results", args=[campaign.pk]),
        reverse("campaign-card", args=[campaign.pk]),
        reverse("campaign-paper", args=[campaign.pk]),
        reverse("campaign-invite", args=[campaign.pk]),
        reverse("survey-report-list"),
        reverse("survey-report-detail", args=[report.pk]),
        reverse("survey-report-print", args=[report.pk]),
        reverse("improvement-action-list"),
        reverse("review-list"),
        reverse("review-summary", args=[review.pk]),
        reverse("admin:index"),
        reverse("admin:org_user_changelist"),
        reverse("admin:org_user_change", args=[User.objects.get(username="cs").pk]),
        reverse("admin:cases_extrafield_add"),
        reverse("admin:process_clockdefinition_changelist"),
        reverse("admin:notify_messagetemplate_change", args=[template.pk]),
        reverse("admin:notify_message_changelist"),
        reverse("admin:axes_accessattempt_changelist"),
        reverse("api:openapi-view"),
    ]
    return pages


def visit(page: Any, url: str) -> list[str]:
    """Open a page; what in it breaks the policy."""
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    policy = response.headers.get("content-security-policy", "")
    found = []
    if "script-src 'self'" not in policy or "unsafe" in policy:
        found.append(f"{url}: policy {policy!r}")
    html = response.text()
    for name, pattern in (
        ("inline script", INLINE_SCRIPT),
        ("inline handler", INLINE_HANDLER),
        ("inline style", INLINE_STYLE),
    ):
        found += [f"{url}: {name}: {m.group(0)[:120]}" for m in pattern.finditer(html)]
    # Whatever the page fetches after loading (htmx parts, the API docs' document) is checked
    # too; a machine busy with other tests may take a while to go quiet.
    page.wait_for_load_state("networkidle", timeout=30_000)
    found += [f"{url}: {v}" for v in page.evaluate("window.__csp || []")]
    return found


def test_the_main_pages_keep_to_the_content_security_policy(
    page: Any, browser: Any, live_server: Any, demo_data: dict[str, Any], watch: PageWatch
) -> None:
    # A visitor: the login pages and a public survey, in a browser of their own.
    visitor = browser.new_context(base_url=live_server.url, locale="zh-CN")
    try:
        outside = visitor.new_page()
        outside.add_init_script(LISTEN)
        errors: list[str] = []
        outside.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        broken = visit(outside, reverse("login"))
        broken += visit(outside, reverse("admin:login"))
        public = reverse("survey-public", args=[demo_data["open_campaign"].public_token])
        broken += visit(outside, public)
        broken += errors
    finally:
        visitor.close()

    page.add_init_script(LISTEN)
    log_in(page, "admin")
    for url in main_pages():
        broken += visit(page, url)

    # The API docs draw their operations with Swagger UI's own script.
    page.goto(reverse("api:openapi-view"))
    page.wait_for_selector(".opblock", timeout=20_000)
    broken += [f"docs: {v}" for v in page.evaluate("window.__csp || []")]

    refused = [e for e in watch.errors if "Content Security Policy" in e or "Refused" in e]
    assert not broken + refused, "\n".join(broken + refused)
    what_moved_out_still_works(page, demo_data["open_campaign"])
    assert not watch.errors and not watch.failed, watch.errors + watch.failed


def what_moved_out_still_works(page: Any, campaign: Any) -> None:
    """A few things people do, done by page.js now: they work, and break no rule."""
    from qloop.surveys.models import Campaign

    # Switching the language submits the menu's form.
    page.goto(reverse("case-list"))
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    # "Choose all" ticks every contact that can be invited.
    page.goto(reverse("campaign-invite", args=[campaign.pk]))
    boxes = page.locator("input[name=contacts]:not(:disabled)")
    assert boxes.count() > 1
    page.locator("thead input[type=checkbox]").check()
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    # Closing a survey asks first; "Cancel" leaves it open, "OK" closes it.
    page.goto(reverse("campaign-detail", args=[campaign.pk]))
    close = page.locator("form[data-confirm] button")
    page.once("dialog", lambda dialog: dialog.dismiss())
    close.click()
    page.wait_for_timeout(300)
    campaign.refresh_from_db()
    assert campaign.is_open()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        close.click()
    campaign.refresh_from_db()
    assert not campaign.is_open()
    # The survey results draw their bars at the right width (a demo survey, with answers).
    answered = Campaign.objects.exclude(pk=campaign.pk).order_by("-id").first()
    assert answered is not None
    page.goto(reverse("campaign-results", args=[answered.pk]))
    widths = page.locator("[data-percent]").evaluate_all(
        "bars => bars.map(b => [b.dataset.percent, b.style.width])"
    )
    assert widths and all(style == f"{percent}%" for percent, style in widths)
    violations = page.evaluate("window.__csp || []")
    assert not violations, violations
