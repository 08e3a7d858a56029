"""Who may open which survey page: every URL of the surveys app × every demo persona, plus
anonymous. Generated like tests/web/test_permissions.py; a guard keeps every URL in it.

Supply and Sales and administrators run surveys; the General Manager also reads results
(R2.6, R2.7); the answer pages work without login.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from qloop.demo.loader import USERS
from qloop.org.models import User
from qloop.surveys import access, actions
from qloop.surveys import urls as survey_urls
from qloop.surveys.models import Campaign, Invitation, Question, Questionnaire, Response
from tests.surveys.conftest import BASE_URL

PERSONAS = [username for username, *_rest in USERS]
ANONYMOUS = "anonymous"
ANSWERS = {"q_quality": "4", "q_service": "4", "q_recommend": "9"}


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    who: str  # "manage", "results" or "public"
    ok: int = 200
    data: dict[str, Any] = field(default_factory=dict)
    probe: Callable[[Campaign], Any] | None = None
    htmx: bool = False

    @property
    def id(self) -> str:
        return f"{self.method}-{self.name}"


ROUTES = [
    Route("survey-home", "get", "results"),
    Route(
        "questionnaire-create",
        "post",
        "manage",
        302,
        {"title": "新问卷"},
        lambda c: Questionnaire.objects.count(),
    ),
    Route("questionnaire-builder", "get", "manage"),
    Route(
        "questionnaire-builder",
        "post",
        "manage",
        302,
        {"title": "改过的问卷"},
        lambda c: Questionnaire.objects.get(pk=c.questionnaire_id).title,
    ),
    Route(
        "section-add",
        "post",
        "manage",
        200,
        {"title": "价格"},
        lambda c: c.questionnaire.sections.count(),
        htmx=True,
    ),
    Route(
        "question-add",
        "post",
        "manage",
        200,
        {"text": "价格合理性", "type": "rating", "required": "on"},
        lambda c: Question.objects.count(),
        htmx=True,
    ),
    Route("question-edit", "get", "manage"),
    Route(
        "question-edit",
        "post",
        "manage",
        302,
        {"text": "改过的问题", "type": "text"},
        lambda c: Question.objects.get(code="comments").text,
    ),
    Route(
        "question-delete",
        "post",
        "manage",
        200,
        {},
        lambda c: Question.objects.count(),
        htmx=True,
    ),
    Route(
        "question-move",
        "post",
        "manage",
        200,
        {"direction": "up"},
        lambda c: Question.objects.get(code="comments").order,
        htmx=True,
    ),
    Route("campaign-create", "get", "manage"),
    Route(
        "campaign-create",
        "post",
        "manage",
        302,
        {
            "title": "第二次",
            "opens_at": "2026-01-01T09:00",
            "low_rating": 2,
            "low_recommendation": 6,
        },
        lambda c: Campaign.objects.count(),
    ),
    Route("campaign-detail", "get", "manage"),
    Route("campaign-invite", "get", "manage"),
    Route(
        "campaign-invite",
        "post",
        "manage",
        302,
        {"contacts": "CONTACT", "language": "zh-hans"},
        lambda c: c.invitations.count(),
    ),
    Route(
        "campaign-remind",
        "post",
        "manage",
        302,
        {},
        lambda c: list(c.invitations.values_list("reminders", flat=True)),
    ),
    Route(
        "campaign-close",
        "post",
        "manage",
        302,
        {},
        lambda c: Campaign.objects.get(pk=c.pk).closes_at,
    ),
    Route("campaign-qr", "get", "manage"),
    Route("campaign-card", "get", "manage"),
    Route("invitation-qr", "get", "manage"),
    Route("invitation-card", "get", "manage"),
    Route("campaign-paper", "get", "manage"),
    Route(
        "campaign-paper",
        "post",
        "manage",
        302,
        ANSWERS,
        lambda c: c.responses.filter(source="paper").count(),
    ),
    Route("campaign-results", "get", "results"),
    Route("survey-answer", "get", "public"),
    Route("survey-answer", "post", "public", 200, ANSWERS, lambda c: c.responses.count()),
    Route("survey-public", "get", "public"),
    Route("survey-public", "post", "public", 200, ANSWERS, lambda c: c.responses.count()),
]

MATRIX = [
    pytest.param(route, persona, id=f"{route.id}-{persona}")
    for route in ROUTES
    for persona in [*PERSONAS, ANONYMOUS]
]


def _expected(route: Route, user: User | None) -> int:
    if route.who == "public":
        return route.ok
    if user is None:
        return 302  # to the login page
    allowed = (
        access.can_manage_surveys(user) if route.who == "manage" else access.can_see_results(user)
    )
    return route.ok if allowed else 403


def _url(route: Route, campaign: Campaign, invitation: Invitation) -> str:
    pattern = next(p for p in survey_urls.urlpatterns if p.name == route.name)
    converters = pattern.pattern.converters
    kwargs: dict[str, Any] = {}
    if "questionnaire_id" in converters:
        kwargs["questionnaire_id"] = campaign.questionnaire_id
    if "campaign_id" in converters:
        kwargs["campaign_id"] = campaign.pk
    if "section_id" in converters:
        kwargs["section_id"] = campaign.questionnaire.sections.first().pk  # type: ignore[union-attr]
    if "question_id" in converters:
        kwargs["question_id"] = Question.objects.get(code="comments").pk
    if "invitation_id" in converters:
        kwargs["invitation_id"] = invitation.pk
    if "fmt" in converters:
        kwargs["fmt"] = "png"
    if "token" in converters:
        kwargs["token"] = (
            invitation.token if route.name == "survey-answer" else campaign.public_token
        )
    return reverse(route.name, kwargs=kwargs)


def test_every_survey_url_is_in_the_matrix() -> None:
    names = {p.name for p in survey_urls.urlpatterns if isinstance(p, URLPattern)}
    assert {r.name for r in ROUTES} == names


@pytest.mark.parametrize(("route", "persona"), MATRIX)
def test_survey_permission_matrix(
    route: Route, persona: str, users: dict[str, User], campaign: Campaign, contacts: list[Any]
) -> None:
    invitation = actions.invite_contacts(
        campaign, [contacts[0].pk], base_url=BASE_URL, actor=users["sales"]
    )[0]
    data = {k: (contacts[1].pk if v == "CONTACT" else v) for k, v in route.data.items()}
    client = Client(REMOTE_ADDR=f"10.1.{PERSONAS.index(persona) if persona in PERSONAS else 99}.1")
    user = None if persona == ANONYMOUS else users[persona]
    if user is not None:
        client.force_login(user)
    before = route.probe(campaign) if route.probe else None
    extra = {"HTTP_HX_REQUEST": "true"} if route.htmx else {}

    response = getattr(client, route.method)(_url(route, campaign, invitation), data, **extra)

    expected = _expected(route, user)
    assert response.status_code == expected, (route.id, persona)
    if expected == 302 and user is None:
        assert response["Location"].startswith(reverse("login"))
    if route.probe:
        after = route.probe(campaign)
        if expected in (403, 404) or (user is None and route.who != "public"):
            assert after == before, "a refused request changed something"
        else:
            assert after != before, "an allowed request changed nothing"


def test_the_general_manager_reads_results_but_does_not_run_surveys(
    users: dict[str, User], campaign: Campaign
) -> None:
    client = Client()
    client.force_login(users["gm"])

    assert client.get(reverse("campaign-results", args=[campaign.pk])).status_code == 200
    assert client.get(reverse("campaign-detail", args=[campaign.pk])).status_code == 403
    assert not Response.objects.exists()
