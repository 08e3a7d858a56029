from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from qloop.inputs import InputRulesForm
from qloop.surveys.models import QuestionType
from qloop.web.forms import style_fields


class StyledForm(InputRulesForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_fields(self)


class QuestionnaireForm(StyledForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    title_zh_hant = forms.CharField(
        label=_("Title in Traditional Chinese"), max_length=200, required=False
    )
    title_en = forms.CharField(label=_("Title in English"), max_length=200, required=False)
    intro = forms.CharField(
        label=_("Introduction"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SectionForm(StyledForm):
    title = forms.CharField(label=_("Section title"), max_length=200)


class QuestionForm(StyledForm):
    text = forms.CharField(label=_("Question"), max_length=500)
    type = forms.ChoiceField(label=_("Type"), choices=QuestionType.choices)
    required = forms.BooleanField(label=_("Required"), required=False, initial=True)
    choices = forms.CharField(
        label=_("Options (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only for single and multiple choice."),
    )
    code = forms.SlugField(
        label=_("Code"),
        max_length=40,
        required=False,
        help_text=_("A short name for exports and the API; made up when left empty."),
    )
    text_zh_hant = forms.CharField(
        label=_("Question in Traditional Chinese"), max_length=500, required=False
    )
    text_en = forms.CharField(label=_("Question in English"), max_length=500, required=False)

    def option_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["choices"].splitlines() if line.strip()]


class CampaignForm(StyledForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    opens_at = forms.DateTimeField(
        label=_("Opens"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    closes_at = forms.DateTimeField(
        label=_("Closes"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    public_enabled = forms.BooleanField(
        label=_("Open a public link and QR code"), required=False, initial=True
    )
    low_rating = forms.IntegerField(
        label=_("A rating at or below this raises a feedback case"),
        min_value=1,
        max_value=5,
        initial=2,
    )
    low_recommendation = forms.IntegerField(
        label=_("A recommendation at or below this raises a feedback case"),
        min_value=0,
        max_value=10,
        initial=6,
    )


class ContactSearchForm(StyledForm):
    q = forms.CharField(label=_("Name, e-mail or phone"), required=False, max_length=100)
    organisation = forms.CharField(label=_("Organisation"), required=False, max_length=200)


LANGUAGE_CHOICES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English")]


class InviteForm(StyledForm):
    language = forms.ChoiceField(label=_("Language of the invitation"), choices=LANGUAGE_CHOICES)
