"""The first page per role in Chromium (issue 13, R3.2): after logging in the general manager,
Quality and CS see their own board, which says how much waits in My work and opens it; a
member of a department without a board lands on My work. Screenshots in
test-output/screenshots/."""

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


def test_each_role_lands_on_its_board_and_reaches_my_work_from_it(
    demo_org: dict[str, Any],
    page: Any,
    watch: PageWatch,
    screenshot: Callable[[Any, str], Path],
) -> None:
    call_command("demo", cases=40, stdout=io.StringIO())
    watch.attach(page)
    page.set_viewport_size({"width": 1400, "height": 1200})
    for username, board in (("gm", "management"), ("qa_head", "quality"), ("cs", "cs")):
        log_in(page, username)
        assert page.url.endswith("/"), page.url
        assert page.locator(f"#boards a.active[href$='/{board}/']").count() == 1
        waiting = page.locator("#my-work-waiting")
        assert "我的待办" in waiting.inner_text()  # shown in Chinese, the default language
        badge = page.locator(".navbar .nav-link", has_text="我的待办").locator(".badge")
        assert waiting.locator("#my-work-waiting-count").inner_text() == badge.inner_text()
        charts = page.locator(".ql-chart")
        for i in range(charts.count()):
            charts.nth(i).locator("svg").first.wait_for(timeout=10_000)
        screenshot(page, f"home-{username}")
        with page.expect_navigation():
            waiting.click()
        assert page.url.endswith(reverse("my-work"))
        page.context.clear_cookies()
    log_in(page, "prod")
    assert page.url.endswith(reverse("my-work"))
    screenshot(page, "home-prod")
    assert not watch.errors and not watch.failed, watch.errors + watch.failed
