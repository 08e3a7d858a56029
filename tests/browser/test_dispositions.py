"""Both dispositions of a complaint, from registration to closing, in a real browser
(R1.3–R1.8): each person logs in, finds the case or the task on "My work", and takes the
step from the "Next steps" card, e-signatures included. Screenshots of every step are kept.

Then the 《市场质量投诉调查报告单》 of such a case, printed by Chromium to an A4 PDF and to
PNG (test-output/reports/), and the process chart.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from tests.browser.conftest import REPO_ROOT, PageWatch, log_in, pdf_to_png
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

Shot = Callable[[Any, str], Path]
REPORTS = REPO_ROOT / "test-output" / "reports"

# What the people type, kept here so that the report test can look for the same words.
ANALYSIS = "客户现场管路安装方式与说明书不符，疑似气蚀；请品质部确认。"
NOT_OURS_FINDINGS = "返厂检测叶轮与机封均完好，性能试验合格；异响系进口管路过长、吸程过大导致气蚀。"
NOT_OURS_ANSWER = "已电话告知客户按说明书缩短进口管路，复装后运行正常，客户认可。"
ONSITE_REASON = "同批次三台均漏水，需到客户现场确认安装与运行工况。"
ONSITE_FINDINGS = "现场拆检：机械密封动环有崩边，静环端面划伤；安装符合要求。"
OURS_FINDINGS = "同批次机械密封动环端面硬度低于图纸要求，装配时受力后崩边导致泄漏。"
ROOT_CAUSE = "外购机械密封动环热处理不合格，进货检验未抽检硬度。"
TASK_TITLE = "排查在制品与库存同批次机械密封"
TASK_RESULT = "已隔离库存42套，在制品全部更换为合格批次。"
PLAN = "更换供应商批次；进货检验增加动环硬度抽检；为客户更换三台泵的机械密封。"
D2_PROBLEM = "QL-CP50 机械密封处漏水，同批次3台。"
D3_CONTAINMENT = "隔离库存同批次机封42套，在制品停用该批次。"
EVIDENCE = "更换后连续运行30天无泄漏；新批次抽检硬度全部合格。"
CHANGES = "修订《进货检验规程》QI-07 第3版：动环硬度每批抽检5件。"
OURS_ANSWER = "已为客户更换三台泵的机械密封并说明整改措施，客户满意。"


def zh(message: str) -> str:
    """A message as the site shows it in its default language (simplified Chinese)."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


def state_text(state: str) -> str:
    from qloop.process.definitions import state_label

    with translation.override(settings.LANGUAGE_CODE):
        return str(state_label("complaint", state))


def meaning_text(meaning: str) -> str:
    from qloop.process.signatures import Meaning

    with translation.override(settings.LANGUAGE_CODE):
        return str(Meaning(meaning).label)


def clock_text(name: str) -> str:
    from qloop.process.models import ClockName

    with translation.override(settings.LANGUAGE_CODE):
        return str(ClockName(name).label)


def printed_name(username: str) -> str:
    from qloop.org.models import User

    return User.objects.get(username=username).printed_name


def switch_to(page: Any, username: str) -> None:
    """Another person sits down at the browser: a fresh session, logged in through the form."""
    page.context.clear_cookies()
    log_in(page, username)
    # The first page is the person's board or My work (issue 13); the work is on My work.
    if not page.url.endswith(reverse("my-work")):
        with page.expect_navigation():
            page.locator("#my-work-waiting").click()
    assert page.url.endswith(reverse("my-work")), f"{username} did not reach My work"


def open_case(page: Any, number: str) -> None:
    page.goto(reverse("case-detail", args=[number]))
    assert page.locator("#case-number").inner_text().strip() == number


def assert_state(page: Any, state: str) -> None:
    shown = page.locator("#case-state").inner_text().strip()
    assert shown == state_text(state), f"state shown {shown!r}, expected {state_text(state)!r}"


def open_step(page: Any, name: str) -> Any:
    """Press the step's button in "Next steps" and wait until its form has opened."""
    form = page.locator(f"#step-{name}")
    if "show" in (form.get_attribute("class") or "").split():
        return form  # already open (a refused step comes back open)
    page.locator(f"#btn-step-{name}").click()
    page.wait_for_selector(f"#step-{name}.collapse.show", state="visible")
    return form


def fill_step(page: Any, name: str, values: dict[str, Any], password: str | None = None) -> None:
    """Fill a step's form that is open: text, user and choice inputs, ticked departments."""
    for field, value in values.items():
        target = page.locator(f"#{name}-{field}")
        if isinstance(value, list):
            for code in value:
                page.check(f"#{name}-{field}-{code}")
            continue
        tag = target.evaluate("e => e.tagName.toLowerCase()")
        if tag == "select":
            target.select_option(value)
        else:
            target.fill(value)
    if password is not None:
        page.fill(f"#{name}-sigpw", password)


def submit_step(page: Any, name: str) -> int:
    """Press the step's own submit button; returns the answer's HTTP status."""
    with page.expect_navigation() as nav:
        page.locator(f"#step-{name} form > button").click()
    response = nav.value
    return int(response.status) if response is not None else 0


def take_step(
    page: Any,
    shot: Shot,
    name: str,
    values: dict[str, Any],
    password: str | None = None,
) -> None:
    open_step(page, name)
    fill_step(page, name, values, password)
    shot(page, f"{name}-filled")
    status = submit_step(page, name)
    assert status == 200, f"step {name} answered {status}"
    done = page.locator(".alert-success").inner_text()
    assert done.strip(), f"no confirmation after {name}"


def deadline_row(page: Any, clock: str) -> str:
    """A clock's line on the deadline card with the line under it (due, and when stopped)."""
    card = page.locator(".card", has=page.locator("h2", has_text=zh("Deadlines")))
    row = card.locator("div.d-flex", has_text=clock_text(clock))
    assert row.count() == 1, f"no row for the {clock} clock"
    under = row.locator("xpath=following-sibling::div[1]")
    return f"{row.inner_text()}\n{under.inner_text()}"


def assert_clean(watch: PageWatch, expected: tuple[tuple[int, str], ...] = ()) -> None:
    """No script errors, and no failed request but the refusals the test made on purpose."""
    refused = {str(status) for status, _path in expected}
    errors = [
        e
        for e in watch.errors
        if not (e.startswith("console: Failed to load resource") and e.split()[-3] in refused)
    ]
    assert not errors, errors
    unexpected = [
        f
        for f in watch.failed
        if not any(f.startswith(f"{status} ") and f.endswith(path) for status, path in expected)
    ]
    assert not unexpected, unexpected


def test_not_our_problem_from_registration_to_closing(
    page: Any, screenshot: Shot, make_case: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    from qloop.cases.models import Case

    case = make_case(symptom="泵运行时有尖锐异响，振动明显，出口压力波动。")
    number = case.number

    # The CS head gives the new case a handler.
    switch_to(page, "cs_head")
    assert page.locator("#case-table").get_by_role("link", name=number, exact=True).is_visible()
    screenshot(page, "cs-head-my-work")
    open_case(page, number)
    assert_state(page, "new")
    screenshot(page, "new-case")
    take_step(page, screenshot, "assign", {"handler": "cs"})
    assert_state(page, "cs_review")
    assert zh("Handler") in page.locator("body").inner_text()
    screenshot(page, "assigned")

    # The handler forwards it to Quality with an analysis and the departments concerned.
    switch_to(page, "cs")
    open_case(page, number)
    take_step(
        page,
        screenshot,
        "forward_to_quality",
        {"analysis": ANALYSIS, "departments": ["QA", "PROD"]},
    )
    assert_state(page, "investigating")
    assert ANALYSIS in page.locator("#investigation").inner_text()
    assert zh("stopped") not in deadline_row(page, "investigation")  # running
    screenshot(page, "forwarded")

    # The quality head disposes it as not our problem, signing; a wrong password first.
    switch_to(page, "qa_head")
    open_case(page, number)
    form = open_step(page, "dispose_not_ours")
    assert meaning_text("approved") in form.locator(".signature-box").inner_text()
    fill_step(page, "dispose_not_ours", {"findings": NOT_OURS_FINDINGS}, password="not-my-password")
    screenshot(page, "dispose-wrong-password")
    assert submit_step(page, "dispose_not_ours") == 422
    form = page.locator("#step-dispose_not_ours")
    assert form.is_visible(), "the refused step's form should stay open"
    assert zh("The password is wrong; nothing was signed.") in form.inner_text()
    assert page.input_value("#dispose_not_ours-findings") == NOT_OURS_FINDINGS
    assert page.input_value("#dispose_not_ours-sigpw") == ""
    assert "is-invalid" in (page.get_attribute("#dispose_not_ours-sigpw", "class") or "")
    assert_state(page, "investigating")
    screenshot(page, "dispose-refused")
    page.fill("#dispose_not_ours-sigpw", PASSWORD)
    assert submit_step(page, "dispose_not_ours") == 200
    assert_state(page, "cs_handling")
    signature = page.locator("#timeline .text-success").first.inner_text()  # newest first
    assert "✍" in signature
    assert printed_name("qa_head") in signature
    assert meaning_text("approved") in signature
    investigation = deadline_row(page, "investigation")
    assert zh("met") in investigation and zh("stopped") in investigation  # stopped in time
    assert zh("stopped") not in deadline_row(page, "customer_answer")  # still running
    assert NOT_OURS_FINDINGS in page.locator("#investigation").inner_text()
    screenshot(page, "disposed-not-ours")

    # The handler answers the customer and closes the case.
    switch_to(page, "cs")
    open_case(page, number)
    take_step(page, screenshot, "close", {"answer": NOT_OURS_ANSWER, "answer_channel": "phone"})
    assert_state(page, "closed")
    assert zh("met") in deadline_row(page, "customer_answer")
    assert zh("stopped") in deadline_row(page, "customer_answer")
    assert NOT_OURS_ANSWER in page.locator("#investigation").inner_text()
    assert zh("Nothing for you to do on this case right now.") not in page.content()
    screenshot(page, "closed")

    case = Case.objects.get(number=number)
    assert (case.state, case.handler_id) == ("closed", users["cs"].pk)
    assert {c.name: c.state for c in case.clocks.all()} == {
        "customer_answer": "stopped",
        "investigation": "stopped",
    }

    # The report of a case handled by CS: the first box of the disposition is ticked.
    page.goto(reverse("case-report", args=[number]))
    body = page.locator("body").inner_text()
    assert "☑" in body and "☐" in body
    assert NOT_OURS_FINDINGS in body and printed_name("qa_head") in body
    screenshot(page, "report")
    assert_clean(watch, ((422, reverse("case-transition", args=[number, "dispose_not_ours"])),))


def test_our_problem_through_corrective_action_to_closing(
    page: Any, screenshot: Shot, make_case: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    from qloop.capa.models import CorrectiveAction
    from qloop.cases.models import Case
    from qloop.process.models import Approval, Task

    case = make_case()
    number = case.number
    due = timezone.localdate() + dt.timedelta(days=30)

    # CS takes the case itself and forwards it.
    switch_to(page, "cs")
    open_case(page, number)
    take_step(page, screenshot, "assign", {"handler": "cs"})
    assert_state(page, "cs_review")
    take_step(
        page, screenshot, "forward_to_quality", {"analysis": ANALYSIS, "departments": ["PROD"]}
    )
    assert_state(page, "investigating")

    # A quality engineer asks for an on-site investigation; recording findings must wait.
    switch_to(page, "qe")
    screenshot(page, "qe-my-work")
    open_case(page, number)
    take_step(page, screenshot, "request_onsite", {"reason": ONSITE_REASON})
    assert_state(page, "investigating")
    approvals = page.locator("#approvals").inner_text()
    assert ONSITE_REASON in approvals
    assert page.locator("#approvals .decide-form").count() == 0  # not the engineer's to decide
    blocked = open_step(page, "record_onsite")
    assert blocked.locator(".alert-warning").is_visible()
    assert blocked.locator("form > button").is_disabled()
    screenshot(page, "onsite-waiting-for-approval")

    # The general manager sees the approval on the first page after logging in.
    switch_to(page, "gm")
    waiting = page.locator("#my-approvals")
    assert waiting.is_visible()
    assert number in waiting.inner_text() and ONSITE_REASON in waiting.inner_text()
    waiting.locator("input[name=comment]").fill("同意，请尽快安排。")
    waiting.locator("input[name=signature_password]").fill(PASSWORD)
    screenshot(page, "gm-my-work-approval")
    with page.expect_navigation():
        waiting.locator("button[value=approve]").click()
    assert page.url.endswith(reverse("my-work"))
    assert zh("Decision recorded.") in page.locator(".alert-success").inner_text()
    assert page.locator("#my-approvals").count() == 0
    screenshot(page, "gm-approved")
    approval = Approval.objects.get(case__number=number, kind="onsite")
    assert (approval.state, approval.decided_by_id) == ("approved", users["gm"].pk)

    # The engineer records the on-site findings and gives Production a task.
    switch_to(page, "qe")
    open_case(page, number)
    assert printed_name("gm") in page.locator("#approvals").inner_text()
    take_step(page, screenshot, "record_onsite", {"findings": ONSITE_FINDINGS})
    tasks = page.locator("#tasks")
    tasks.locator("select[name=department]").select_option("PROD")
    tasks.locator("input[name=title]").fill(TASK_TITLE)
    tasks.locator("input[name=due]").fill(due.isoformat())
    screenshot(page, "task-filled")
    with page.expect_navigation():
        tasks.get_by_role("button", name=zh("Give task")).click()
    assert zh("Task given.") in page.locator(".alert-success").inner_text()
    assert TASK_TITLE in page.locator("#tasks").inner_text()
    screenshot(page, "task-given")

    # Production sees its task on "My work" and marks it done there.
    switch_to(page, "prod")
    mine = page.locator("#my-tasks")
    assert number in mine.inner_text() and TASK_TITLE in mine.inner_text()
    mine.locator("input[name=result]").fill(TASK_RESULT)
    screenshot(page, "prod-my-work-task")
    with page.expect_navigation():
        mine.get_by_role("button", name=zh("Mark done")).click()
    assert page.url.endswith(reverse("my-work"))
    assert zh("Task done.") in page.locator(".alert-success").inner_text()
    assert page.locator("#my-tasks").count() == 0
    screenshot(page, "prod-task-done")
    assert Task.objects.get(case__number=number).done_by_id == users["prod"].pk

    # The engineer disposes it as our problem and plans the corrective work.
    switch_to(page, "qe")
    open_case(page, number)
    done = page.locator("#tasks").inner_text()
    assert TASK_RESULT in done and printed_name("prod") in done
    take_step(
        page, screenshot, "dispose_ours", {"findings": OURS_FINDINGS, "root_cause": ROOT_CAUSE}
    )
    assert_state(page, "corrective_action")
    assert zh("met") in deadline_row(page, "investigation")
    assert ROOT_CAUSE in page.locator("#investigation").inner_text()
    take_step(
        page, screenshot, "submit_plan", {"plan": PLAN, "owner": "prod", "due": due.isoformat()}
    )
    assert_state(page, "implementing")
    plan = page.locator("#eight-d").inner_text()
    assert PLAN in plan and printed_name("prod") in plan and due.isoformat() in plan

    # Part of the 8D record, saved; the form opens from its fold.
    page.locator("#btn-eight-d").click()
    page.wait_for_selector("#eight-d-form.collapse.show", state="visible")
    page.fill("#id_d2_problem", D2_PROBLEM)
    page.fill("#id_d3_containment", D3_CONTAINMENT)
    page.fill("#id_d4_root_cause", ROOT_CAUSE)
    screenshot(page, "eight-d-filled")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Save the 8D record")).click()
    assert zh("8D record saved.") in page.locator(".alert-success").inner_text()
    assert page.input_value("#id_d2_problem") == D2_PROBLEM
    assert page.input_value("#id_d3_containment") == D3_CONTAINMENT
    assert page.input_value("#id_d5_permanent_action") == ""
    shown = page.locator("#eight-d").inner_text()
    assert D2_PROBLEM in shown and D3_CONTAINMENT in shown
    screenshot(page, "eight-d-saved")

    # CS follows the corrective work on its first page (R1.7).
    switch_to(page, "cs")
    follow = page.locator("#follow-up")
    assert follow.is_visible()
    row = follow.locator("tr", has=page.get_by_role("link", name=number, exact=True))
    assert state_text("implementing") in row.inner_text()
    assert printed_name("prod") in row.inner_text() and due.isoformat() in row.inner_text()
    screenshot(page, "cs-follows-corrective-work")

    # The engineer verifies the effect, signing, and standardises.
    switch_to(page, "qe")
    open_case(page, number)
    form = open_step(page, "verify_effectiveness")
    assert meaning_text("verified") in form.locator(".signature-box").inner_text()
    take_step(
        page,
        screenshot,
        "verify_effectiveness",
        {"result": "effective", "evidence": EVIDENCE},
        password=PASSWORD,
    )
    assert_state(page, "standardising")
    signature = page.locator("#timeline .text-success").first.inner_text()  # newest first
    assert printed_name("qe") in signature and meaning_text("verified") in signature
    take_step(page, screenshot, "standardise", {"changes": CHANGES})
    assert_state(page, "ready_to_close")
    assert CHANGES in page.locator("#eight-d").inner_text()

    # CS still follows it, then answers the customer and closes.
    switch_to(page, "cs")
    row = page.locator("#follow-up tr", has=page.get_by_role("link", name=number, exact=True))
    assert state_text("ready_to_close") in row.inner_text()
    open_case(page, number)
    take_step(page, screenshot, "close", {"answer": OURS_ANSWER, "answer_channel": "visit"})
    assert_state(page, "closed")
    screenshot(page, "closed")
    switch_to(page, "cs")
    assert page.locator("#follow-up").get_by_text(number, exact=True).count() == 0

    case = Case.objects.get(number=number)
    assert case.state == "closed"
    ca = CorrectiveAction.objects.get(case=case)
    assert (ca.owner_id, ca.due, ca.verification_result) == (users["prod"].pk, due, "effective")
    assert ca.d2_problem == D2_PROBLEM
    assert_clean(watch)


def close_ours_by_engine(make_case: Any, users: dict[str, Any]) -> Any:
    """The same case as the browser walk above, moved along by the engine: quicker."""
    from qloop.capa.actions import update_eight_d
    from qloop.process import engine, tasks
    from qloop.process.models import Approval

    sig = {"password": PASSWORD}
    case = make_case()
    case = engine.take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    case = engine.take_transition(
        case,
        "forward_to_quality",
        {"analysis": ANALYSIS, "departments": ["PROD"]},
        actor=users["cs"],
    )
    case = engine.take_transition(
        case, "request_onsite", {"reason": ONSITE_REASON}, actor=users["qe"]
    )
    engine.decide_approval(
        Approval.objects.get(case=case),
        "approve",
        actor=users["gm"],
        signature={**sig, "meaning": "approved"},
    )
    case = engine.take_transition(
        case, "record_onsite", {"findings": ONSITE_FINDINGS}, actor=users["qe"]
    )
    task = tasks.create_task(case, department="PROD", title=TASK_TITLE, actor=users["qe"])
    tasks.complete_task(task, TASK_RESULT, actor=users["prod"])
    case = engine.take_transition(
        case,
        "dispose_ours",
        {"findings": OURS_FINDINGS, "root_cause": ROOT_CAUSE},
        actor=users["qe"],
    )
    due = timezone.localdate() + dt.timedelta(days=30)
    case = engine.take_transition(
        case,
        "submit_plan",
        {"plan": PLAN, "owner": "prod", "due": due.isoformat()},
        actor=users["qe"],
    )
    update_eight_d(
        case,
        {"d2_problem": D2_PROBLEM, "d3_containment": D3_CONTAINMENT, "d4_root_cause": ROOT_CAUSE},
        actor=users["qe"],
    )
    case = engine.take_transition(
        case,
        "verify_effectiveness",
        {"result": "effective", "evidence": EVIDENCE},
        actor=users["qe"],
        signature={**sig, "meaning": "verified"},
    )
    case = engine.take_transition(case, "standardise", {"changes": CHANGES}, actor=users["qe"])
    return engine.take_transition(
        case, "close", {"answer": OURS_ANSWER, "answer_channel": "visit"}, actor=users["cs"]
    )


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF: pdfinfo when installed, else its /Type /Page objects."""
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo:
        out = subprocess.run(
            [pdfinfo, "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        match = re.search(r"^Pages:\s+(\d+)", out, re.M)
        assert match, out
        return int(match.group(1))
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_investigation_report_prints_on_one_a4_page(
    page: Any, make_case: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    case = close_ours_by_engine(make_case, users)
    number = case.number
    REPORTS.mkdir(parents=True, exist_ok=True)
    stem = REPORTS / f"investigation-report-{number}"
    for old in REPORTS.glob(f"{stem.name}*"):
        old.unlink()

    switch_to(page, "cs")
    page.goto(reverse("case-report", args=[number]))
    text = page.locator(".sheet").inner_text()
    for expected in (
        number,
        case.contact.name,
        case.contact.organisation,
        case.product.model,
        case.product.symptom,
        ANALYSIS,
        OURS_FINDINGS,
        ONSITE_FINDINGS,
        ROOT_CAUSE,
        PLAN,
        EVIDENCE,
        CHANGES,
        OURS_ANSWER,
        printed_name("cs"),  # prepared
        printed_name("qe"),  # investigated and verified
        printed_name("gm"),  # approved the on-site investigation
    ):
        assert expected in text, f"{expected!r} is not on the report"
    assert "☑" in text and "☐" in text
    signatures = page.locator("table.signatures").inner_text()
    assert printed_name("cs") in signatures and printed_name("qe") in signatures
    assert re.search(r"\d{4}-\d{2}-\d{2}", signatures), "signatures without dates"

    page.emulate_media(media="screen")
    page.screenshot(path=str(stem.with_suffix(".png")), full_page=True)
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    stem.with_suffix(".pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    assert pdf_pages(pdf) == 1, "the report should fit on one A4 page"

    pdf_to_png(stem.with_suffix(".pdf"), resolution=80)  # what the printed page looks like
    assert_clean(watch)


def test_process_chart_page(page: Any, screenshot: Shot, watch: PageWatch) -> None:
    switch_to(page, "qe")
    page.goto(reverse("process-diagram", args=["complaint"]))
    svg = page.locator(".diagram-wrap svg")
    assert svg.count() == 1
    drawn = svg.text_content()
    for state in ("new", "investigating", "corrective_action", "closed"):
        assert state_text(state) in drawn
    box = svg.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    screenshot(page, "process-chart")
    assert_clean(watch)


def test_process_chart_draws_states_in_process_order(page: Any, watch: PageWatch) -> None:
    """Read top to bottom, the chart follows the case: new first, closed last."""
    switch_to(page, "qe")
    page.goto(reverse("process-diagram", args=["complaint"]))

    def top(state: str) -> float:
        return float(page.locator(f'g.state[data-state="{state}"] rect').get_attribute("y"))

    path = ["new", "cs_review", "investigating", "corrective_action", "implementing"]
    path += ["standardising", "ready_to_close", "closed"]
    tops = [top(s) for s in path]
    assert tops == sorted(tops), dict(zip(path, tops, strict=True))
    assert top("investigating") < top("cs_handling") < top("closed")
    assert_clean(watch)
