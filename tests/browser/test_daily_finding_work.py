"""Finding one's own work (issue 12 points 11–13), in headless Chromium, on a desktop and on a
390 × 844 phone; screenshots under test-output/screenshots/.

11. Someone outside Customer Service who registered complaints finds them under "我登记的",
    with the tasks he completed.
12. Everything waiting for a person is on My work: the survey report waiting for the general
    manager's decision, the draft waiting for Supply and Sales, an improvement action waiting
    for its owner (who marks it done there), approvals and tasks; the badge counts them.
13. On a phone the deadline card comes right under the case's title, and My work and the
    register become cards with number, deadline, title and state, nothing off screen.
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

from tests.browser.conftest import PHONE, PageWatch, log_in

pytestmark = pytest.mark.browser

Shot = Callable[[Any, str], Path]


def zh(message: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


def switch_to(page: Any, username: str) -> None:
    page.context.clear_cookies()
    log_in(page, username)
    # The first page is the person's board or My work (issue 13); these tests start on My work.
    if not page.url.endswith(reverse("my-work")):
        page.goto(reverse("my-work"))


def badge(page: Any) -> int:
    return int(
        page.locator(".navbar .nav-link", has_text=zh("My work")).locator(".badge").inner_text()
    )


def test_registered_by_me_lists_the_cases_i_registered_and_the_tasks_i_did(
    page: Any, screenshot: Shot, make_case: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    """R1.1, R1.8: Production passed two complaints on to CS and did a task in one."""
    from qloop.process import tasks
    from qloop.process.engine import take_transition

    mine = [make_case(actor="prod", symptom=s) for s in ("泵体裂纹。", "电机异响。")]
    someone_elses = make_case(actor="cs", symptom="叶轮磨损。")
    case = take_transition(mine[0], "assign", {"handler": "cs"}, actor=users["cs_head"])
    case = take_transition(
        case, "forward_to_quality", {"analysis": "请品质部调查。"}, actor=users["cs"]
    )
    task = tasks.create_task(case, department="PROD", title="排查同批次泵体", actor=users["qe"])
    tasks.complete_task(task, "库存同批次12台已复检，无裂纹。", actor=users["prod"])

    switch_to(page, "prod")
    with page.expect_navigation():
        page.locator("#nav-registered-by-me").click()
    assert page.url.endswith(reverse("registered-by-me"))
    assert page.locator("h1").inner_text() == zh("Registered by me")
    table = page.locator("#case-table")
    for c in mine:
        assert table.get_by_role("link", name=c.number, exact=True).is_visible()
    assert table.get_by_role("link", name=someone_elses.number, exact=True).count() == 0
    row = table.locator("tr", has=page.get_by_role("link", name=mine[0].number, exact=True))
    assert case.state_label in row.inner_text()
    done = page.locator("#tasks-done").inner_text()
    assert "排查同批次泵体" in done and "库存同批次12台已复检" in done
    screenshot(page, "registered-by-me")
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)


@pytest.fixture
def report_with_decision(users: dict[str, Any]) -> Any:
    """A summary report submitted to the general manager (R2.7)."""
    from qloop.reports import actions
    from tests.reports.surveydata import make_campaigns

    campaigns = make_campaigns(users)
    report = actions.draft_report(campaigns.current.pk, actor=users["sales"])
    actions.update_report(
        report,
        {"analysis": "售后服务满意度高于产品质量。", "improvements": "机械密封出厂全检。"},
        actor=users["sales"],
    )
    return actions.submit_report(report, actor=users["sales"])


def test_my_work_shows_the_report_to_decide_and_the_improvement_action_to_do(
    page: Any, screenshot: Shot, report_with_decision: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    from qloop.reports import actions
    from qloop.reports.models import ImprovementAction

    report = report_with_decision
    switch_to(page, "gm")
    waiting = page.locator("#my-reports")
    assert report.number in waiting.inner_text()
    assert badge(page) == 1
    screenshot(page, "gm-my-work")
    with page.expect_navigation():
        waiting.get_by_role("link", name=zh("Decide")).click()
    assert page.url.endswith(reverse("survey-report-detail", args=[report.pk]))

    actions.add_decision(
        report,
        measure="机械密封出厂前100%气密性测试",
        owner=users["prod"],
        department=users["prod"].departments.get(),
        due=timezone.localdate() + dt.timedelta(days=30),
        actor=users["gm"],
    )
    actions.decide_report(report, comment="同意。", actor=users["gm"])
    page.goto(reverse("my-work"))
    assert page.locator("#my-reports").count() == 0

    # The owner finds the action on My work, not only in the bell, and marks it done there.
    switch_to(page, "prod")
    mine = page.locator("#my-improvement-actions")
    assert (
        "机械密封出厂前100%气密性测试" in mine.inner_text() and report.number in mine.inner_text()
    )
    assert badge(page) == 1
    screenshot(page, "owner-my-work")
    mine.locator("input[name=result]").fill("已购置气密性测试台，全部出厂泵已测试。")
    with page.expect_navigation():
        mine.get_by_role("button", name=zh("Mark done")).click()
    assert page.url.endswith(reverse("my-work"))
    assert page.locator("#my-improvement-actions").count() == 0
    assert ImprovementAction.objects.get().done_by == users["prod"]
    screenshot(page, "owner-done")
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)


def test_a_returned_report_waits_for_supply_and_sales_on_my_work(
    page: Any, report_with_decision: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    from qloop.reports import actions

    actions.return_report(report_with_decision, "请补充产品质量的原因分析。", actor=users["gm"])
    switch_to(page, "sales")
    waiting = page.locator("#my-reports")
    assert report_with_decision.number in waiting.inner_text()
    assert waiting.get_by_role("link", name=zh("Finish and submit")).is_visible()
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)


def test_on_a_phone_the_deadline_comes_first_and_the_lists_are_cards(
    phone_page: Any, screenshot: Shot, make_case: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    from qloop.process.engine import take_transition

    cases = [
        take_transition(make_case(symptom=s), "assign", {"handler": "cs"}, actor=users["cs_head"])
        for s in ("机械密封处漏水，每分钟约滴水二十滴，已停机等待检修。", "电机过热。")
    ]
    page = phone_page
    switch_to(page, "cs")

    def fits() -> None:
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"

    for url in (reverse("my-work"), reverse("case-list")):
        page.goto(url)
        fits()
        for case in cases:
            card = page.locator(
                "#case-table tbody tr", has=page.get_by_role("link", name=case.number)
            )
            number = card.locator("td.col-number").bounding_box()
            deadline = card.locator("td.col-deadline .deadline").bounding_box()
            title = card.locator("td.title").bounding_box()
            state = card.locator("td.col-state").bounding_box()
            assert number and deadline and title and state
            # Number and deadline on the first line, the title under them, then the state.
            assert abs(number["y"] - deadline["y"]) < 12
            assert deadline["x"] + deadline["width"] <= PHONE["width"]
            assert number["y"] < title["y"] < state["y"]
            assert card.locator("td.d-mobile-none").first.is_hidden()
        screenshot(page, url.strip("/").replace("/", "-"))

    page.goto(reverse("case-detail", args=[cases[0].number]))
    fits()
    deadlines = page.locator("#deadlines").bounding_box()
    steps = page.locator("#process").bounding_box()
    assert deadlines and steps
    assert deadlines["y"] < steps["y"], "the deadlines should come before the next steps"
    assert deadlines["y"] + deadlines["height"] <= PHONE["height"], "deadlines below the fold"
    full = screenshot(page, "case-page")
    page.screenshot(path=str(full.with_name(f"{full.stem}-first-screen.png")))  # what one sees
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)


def test_the_menu_keeps_every_item_whole_in_english_on_a_desktop(
    page: Any, screenshot: Shot, users: dict[str, Any], watch: PageWatch
) -> None:
    """The menu with its new item: in the longest language, for the person with the most
    items, no word is broken and the language menu shows its names whole."""
    from qloop.org.models import User

    User.objects.filter(username="admin").update(language="en")
    switch_to(page, "admin")
    page.goto(reverse("my-work"))
    for link in page.locator(".navbar-nav .nav-link").all():
        box = link.bounding_box()
        assert box is not None and box["height"] < 45, link.inner_text()  # one line each
    menu = page.locator("select.language-menu")
    assert menu.evaluate("e => e.options[e.selectedIndex].text") == "English"
    assert menu.evaluate(WIDE_ENOUGH), "the language menu cuts its name"
    screenshot(page, "menu-en")
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)


# The select is at least as wide as its longest option's text plus its own padding (where the
# arrow is drawn): no name is cut.
WIDE_ENOUGH = """e => {
  const style = getComputedStyle(e);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const text = Math.max(...[...e.options].map(o => ctx.measureText(o.text).width));
  const pad = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  return e.clientWidth + 1 >= text + pad;
}"""
