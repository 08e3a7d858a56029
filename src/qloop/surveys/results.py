"""Survey results (R2.7): response rate, satisfaction index (CSAT), NPS, distributions and
comments, computed in the database with GROUP BY on the answer values, never by looping over
answers in Python. The reports app builds the summary report and the management review on
these numbers; keep the contract stable.

- CSAT: the share (0–100) of 1–5 ratings that are 4 or 5.
- NPS: the share of 9–10 minus the share of 0–6 on 0–10 recommendation questions (−100…100).
- Response rate: personal links answered / personal links sent, a fraction from 0 to 1. Answers through the public
  link or typed in from paper without a personal link are counted in ``public_answers``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import timezone

from qloop.surveys.models import Answer, Campaign, Invitation, Question, QuestionType, Response

COMMENTS_PER_QUESTION = 50


@dataclass(frozen=True)
class QuestionResult:
    question_id: int
    code: str
    text: str
    type: str
    answered: int
    mean: float | None  # rating/score questions
    csat: float | None  # 0–100: share of answers 4–5 on 1–5 ratings
    nps: float | None  # −100…100 on 0–10 recommendation questions
    distribution: dict[str, int]  # value or choice → count, all options present (zeros too)
    comments: list[str]  # free text answers (most recent first, capped)


@dataclass(frozen=True)
class CampaignResults:
    campaign_id: int
    title: str
    invited: int
    answered: int
    response_rate: float | None  # answered personal links / invited, a fraction 0–1
    public_answers: int
    csat: float | None
    nps: float | None
    questions: list[QuestionResult]
    previous: CampaignResults | None  # the previous campaign of the same questionnaire


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def csat_of(counts: dict[int, int]) -> float | None:
    total = sum(counts.values())
    if not total:
        return None
    return _round(100.0 * sum(n for v, n in counts.items() if v >= 4) / total)


def nps_of(counts: dict[int, int]) -> float | None:
    total = sum(counts.values())
    if not total:
        return None
    promoters = sum(n for v, n in counts.items() if v >= 9)
    detractors = sum(n for v, n in counts.items() if v <= 6)
    return _round(100.0 * (promoters - detractors) / total)


def mean_of(counts: dict[int, int]) -> float | None:
    total = sum(counts.values())
    if not total:
        return None
    return round(sum(v * n for v, n in counts.items()) / total, 2)


def campaign_results(campaign_id: int, *, with_previous: bool = True) -> CampaignResults:
    """The numbers of one campaign (and, with ``with_previous``, of the one before it)."""
    campaign = Campaign.objects.get(pk=campaign_id)
    questions = list(Question.objects.filter(questionnaire_id=campaign.questionnaire_id))

    # One GROUP BY over the (campaign, question, value) index gives every distribution.
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    texts: dict[int, int] = {}
    rows = (
        Answer.objects.filter(campaign_id=campaign_id)
        .values_list("question_id", "value")
        .annotate(n=Count("*"))
        .order_by()
    )
    for question_id, value, n in rows:
        if value is None:
            texts[question_id] = texts.get(question_id, 0) + n
        else:
            counts[question_id][value] = n
    multiple = [q.pk for q in questions if q.type == QuestionType.MULTIPLE]
    respondents: dict[int, int] = {}
    if multiple:
        respondents = dict(
            Answer.objects.filter(campaign_id=campaign_id, question_id__in=multiple)
            .values_list("question_id")
            .annotate(n=Count("response_id", distinct=True))
            .order_by()
        )

    responses = Response.objects.filter(campaign_id=campaign_id).aggregate(
        personal=Count("pk", filter=Q(invitation__isnull=False)),
        other=Count("pk", filter=Q(invitation__isnull=True)),
    )
    invited = Invitation.objects.filter(campaign_id=campaign_id).count()

    results = []
    all_ratings: dict[int, int] = defaultdict(int)
    all_recommendations: dict[int, int] = defaultdict(int)
    for question in questions:
        got = counts.get(question.pk, {})
        mean = csat = nps = None
        comments: list[str] = []
        if question.type == QuestionType.RATING:
            distribution = {str(v): got.get(v, 0) for v in range(1, 6)}
            answered = sum(got.values())
            mean, csat = mean_of(got), csat_of(got)
            for v, n in got.items():
                all_ratings[v] += n
        elif question.type == QuestionType.RECOMMENDATION:
            distribution = {str(v): got.get(v, 0) for v in range(0, 11)}
            answered = sum(got.values())
            mean, nps = mean_of(got), nps_of(got)
            for v, n in got.items():
                all_recommendations[v] += n
        elif question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            distribution = {c: got.get(i, 0) for i, c in enumerate(question.choices)}
            answered = (
                respondents.get(question.pk, 0)
                if question.type == QuestionType.MULTIPLE
                else sum(got.values())
            )
        else:
            distribution = {}
            answered = texts.get(question.pk, 0)
            if answered:
                comments = list(
                    Answer.objects.filter(campaign_id=campaign_id, question_id=question.pk)
                    .exclude(text="")
                    .order_by("-response__submitted_at", "-pk")
                    .values_list("text", flat=True)[:COMMENTS_PER_QUESTION]
                )
        results.append(
            QuestionResult(
                question_id=question.pk,
                code=question.code,
                text=question.display_text,
                type=question.type,
                answered=answered,
                mean=mean,
                csat=csat,
                nps=nps,
                distribution=distribution,
                comments=comments,
            )
        )

    previous = None
    if with_previous:
        before = (
            Campaign.objects.filter(questionnaire_id=campaign.questionnaire_id)
            .filter(
                Q(opens_at__lt=campaign.opens_at)
                | Q(opens_at=campaign.opens_at, pk__lt=campaign.pk)
            )
            .order_by("-opens_at", "-pk")
            .values_list("pk", flat=True)
            .first()
        )
        if before is not None:
            previous = campaign_results(before, with_previous=False)

    personal = responses["personal"]
    return CampaignResults(
        campaign_id=campaign.pk,
        title=campaign.title,
        invited=invited,
        answered=personal,
        response_rate=round(personal / invited, 4) if invited else None,
        public_answers=responses["other"],
        csat=csat_of(all_ratings),
        nps=nps_of(all_recommendations),
        questions=results,
        previous=previous,
    )


def last_campaign_closed_at() -> dt.datetime | None:
    """When the most recent campaign that has closed closed (None when none has)."""
    found: dt.datetime | None = Campaign.objects.filter(closes_at__lte=timezone.now()).aggregate(
        m=Max("closes_at")
    )["m"]
    return found
