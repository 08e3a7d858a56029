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
    page.goto(reverse("case-list"))
    with page.expect_navigation():
        page.locator("#export-csv").click()  # a POST from the register's button
    assert "/exports/jobs/" in page.url
    page.locator("#export-download").wait_for(timeout=15_000)
    screenshot(page, "export-ready")
    with page.expect_download() as info:
        page.locator("#export-download").click()
    content = Path(info.value.path()).read_bytes().decode("utf-8-sig")
    assert content.splitlines()[0].startswith("编号")
    assert len(content.splitlines()) >= 13


def test_the_export_button_exports_the_filters_just_chosen_on_the_register(
    demo_org: dict[str, Any],
    page: Any,
    watch: PageWatch,
    settings: Any,
    screenshot: Callable[[Any, str], Path],
) -> None:
    """X4 "with the current filters": a search typed in the register (the table redrawn by
    htmx, the address unchanged for the form) and then Export to CSV gives the found case only."""
    settings.QLOOP_EXPORT_INLINE_ROWS = 0
    call_command("demo", cases=12, stdout=io.StringIO())
    watch.attach(page)
    log_in(page, "cs")
    page.goto(reverse("case-list"))
    number = page.locator("#case-table tbody tr td a").first.inner_text().strip()
    page.locator("#id_q").fill(number)
    page.wait_for_function(
        "n => document.querySelector('#export-form').action.includes(n)", arg=number
    )
    assert page.locator("#case-table tbody tr").count() == 1
    with page.expect_navigation():
        page.locator("#export-csv").click()
    page.locator("#export-download").wait_for(timeout=15_000)
    screenshot(page, "export-filtered-ready")
    with page.expect_download() as info:
        page.locator("#export-download").click()
    lines = Path(info.value.path()).read_bytes().decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith(number)
    assert not watch.errors, watch.errors


def test_the_analysis_page_draws_its_charts_and_the_history_import_reports_rows(
    demo_org: dict[str, Any],
    page: Any,
    watch: PageWatch,
    screenshot: Callable[[Any, str], Path],
    tmp_path: Path,
) -> None:
    from openpyxl import Workbook

    call_command("demo", cases=40, stdout=io.StringIO())
    watch.attach(page)
    log_in(page, "gm")
    page.set_viewport_size({"width": 1400, "height": 1800})
    page.goto(reverse("analysis") + "?by=model")
    for chart in ("#chart-time", "#chart-pareto"):
        page.locator(f"{chart} svg").first.wait_for(timeout=10_000)
    assert page.locator("#pareto tbody tr").count() >= 1
    screenshot(page, "analysis")
    page.context.clear_cookies()

    log_in(page, "cs_head")
    page.goto(reverse("history-import"))
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["number", "kind", "received"])
    ws.append(["QC-2019-000001", "rumour", "yesterday"])
    path = tmp_path / "history.xlsx"
    wb.save(path)
    page.set_input_files("#id_file", str(path))
    with page.expect_navigation():
        page.locator("#history-form button").click()
    assert page.locator("#history-report tbody tr").count() == 1
    screenshot(page, "history-import-report")
    # The refused workbook is answered 422 on purpose; anything else failing is a fault.
    failed = [f for f in watch.failed if not f.startswith("422 ")]
    errors = [e for e in watch.errors if "status of 422" not in e]
    assert not errors and not failed, errors + failed


def test_the_corrective_steps_chart_names_every_step_in_english(
    demo_org: dict[str, Any],
    page: Any,
    watch: PageWatch,
    screenshot: Callable[[Any, str], Path],
) -> None:
    """The management board in the longest language: each bar keeps its step's name (ECharts
    used to drop every other label when they would touch)."""
    from django.utils import translation

    from qloop.org.models import User
    from qloop.process.definitions import state_label

    call_command("demo", cases=40, stdout=io.StringIO())
    User.objects.filter(username="gm").update(language="en")
    watch.attach(page)
    log_in(page, "gm")
    page.set_viewport_size({"width": 1024, "height": 1200})
    page.goto(reverse("dashboard"))
    chart = page.locator("#card-corrective .ql-chart svg").first
    chart.wait_for(timeout=10_000)
    drawn = chart.evaluate("s => [...s.querySelectorAll('text')].map(t => t.textContent).join(' ')")
    for step in ("corrective_action", "implementing", "standardising", "ready_to_close"):
        with translation.override("en"):
            name = str(state_label("complaint", step))
        # A wrapped label is split over lines: the name is drawn, whatever the breaks.
        assert "".join(name.split()) in "".join(drawn.split()), (name, drawn)
    screenshot(page, "dashboard-management-en")
    assert not watch.errors and not watch.failed, watch.errors + watch.failed
