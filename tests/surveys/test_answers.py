"""Answering: personal link once, public link rate-limited, closed campaigns, phone form (R2.6)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from qloop.cases.models import Contact
from qloop.surveys import actions
from qloop.surveys.models import Answer, Campaign, Invitation, Response
from tests.surveys.conftest import BASE_URL

FULL = {"q_quality": "4", "q_service": "5", "q_recommend": "9", "q_comments": "不错"}


@pytest.fixture
def invitation(campaign: Campaign, contacts: list[Contact], users: dict[str, Any]) -> Invitation:
    return actions.invite_contacts(
        campaign, [contacts[0].pk], base_url=BASE_URL, actor=users["sales"]
    )[0]


def test_a_personal_link_answers_once_and_a_second_submit_changes_nothing(
    invitation: Invitation,
) -> None:
    url = reverse("survey-answer", args=[invitation.token])
    client = Client()

    first = client.post(url, FULL)
    second = client.post(url, {**FULL, "q_quality": "1"})
    again = client.get(url)

    assert first.status_code == 200
    assert 'id="thanks"' in first.content.decode()
    assert "already-answered" in second.content.decode()
    assert "already-answered" in again.content.decode()
    assert Response.objects.count() == 1
    assert Answer.objects.get(question__code="quality").value == 4
    invitation.refresh_from_db()
    assert invitation.answered_at is not None


def test_a_second_submit_through_the_action_is_refused(invitation: Invitation) -> None:
    actions.submit_response(
        invitation.campaign,
        {"quality": ["4"], "service": ["4"], "recommend": ["8"]},
        source="link",
        invitation=invitation,
    )
    with pytest.raises(actions.AlreadyAnswered):
        actions.submit_response(
            invitation.campaign,
            {"quality": ["1"], "service": ["1"], "recommend": ["0"]},
            source="link",
            invitation=invitation,
        )
    assert Response.objects.count() == 1


def test_unknown_tokens_are_not_found(campaign: Campaign) -> None:
    assert Client().get(reverse("survey-answer", args=["guessed-token"])).status_code == 404
    assert Client().get(reverse("survey-public", args=["guessed-token"])).status_code == 404


def test_missing_required_answers_are_named_and_what_was_typed_is_kept(
    campaign: Campaign,
) -> None:
    url = reverse("survey-public", args=[campaign.public_token])

    response = Client().post(url, {"q_quality": "4", "q_comments": "包装破损", "q_recommend": "11"})

    html = response.content.decode()
    assert response.status_code == 422
    with translation.override("zh-hans"):
        assert gettext("Please answer this question.") in html
    assert "包装破损" in html
    assert 'id="q_quality-4" value="4" autocomplete="off" checked' in html
    assert not Response.objects.exists()


def test_the_answer_page_speaks_the_chosen_language(campaign: Campaign) -> None:
    from qloop.surveys.models import Question

    Question.objects.filter(code="quality").update(text_en="Manufacturing quality")
    url = reverse("survey-public", args=[campaign.public_token])

    english = Client().get(url + "?lang=en")
    chinese = Client().get(url)

    assert english["Content-Language"] == "en"
    assert "Manufacturing quality" in english.content.decode()
    assert chinese["Content-Language"] == "zh-hans"
    assert "产品制造质量" in chinese.content.decode()


def test_public_answers_are_rate_limited_per_address(campaign: Campaign, settings: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.QLOOP_SURVEY_ANSWERS_PER_HOUR = 2
    url = reverse("survey-public", args=[campaign.public_token])
    client = Client(REMOTE_ADDR="10.0.0.7")
    other = Client(REMOTE_ADDR="10.0.0.8")

    codes = [client.post(url, FULL).status_code for _ in range(3)]
    elsewhere = other.post(url, FULL)

    assert codes == [200, 200, 429]
    assert elsewhere.status_code == 200
    third = client.post(url, FULL).content.decode()
    assert "一小时" in third or "in an hour" in third
    assert "不错" in third  # the answers are still on the page
    assert Response.objects.count() == 3


def test_a_closed_or_not_yet_open_campaign_refuses_answers_politely(
    campaign: Campaign, invitation: Invitation
) -> None:
    public = reverse("survey-public", args=[campaign.public_token])
    personal = reverse("survey-answer", args=[invitation.token])
    Campaign.objects.filter(pk=campaign.pk).update(
        closes_at=timezone.now() - dt.timedelta(minutes=1)
    )

    closed = Client().post(public, FULL)
    closed_link = Client().post(personal, FULL)
    Campaign.objects.filter(pk=campaign.pk).update(
        opens_at=timezone.now() + dt.timedelta(days=3), closes_at=None
    )
    early = Client().get(public)

    assert closed.status_code == closed_link.status_code == early.status_code == 410
    assert 'id="closed"' in closed.content.decode()
    assert not Response.objects.exists()


def test_the_public_answer_may_leave_contact_details_which_must_be_valid(
    campaign: Campaign,
) -> None:
    url = reverse("survey-public", args=[campaign.public_token])

    bad = Client().post(url, {**FULL, "respondent_name": "赵六"})
    good = Client().post(
        url, {**FULL, "respondent_name": "赵六", "respondent_phone": "13912345678"}
    )

    assert bad.status_code == 422
    assert good.status_code == 200
    response = Response.objects.get()
    assert response.contact is not None and response.contact.phone == "13912345678"
