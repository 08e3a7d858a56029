from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer, get_default_renderer
from django.utils.functional import Promise
from django.utils.safestring import SafeData
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from qloop.cases.choices import Channel, FeedbackType, Gender, Severity
from qloop.cases.extra import active_categories, active_fields, form_field
from qloop.inputs import InputRulesForm
from qloop.org import refdata


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos in one input; each is checked by the action, not here."""

    widget: Any = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget = MultipleFileInput(
            attrs={"accept": "image/jpeg,image/png,image/gif,image/webp", "multiple": True}
        )

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files]


def _category_choices() -> list[tuple[str, str]]:
    """The categories offered, labelled in the page's language (kept per process and
    language until a category changes: qloop.org.refdata)."""

    def build() -> tuple[tuple[str, str], ...]:
        offered = [c for c in active_categories() if c.parent_id is not None]
        return (("", "—"), *((c.code, f"{c.code} {c.display_name}") for c in offered))

    return list(refdata.cached(("category_choices", get_language()), build))


def style_fields(form: forms.Form) -> None:
    """Give every widget its Bootstrap class; the templates stay free of widget details."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.HiddenInput):
            continue
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class ExtraFieldsMixin:
    """Adds the organisation's extra fields of one kind to a form, named ``extra__CODE``."""

    fields: dict[str, forms.Field]

    def add_extra_fields(self, kind: str, values: dict[str, Any] | None = None) -> None:
        self.extra_defs = active_fields(kind)
        for definition in self.extra_defs:
            name = f"extra__{definition.code}"
            self.fields[name] = form_field(definition)
            if values and definition.code in values:
                self.fields[name].initial = values[definition.code]

    def extra_values(self) -> dict[str, Any]:
        data: dict[str, Any] = self.cleaned_data  # type: ignore[attr-defined]
        return {d.code: data.get(f"extra__{d.code}") for d in self.extra_defs}

    def extra_bound_fields(self) -> list[Any]:
        return [self[f"extra__{d.code}"] for d in self.extra_defs]  # type: ignore[index]


class CaseFieldsForm(ExtraFieldsMixin, InputRulesForm):
    """The fields of R1.2 that registration and correction share."""

    received_at = forms.DateTimeField(
        label=_("Received at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    severity = forms.ChoiceField(
        label=_("Severity"), choices=Severity.choices, initial=Severity.MINOR
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    contact_name = forms.CharField(label=_("Name"), max_length=100)
    contact_gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    contact_phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    contact_email = forms.EmailField(label=_("E-mail"), required=False)
    contact_qq = forms.RegexField(
        label=_("QQ number"),
        regex=r"^\d{5,12}$",
        required=False,
        error_messages={"invalid": _("A QQ number is 5 to 12 digits.")},
    )
    contact_organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    product_specification = forms.CharField(
        label=_("Specification"), max_length=100, required=False
    )
    product_model = forms.CharField(label=_("Model"), max_length=100, required=False)
    product_quantity = forms.IntegerField(label=_("Quantity"), min_value=0, required=False)
    product_serial_number = forms.CharField(
        label=_("Serial number"), max_length=100, required=False
    )
    symptom = forms.CharField(label=_("Symptom"), widget=forms.Textarea(attrs={"rows": 4}))
    current_status = forms.CharField(
        label=_("Current status"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        *args: Any,
        kind: str = "complaint",
        extra: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _category_choices()  # type: ignore[attr-defined]
        self.add_extra_fields(kind, extra)
        style_fields(self)


class _Uncacheable(Exception):
    """A widget's context holds a value whose output a key cannot stand for."""


def _frozen(value: Any) -> Any:
    """A widget's context as a key: every value that decides the output, with whether a text
    is marked safe (it is then not escaped)."""
    if isinstance(value, str):
        return (isinstance(value, SafeData), value)
    if isinstance(value, Promise):
        text = str(value)
        return (isinstance(text, SafeData), text)
    if value is None or isinstance(value, bool | int | float):
        return (type(value), value)
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return (type(value), *(_frozen(v) for v in value))
    raise _Uncacheable


class KeptWidgets(BaseRenderer):
    """The site's form renderer, keeping the HTML of each widget it renders by the widget's
    context and the language: the empty registration form renders the same widgets for every
    request (its time received changes once a minute), and rendering them through Django's
    widget templates was half of the form page's CPU (issue 14). At most ``size`` widgets
    are kept; then the store starts again."""

    def __init__(self, size: int = 500) -> None:
        self.size = size
        self._kept: dict[Any, Any] = {}

    def get_template(self, template_name: str) -> Any:
        return get_default_renderer().get_template(template_name)

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> Any:
        if request is not None:
            return get_default_renderer().render(template_name, context, request)
        try:
            key = (template_name, get_language(), _frozen(context))
        except _Uncacheable:
            return get_default_renderer().render(template_name, context)
        html = self._kept.get(key)
        if html is None:
            html = get_default_renderer().render(template_name, context)
            if len(self._kept) >= self.size:
                self._kept = {}
            self._kept[key] = html
        return html


_kept_widgets = KeptWidgets()


class _SharedFields(dict[str, forms.Field]):
    """Fields set up once and shared by every form built from them: ``BaseForm.__init__``'s
    deep copy of them is a copy of the dict only."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return dict(self)


class RegistrationForm(CaseFieldsForm):
    """The registration form of a market quality complaint (R1.2) or of customer feedback
    (R2.4, R2.5), which adds its type and calls the symptom what the customer said.

    Its fields are set up once per kind, language and version of the reference data (the
    categories and extra fields they offer: ``qloop.org.refdata``) and shared by every form
    of this process, instead of being deep-copied and set up again for each request (about a
    tenth of a registration's CPU, issue 14). So nothing may change a field of a built form:
    they are read only, as a bound form reads them."""

    photos = MultiplePhotoField(label=_("Photos"))

    def __init__(self, *args: Any, kind: str = "complaint", **kwargs: Any) -> None:
        fields, extra_defs = refdata.cached(
            ("registration_form", kind, get_language()), partial(self._set_up, kind)
        )
        # This instance's; the class keeps its own.
        self.base_fields = _SharedFields(fields)  # type: ignore[misc]
        InputRulesForm.__init__(self, *args, **kwargs)
        self.kind = kind
        self.extra_defs = extra_defs
        if not self.is_bound and "renderer" not in kwargs:
            # An empty form shows the same widgets to everyone: kept, not rendered again.
            self.renderer = _kept_widgets

    @classmethod
    def _set_up(cls, kind: str) -> tuple[dict[str, forms.Field], list[Any]]:
        """The fields of a new form as ``CaseFieldsForm`` and this form set them up, with the
        input rules ``InputRulesForm.full_clean`` would add (so that no request adds them)."""
        form = cls.__new__(cls)
        CaseFieldsForm.__init__(form, kind=kind)
        form._set_up_kind(kind)
        form.add_input_rules()
        return form.fields, form.extra_defs

    def _set_up_kind(self, kind: str) -> None:
        if kind == "feedback":
            self.fields["feedback_type"] = forms.ChoiceField(
                label=_("Type of feedback"),
                choices=[("", "—"), *FeedbackType.choices],
                error_messages={"required": _("Choose the type of feedback.")},
            )
            self.fields["symptom"].label = _("What the customer said")
            self.fields["category"].label = _("Category (R2.10)")
            style_fields(self)


class EditCaseForm(CaseFieldsForm):
    """Correct what was registered; every change is kept on the timeline."""

    title = forms.CharField(label=_("Title"), max_length=200)
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=500)


class CommentForm(InputRulesForm):
    body = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000
    )


class PhotoForm(InputRulesForm):
    photos = MultiplePhotoField(label=_("Photos"))


class ArchiveForm(InputRulesForm):
    reason = forms.CharField(
        label=_("Reason for archiving"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class TokenForm(InputRulesForm):
    name = forms.CharField(label=_("What the token is for"), max_length=100)
