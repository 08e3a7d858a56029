"""The laboratory's and radiology's registers, the findings fed back to clinicians, the
infectious-disease report cards and the messages from hospital systems (document 5, R5.1–R5.8).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qloop.org.models import Chained, Department, TranslatedName


class Modality(models.TextChoices):
    LABORATORY = "laboratory", _("Laboratory")
    IMAGING = "imaging", _("Imaging")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "U", _("Unknown")


class AbnormalFlag(models.TextChoices):
    """OBX-8 (HL7 table 0078), the flags a laboratory prints beside a result."""

    NORMAL = "N", _("Normal")
    HIGH = "H", _("High")
    LOW = "L", _("Low")
    CRITICAL_HIGH = "HH", _("Critically high")
    CRITICAL_LOW = "LL", _("Critically low")
    ABNORMAL = "A", _("Abnormal")
    CRITICAL_ABNORMAL = "AA", _("Critically abnormal")


CRITICAL_FLAGS = frozenset({"HH", "LL", "AA"})


class EntrySource(models.TextChoices):
    FORM = "form", _("Form")
    IMPORT = "import", _("Spreadsheet import")
    HL7 = "hl7", _("HL7 v2")
    FHIR = "fhir", _("FHIR")


class ClinicalRegister(TranslatedName):
    """A department's register (检验科登记簿, 放射科登记簿): more are added as data (R5.1)."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="clinical_registers",
    )
    modality = models.CharField(_("modality"), max_length=20, choices=Modality.choices)
    prefix = models.CharField(
        _("number prefix"),
        max_length=10,
        unique=True,
        help_text=_("Entries are numbered PREFIX-YEAR-000001."),
    )
    ack_minutes = models.PositiveSmallIntegerField(
        _("minutes for the clinician to acknowledge"),
        null=True,
        blank=True,
        help_text=_("Empty: the clinician_ack clock's duration (15 minutes unless changed)."),
    )
    hl7_application = models.CharField(
        _("HL7 sending application"),
        max_length=100,
        blank=True,
        help_text=_("MSH-3 of the messages whose results go into this register, e.g. LIS."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("department register")
        verbose_name_plural = _("department registers")
        ordering = ["code"]


class Ward(TranslatedName):
    """A ward of a clinical department, with its beds and the staff told of its findings."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="wards"
    )
    beds = models.PositiveSmallIntegerField(_("beds"), default=0)
    phone = models.CharField(_("nurses' station phone"), max_length=30, blank=True)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("staff"), blank=True, related_name="wards"
    )

    class Meta:
        verbose_name = _("ward")
        verbose_name_plural = _("wards")
        ordering = ["code"]


# The fields of a register entry that a correction may change, in the register's order.
ENTRY_FIELDS = (
    "ordering_department",
    "ordering_doctor_name",
    "patient_name",
    "patient_id",
    "sex",
    "age_years",
    "ward",
    "bed",
    "test_code",
    "test_name",
    "specimen",
    "result_value",
    "unit",
    "reference_range",
    "abnormal_flag",
    "repeat_result",
    "collected_at",
    "received_at",
    "reported_at",
)


class ResultEntry(models.Model):
    """One line of a department register: a test or study and its result (R5.1).

    A reported result is never overwritten: a correction is a new ``ResultVersion`` with a
    reason, and the older values stay readable.
    """

    register = models.ForeignKey(
        ClinicalRegister, verbose_name=_("register"), on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(_("number"), max_length=30, unique=True)
    accession = models.CharField(
        _("specimen or accession number"), max_length=64, blank=True, db_index=True
    )
    ordering_department = models.ForeignKey(
        Department,
        verbose_name=_("ordering department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ordering_doctor_name = models.CharField(_("ordering doctor"), max_length=60, blank=True)
    ordering_doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    patient_name = models.CharField(_("patient name"), max_length=60)
    patient_id = models.CharField(_("record number"), max_length=40, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    age_years = models.DecimalField(
        _("age (years)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    ward = models.ForeignKey(
        Ward, verbose_name=_("ward"), null=True, blank=True, on_delete=models.PROTECT
    )
    bed = models.CharField(_("bed"), max_length=20, blank=True)
    test_code = models.CharField(_("test code"), max_length=64, db_index=True)
    test_name = models.CharField(_("test or study"), max_length=200)
    specimen = models.CharField(_("specimen"), max_length=100, blank=True)
    result_value = models.CharField(_("result"), max_length=2000)
    result_numeric = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=40, blank=True)
    reference_range = models.CharField(_("reference range"), max_length=100, blank=True)
    abnormal_flag = models.CharField(
        _("abnormal flag"), max_length=2, choices=AbnormalFlag.choices, blank=True
    )
    repeat_result = models.CharField(_("repeat result"), max_length=200, blank=True)
    collected_at = models.DateTimeField(_("collected"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported"), db_index=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=10, choices=EntrySource.choices)
    version = models.PositiveIntegerField(_("version"), default=1)
    message = models.ForeignKey(
        "clinical.HL7Message", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("registered"), default=timezone.now)

    class Meta:
        verbose_name = _("register entry")
        verbose_name_plural = _("register entries")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["register", "-reported_at", "-id"], name="entry_register"),
            models.Index(fields=["patient_id", "test_code"], name="entry_patient_test"),
        ]
        constraints = [
            # A hospital system's result is found again by its specimen and test.
            models.UniqueConstraint(
                fields=["register", "accession", "test_code"],
                name="entry_one_per_specimen_test",
                condition=~Q(accession=""),
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.test_name}"

    @property
    def result_text(self) -> str:
        parts = [self.result_value, self.unit]
        text = " ".join(p for p in parts if p)
        return f"{text} ({self.abnormal_flag})" if self.abnormal_flag else text

    @property
    def age_text(self) -> str:
        return age_text(self.age_years)

    def values(self) -> dict[str, Any]:
        """The correctable fields as plain values (for a version's snapshot)."""
        out: dict[str, Any] = {}
        for name in ENTRY_FIELDS:
            value = getattr(self, name)
            if isinstance(value, models.Model):
                value = str(value)
            elif isinstance(value, dt.datetime):
                value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
            elif isinstance(value, Decimal):
                value = str(value.normalize())
            out[name] = "" if value is None else value
        return out


def age_text(years: Decimal | None) -> str:
    """An age as a clinician writes it: 45 岁, 3 月, 12 天 (in the active language)."""
    from django.utils.translation import gettext

    if years is None:
        return ""
    if years >= 1:
        return gettext("%(n)s y") % {"n": int(years)}
    months = int(years * 12)
    if months >= 1:
        return gettext("%(n)s mo") % {"n": months}
    return gettext("%(n)s d") % {"n": int(years * 365)}


class ResultVersion(Chained):
    """The values of a register entry as they stood at one version, with why they changed."""

    entry = models.ForeignKey(ResultEntry, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    values = models.JSONField(_("values"))
    reason = models.TextField(_("reason for the correction"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    source = models.CharField(_("source"), max_length=10, choices=EntrySource.choices)

    class Meta:
        verbose_name = _("register entry version")
        verbose_name_plural = _("register entry versions")
        ordering = ["entry", "version"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "version"], name="entry_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} v{self.version}"


class DiseaseClass(models.TextChoices):
    """Classes of notifiable disease in 《中华人民共和国传染病防治法》."""

    A = "A", _("Class A")
    B_AS_A = "B_as_A", _("Class B, managed as class A")
    B = "B", _("Class B")
    C = "C", _("Class C")
    OTHER = "other", _("Other notifiable")


class NotifiableDisease(TranslatedName):
    """A notifiable infectious disease (法定传染病) and how long repeat positives link."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    disease_class = models.CharField(_("class"), max_length=10, choices=DiseaseClass.choices)
    icd10 = models.CharField(_("ICD-10"), max_length=20, blank=True)
    repeat_days = models.PositiveSmallIntegerField(
        _("days within which a repeat positive is linked"),
        default=30,
        help_text=_(
            "A positive for the same patient and disease within this many days joins the "
            "earlier report card instead of making a new one."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("notifiable disease")
        verbose_name_plural = _("notifiable diseases")
        ordering = ["disease_class", "code"]


class ReportingRule(models.Model):
    """How fast a class of disease is reported, with its source; versioned (a new rule is a new
    row with a later ``valid_from``, the old one stays for the reports made under it)."""

    disease_class = models.CharField(_("class"), max_length=10, choices=DiseaseClass.choices)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    hours = models.PositiveSmallIntegerField(_("report within (hours)"))
    source = models.CharField(_("source"), max_length=300)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("reporting rule")
        verbose_name_plural = _("reporting rules")
        ordering = ["disease_class", "-valid_from", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["disease_class", "version"], name="reporting_rule_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_disease_class_display()} v{self.version}: {self.hours} h"

    @classmethod
    def in_force(cls, disease_class: str, on: dt.date) -> ReportingRule | None:
        return (
            cls.objects.filter(disease_class=disease_class, valid_from__lte=on)
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=on))
            .order_by("-valid_from", "-version")
            .first()
        )


class FindingKind(models.TextChoices):
    CRITICAL = "critical", _("Critical value")
    INFECTIOUS = "infectious", _("Infectious-disease finding")


class RuleSex(models.TextChoices):
    ANY = "", _("Any")
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class FindingRule(models.Model):
    """A rule the laboratory sets as data: a critical-value limit for a test (by age and sex)
    or the results of a test that point to an infectious disease (R5.5)."""

    register = models.ForeignKey(
        ClinicalRegister, verbose_name=_("register"), on_delete=models.PROTECT, related_name="rules"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=FindingKind.choices)
    name = models.CharField(_("name"), max_length=100)
    test_code = models.CharField(
        _("test code"), max_length=64, help_text=_("The test this rule reads (OBX-3 code).")
    )
    low_limit = models.DecimalField(
        _("critical below"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    high_limit = models.DecimalField(
        _("critical above"), max_digits=16, decimal_places=4, null=True, blank=True
    )
    sex = models.CharField(_("sex"), max_length=1, choices=RuleSex.choices, blank=True)
    age_min_years = models.DecimalField(
        _("from age (years)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    age_max_years = models.DecimalField(
        _("below age (years)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    positive_words = models.CharField(
        _("positive when the result says"),
        max_length=300,
        blank=True,
        help_text=_("Comma-separated, e.g. 阳性, 检出, Positive, Isolated."),
    )
    negative_words = models.CharField(
        _("but not when it says"),
        max_length=300,
        blank=True,
        help_text=_("Comma-separated, e.g. 阴性, 未检出, Negative, Not isolated."),
    )
    disease = models.ForeignKey(
        NotifiableDisease,
        verbose_name=_("notifiable disease"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Set: a positive also goes to infection control with a report card."),
    )
    ack_minutes = models.PositiveSmallIntegerField(
        _("minutes for the clinician to acknowledge"),
        null=True,
        blank=True,
        help_text=_("Empty: the register's setting."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("finding rule")
        verbose_name_plural = _("finding rules")
        ordering = ["register", "kind", "test_code", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.kind == FindingKind.CRITICAL and self.low_limit is None and self.high_limit is None:
            raise ValidationError(_("A critical-value rule needs a low or a high limit."))
        if self.kind == FindingKind.INFECTIOUS and not self.positive_words.strip():
            raise ValidationError({"positive_words": _("Say which results are positive.")})


class AckMethod(models.TextChoices):
    SIGNATURE = "signature", _("E-signature")
    READBACK = "readback", _("Call with read-back")


class Finding(models.Model):
    """A result fed back to the clinician: a critical value or an infectious-disease finding,
    who must be told, and when and how it was acknowledged (R5.1, R5.5)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, primary_key=True, related_name="finding"
    )
    entry = models.ForeignKey(ResultEntry, on_delete=models.PROTECT, related_name="findings")
    entry_version = models.PositiveIntegerField(_("version of the result"))
    kind = models.CharField(_("kind"), max_length=20, choices=FindingKind.choices)
    rule = models.ForeignKey(
        FindingRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("why"), max_length=200)
    # Repeated from the entry and its register: the timeliness figures read this table only.
    register = models.ForeignKey(ClinicalRegister, on_delete=models.PROTECT, related_name="+")
    test_code = models.CharField(_("test code"), max_length=64)
    test_name = models.CharField(_("test or study"), max_length=200)
    sent_result = models.CharField(_("result as sent"), max_length=300)
    ordering_department = models.ForeignKey(
        Department,
        verbose_name=_("ordering department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("clinician to tell"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recipient_ward = models.ForeignKey(
        Ward, verbose_name=_("ward to tell"), null=True, blank=True, on_delete=models.PROTECT
    )
    reported_at = models.DateTimeField(_("reported"))
    limit_minutes = models.PositiveSmallIntegerField(_("minutes allowed"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=100, blank=True)
    ack_method = models.CharField(
        _("acknowledged by way of"), max_length=20, choices=AckMethod.choices, blank=True
    )
    ack_seconds = models.PositiveIntegerField(null=True, blank=True)
    clinical_action = models.TextField(_("clinical action taken"), blank=True)
    disease = models.ForeignKey(
        NotifiableDisease, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    disease_report = models.ForeignKey(
        "cases.Case",
        verbose_name=_("infectious-disease report card"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="linked_findings",
    )

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        indexes = [
            models.Index(fields=["reported_at"], name="finding_reported"),
            models.Index(fields=["register", "reported_at"], name="finding_register_reported"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.test_name}"

    @property
    def due_at(self) -> dt.datetime:
        return self.reported_at + dt.timedelta(minutes=self.limit_minutes)

    @property
    def on_time(self) -> bool | None:
        if self.ack_seconds is None:
            return None
        return self.ack_seconds <= self.limit_minutes * 60


class CallOutcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed with read-back")
    NO_READBACK = "reached_no_readback", _("Reached without read-back")
    NOT_REACHED = "not_reached", _("Could not reach")


class ReceiverRole(models.TextChoices):
    PHYSICIAN = "physician", _("Physician")
    NURSE = "nurse", _("Nurse")
    OTHER = "other", _("Other")


class CallAttempt(Chained):
    """One call to tell a clinician of a finding, with what they read back (kept, every one)."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="calls")
    at = models.DateTimeField(_("called"), default=timezone.now)
    caller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    receiver_name = models.CharField(_("receiver"), max_length=60, blank=True)
    receiver_role = models.CharField(
        _("receiver's role"), max_length=20, choices=ReceiverRole.choices, blank=True
    )
    readback_name = models.CharField(_("patient name read back"), max_length=60, blank=True)
    readback_patient_id = models.CharField(_("record number read back"), max_length=40, blank=True)
    readback_result = models.CharField(_("result read back"), max_length=200, blank=True)
    name_matches = models.BooleanField(default=False)
    patient_id_matches = models.BooleanField(default=False)
    result_matches = models.BooleanField(default=False)
    outcome_given = models.CharField(_("outcome recorded"), max_length=30)
    outcome = models.CharField(_("outcome"), max_length=30, choices=CallOutcome.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")
        ordering = ["finding", "at", "id"]

    def __str__(self) -> str:
        return f"{self.finding_id} {self.at:%Y-%m-%d %H:%M} {self.outcome}"


class CaseClassification(models.TextChoices):
    """传染病报告卡: 病例分类."""

    SUSPECTED = "suspected", _("Suspected case")
    CLINICAL = "clinical", _("Clinically diagnosed case")
    CONFIRMED = "confirmed", _("Laboratory-confirmed case")
    CARRIER = "carrier", _("Pathogen carrier")
    POSITIVE = "positive", _("Positive test result")


class DiseaseReport(models.Model):
    """The national infectious-disease report card (中华人民共和国传染病报告卡), filled in from
    the register and completed by infection control, with the rule its deadline came from."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, primary_key=True, related_name="disease_report"
    )
    disease = models.ForeignKey(
        NotifiableDisease, verbose_name=_("disease"), on_delete=models.PROTECT, related_name="+"
    )
    rule = models.ForeignKey(
        ReportingRule,
        verbose_name=_("reporting rule"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    entry = models.ForeignKey(
        ResultEntry, on_delete=models.PROTECT, related_name="+", verbose_name=_("result")
    )
    patient_name = models.CharField(_("patient name"), max_length=60)
    parent_name = models.CharField(_("parent's name (under 14)"), max_length=60, blank=True)
    patient_id = models.CharField(_("record number"), max_length=40, db_index=True)
    id_number = models.CharField(_("ID card number"), max_length=30, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    age_years = models.DecimalField(
        _("age (years)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    work_unit = models.CharField(_("work unit or school"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    address = models.CharField(_("current address"), max_length=300, blank=True)
    occupation = models.CharField(_("occupation (population group)"), max_length=60, blank=True)
    classification = models.CharField(
        _("case classification"),
        max_length=20,
        choices=CaseClassification.choices,
        default=CaseClassification.CONFIRMED,
    )
    onset_date = models.DateField(_("date of onset"), null=True, blank=True)
    diagnosed_at = models.DateTimeField(_("diagnosed"))
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    lab_result = models.CharField(_("laboratory result"), max_length=300)
    reporting_department = models.ForeignKey(
        Department,
        verbose_name=_("reporting department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reporting_doctor = models.CharField(_("reporting doctor"), max_length=60, blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    network_report_id = models.CharField(_("direct-report number"), max_length=60, blank=True)
    network_reported_at = models.DateTimeField(_("reported to the CDC"), null=True, blank=True)

    class Meta:
        verbose_name = _("infectious-disease report card")
        verbose_name_plural = _("infectious-disease report cards")

    def __str__(self) -> str:
        return f"{self.case_id} {self.disease}"


class MessageStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    ERROR = "error", _("Error (AE)")
    REJECTED = "rejected", _("Rejected (AR)")


class HL7Message(models.Model):
    """A message from a hospital system, kept as it came (R5.8): applied, or answered AE/AR
    with the reason and kept for an administrator to look at and replay."""

    sender = models.CharField(_("sender"), max_length=200, blank=True)
    control_id = models.CharField(_("message control ID"), max_length=200, blank=True)
    message_type = models.CharField(_("message type"), max_length=40, blank=True)
    transport = models.CharField(_("received by"), max_length=10)
    raw = models.BinaryField(_("message"))
    charset = models.CharField(_("character set"), max_length=20, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=MessageStatus.choices)
    ack_code = models.CharField(_("acknowledgement"), max_length=2)
    error = models.TextField(_("reason"), blank=True)
    entries = models.PositiveIntegerField(_("results"), default=0)
    replayed_at = models.DateTimeField(_("replayed"), null=True, blank=True)
    replayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("HL7 message")
        verbose_name_plural = _("HL7 messages")
        ordering = ["-received_at", "-id"]
        constraints = [
            # The same message sent twice is applied once (MSH-10 per sender).
            models.UniqueConstraint(
                fields=["sender", "control_id"],
                name="hl7_message_once",
                condition=Q(status="applied"),
            )
        ]
        indexes = [models.Index(fields=["sender", "control_id"], name="hl7_sender_control")]

    def __str__(self) -> str:
        return f"{self.message_type} {self.control_id}"


class OpinionType(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")


class PatientOpinion(models.Model):
    """A patient's opinion of the laboratory or radiology, heard and registered (R5.4)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, primary_key=True, related_name="patient_opinion"
    )
    register = models.ForeignKey(
        ClinicalRegister, verbose_name=_("about"), on_delete=models.PROTECT, related_name="+"
    )
    opinion_type = models.CharField(_("type"), max_length=20, choices=OpinionType.choices)
    content = models.TextField(_("opinion"))
    patient_name = models.CharField(_("name"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    from_public_page = models.BooleanField(_("from the public page"), default=False)
    handling = models.TextField(_("handling"), blank=True)
    answer = models.TextField(_("answer to the patient"), blank=True)

    class Meta:
        verbose_name = _("patient opinion")
        verbose_name_plural = _("patient opinions")

    def __str__(self) -> str:
        return self.content[:40]


class SpecialRequest(models.Model):
    """A clinical department's special test or study request, reviewed and tracked (R5.7)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, primary_key=True, related_name="special_request"
    )
    register = models.ForeignKey(
        ClinicalRegister, verbose_name=_("asked of"), on_delete=models.PROTECT, related_name="+"
    )
    requesting_department = models.ForeignKey(
        Department,
        verbose_name=_("requesting department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    test_or_study = models.CharField(_("test or study"), max_length=200)
    clinical_reason = models.TextField(_("clinical reason"))
    needed_by = models.DateField(_("needed by"), null=True, blank=True)
    plan = models.TextField(_("plan"), blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    result = models.TextField(_("result"), blank=True)

    class Meta:
        verbose_name = _("special test request")
        verbose_name_plural = _("special test requests")

    def __str__(self) -> str:
        return self.test_or_study


class FeedbackSchedule(models.Model):
    """Information feedback forms (信息反馈单) a department sends to clinical departments on a
    schedule, and the named person who collects them (R5.2, R5.3)."""

    register = models.ForeignKey(
        ClinicalRegister, verbose_name=_("sent by"), on_delete=models.PROTECT, related_name="+"
    )
    questionnaire = models.ForeignKey(
        "surveys.Questionnaire",
        verbose_name=_("form"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    departments = models.ManyToManyField(Department, verbose_name=_("sent to"), related_name="+")
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("collected by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    every_days = models.PositiveSmallIntegerField(_("every (days)"), default=30)
    days_to_return = models.PositiveSmallIntegerField(_("days to return"), default=14)
    next_send_on = models.DateField(_("next sent on"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("feedback form schedule")
        verbose_name_plural = _("feedback form schedules")

    def __str__(self) -> str:
        return f"{self.register} → {self.questionnaire}"


class FeedbackForm(models.Model):
    """One form sent to one clinical department: sent, returned, reviewed item by item."""

    schedule = models.ForeignKey(FeedbackSchedule, on_delete=models.PROTECT, related_name="forms")
    campaign = models.ForeignKey("surveys.Campaign", on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(_("sent"))
    due_at = models.DateTimeField(_("due back"))
    reminders = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    reminded_at = models.DateTimeField(_("last reminded"), null=True, blank=True)
    response = models.OneToOneField(
        "surveys.Response", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("information feedback form")
        verbose_name_plural = _("information feedback forms")
        ordering = ["-sent_at", "department"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "department"], name="feedback_form_once_per_department"
            )
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.sent_at:%Y-%m-%d}"


class ClinicianIssue(models.Model):
    """An issue a clinician raised on a feedback form, registered as a case (R5.3, R5.6)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, primary_key=True, related_name="clinician_issue"
    )
    form = models.ForeignKey(
        FeedbackForm, null=True, blank=True, on_delete=models.PROTECT, related_name="issues"
    )
    register = models.ForeignKey(ClinicalRegister, on_delete=models.PROTECT, related_name="+")
    clinical_department = models.ForeignKey(
        Department,
        verbose_name=_("clinical department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    question = models.CharField(_("item"), max_length=500, blank=True)
    said = models.TextField(_("what the clinician wrote"))
    important = models.BooleanField(_("important"), default=False)
    discussion = models.TextField(_("taken up with the department"), blank=True)
    improvement = models.TextField(_("improvement"), blank=True)

    class Meta:
        verbose_name = _("clinician's issue")
        verbose_name_plural = _("clinicians' issues")

    def __str__(self) -> str:
        return self.said[:40]
