"""The case page, the register and My work as a new user met them (issue 12 points 1, 5, 6, 8, 9
and 14), in headless Chromium; screenshots under test-output/screenshots/.

1. A breach the sweep recorded is red and "overdue" everywhere (case page, register, My work,
   the overdue filter, the Excel column), even when the sweep ran ahead of this server's clock.
5. The timeline says whether the general manager approved or refused, and the refusal is
   signed as a refusal.
6. A progress note of the corrective action shows once on the timeline.
8. While Quality investigates, the case page names Quality as the responsible department.
9. 购买渠道's choices are translated; the language menu names each language in its own name.
14. The task form's department has no default.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tests.browser.conftest import PageWatch, log_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

Shot = Callable[[Any, str], Path]


def zh(message: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


def in_language(lang: str, message: str) -> str:
    with translation.override(lang):
        return gettext(message)


def switch_to(page: Any, username: str) -> None:
    page.context.clear_cookies()
    log_in(page, username)
    # The first page is the person's board or My work (issue 13); these tests start on My work.
    if not page.url.endswith(reverse("my-work")):
        page.goto(reverse("my-work"))


def timeline_entries(page: Any) -> list[str]:
    return [li.inner_text() for li in page.locator("#timeline > li").all()]


def red(page: Any, locator: Any) -> bool:
    """The text is drawn in a red (as the page's CSS colours a breach)."""
    rgb = locator.evaluate("e => getComputedStyle(e).color")
    r, g, b = (int(v) for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])
    return r > 150 and g < 80 and b < 80


def test_a_recorded_breach_is_red_and_overdue_on_every_screen(
    page: Any, screenshot: Shot, make_case: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    """X3: the sweep recorded the breach as of a later time (``sweep --now``); the pages,
    read now, follow the record, not a second reading of the wall clock."""
    import datetime as dt

    import openpyxl

    from qloop.process import clocks
    from qloop.process.engine import take_transition

    late = make_case(symptom="叶轮磨损，流量下降三成。")
    take_transition(late, "assign", {"handler": "cs"}, actor=users["cs_head"])
    due = late.clocks.get(name="customer_answer").due_at
    assert clocks.sweep(due + dt.timedelta(minutes=5)).breached == 1
    waiting = make_case(symptom="电机过热，外壳烫手。")  # registered after: running

    switch_to(page, "cs")
    page.goto(reverse("case-detail", args=[late.number]))
    card = page.locator("#deadlines .deadline").first
    assert card.get_attribute("data-state") == "late"
    assert card.inner_text().startswith("⚠") and red(page, card)
    assert "剩余" not in page.locator("#deadlines").inner_text()
    assert zh("deadline breached") in page.locator("#timeline").inner_text()
    screenshot(page, "case-page")

    for url in (reverse("my-work"), reverse("case-list"), reverse("case-list") + "?overdue=1"):
        page.goto(url)
        row = page.locator("#case-table tr", has=page.get_by_role("link", name=late.number))
        shown = row.locator(".deadline")
        assert shown.get_attribute("data-state") == "late", url
        assert red(page, shown), url
        screenshot(page, url.strip("/").replace("/", "-").replace("?", "-") or "home")
    overdue_rows = page.locator("#case-table tbody tr")
    assert overdue_rows.count() == 1  # the other case's clock runs: not overdue

    export = page.request.get(reverse("case-export"))
    sheet = openpyxl.load_workbook(io.BytesIO(export.body())).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    overdue = {row[0]: row[header.index(zh("Overdue"))] for row in rows}
    assert overdue == {late.number: zh("Yes"), waiting.number: None}
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)


def _investigating(make_case: Any, users: dict[str, Any]) -> Any:
    from qloop.process.engine import take_transition

    case = make_case()
    case = take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    return take_transition(
        case, "forward_to_quality", {"analysis": "请品质部调查。"}, actor=users["cs"]
    )


def test_the_timeline_says_approved_or_refused_with_the_signature_s_meaning(
    page: Any, screenshot: Shot, make_case: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    """R1.6: the general manager refuses an on-site investigation from My work; the timeline
    says refused, signed as a refusal; another one approved says approved."""
    from qloop.process.engine import decide_approval, take_transition
    from qloop.process.models import Approval
    from qloop.process.signatures import Meaning

    refused = take_transition(
        _investigating(make_case, users),
        "request_onsite",
        {"reason": "需到现场确认。"},
        actor=users["qe"],
    )
    approved = take_transition(
        _investigating(make_case, users),
        "request_onsite",
        {"reason": "批量漏水，需到现场。"},
        actor=users["qe"],
    )
    decide_approval(
        Approval.objects.get(case=approved),
        "approve",
        actor=users["gm"],
        signature={"password": PASSWORD, "meaning": "approved"},
    )

    switch_to(page, "gm")
    box = page.locator("#my-approvals .border-bottom", has_text=refused.number)
    box.locator("input[name=comment]").fill("电话沟通即可，不必到现场。")
    box.locator("input[name=signature_password]").fill(PASSWORD)
    with page.expect_navigation():
        box.locator("button[value=refuse]").click()
    assert Approval.objects.get(case=refused).signature["meaning"] == "refused"

    page.goto(reverse("case-detail", args=[refused.number]))
    newest = timeline_entries(page)[0]
    with translation.override(settings.LANGUAGE_CODE):
        refusal, approval = str(Meaning.REFUSED.label), str(Meaning.APPROVED.label)
        onsite = gettext("On-site investigation")
    assert zh("Refused: %(what)s") % {"what": onsite} in newest
    assert refusal in newest and users["gm"].printed_name in newest
    assert "电话沟通即可" in newest
    assert refusal in page.locator("#approvals .approval-signature").inner_text()
    screenshot(page, "refused")

    page.goto(reverse("case-detail", args=[approved.number]))
    decided = next(e for e in timeline_entries(page) if onsite in e)
    assert zh("Approved: %(what)s") % {"what": onsite} in decided and approval in decided
    screenshot(page, "approved")
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)


def test_a_progress_note_shows_once_and_quality_is_responsible_while_investigating(
    page: Any, screenshot: Shot, make_case: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    """R1.5 B: the owner's progress note, once; R1.4: while Quality investigates, the case page
    names Quality as responsible (CS still owns the case, R1.1)."""
    import datetime as dt

    from django.utils import timezone

    from qloop.org.models import Department
    from qloop.process.engine import take_transition

    note = "新供应商样件已到货，完成首件检验。"
    case = _investigating(make_case, users)
    switch_to(page, "qe")
    page.goto(reverse("case-detail", args=[case.number]))
    quality = Department.objects.get(code="QA").display_name
    cs = Department.objects.get(code="CS").display_name
    assert page.locator("#responsible-department").inner_text() == quality
    assert page.locator("#owning-department").inner_text() == cs
    screenshot(page, "investigating")

    case = take_transition(
        case,
        "dispose_ours",
        {"findings": "同批次缺陷。", "root_cause": "密封件材质不符。"},
        actor=users["qe"],
    )
    due = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    take_transition(
        case,
        "submit_plan",
        {"plan": "更换供应商。", "owner": "prod", "due": due},
        actor=users["qe"],
    )
    switch_to(page, "prod")
    page.goto(reverse("case-detail", args=[case.number]))
    page.locator("#btn-step-record_progress").click()
    page.wait_for_selector("#step-record_progress.collapse.show", state="visible")
    page.fill("#record_progress-note", note)
    with page.expect_navigation():
        page.locator("#step-record_progress form > button").click()
    assert page.locator("#timeline").inner_text().count(note) == 1
    screenshot(page, "progress-note")
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)


@pytest.mark.parametrize("lang", ["zh-hant", "en"])
def test_purchase_channels_are_translated_and_languages_named_in_their_own_words(
    page: Any, screenshot: Shot, make_case: Any, users: dict[str, Any], watch: PageWatch, lang: str
) -> None:
    from qloop.cases.models import ExtraField

    field = ExtraField.objects.get(code="purchase_channel")
    translated = dict(
        zip(field.choices, field.choices_en if lang == "en" else field.choices_zh_hant, strict=True)
    )
    case = make_case(extra={"purchase_channel": "经销商"})
    switch_to(page, "cs")
    with page.expect_navigation():
        page.select_option("select[name=language]", lang)
    assert [o.inner_text() for o in page.locator("select[name=language] option").all()] == [
        "简体中文",
        "繁體中文",
        "English",
    ]
    page.goto(reverse("case-create"))
    options = [o.inner_text() for o in page.locator("#id_extra__purchase_channel option").all()]
    assert options[1:] == list(translated.values())
    assert not set(options) & {"直销", "经销商", "电商平台", "工程项目"} - set(translated.values())
    page.goto(reverse("case-detail", args=[case.number]))
    assert translated["经销商"] in page.locator("body").inner_text()
    page.goto(reverse("case-list"))
    filters = [o.inner_text() for o in page.locator("#id_extra_purchase_channel option").all()]
    assert filters[1:] == list(translated.values())
    screenshot(page, f"register-{lang}")
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)


def test_the_task_form_has_no_default_department(
    page: Any, screenshot: Shot, make_case: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    case = _investigating(make_case, users)
    switch_to(page, "qe")
    page.goto(reverse("case-detail", args=[case.number]))
    select = page.locator("#task-department")
    assert select.input_value() == ""
    assert select.evaluate("e => e.options[e.selectedIndex].text") == zh("Choose a department")
    page.fill("#tasks input[name=title]", "排查库存同批次产品")
    page.get_by_role("button", name=zh("Give task")).click()
    assert select.evaluate("e => e.validity.valueMissing")  # the browser asks for it
    assert not case.tasks.exists()
    screenshot(page, "task-form")
    select.select_option("PROD")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Give task")).click()
    assert case.tasks.get().department.code == "PROD"
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)


def test_a_task_for_an_unknown_person_is_refused_on_the_form(
    page: Any, screenshot: Shot, make_case: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    """Issue 9.4: the page refuses what the API refuses, on the form, keeping what was typed."""
    case = _investigating(make_case, users)
    switch_to(page, "qe")
    page.goto(reverse("case-detail", args=[case.number]))
    page.locator("#task-department").select_option("PROD")
    page.fill("#tasks input[name=title]", "排查库存同批次产品")
    page.fill("#task-assignee", "nobody")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Give task")).click()
    form = page.locator("#task-form")
    assert zh("There is no active person with this user name.") in form.inner_text()
    assert page.locator("#task-assignee").input_value() == "nobody"
    assert page.locator("#task-department").input_value() == "PROD"
    assert not case.tasks.exists()
    screenshot(page, "task-refused")
    # The refusal itself is the one 422 (Chromium logs it on the console too).
    assert [f for f in watch.failed if not f.startswith("422 ")] == []
    assert [e for e in watch.errors if "422" not in e] == []
