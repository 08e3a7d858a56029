"""Forms of the pharmacy pages: what a pharmacist, a physician or a patient types in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from qloop.inputs import InputRulesForm
from qloop.pharmacy.models import (
    Causality,
    Challenge,
    Criterion,
    Drug,
    FeedbackSource,
    Finding,
    Outcome,
    ProblemType,
    ReportType,
    Seriousness,
    Sex,
    UnitType,
)


def drug_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [
        (str(d.pk), str(d)) for d in Drug.objects.filter(is_active=True).order_by("generic_name")
    ]


def style(fields: dict[str, Any]) -> None:
    """Bootstrap classes on the widgets (no inline style: the CSP allows none)."""
    for field in fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            continue
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs["class"] = "form-check-input"
        elif isinstance(widget, forms.Select):
            widget.attrs["class"] = "form-select"
        else:
            widget.attrs["class"] = "form-control"


class DrugChoiceMixin:
    fields: dict[str, Any]

    def _drug_choices(self) -> None:
        style(self.fields)
        choices = drug_choices()
        for name in ("drug_id", "concomitant_drug_id"):
            if name in self.fields:
                self.fields[name].choices = choices


class FeedbackForm(DrugChoiceMixin, InputRulesForm):
    """Drug quality feedback typed in by staff (R3.3)."""

    drug_id = forms.ChoiceField(label=_("Drug (catalogue)"), required=False)
    batch_number = forms.CharField(label=_("Batch number"), max_length=40, required=False)
    drug_text = forms.CharField(
        label=_("Drug as told (if not in the catalogue)"), max_length=200, required=False
    )
    problem = forms.ChoiceField(label=_("Problem"), choices=ProblemType.choices)
    description = forms.CharField(
        label=_("Description"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    source = forms.ChoiceField(label=_("Source"), choices=FeedbackSource.choices)
    patient_name = forms.CharField(label=_("Patient name"), max_length=60, required=False)
    patient_phone = forms.CharField(label=_("Patient phone"), max_length=30, required=False)
    major = forms.BooleanField(label=_("Major problem (report to the regulator)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drug_choices()


class PublicFeedbackForm(InputRulesForm):
    """What a patient tells on the public page (R3.1)."""

    drug_text = forms.CharField(label=_("Drug name (as on the box)"), max_length=200)
    batch_text = forms.CharField(
        label=_("Batch number (批号, optional)"), max_length=40, required=False
    )
    problem = forms.ChoiceField(label=_("What is wrong"), choices=ProblemType.choices)
    description = forms.CharField(
        label=_("Describe it"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    patient_name = forms.CharField(label=_("Name (optional)"), max_length=60, required=False)
    patient_phone = forms.CharField(label=_("Phone (optional)"), max_length=30, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        style(self.fields)
        self.fields["problem"].widget = forms.RadioSelect(choices=ProblemType.choices)


class CounterfeitForm(DrugChoiceMixin, InputRulesForm):
    """Opening a counterfeit or substandard drug case (立案, R3.4)."""

    drug_id = forms.ChoiceField(label=_("Drug (catalogue)"))
    batch_number = forms.CharField(label=_("Batch number"), max_length=40)
    where_found = forms.CharField(label=_("Where found"), max_length=200)
    how_found = forms.CharField(
        label=_("How found"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    criteria = forms.MultipleChoiceField(
        label=_("Criteria of the Drug Administration Law (2019)"),
        choices=Criterion.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    finding = forms.ChoiceField(label=_("Finding so far"), choices=Finding.choices)
    store = forms.CharField(label=_("Stock on hold: store"), max_length=80)
    quantity = forms.IntegerField(label=_("Quantity on hold"), min_value=0)
    unit = forms.CharField(label=_("Unit"), max_length=20, required=False, initial="盒")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drug_choices()


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"})


def _moment_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"})


class AdrForm(DrugChoiceMixin, InputRulesForm):
    """The national form 《药品不良反应/事件报告表》 (Order 81, appendix 1), one suspect and one
    concomitant drug (the API takes any number)."""

    report_type = forms.ChoiceField(label=_("Report type"), choices=ReportType.choices)
    follow_up_of = forms.CharField(
        label=_("Follows up report (number)"), max_length=30, required=False
    )
    seriousness = forms.ChoiceField(label=_("Seriousness"), choices=Seriousness.choices)
    unit_type = forms.ChoiceField(label=_("Reporting unit type"), choices=UnitType.choices)
    aware_at = forms.DateTimeField(
        label=_("Aware since (deadlines count from here)"), required=False, widget=_moment_input()
    )
    patient_name = forms.CharField(label=_("Patient name"), max_length=60, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, initial=Sex.UNKNOWN)
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=_date_input())
    age_years = forms.IntegerField(label=_("Age"), required=False, min_value=0, max_value=149)
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=20, required=False)
    weight_kg = forms.DecimalField(label=_("Weight (kg)"), required=False, min_value=0)
    patient_contact = forms.CharField(label=_("Patient contact"), max_length=60, required=False)
    hospital = forms.CharField(label=_("Hospital"), max_length=120, required=False)
    record_number = forms.CharField(label=_("Record number"), max_length=40, required=False)
    underlying_disease = forms.CharField(
        label=_("Underlying disease"), max_length=5000, required=False
    )
    past_adr = forms.CharField(label=_("Past ADR"), max_length=5000, required=False)
    family_adr = forms.CharField(label=_("Family ADR"), max_length=5000, required=False)
    history = forms.MultipleChoiceField(
        label=_("Relevant history"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[
            ("smoking", _("Smoking")),
            ("alcohol", _("Alcohol")),
            ("pregnancy", _("Pregnancy")),
            ("liver", _("Liver disease")),
            ("kidney", _("Kidney disease")),
            ("allergy", _("Allergy")),
            ("other", _("Other")),
        ],
    )
    history_other = forms.CharField(label=_("Other history"), max_length=200, required=False)
    drug_id = forms.ChoiceField(label=_("Suspect drug (catalogue)"), required=False)
    generic_name = forms.CharField(
        label=_("Suspect drug (if not in the catalogue)"), max_length=120, required=False
    )
    batch_number = forms.CharField(label=_("Batch number"), max_length=40, required=False)
    dose = forms.CharField(label=_("Dose"), max_length=40, required=False)
    route = forms.CharField(label=_("Route"), max_length=40, required=False)
    times_per_day = forms.CharField(label=_("Times per day"), max_length=20, required=False)
    started_on = forms.DateField(label=_("Started"), required=False, widget=_date_input())
    stopped_on = forms.DateField(label=_("Stopped"), required=False, widget=_date_input())
    reason = forms.CharField(label=_("Reason for use"), max_length=200, required=False)
    concomitant_drug_id = forms.ChoiceField(label=_("Concomitant drug"), required=False)
    reaction = forms.CharField(label=_("Reaction"), max_length=200, required=False)
    onset_at = forms.DateTimeField(label=_("Onset"), required=False, widget=_moment_input())
    course = forms.CharField(
        label=_("Course and treatment"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    sequelae = forms.CharField(label=_("Sequelae"), max_length=200, required=False)
    death_cause = forms.CharField(label=_("Cause of death"), max_length=200, required=False)
    death_at = forms.DateTimeField(label=_("Time of death"), required=False, widget=_moment_input())
    dechallenge = forms.ChoiceField(label=_("Dechallenge"), choices=Challenge.choices)
    rechallenge = forms.ChoiceField(label=_("Rechallenge"), choices=Challenge.choices)
    disease_effect = forms.CharField(
        label=_("Effect on the underlying disease"), max_length=60, required=False
    )
    causality_reporter = forms.ChoiceField(
        label=_("Causality (reporter)"), choices=[("", "—"), *Causality.choices], required=False
    )
    causality_reporter_signed = forms.CharField(
        label=_("Signed (reporter)"), max_length=60, required=False
    )
    causality_unit = forms.ChoiceField(
        label=_("Causality (unit)"), choices=[("", "—"), *Causality.choices], required=False
    )
    causality_unit_signed = forms.CharField(label=_("Signed (unit)"), max_length=60, required=False)
    reporter_name = forms.CharField(label=_("Reporter"), max_length=60, required=False)
    reporter_phone = forms.CharField(label=_("Reporter phone"), max_length=30, required=False)
    reporter_occupation = forms.CharField(
        label=_("Reporter occupation"), max_length=40, required=False
    )
    reporter_email = forms.CharField(label=_("Reporter e-mail"), max_length=120, required=False)
    reporting_unit = forms.CharField(label=_("Reporting unit"), max_length=120, required=False)
    unit_contact = forms.CharField(label=_("Unit contact"), max_length=60, required=False)
    unit_phone = forms.CharField(label=_("Unit phone"), max_length=30, required=False)
    report_date = forms.DateField(label=_("Report date"), required=False, widget=_date_input())
    part_of_group = forms.BooleanField(label=_("Part of a group event"), required=False)
    quality_suspected = forms.BooleanField(
        label=_("May come from the drug's quality"), required=False
    )

    DRUG_FIELDS = (
        "drug_id",
        "generic_name",
        "batch_number",
        "dose",
        "route",
        "times_per_day",
        "started_on",
        "stopped_on",
        "reason",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drug_choices()

    def detail(self) -> dict[str, Any]:
        """The cleaned form as the kind's detail (the API's shape)."""
        data = dict(self.cleaned_data)
        suspect = {k: data.pop(k) for k in self.DRUG_FIELDS}
        concomitant = data.pop("concomitant_drug_id")
        drugs: list[dict[str, Any]] = []
        if suspect["drug_id"] or suspect["generic_name"]:
            drugs.append({"role": "suspect", **{k: v for k, v in suspect.items() if v}})
        if concomitant:
            drugs.append({"role": "concomitant", "drug_id": concomitant})
        data["drugs"] = drugs
        return {k: v for k, v in data.items() if v not in (None, "")} | {
            "drugs": drugs,
            "part_of_group": data["part_of_group"],
            "quality_suspected": data["quality_suspected"],
        }
