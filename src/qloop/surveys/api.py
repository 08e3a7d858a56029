"""The surveys part of the REST API (``/api/v1/surveys``): campaign results for reports and
dashboards elsewhere. Mounted on the main API in ``qloop.api.api``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from qloop.api.schemas import ERROR_RESPONSES
from qloop.surveys import access
from qloop.surveys.results import CampaignResults, campaign_results

router = Router(tags=["surveys"])
ERRORS = ERROR_RESPONSES


class QuestionResultOut(Schema):
    question_id: int
    code: str
    text: str
    type: str
    answered: int
    mean: float | None
    csat: float | None
    nps: float | None
    distribution: dict[str, int]
    comments: list[str]


class PreviousOut(Schema):
    campaign_id: int
    title: str
    invited: int
    answered: int
    response_rate: float | None
    public_answers: int
    csat: float | None
    nps: float | None
    questions: list[QuestionResultOut]


class CampaignResultsOut(PreviousOut):
    previous: PreviousOut | None


def _out(results: CampaignResults) -> dict[str, Any]:
    data: dict[str, Any] = {
        key: getattr(results, key)
        for key in (
            "campaign_id",
            "title",
            "invited",
            "answered",
            "response_rate",
            "public_answers",
            "csat",
            "nps",
        )
    }
    data["questions"] = [vars(q) for q in results.questions]
    data["previous"] = _out(results.previous) if results.previous else None
    return data


@router.get("/campaigns/{campaign_id}/results", response={200: CampaignResultsOut, **ERRORS})
def get_campaign_results(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    """Response rate (0–1), satisfaction index CSAT (0–100), NPS (−100…100), and per question
    the distribution and comments; with the previous campaign of the same questionnaire."""
    campaign = access.get_campaign_for_user(request.user, campaign_id)  # type: ignore[arg-type]
    return _out(campaign_results(campaign.pk))
