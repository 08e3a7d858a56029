"""Issue 12 points 21–23 in headless Chromium, under the strict CSP:

- a customer on a phone looks up his complaint on the public status page (22);
- the public pages' icon is served (21);
- an administrator previews next year's holidays as a calendar and applies them (23).

Screenshots land in test-output/screenshots/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from tests.browser.conftest import PageWatch, log_in

pytestmark = pytest.mark.browser

Shot = Callable[[Any, str], Path]


def test_a_customer_finds_his_complaint_on_his_phone(
    phone_page: Any, demo_org: dict[str, Any], screenshot: Shot, watch: PageWatch
) -> None:
    from qloop.cases.actions import ContactData, ProductData, Registration, register_case
    from qloop.process.engine import take_transition

    case = register_case(
        Registration(
            kind="complaint",
            channel="phone",
            contact=ContactData(name="王芳", phone="138 0013 8000", organisation="恒通水务"),
            product=ProductData(model="QL-CP50", quantity=1),
            symptom="机械密封处漏水。",
        ),
        actor=demo_org["cs"],
    )
    case = take_transition(case, "assign", {"handler": "cs"}, actor=demo_org["cs_head"])
    take_transition(
        case,
        "answer_customer",
        {"answer": "已安排工程师周三上门更换机械密封。", "answer_channel": "phone"},
        actor=demo_org["cs"],
    )
    page = phone_page

    page.goto(reverse("case-status") + f"?number={case.number}")
    assert page.input_value("#id_number") == case.number
    page.fill("#id_phone", "1234")
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector("#status-error")
    assert page.locator("#case-status").count() == 0
    page.fill("#id_phone", "8000")
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector("#case-status")
    assert page.locator("#stage").get_attribute("data-stage") == "answered"
    assert "已安排工程师" in page.locator("#answer").inner_text()
    assert "王芳" not in page.content() and "机械密封处漏水" not in page.content()
    screenshot(page, "status-answered")
    assert page.request.get("/favicon.ico").status == 200
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)


def test_an_administrator_previews_and_applies_next_year_s_holidays(
    page: Any, demo_org: dict[str, Any], screenshot: Shot, watch: PageWatch
) -> None:
    from qloop.org import holidays
    from qloop.org.calendars import default_calendar, forget_calendars
    from qloop.org.models import StatutoryNotice

    year = holidays.package_years()[1] + 1
    log_in(page, "admin")
    page.goto(reverse("statutory-holidays") + f"?year={year}")
    page.fill("#id_source", f"国务院办公厅关于{year}年部分节假日安排的通知（示例）")
    page.fill(
        "#id_holidays",
        f"元旦 {year}-01-01 {year}-01-03\n春节 {year}-02-05 {year}-02-12\n"
        f"国庆节 {year}-10-01 {year}-10-07",
    )
    page.fill("#id_workdays", f"{year}-02-17")  # a Wednesday: refused
    page.get_by_role("button", name="检查并预览").click()
    page.wait_for_selector(".invalid-feedback")
    assert "周六或周日" in page.locator("#notice-form").inner_text()
    assert page.locator("#apply").count() == 0
    page.fill("#id_workdays", f"{year}-02-20\n{year}-10-09")
    page.get_by_role("button", name="检查并预览").click()
    page.wait_for_selector("#preview")
    assert page.locator(f'td.holiday[data-date="{year}-02-08"]').count() == 1
    assert page.locator(f'td.swapped[data-date="{year}-02-20"]').count() == 1
    screenshot(page, "preview")
    assert not StatutoryNotice.objects.exists()

    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator("#apply").click()
    assert StatutoryNotice.objects.filter(year=year).count() == 1
    forget_calendars()
    assert not default_calendar().is_working_day(dt.date(year, 2, 8))
    screenshot(page, "applied")
    # The refused form is answered 422 on purpose (bad input: a clear message, nothing saved).
    failed = [f for f in watch.failed if not f.startswith("422 ")]
    errors = [e for e in watch.errors if "status of 422" not in e]
    assert not errors and not failed, (errors, failed)
