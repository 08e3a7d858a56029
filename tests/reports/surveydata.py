"""Two campaigns of one questionnaire with hand-counted answers, made through the surveys
app's models (the numbers below are worked out by hand, not by the code under test)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from qloop.cases.models import Contact
from qloop.surveys.models import (
    Answer,
    Campaign,
    Invitation,
    Question,
    Questionnaire,
    Response,
    Section,
)

# This campaign: product quality 5,4,3,2 (CSAT 50), service 5,5,4,1 (CSAT 75), all ratings
# 5 of 8 at 4–5 (CSAT 62.5); recommendation 10,9,6,8 (NPS (2−1)/4 = 25). Three of four
# personal links answered (75 %), one public answer.
CURRENT = {"quality": [5, 4, 3, 2], "service": [5, 5, 4, 1], "recommend": [10, 9, 6, 8]}
# The previous one: quality 3,3 (0), service 4,2 (50), all 1 of 4 (25); recommend 5,10 (0).
PREVIOUS = {"quality": [3, 3], "service": [4, 2], "recommend": [5, 10]}
COMMENT = "交货期希望再短一些"


@dataclass
class Campaigns:
    previous: Campaign
    current: Campaign


def make_campaigns(users: dict[str, Any]) -> Campaigns:
    q = Questionnaire.objects.create(title="顾客满意度调查表", created_by=users["sales"])
    section = Section.objects.create(questionnaire=q, title="总体评价", order=1)
    questions = {
        "quality": Question.objects.create(
            questionnaire=q,
            section=section,
            code="quality",
            text="产品质量",
            type="rating",
            order=1,
        ),
        "service": Question.objects.create(
            questionnaire=q,
            section=section,
            code="service",
            text="售后服务",
            type="rating",
            order=2,
        ),
        "recommend": Question.objects.create(
            questionnaire=q,
            section=section,
            code="recommend",
            text="您向同行推荐我公司的可能性",
            type="recommendation",
            order=3,
        ),
        "comment": Question.objects.create(
            questionnaire=q,
            section=section,
            code="comment",
            text="意见和建议",
            type="text",
            required=False,
            order=4,
        ),
    }
    now = timezone.now()
    previous = Campaign.objects.create(
        questionnaire=q,
        title="2025年度顾客满意度调查",
        opens_at=now - dt.timedelta(days=400),
        closes_at=now - dt.timedelta(days=370),
    )
    current = Campaign.objects.create(
        questionnaire=q,
        title="2026年度顾客满意度调查",
        opens_at=now - dt.timedelta(days=40),
        closes_at=now - dt.timedelta(days=10),
    )
    _answers(previous, questions, PREVIOUS, invited=2, public=0)
    _answers(current, questions, CURRENT, invited=4, public=1, comment=COMMENT)
    return Campaigns(previous, current)


def _answers(
    campaign: Campaign,
    questions: dict[str, Question],
    values: dict[str, list[int]],
    *,
    invited: int,
    public: int,
    comment: str = "",
) -> None:
    count = len(values["quality"])
    invitations = []
    for i in range(invited):
        contact = Contact.objects.create(
            name=f"客户{campaign.pk}-{i}", email=f"c{campaign.pk}-{i}@example.cn"
        )
        invitations.append(
            Invitation.objects.create(campaign=campaign, contact=contact, email=contact.email)
        )
    for i in range(count):
        by_link = i < count - public
        response = Response.objects.create(
            campaign=campaign,
            invitation=invitations[i] if by_link else None,
            source="link" if by_link else "public",
        )
        for code, answers in values.items():
            Answer.objects.create(
                response=response, campaign=campaign, question=questions[code], value=answers[i]
            )
        if comment and i == 0:
            Answer.objects.create(
                response=response, campaign=campaign, question=questions["comment"], text=comment
            )
