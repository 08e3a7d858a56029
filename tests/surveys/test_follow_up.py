"""A low score raises a feedback case on its own (R2.6 follow-up, R2.8)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from qloop.cases.models import Case, Contact
from qloop.surveys import actions
from qloop.surveys.models import Campaign, Response, Source
from tests.surveys.conftest import BASE_URL, raw


def _invite(campaign: Campaign, contact: Contact, users: dict[str, Any]) -> Any:
    return actions.invite_contacts(campaign, [contact.pk], base_url=BASE_URL, actor=users["sales"])[
        0
    ]


def test_a_rating_of_two_raises_a_feedback_case_quoting_the_low_items_and_the_comment(
    campaign: Campaign, contacts: list[Contact], users: dict[str, Any]
) -> None:
    invitation = _invite(campaign, contacts[0], users)

    response = actions.submit_response(
        campaign,
        raw(quality=2, service=5, recommend=8, comments="密封件三个月就漏水"),
        source=Source.LINK,
        invitation=invitation,
    )

    case = Case.objects.get()
    assert response.case == case and response.low_score
    assert (case.kind, case.channel) == ("feedback", "survey")
    assert case.contact == contacts[0]
    assert case.department.code == "SALES"  # the feedback intake (R2.5, R2.8)
    symptom = case.product.symptom
    assert "产品制造质量" in symptom and "2/5" in symptom
    assert "密封件三个月就漏水" in symptom
    assert "售后服务态度" not in symptom  # 5 is not low


def test_the_thresholds_are_set_per_campaign(
    campaign: Campaign, contacts: list[Contact], users: dict[str, Any]
) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(low_rating=1, low_recommendation=4)
    campaign.refresh_from_db()
    first, second = (_invite(campaign, c, users) for c in contacts[:2])

    actions.submit_response(
        campaign, raw(quality=2, service=2, recommend=5), source="link", invitation=first
    )
    actions.submit_response(
        campaign, raw(quality=3, service=3, recommend=4), source="link", invitation=second
    )

    assert Case.objects.count() == 1
    assert "4/10" in Case.objects.get().product.symptom


def test_good_scores_raise_nothing(
    campaign: Campaign, contacts: list[Contact], users: dict[str, Any]
) -> None:
    invitation = _invite(campaign, contacts[0], users)

    response = actions.submit_response(
        campaign, raw(quality=3, service=4, recommend=7), source="link", invitation=invitation
    )

    assert not Case.objects.exists() and not response.low_score and response.case is None


def test_an_anonymous_low_score_is_flagged_without_a_case_and_shown_on_the_results_page(
    campaign: Campaign, client_for: Any
) -> None:
    actions.submit_response(campaign, raw(quality=1, service=1, recommend=0), source="public")

    page = client_for("sales").get(reverse("campaign-results", args=[campaign.pk])).content.decode()

    assert Response.objects.get().low_score
    assert not Case.objects.exists()
    assert "follow-ups" in page


def test_the_case_number_is_linked_from_the_results_page(
    campaign: Campaign, users: dict[str, Any], client_for: Any
) -> None:
    actions.submit_response(
        campaign,
        {**raw(quality=5, service=1, recommend=9)},
        source="public",
        respondent=actions.RespondentData(name="赵六", phone="13912345678"),
    )
    case = Case.objects.get()

    page = client_for("gm").get(reverse("campaign-results", args=[campaign.pk])).content.decode()

    assert case.number in page
    assert case.contact.phone == "13912345678"


def test_if_the_case_cannot_be_registered_the_answer_is_not_kept_either(
    campaign: Campaign, contacts: list[Contact], users: dict[str, Any], monkeypatch: Any
) -> None:
    invitation = _invite(campaign, contacts[0], users)
    from qloop.cases import actions as case_actions

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ValidationError({"kind": ["No department is set up to receive this kind of case."]})

    monkeypatch.setattr(case_actions, "register_case", refuse)

    with pytest.raises(ValidationError):
        actions.submit_response(
            campaign, raw(quality=1, service=1, recommend=0), source="link", invitation=invitation
        )

    invitation.refresh_from_db()
    assert invitation.answered_at is None and not Response.objects.exists()
    assert Client().get(reverse("survey-answer", args=[invitation.token])).status_code == 200
