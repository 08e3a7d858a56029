"""Quality's page of recurring problems in Chromium (issue 13, R1.5): the raised group with its
cases, dismissed with a reason through the form, and the card on the Quality dashboard.
Screenshots under test-output/screenshots/ for a person to look at."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import PageWatch, log_in
from tests.conftest import registration

pytestmark = pytest.mark.browser

LEAKS = [
    "机械密封处漏水，每分钟滴水二十滴。",
    "泵的机械密封漏水严重，地面有积水。",
    "机械密封漏水，停机后仍然滴水。",
]


def test_quality_sees_and_dismisses_a_recurring_problem(
    page: Any,
    demo_org: dict[str, Any],
    watch: PageWatch,
    screenshot: Callable[[Any, str], Any],
) -> None:
    from qloop.cases.actions import register_case
    from qloop.cases.models import RecurringGroup, RecurringState
    from qloop.cases.recurring import find_groups

    cases = [
        register_case(registration(symptom=text), actor=demo_org["cs"], photos=[]) for text in LEAKS
    ]
    # Raised by the worker once the third case was stored; the daily job finds nothing new.
    group = RecurringGroup.objects.get()
    assert find_groups() == {}

    log_in(page, "qe")
    page.goto(reverse("dashboard-board", args=["quality"]))
    card = page.locator("#card-recurring")
    assert card.locator(".dash-value").first.inner_text() == "1"
    screenshot(page, "quality-dashboard")

    card.locator("a").first.click()
    page.wait_for_url("**/quality/recurring/?show=open")
    section = page.locator(f"#group-{group.pk}")
    for case in cases:
        assert case.number in section.inner_text()
    screenshot(page, "raised")

    section.locator("input[name=reason]").fill("安装不当，非产品问题")
    with page.expect_response(lambda r: r.request.method == "POST"):
        section.get_by_role("button", name="驳回").click()
    page.wait_for_load_state()
    assert page.locator("#no-groups").is_visible()
    page.goto(reverse("recurring-list") + "?show=dismissed")
    assert "安装不当，非产品问题" in page.locator(f"#group-{group.pk}").inner_text()
    screenshot(page, "dismissed")

    group.refresh_from_db()
    assert group.state == RecurringState.DISMISSED
    assert not watch.failed and not watch.errors
