"""GET /api/v1/surveys/campaigns/{id}/results (R2.7): the numbers, for those who may see them."""

from __future__ import annotations

from typing import Any

from django.test import Client

from qloop.org.models import ApiToken
from qloop.surveys import actions
from qloop.surveys.models import Campaign
from tests.surveys.conftest import raw


def _client(user: Any) -> Client:
    """A client calling with the person's API token, as an integration would."""
    _token, raw_token = ApiToken.issue(user, "test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}")


def test_the_results_carry_rate_indices_and_questions(
    campaign: Campaign, users: dict[str, Any]
) -> None:
    actions.submit_response(campaign, raw(quality=5, service=4, recommend=10), source="public")
    actions.submit_response(campaign, raw(quality=2, service=4, recommend=6), source="public")
    client = _client(users["gm"])

    response = client.get(f"/api/v1/surveys/campaigns/{campaign.pk}/results")

    body = response.json()
    assert response.status_code == 200
    # Ratings 5, 4, 2, 4: three of four are 4–5 → 75 %. NPS: one 10, one 6 → 0.
    assert body["csat"] == 75.0 and body["nps"] == 0.0
    assert body["response_rate"] is None and body["public_answers"] == 2
    quality = next(q for q in body["questions"] if q["code"] == "quality")
    assert quality["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert quality["csat"] == 50.0
    assert body["previous"] is None


def test_people_outside_sales_and_management_are_refused(
    campaign: Campaign, users: dict[str, Any]
) -> None:
    client = _client(users["prod"])

    response = client.get(f"/api/v1/surveys/campaigns/{campaign.pk}/results")

    assert response.status_code == 403
    assert response.json()["detail"]


def test_an_unknown_campaign_is_not_found_and_anonymous_callers_are_unauthorised(
    users: dict[str, Any],
) -> None:
    client = _client(users["sales"])

    assert client.get("/api/v1/surveys/campaigns/999999/results").status_code == 404
    assert Client().get("/api/v1/surveys/campaigns/1/results").status_code == 401
