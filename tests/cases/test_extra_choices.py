"""An organisation's choice field in the reader's language (issue 12 point 9, R1.2 "etc."): the
choices are shown in Simplified, Traditional or English, the stored value stays the Simplified
choice, and translations that do not match the choices are refused with a clear message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from qloop.cases.extra import display_value, form_field
from qloop.cases.models import Case, ExtraField

CHANNELS = {
    "zh-hans": ["直销", "经销商", "电商平台", "工程项目"],
    "zh-hant": ["直銷", "經銷商", "電商平台", "工程項目"],
    "en": ["Direct sale", "Distributor", "Online shop", "Engineering project"],
}


@pytest.fixture
def field(org: dict[str, Any]) -> ExtraField:
    return ExtraField.objects.get(code="purchase_channel")


@pytest.mark.parametrize("lang", sorted(CHANNELS))
def test_choices_show_in_the_reader_s_language_and_store_the_simplified_one(
    field: ExtraField, lang: str
) -> None:
    with translation.override(lang):
        shown = [label for value, label in form_field(field).choices if value]  # type: ignore[attr-defined]
        assert shown == CHANNELS[lang]
        assert [v for v, _label in field.display_choices] == CHANNELS["zh-hans"]
        assert display_value(field, "经销商") == CHANNELS[lang][1]


def test_the_case_page_shows_the_choice_in_english(
    make_case: Callable[..., Case], client_for: Callable[[str], Client], users: dict[str, Any]
) -> None:
    case = make_case(extra={"purchase_channel": "电商平台"})
    users["cs"].language = "en"
    users["cs"].save(update_fields=["language"])
    client = client_for("cs")
    client.post(reverse("set-language"), {"language": "en", "next": "/"})
    html = client.get(reverse("case-detail", args=[case.number])).content.decode()
    assert "Online shop" in html and "电商平台" not in html
    assert Case.objects.get(pk=case.pk).extra["purchase_channel"] == "电商平台"


def test_translations_that_do_not_match_the_choices_are_refused(field: ExtraField) -> None:
    field.choices_en = ["Direct sale", "Distributor"]
    with pytest.raises(ValidationError) as refused:
        field.full_clean()
    assert set(refused.value.message_dict) == {"choices_en"}
    field.choices_en = []  # none at all is fine: the Simplified choices are shown
    field.full_clean()
    with translation.override("en"):
        assert [label for _v, label in field.display_choices] == CHANNELS["zh-hans"]
