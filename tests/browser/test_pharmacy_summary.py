"""The pharmacy's periodic summary (R3.2, X5) in a real browser: the head of pharmacy signs it
off on its page, the worker keeps it as PDF and .xlsx, and the page and the archive offer the
kept files. The archive, the page and the kept PDF's pages land in test-output/ for a person to
look at; the strict CSP holds."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.browser.conftest import REPO_ROOT, PageWatch, log_in, pdf_to_png
from tests.browser.test_csp import LISTEN, visit
from tests.browser.test_pharmacy import pharmacy  # noqa: F401  (the fixture)
from tests.conftest import PASSWORD
from tests.pharmacy.conftest import adr_detail

pytestmark = pytest.mark.browser

REPORTS = REPO_ROOT / "test-output" / "reports"


def _last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _cases(people: dict[str, Any]) -> None:
    """Drug quality feedback and ADR reports, moved into last month."""
    from qloop.cases.actions import ContactData, Registration, register_case
    from qloop.cases.models import Case
    from qloop.pharmacy.models import AdrReport

    moment = timezone.make_aware(dt.datetime.combine(_last_month(), dt.time(10)))
    made = []
    for problem in ("mould", "mould", "caking", "colour"):
        made.append(
            register_case(
                Registration(
                    kind="drug_feedback",
                    channel="visit",
                    contact=ContactData(name=""),
                    symptom="",
                    detail={
                        "drug_id": people["drug"].pk,
                        "batch_number": people["batch"].batch_number,
                        "problem": problem,
                        "description": "颗粒结块",
                    },
                ),
                actor=people["pharm"],
            )
        )
    for seriousness in ("serious", "general", "general"):
        made.append(
            register_case(
                Registration(
                    kind="adr",
                    channel="visit",
                    contact=ContactData(name=""),
                    symptom="",
                    detail=adr_detail(people, seriousness=seriousness),
                ),
                actor=people["doctor"],
            )
        )
    Case.objects.filter(pk__in=[c.pk for c in made]).update(received_at=moment)
    AdrReport.objects.filter(case__in=made).update(aware_at=moment)


def test_the_head_of_pharmacy_signs_off_and_the_kept_pdf_is_offered(
    page: Any,
    pharmacy: dict[str, Any],  # noqa: F811
    watch: PageWatch,
    screenshot: Any,
) -> None:
    from qloop.reports import period_summaries as ps
    from qloop.reports.models import PeriodSummary

    _cases(pharmacy)
    summary = ps.produce("pharmacy_committee", "month", _last_month())
    page.add_init_script(LISTEN)
    log_in(page, "pharm_head")
    page.goto(reverse("period-summary", args=[summary.pk]))
    assert "院药事委员会" in page.locator("h1").inner_text()
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator("form[action$='/sign/'] button").click()
    summary.refresh_from_db()
    assert summary.is_signed and summary.files_kept
    page.goto(reverse("period-summary", args=[summary.pk]))
    assert page.locator("[data-testid=kept-pdf]").is_visible()
    screenshot(page, "pharmacy-summary-page")
    page.goto(reverse("period-summary-print", args=[summary.pk]))
    assert page.locator("[data-testid=summary-charts] svg").count() >= 5
    screenshot(page, "pharmacy-summary-print")
    page.goto(reverse("period-summary-list"))
    assert page.locator("[data-testid=summary-files] a", has_text="PDF").count() == 1
    screenshot(page, "period-summary-archive")

    with page.expect_download() as info:
        page.locator("[data-testid=summary-files] a", has_text="PDF").click()
    REPORTS.mkdir(parents=True, exist_ok=True)
    target = REPORTS / "pharmacy-period-summary-kept.pdf"
    info.value.save_as(str(target))
    data = target.read_bytes()
    assert hashlib.sha256(data).hexdigest() == PeriodSummary.objects.get(pk=summary.pk).pdf_sha256
    pdf_to_png(target, resolution=80)

    broken: list[str] = []
    for name in ("period-summary", "period-summary-print"):
        broken += visit(page, reverse(name, args=[summary.pk]))
    broken += visit(page, reverse("period-summary-list"))
    assert not broken, broken
    assert not watch.failed and not watch.errors, (watch.requests, watch.errors)
