"""The printed 《市场质量投诉调查报告单》 of a not-ours case with an on-site investigation (issue 12
point 10, R1.5 A, R1.6, X4), printed by Chromium to an A4 PDF and a PNG under
test-output/reports/ for a person to look at.

The general manager's approval of the on-site investigation is printed as a signature (name,
meaning, time) like the others; the answer's channel (答复方式) is on the form; a contact with
a QQ number and no e-mail prints no stray "/"; and the investigation box names the engineer
who investigated, while the head who signed the disposition signs as the approver.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from tests.browser.conftest import REPO_ROOT, PageWatch, log_in, pdf_to_png
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

REPORTS = REPO_ROOT / "test-output" / "reports"
QQ = "88886666"
ONSITE_REASON = "客户现场三台泵同时异响，需现场确认安装工况。"
ONSITE_FINDINGS = "现场确认进口管路过长、吸程过大，泵本体无异常。"
FINDINGS = "返厂检测叶轮与机封完好，性能试验合格；异响系安装不当导致气蚀。"
ANSWER = "已电话告知客户调查结论，并指导缩短进口管路。"


def zh(message: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message)


def signed_meaning(meaning: str) -> str:
    from qloop.process.signatures import Meaning

    with translation.override(settings.LANGUAGE_CODE):
        return str(Meaning(meaning).label)


def not_ours_with_onsite(make_case: Any, users: dict[str, Any]) -> Any:
    """Registered by phone from a contact with QQ and no e-mail; the engineer asks for and
    records an on-site investigation the general manager approved; the quality head signs the
    disposition "not ours"; CS answers by phone and closes."""
    from qloop.cases.actions import ContactData
    from qloop.process import engine
    from qloop.process.models import Approval

    case = make_case(
        contact=ContactData(name="赵先生", phone="13912345678", qq=QQ, organisation="无锡水厂")
    )
    case = engine.take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    case = engine.take_transition(
        case, "forward_to_quality", {"analysis": "请品质部调查异响原因。"}, actor=users["cs"]
    )
    case = engine.take_transition(
        case, "request_onsite", {"reason": ONSITE_REASON}, actor=users["qe"]
    )
    engine.decide_approval(
        Approval.objects.get(case=case),
        "approve",
        actor=users["gm"],
        comment="同意，尽快安排。",
        signature={"password": PASSWORD, "meaning": "approved"},
    )
    case = engine.take_transition(
        case, "record_onsite", {"findings": ONSITE_FINDINGS}, actor=users["qe"]
    )
    case = engine.take_transition(
        case,
        "dispose_not_ours",
        {"findings": FINDINGS},
        actor=users["qa_head"],
        signature={"password": PASSWORD, "meaning": "approved"},
    )
    return engine.take_transition(
        case, "close", {"answer": ANSWER, "answer_channel": "phone"}, actor=users["cs"]
    )


def test_the_printed_report_signs_the_onsite_approval_and_names_the_investigator(
    page: Any, make_case: Any, users: dict[str, Any], watch: PageWatch
) -> None:
    from qloop.cases.choices import Channel

    case = not_ours_with_onsite(make_case, users)
    gm, qe, qa_head = (users[u].printed_name for u in ("gm", "qe", "qa_head"))
    log_in(page, "cs")
    page.goto(reverse("case-report", args=[case.number]))

    # The engineer investigated; the head approved the disposition with his signature.
    assert qe in page.locator("#investigated-by").inner_text()
    assert qa_head not in page.locator("#investigated-by").inner_text()
    header = page.locator("table.signatures tr").first.inner_text()
    signatures = page.locator("table.signatures .sigrow td")
    columns = [h.strip() for h in header.split("\t") if h.strip()]
    assert columns == [
        zh("Prepared (CS)"),
        zh("Investigated (Quality)"),
        zh("On-site investigation (General Manager)"),
        zh("Approved (Quality head)"),
        zh("Verified"),
    ], columns
    assert qe in signatures.nth(1).inner_text()
    # The general manager's approval: a signature with name, meaning and time.
    onsite = page.locator("#onsite-signature").inner_text()
    assert "✍" in onsite and gm in onsite and signed_meaning("approved") in onsite
    assert ":" in onsite.splitlines()[-1]  # the time of day, not the date alone
    assert qa_head in signatures.nth(3).inner_text()
    # How the customer was answered; no stray "/" before the QQ number.
    with translation.override(settings.LANGUAGE_CODE):
        phone = str(Channel.PHONE.label)
    assert page.locator("#answer-channel").inner_text().strip().endswith(phone)
    assert page.locator("#email-qq").inner_text().strip() == QQ

    stem = REPORTS / f"investigation-report-not-ours-{case.number}"
    REPORTS.mkdir(parents=True, exist_ok=True)
    for old in REPORTS.glob(f"{stem.name}*"):
        old.unlink()
    page.emulate_media(media="print")
    stem.with_suffix(".pdf").write_bytes(page.pdf(format="A4", print_background=True))
    pictures = pdf_to_png(stem.with_suffix(".pdf"), resolution=100)
    assert len(pictures) in (0, 1), "the report should fit on one A4 page"
    assert not watch.errors and not watch.failed, (watch.errors, watch.failed)
