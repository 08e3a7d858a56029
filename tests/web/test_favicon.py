"""`/favicon.ico` is served to everyone, on the public survey pages too (issue 12.21)."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse


def test_the_favicon_is_an_icon_without_logging_in(db: Any) -> None:
    response = Client().get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # the ICO header
    assert "max-age" in response["Cache-Control"]


def test_a_public_survey_page_and_its_favicon_both_answer(db: Any, users: dict[str, Any]) -> None:
    from django.utils import timezone

    from qloop.surveys import actions

    questionnaire = actions.create_from_template("csat", actor=users["sales"])
    campaign = actions.create_campaign(
        questionnaire, title="2027", opens_at=timezone.now(), actor=users["sales"]
    )
    visitor = Client()

    page = visitor.get(reverse("survey-public", args=[campaign.public_token]))
    icon = visitor.get("/favicon.ico", HTTP_REFERER=page.request["PATH_INFO"])

    assert page.status_code == 200 and icon.status_code == 200
