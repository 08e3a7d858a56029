"""A signed-off period summary (X5) in a real browser: Chromium prints it to an A4 PDF and a
PNG in test-output/reports/ for a person to look at; the three columns, the signature and the
sending are on the sheet, nothing loads from the internet and the strict CSP is not broken."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from qloop.cases.actions import register_case
from qloop.cases.models import Case, Category
from qloop.reports import period_summaries as ps
from tests.browser.conftest import PageWatch, log_in
from tests.browser.test_csp import LISTEN, visit
from tests.conftest import PASSWORD, registration
from tests.reports.test_browser_report import REPORTS, _print

pytestmark = pytest.mark.browser


def test_a_signed_off_summary_prints_on_a4(
    page: Any, demo_org: dict[str, Any], watch: PageWatch
) -> None:
    first = timezone.localdate().replace(day=1)
    last_month = (first - dt.timedelta(days=1)).replace(day=1)
    for code, day in (("1A", 2), ("1A", 5), ("2A", 9)):
        case = register_case(registration(), actor=demo_org["cs"])
        Case.objects.filter(pk=case.pk).update(
            category=Category.objects.get(code=code),
            received_at=timezone.make_aware(
                dt.datetime.combine(last_month + dt.timedelta(days=day), dt.time(10))
            ),
        )
    summary = ps.produce("general_manager", "month", last_month)
    ps.sign_off(
        summary, actor=demo_org["gm"], signature={"password": PASSWORD, "meaning": "approved"}
    )
    ps.record_sending(summary, actor=demo_org["gm"], sent_to="总经理办公会", channel="meeting")
    page.add_init_script(LISTEN)
    log_in(page, "gm")

    # The archive, the summary and its print keep to the strict Content-Security-Policy.
    broken: list[str] = []
    for name in ("period-summary", "period-summary-print"):
        broken += visit(page, reverse(name, args=[summary.pk]))
    broken += visit(page, reverse("period-summary-list"))
    assert not broken, broken
    page.goto(reverse("period-summary", args=[summary.pk]))
    REPORTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(REPORTS / "period-summary-page.png"), full_page=True)
    page.goto(reverse("period-summary-print", args=[summary.pk]))

    sheet = page.locator(".sheet").inner_text()
    for expected in (
        "苏州启环机电有限公司",
        "质量信息期间汇总",
        "去年同期",
        "制造质量",
        "总经理办公会",
    ):
        assert expected in sheet, f"{expected!r} is not on the summary"
    assert demo_org["gm"].printed_name in sheet
    pdf = _print(page, f"period-summary-{summary.recipients}-{summary.start:%Y-%m}")
    assert pdf.startswith(b"%PDF")
    assert not [u for u in watch.requests if not u.startswith(page.url.split("/reports")[0])]
    assert not watch.failed and not watch.errors, (watch.requests, watch.errors)
