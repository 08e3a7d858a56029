"""Forms of the clinical pages: what a technologist types into the register."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from qloop.clinical.actions import ResultData
from qloop.clinical.models import AbnormalFlag, OpinionType, Sex, Ward
from qloop.inputs import InputRulesForm
from qloop.org.models import Department


def _departments() -> list[tuple[str, str]]:
    return [("", "—")] + [
        (d.code, d.display_name)
        for d in Department.objects.filter(is_active=True, wards__isnull=False).distinct()
    ]


def _wards() -> list[tuple[str, str]]:
    return [("", "—")] + [(w.code, w.display_name) for w in Ward.objects.all()]


class ResultForm(InputRulesForm):
    """One register entry (R5.1); the same fields correct it, with a reason."""

    ordering_department = forms.ChoiceField(label=_("Ordering department"), required=False)
    ordering_doctor_name = forms.CharField(
        label=_("Ordering doctor"), max_length=60, required=False
    )
    patient_name = forms.CharField(label=_("Patient name"), max_length=60)
    patient_id = forms.CharField(label=_("Record number"), max_length=40)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.UNKNOWN)
    age_years = forms.DecimalField(
        label=_("Age (years)"), required=False, min_value=0, max_value=149, decimal_places=2
    )
    ward = forms.ChoiceField(label=_("Ward"), required=False)
    bed = forms.CharField(label=_("Bed"), max_length=20, required=False)
    test_code = forms.CharField(label=_("Test code"), max_length=64, required=False)
    test_name = forms.CharField(label=_("Test or study"), max_length=200)
    specimen = forms.CharField(label=_("Specimen"), max_length=100, required=False)
    result_value = forms.CharField(
        label=_("Result"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    unit = forms.CharField(label=_("Unit"), max_length=40, required=False)
    reference_range = forms.CharField(label=_("Reference range"), max_length=100, required=False)
    abnormal_flag = forms.ChoiceField(
        label=_("Abnormal flag"), required=False, choices=[("", "—"), *AbnormalFlag.choices]
    )
    repeat_result = forms.CharField(label=_("Repeat result"), max_length=200, required=False)
    accession = forms.CharField(label=_("Specimen number"), max_length=64, required=False)
    collected_at = forms.DateTimeField(
        label=_("Collected"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    received_at = forms.DateTimeField(
        label=_("Received"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    reported_at = forms.DateTimeField(
        label=_("Reported"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ordering_department"].choices = _departments()  # type: ignore[attr-defined]
        self.fields["ward"].choices = _wards()  # type: ignore[attr-defined]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control form-control-sm")

    def result_data(self) -> ResultData:
        d = self.cleaned_data
        return ResultData(
            **{k: (v if v is not None else "") for k, v in d.items()}
            | {
                "age_years": d.get("age_years"),
                "collected_at": d.get("collected_at"),
                "received_at": d.get("received_at"),
                "reported_at": d.get("reported_at"),
            }
        )


class CorrectionForm(ResultForm):
    reason = forms.CharField(
        label=_("Reason for the correction"), widget=forms.Textarea(attrs={"rows": 2})
    )

    def result_data(self) -> ResultData:
        self.cleaned_data = {k: v for k, v in self.cleaned_data.items() if k != "reason"}
        return super().result_data()


class ImportForm(InputRulesForm):
    file = forms.FileField(label=_("Spreadsheet (.xlsx)"))


class OpinionForm(InputRulesForm):
    """A patient's opinion: on the public phone page and typed in by staff (R5.4)."""

    opinion_type = forms.ChoiceField(
        label=_("Type"), choices=OpinionType.choices, widget=forms.RadioSelect
    )
    content = forms.CharField(
        label=_("Your opinion"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5})
    )
    patient_name = forms.CharField(label=_("Name (optional)"), max_length=60, required=False)
    phone = forms.CharField(label=_("Phone (optional)"), max_length=30, required=False)


class SpecialRequestForm(InputRulesForm):
    register = forms.ChoiceField(label=_("Asked of"))
    requesting_department = forms.ChoiceField(label=_("Requesting department"))
    test_or_study = forms.CharField(label=_("Test or study"), max_length=200)
    clinical_reason = forms.CharField(
        label=_("Clinical reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    needed_by = forms.DateField(
        label=_("Needed by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, registers: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["register"].choices = registers  # type: ignore[attr-defined]
        self.fields["requesting_department"].choices = _departments()[1:]  # type: ignore[attr-defined]
