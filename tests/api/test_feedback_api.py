"""Feedback through the API: the same POST /cases with kind feedback, a category from the R2.10
tree and a feedback type; GET /categories returns the tree (R2.4, R2.10, R2.8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from qloop.cases.models import Case
from qloop.org.models import User
from qloop.process.engine import take_transition
from tests.api.test_api import ApiClient, assert_error, complaint, create_token


@pytest.fixture
def api_as(users: dict[str, User]) -> Callable[[str], ApiClient]:
    return lambda username: ApiClient(create_token(username))


def feedback(**overrides: Any) -> dict[str, Any]:
    payload = complaint(kind="feedback", category="2B", feedback_type="opinion", extra={})
    payload.update(overrides)
    return payload


def test_feedback_registers_with_category_and_type(api_as: Callable[[str], ApiClient]) -> None:
    """R2.4, R2.10: kind feedback lands with Supply and Sales, typed and categorised."""
    response = api_as("sales").post("/cases", feedback())

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("FB-")
    assert (body["kind"], body["category"], body["feedback_type"]) == ("feedback", "2B", "opinion")
    assert body["department"] == "SALES"
    assert Case.objects.get(number=body["number"]).feedback.feedback_type == "opinion"


def test_an_unknown_category_or_type_is_a_field_error_and_registers_nothing(
    api_as: Callable[[str], ApiClient],
) -> None:
    """R2.10: only codes from the tree; the 422 names the field."""
    client = api_as("sales")
    assert_error(client.post("/cases", feedback(category="9Z")), 422, "category")
    assert_error(client.post("/cases", feedback(feedback_type="rumour")), 422, "feedback_type")
    assert Case.objects.count() == 0


def test_categories_come_as_a_tree_in_the_request_language(
    api_as: Callable[[str], ApiClient],
) -> None:
    """R2.10: 1/1A–1F, 2/2A–2G, 3/3A–3D with names in the three languages."""
    client = api_as("sales")
    tree = client.get("/categories").json()

    assert [n["code"] for n in tree] == ["1", "2", "3"]
    assert [c["code"] for c in tree[1]["children"]] == ["2A", "2B", "2C", "2D", "2E", "2F", "2G"]
    assert len(tree[0]["children"]) == 6 and len(tree[2]["children"]) == 4
    assert tree[0]["names"] == {
        "zh-hans": "产品质量",
        "zh-hant": "產品質量",
        "en": "Product quality",
    }
    User.objects.filter(username="sales").update(language="en")
    english = client.get("/categories").json()
    assert english[0]["name"] == "Product quality"


def test_the_case_names_the_complaint_raised_from_it_and_back(
    api_as: Callable[[str], ApiClient], users: Any
) -> None:
    """R2.8: the link between a feedback case and its complaint case shows in the API."""
    client = api_as("sales")
    number = client.post("/cases", feedback(feedback_type="complaint")).json()["number"]
    take_transition(
        Case.objects.get(number=number),
        "raise_complaint",
        {"reason": "质量问题"},
        actor=users["sales"],
    )
    fb = client.get(f"/cases/{number}").json()
    assert len(fb["raised_cases"]) == 1
    qc = client.get(f"/cases/{fb['raised_cases'][0]}").json()
    assert qc["source_case"] == number and qc["kind"] == "complaint"
