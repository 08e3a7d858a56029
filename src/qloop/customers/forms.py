from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qloop.cases.choices import Gender
from qloop.customers.models import ContactWay, CustomerKind
from qloop.inputs import InputRulesForm
from qloop.web.forms import style_fields


class CustomerForm(InputRulesForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerKind.choices)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_fields(self)


class ContactPersonForm(InputRulesForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.CharField(label=_("Position"), max_length=100, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    qq = forms.CharField(label=_("QQ number"), max_length=20, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style_fields(self)


class ContactRecordForm(InputRulesForm):
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    way = forms.ChoiceField(label=_("Way"), choices=ContactWay.choices)
    contact = forms.TypedChoiceField(
        label=_("Contact person"), coerce=int, required=False, empty_value=None
    )
    summary = forms.CharField(
        label=_("Summary"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000
    )
    case = forms.CharField(label=_("Case number (optional)"), max_length=30, required=False)

    def __init__(self, *args: Any, people: list[tuple[int, str]] | None = None, **kwargs: Any):
        kwargs.setdefault("initial", {"date": timezone.localdate(), "way": ContactWay.PHONE})
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [("", "—"), *(people or [])]  # type: ignore[attr-defined]
        style_fields(self)
