"""Similar past cases and a suggested category while registering (issue 13, recurring
problems): character bigrams weighted by the organisation's own cases, offline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from qloop.cases.actions import ProductData
from qloop.cases.models import Case, Category
from qloop.cases.similar import similar_cases

pytestmark = pytest.mark.django_db


def _product(model: str) -> ProductData:
    return ProductData(specification="50-160", model=model, quantity=1, serial_number="")


@pytest.fixture
def history(make_case: Callable[..., Any]) -> dict[str, Case]:
    leak = Category.objects.get(code="1A")
    noise = Category.objects.get(code="1F")
    cases = {
        "leak1": make_case(
            symptom="机械密封处漏水，每分钟滴水二十滴。", product=_product("QL-CP50")
        ),
        "leak2": make_case(
            symptom="泵的机械密封漏水严重，地面有积水。", product=_product("QL-CP50")
        ),
        "noise": make_case(symptom="电机运行噪音大，轴承有异响。", product=_product("QL-CP50")),
        "other_model": make_case(symptom="机械密封处漏水。", product=_product("QL-CP65")),
    }
    Case.objects.filter(pk__in=[cases["leak1"].pk, cases["leak2"].pk]).update(category=leak)
    Case.objects.filter(pk=cases["noise"].pk).update(category=noise)
    return cases


def test_the_closest_cases_of_the_same_model_come_first_with_a_suggested_category(
    history: dict[str, Case], users: dict[str, Any]
) -> None:
    found, suggested = similar_cases(users["cs"], "机械密封漏水", model="QL-CP50")

    numbers = [s.number for s in found]
    assert set(numbers) == {history["leak1"].number, history["leak2"].number}
    assert history["other_model"].number not in numbers  # another model is another problem
    assert suggested == "1A"


def test_unrelated_text_finds_nothing_and_suggests_nothing(
    history: dict[str, Case], users: dict[str, Any]
) -> None:
    assert similar_cases(users["cs"], "包装箱外观破损", model="QL-CP50") == ([], "")


def test_the_form_asks_as_the_problem_is_typed(
    history: dict[str, Case], client_for: Callable[[str], Client]
) -> None:
    cs = client_for("cs")
    form = cs.get(reverse("case-create")).content.decode()
    partial = cs.get(
        reverse("similar-cases"), {"symptom": "机械密封漏水", "product_model": "QL-CP50"}
    ).content.decode()

    assert 'hx-get="/cases/similar/?kind=complaint"' in form
    assert history["leak1"].number in partial and 'id="suggested-category"' in partial
