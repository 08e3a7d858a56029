"""The public status page (issue 12.22): a customer or patient gives the case number and the
last four digits of the phone he gave, and sees the state in plain words, when an answer is
due and the answer once given — nothing else. A wrong pair says nothing about the number.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from qloop.cases.kinds import KINDS
from qloop.cases.models import Case, Contact
from qloop.cases.status import contact_kinds, look_up
from qloop.process.engine import take_transition
from tests.clocktime import ANSWER


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    cache.clear()


def ask(client: Client, number: str, digits: str, **extra: Any) -> Any:
    return client.post(reverse("case-status"), {"number": number, "phone": digits}, **extra)


def test_the_customer_sees_the_state_the_due_answer_and_then_the_answer(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    case = make_case()  # phone 13800138000
    visitor = Client()

    page = ask(visitor, case.number.lower(), "8000")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-stage="received"' in html and 'id="answer-due"' in html
    # Nothing else of the case: not the name, the company, the product or the problem.
    for private in ("王芳", "恒通", "QL-CP50", "机械密封", "13800138000", case.title):
        assert private not in html, private

    case = take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    assert 'data-stage="handling"' in ask(visitor, case.number, "8000").content.decode()
    take_transition(case, "answer_customer", ANSWER, actor=users["cs"])
    html = ask(visitor, case.number, "8000").content.decode()
    assert 'data-stage="answered"' in html and ANSWER["answer"] in html
    assert 'id="answer-due"' not in html


def test_a_wrong_pair_says_the_same_whether_or_not_the_number_exists(
    make_case: Callable[..., Any],
) -> None:
    case = make_case()
    visitor = Client()
    unknown_number = case.number[:-3] + "999"

    wrong_digits = ask(visitor, case.number, "1234")
    no_such_case = ask(visitor, unknown_number, "8000")
    nonsense = ask(visitor, "不是编号", "8000")

    responses = (wrong_digits, no_such_case, nonsense)
    assert {r.status_code for r in responses} == {200}
    bodies = {
        re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode())
        .replace(case.number, "N")
        .replace(unknown_number, "N")
        .replace("不是编号", "N")
        for r in (wrong_digits, no_such_case, nonsense)
    }
    assert len(bodies) == 1


def test_a_wrong_pair_takes_about_as_long_as_an_unknown_number(
    make_case: Callable[..., Any],
) -> None:
    case = make_case()

    def timed(number: str, digits: str) -> float:
        best = 1e9
        for _ in range(15):
            start = time.perf_counter()
            assert look_up(number, digits) is None
            best = min(best, time.perf_counter() - start)
        return best

    known, unknown = timed(case.number, "1234"), timed(case.number[:-3] + "999", "1234")
    assert abs(known - unknown) < max(known, unknown) * 0.5 + 0.002, (known, unknown)


def test_lookups_are_limited_by_the_client_s_real_address(
    make_case: Callable[..., Any], settings: Any
) -> None:
    settings.QLOOP_STATUS_LOOKUPS_PER_HOUR = 3
    case = make_case()
    first, second = Client(REMOTE_ADDR="203.0.113.7"), Client(REMOTE_ADDR="203.0.113.8")

    for digits in ("0001", "0002", "0003"):
        assert 'id="status-error"' in ask(first, case.number, digits).content.decode()
    # Even the right pair is refused once the address has used its lookups.
    refused = ask(first, case.number, "8000")
    assert refused.status_code == 429 and 'id="case-status"' not in refused.content.decode()
    assert ask(second, case.number, "8000").status_code == 200


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_with_a_contact_is_found_and_no_other(
    kind: str, make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """KindSpec.has_contact (or KindSpec.status_phone) decides: a laboratory finding (no
    contact) is never shown, even with a contact's digits."""
    template = make_case()
    contact = Contact.objects.create(name="李雷", phone="139-0013-9001")
    case = Case.objects.create(
        number=f"{KINDS[kind].prefix}-2026-900001",
        kind=kind,
        profile=KINDS[kind].profile,
        title="—",
        channel=template.channel,
        contact=contact,
        department=template.department,
        registered_by=users["cs"],
    )

    found = look_up(case.number, "9001")

    if KINDS[kind].has_contact:
        assert kind in contact_kinds()
        assert found is not None and found.stage == "received"
    else:
        # No contact: never by a contact's digits; a kind that keeps the person's phone in its
        # detail record (a patient's opinion, see the Chromium test) is found by that phone.
        assert found is None


def test_staff_print_a_slip_with_the_status_page_s_qr_code(
    make_case: Callable[..., Any], client_for: Callable[[str], Client], settings: Any
) -> None:
    settings.SITE_URL = "https://qloop.example.cn"
    case = make_case()
    staff = client_for("cs")

    detail = staff.get(reverse("case-detail", args=[case.number])).content.decode()
    assert reverse("case-status-slip", args=[case.number]) in detail
    slip = staff.get(reverse("case-status-slip", args=[case.number])).content.decode()
    assert "<svg" in slip and f"https://qloop.example.cn/status/?number={case.number}" in slip
    assert Client().get(reverse("case-status-slip", args=[case.number])).status_code == 302


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
def test_the_page_speaks_each_language(language: str, db: Any) -> None:
    page = Client().get(reverse("case-status"), {"lang": language})
    words = {"zh-hans": "我的登记单", "zh-hant": "我的登記單", "en": "Where does my case stand?"}
    assert page.status_code == 200 and words[language] in page.content.decode()
