"""Building questionnaires (R2.6): sections, typed questions, order, validation, the template."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from qloop.surveys import actions
from qloop.surveys.models import Campaign, Question, Questionnaire, QuestionType, Source
from tests.surveys.conftest import raw


def test_the_default_template_holds_the_seed_items_a_recommendation_and_a_comment(
    users: dict[str, Any],
) -> None:
    q = actions.create_from_template("csat", actor=users["sales"])

    codes = list(q.questions.values_list("code", flat=True))
    assert q.title == "顾客满意度调查表"
    assert {"quality_manufacturing", "delivery_time", "service_attitude", "price"} <= set(codes)
    types = dict(q.questions.values_list("code", "type"))
    assert types["recommend"] == QuestionType.RECOMMENDATION
    assert types["comments"] == QuestionType.TEXT
    assert [s.title for s in q.sections.all()] == [
        "产品质量",
        "产品交付",
        "售后服务",
        "价格",
        "总体评价",
    ]
    assert q.questions.get(code="service_skill").text_en == "Technical skill of after-sales staff"


def test_the_template_twice_gives_two_questionnaires_with_distinct_titles(
    users: dict[str, Any],
) -> None:
    """Issue 12.18: two copies of the template are told apart by their titles, in every
    language (R2.6)."""
    first = actions.create_from_template("csat", actor=users["sales"])
    second = actions.create_from_template("csat", actor=users["sales"])
    third = actions.create_from_template("csat", actor=users["sales"])

    titles = [(q.title, q.title_zh_hant, q.title_en) for q in (first, second, third)]
    for column in zip(*titles, strict=True):
        assert len(set(column)) == 3
    assert second.title == "顾客满意度调查表（2）"
    assert third.title_en.endswith("(3)")


def test_a_choice_question_needs_two_distinct_options_and_nothing_is_saved_without(
    questionnaire: Questionnaire, users: dict[str, Any]
) -> None:
    section = questionnaire.sections.first()
    assert section is not None
    before = Question.objects.count()

    with pytest.raises(ValidationError) as one:
        actions.add_question(
            section,
            actions.QuestionData(text="交货方式", type="single", choices=["快递"]),
            actor=users["sales"],
        )
    with pytest.raises(ValidationError) as twice:
        actions.add_question(
            section,
            actions.QuestionData(text="交货方式", type="single", choices=["快递", "快递"]),
            actor=users["sales"],
        )
    with pytest.raises(ValidationError) as empty:
        actions.add_question(
            section, actions.QuestionData(text=" ", type="rating"), actor=users["sales"]
        )
    with pytest.raises(ValidationError) as taken:
        actions.add_question(
            section,
            actions.QuestionData(text="重复", type="rating", code="quality"),
            actor=users["sales"],
        )

    assert "choices" in one.value.message_dict and "choices" in twice.value.message_dict
    assert "text" in empty.value.message_dict
    assert "code" in taken.value.message_dict
    assert Question.objects.count() == before


def test_questions_keep_their_order_and_move_up_and_down(
    questionnaire: Questionnaire, users: dict[str, Any]
) -> None:
    section = questionnaire.sections.first()
    assert section is not None
    second = section.questions.get(code="service")

    actions.move_question(second, -1, actor=users["sales"])

    assert list(section.questions.order_by("order").values_list("code", flat=True)) == [
        "service",
        "quality",
    ]


def test_a_question_with_answers_keeps_its_type_and_cannot_be_removed(
    campaign: Campaign, users: dict[str, Any]
) -> None:
    actions.submit_response(campaign, raw(quality=4, service=4, recommend=8), source=Source.PUBLIC)
    question = Question.objects.get(code="quality")

    with pytest.raises(ValidationError):
        actions.update_question(
            question, actions.QuestionData(text="质量", type="recommendation"), actor=users["sales"]
        )
    with pytest.raises(ValidationError):
        actions.delete_question(question, actor=users["sales"])
    actions.update_question(
        question, actions.QuestionData(text="产品的制造质量", type="rating"), actor=users["sales"]
    )

    question.refresh_from_db()
    assert (question.type, question.text) == ("rating", "产品的制造质量")


def test_only_supply_and_sales_and_administrators_build_questionnaires(
    users: dict[str, Any],
) -> None:
    with pytest.raises(PermissionDenied):
        actions.create_questionnaire("问卷", actor=users["cs"])
    assert actions.create_questionnaire("问卷", actor=users["admin"]).pk


def test_the_builder_page_adds_a_section_and_a_question_with_htmx(
    questionnaire: Questionnaire, client_for: Any
) -> None:
    client: Client = client_for("sales")
    htmx = {"HTTP_HX_REQUEST": "true"}

    page = client.post(reverse("section-add", args=[questionnaire.pk]), {"title": "价格"}, **htmx)
    section = questionnaire.sections.get(title="价格")
    added = client.post(
        reverse("question-add", args=[section.pk]),
        {"text": "价格合理性", "type": "rating", "required": "on", "choices": ""},
        **htmx,
    )
    refused = client.post(
        reverse("question-add", args=[section.pk]),
        {"text": "付款方式", "type": "single", "choices": "只有一个"},
        **htmx,
    )

    assert page.status_code == 200 and "价格" in page.content.decode()
    assert added.status_code == 200 and "价格合理性" in added.content.decode()
    assert "<html" not in added.content.decode()  # a partial for htmx
    assert section.questions.filter(text="价格合理性", type="rating", required=True).exists()
    assert "付款方式" in refused.content.decode()  # what was typed is kept
    assert not section.questions.filter(text="付款方式").exists()


def test_create_from_template_button_opens_the_builder(client_for: Any) -> None:
    client: Client = client_for("sales")

    response = client.post(reverse("questionnaire-create"), {"template": "csat"})

    q = Questionnaire.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("questionnaire-builder", args=[q.pk])
    assert "产品制造质量" in client.get(response["Location"]).content.decode()


def test_a_campaign_needs_questions_a_title_and_a_closing_date_after_the_opening(
    users: dict[str, Any], questionnaire: Questionnaire
) -> None:
    empty = actions.create_questionnaire("空问卷", actor=users["sales"])
    from django.utils import timezone

    with pytest.raises(ValidationError) as exc:
        actions.create_campaign(empty, title="", actor=users["sales"])
    with pytest.raises(ValidationError) as dates:
        now = timezone.now()
        actions.create_campaign(
            questionnaire, title="x", opens_at=now, closes_at=now, actor=users["sales"]
        )

    assert {"questionnaire", "title"} <= set(exc.value.message_dict)
    assert "closes_at" in dates.value.message_dict
    assert not Campaign.objects.exists()
