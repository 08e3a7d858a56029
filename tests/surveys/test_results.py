"""Results of a campaign (R2.7) on a hand-made data set, numbers computed by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from qloop.cases.models import Contact
from qloop.surveys import actions
from qloop.surveys.models import Campaign, Questionnaire, Response, Source
from qloop.surveys.results import campaign_results, last_campaign_closed_at
from tests.surveys.conftest import BASE_URL, raw


def _five_answers(answer: Callable[..., Response]) -> None:
    # quality: 5 4 4 3 3   service: 5 5 3 4 4   recommend: 10 9 9 7 3
    answer(quality=5, service=5, recommend=10, buy_again=0, needs=[0, 1], comments="很好")
    answer(quality=4, service=5, recommend=9, buy_again=0, needs=[1])
    answer(quality=4, service=3, recommend=9, buy_again=1, comments="交货慢")
    answer(quality=3, service=4, recommend=7, needs=[0, 1, 2])
    answer(quality=3, service=4, recommend=3, buy_again=2, comments="价格偏高")


def test_indices_per_question_and_overall_match_a_hand_count(
    campaign: Campaign, answer: Callable[..., Response]
) -> None:
    _five_answers(answer)

    results = campaign_results(campaign.pk)
    by_code = {q.code: q for q in results.questions}

    quality, service = by_code["quality"], by_code["service"]
    # CSAT = share of 4–5: quality 3/5 = 60 %, service 4/5 = 80 %; overall 7/10 = 70 %.
    assert quality.csat == 60.0
    assert service.csat == 80.0
    assert results.csat == 70.0
    assert quality.mean == round((5 + 4 + 4 + 3 + 3) / 5, 2)
    assert quality.distribution == {"1": 0, "2": 0, "3": 2, "4": 2, "5": 1}
    # NPS: promoters (9–10) 3, detractors (0–6) 1, of 5: (3 − 1) / 5 = +40.
    recommend = by_code["recommend"]
    assert recommend.nps == 40.0
    assert results.nps == 40.0
    assert recommend.mean == 7.6
    assert recommend.distribution["9"] == 2
    assert set(recommend.distribution) == {str(v) for v in range(11)}
    assert recommend.csat is None and quality.nps is None


def test_choices_are_counted_by_option_with_zeros_and_respondents(
    campaign: Campaign, answer: Callable[..., Response]
) -> None:
    _five_answers(answer)

    by_code = {q.code: q for q in campaign_results(campaign.pk).questions}

    assert by_code["buy_again"].distribution == {"会": 2, "可能会": 1, "不会": 1}
    assert by_code["buy_again"].answered == 4
    # Multiple choice: one count per option; "answered" counts respondents, not ticks.
    assert by_code["needs"].distribution == {"配件": 2, "维修": 3, "培训": 1}
    assert by_code["needs"].answered == 3


def test_comments_come_most_recent_first(
    campaign: Campaign, answer: Callable[..., Response]
) -> None:
    _five_answers(answer)
    Response.objects.filter(answers__text="很好").update(
        submitted_at=timezone.now() - dt.timedelta(hours=1)
    )

    comments = {q.code: q for q in campaign_results(campaign.pk).questions}["comments"]

    assert comments.answered == 3
    assert comments.comments[0] == "价格偏高"
    assert comments.comments[-1] == "很好"


def test_response_rate_counts_personal_links_and_public_answers_apart(
    campaign: Campaign, contacts: list[Contact], users: dict[str, Any]
) -> None:
    invitations = actions.invite_contacts(
        campaign, [c.pk for c in contacts], base_url=BASE_URL, actor=users["sales"]
    )
    for invitation in invitations[:3]:
        actions.submit_response(
            campaign,
            raw(quality=5, service=5, recommend=10),
            source=Source.LINK,
            invitation=invitation,
        )
    actions.submit_response(campaign, raw(quality=4, service=4, recommend=8), source=Source.PUBLIC)
    actions.submit_response(
        campaign, raw(quality=4, service=5, recommend=9), source=Source.PAPER, actor=users["sales"]
    )

    results = campaign_results(campaign.pk)

    assert (results.invited, results.answered) == (4, 3)
    assert results.response_rate == 0.75
    assert results.public_answers == 2


def test_an_empty_campaign_has_no_indices_rather_than_zero(campaign: Campaign) -> None:
    results = campaign_results(campaign.pk)

    assert results.csat is None and results.nps is None and results.response_rate is None
    assert all(q.answered == 0 for q in results.questions)
    assert results.previous is None


def test_the_previous_campaign_of_the_same_questionnaire_is_there_to_compare(
    questionnaire: Questionnaire, users: dict[str, Any]
) -> None:
    now = timezone.now()
    last_year = actions.create_campaign(
        questionnaire,
        title="2025",
        opens_at=now - dt.timedelta(days=400),
        closes_at=now - dt.timedelta(days=370),
        actor=users["sales"],
    )
    this_year = actions.create_campaign(
        questionnaire, title="2026", opens_at=now - dt.timedelta(days=1), actor=users["sales"]
    )
    actions.submit_response(
        last_year, raw(quality=2, service=2, recommend=5), source=Source.PAPER, actor=users["sales"]
    )
    actions.submit_response(this_year, raw(quality=5, service=4, recommend=10), source="public")

    results = campaign_results(this_year.pk)

    assert results.csat == 100.0
    assert results.previous is not None
    assert results.previous.title == "2025"
    assert results.previous.csat == 0.0
    assert results.previous.nps == -100.0
    assert results.previous.previous is None
    assert last_campaign_closed_at() == last_year.closes_at
