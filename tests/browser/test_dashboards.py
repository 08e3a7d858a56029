"""The dashboards and a large export in Chromium (issue 13, X4): charts drawn from static files
under the Content-Security-Policy, a figure opens its register, an export's progress page ends
with a download. Screenshots in test-output/screenshots/."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.browser.conftest import PageWatch, log_in

pytestmark = pytest.mark.browser


def test_each_board_draws_its_charts_and_a_figure_opens_its_register(
    demo_org: dict[str, Any],
    page: Any,
    watch: PageWatch,
    screenshot: Callable[[Any, str], Path],
) -> None:
    call_command("demo", cases=40, stdout=io.StringIO())
    watch.attach(page)
    for username, board in (("gm", "management"), ("qa_head", "quality"), ("cs", "cs")):
        log_in(page, username)
        page.goto(reverse("dashboard"))
        assert page.locator(f"#boards a.active[href$='/{board}/']").count() == 1
        charts = page.locator(".ql-chart")
        for i in range(charts.count()):
            charts.nth(i).locator("svg").first.wait_for(timeout=10_000)
        page.set_viewport_size({"width": 1400, "height": 1500})
        screenshot(page, f"dashboard-{board}")
        page.context.clear_cookies()
    log_in(page, "cs")
    page.goto(reverse("dashboard"))
    figure = page.locator("#card-cs-today a.dash-figure").first
    shown = int(figure.get_attribute("data-value") or "0")
    with page.expect_navigation():
        figure.click()
    assert reverse("case-list") in page.url and "state=new" in page.url
    if shown:
        assert page.locator("#case-table tbody tr").count() == min(shown, 25)
    refused = [e for e in watch.errors if "Content Security Policy" in e or "Refused" in e]
    assert not refused, refused
    assert not watch.errors and not watch.failed, watch.errors + watch.failed


def test_a_large_export_shows_its_progress_and_ends_with_a_download(
    demo_org: dict[str, Any],
    page: Any,
    settings: Any,
    screenshot: Callable[[Any, str], Path],
) -> None:
    settings.QLOOP_EXPORT_INLINE_ROWS = 0  # everything goes through the worker
    call_command("demo", cases=12, stdout=io.StringIO())
    log_in(page, "cs")
    page.goto(reverse("export-start", args=["cases"]) + "?format=csv")
    page.locator("#export-download").wait_for(timeout=15_000)
    screenshot(page, "export-ready")
    with page.expect_download() as info:
        page.locator("#export-download").click()
    content = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    assert content.splitlines()[0].startswith("编号")
    assert len(content.splitlines()) >= 13
