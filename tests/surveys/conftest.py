"""Survey fixtures: a small hand-made questionnaire, an open campaign, invited contacts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from qloop.cases.models import Contact
from qloop.surveys import actions
from qloop.surveys.models import Campaign, Questionnaire, Response, Source

# The browser fixtures (Chromium, phone-sized pages, screenshots) for test_browser.py.
from tests.browser.conftest import (  # noqa: F401
    browser,
    chromium_path,
    demo_org,
    page,
    phone_page,
    screenshot,
    watch,
)

BASE_URL = "http://testserver/"


@pytest.fixture
def questionnaire(users: dict[str, Any]) -> Questionnaire:
    """Two ratings, a recommendation, a single and a multiple choice, a comment."""
    sales = users["sales"]
    q = actions.create_questionnaire("顾客满意度调查表", actor=sales)
    quality = actions.add_section(q, "产品质量", actor=sales)
    overall = actions.add_section(q, "总体评价", actor=sales)
    for code, text, kind, required, choices in [
        ("quality", "产品制造质量", "rating", True, []),
        ("service", "售后服务态度", "rating", True, []),
    ]:
        actions.add_question(
            quality,
            actions.QuestionData(
                text=text, type=kind, required=required, code=code, choices=choices
            ),
            actor=sales,
        )
    for code, text, kind, required, choices in [
        ("recommend", "推荐的可能性", "recommendation", True, []),
        ("buy_again", "是否继续选购", "single", False, ["会", "可能会", "不会"]),
        ("needs", "还需要哪些产品", "multiple", False, ["配件", "维修", "培训"]),
        ("comments", "意见与建议", "text", False, []),
    ]:
        actions.add_question(
            overall,
            actions.QuestionData(
                text=text, type=kind, required=required, code=code, choices=choices
            ),
            actor=sales,
        )
    return q


@pytest.fixture
def campaign(questionnaire: Questionnaire, users: dict[str, Any]) -> Campaign:
    return actions.create_campaign(
        questionnaire,
        title="2026 年度顾客满意度调查",
        opens_at=timezone.now() - dt.timedelta(days=1),
        closes_at=timezone.now() + dt.timedelta(days=30),
        actor=users["sales"],
    )


@pytest.fixture
def contacts(db: Any) -> list[Contact]:
    return [
        Contact.objects.create(
            name=name, email=f"c{i}@example.cn", phone=f"1380013800{i}", organisation=org
        )
        for i, (name, org) in enumerate(
            [
                ("王芳", "恒通水务"),
                ("李雷", "恒通水务"),
                ("韩梅梅", "东方泵业"),
                ("张伟", "东方泵业"),
            ]
        )
    ]


def raw(**values: Any) -> dict[str, list[str]]:
    """Form answers by question code: ints, lists of ints, or text."""
    out: dict[str, list[str]] = {}
    for code, value in values.items():
        if isinstance(value, list):
            out[code] = [str(v) for v in value]
        else:
            out[code] = [str(value)]
    return out


@pytest.fixture
def answer(campaign: Campaign) -> Callable[..., Response]:
    """Answer the campaign through its public link (default) with the given values."""

    def make(source: str = Source.PUBLIC, **values: Any) -> Response:
        return actions.submit_response(campaign, raw(**values), source=source, language="zh-hans")

    return make
