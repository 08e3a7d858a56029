"""The pharmacy profile's records (documents 3 and 4): the drug catalogue and its batches, the
detail of drug quality feedback, counterfeit/substandard and adverse-reaction cases, the
versioned ADR deadline rules, stock holds, and every sending to an outside recipient."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qloop.cases.models import Case


class Drug(models.Model):
    """One approved drug product: an approval number (批准文号) of one manufacturer."""

    generic_name = models.CharField(_("generic name"), max_length=120)
    dosage_form = models.CharField(_("dosage form"), max_length=40)
    brand_name = models.CharField(_("brand name"), max_length=120, blank=True)
    approval_number = models.CharField(_("approval number"), max_length=40)
    strength = models.CharField(_("strength"), max_length=80)
    manufacturer = models.CharField(_("manufacturer"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("drug")
        verbose_name_plural = _("drugs")
        ordering = ["generic_name", "strength", "manufacturer"]
        constraints = [
            models.UniqueConstraint(
                fields=["manufacturer", "approval_number"], name="drug_maker_approval"
            )
        ]

    def __str__(self) -> str:
        brand = f"（{self.brand_name}）" if self.brand_name else ""
        return f"{self.generic_name}{self.dosage_form}{brand} {self.strength} {self.manufacturer}"


class DrugBatch(models.Model):
    """A batch (批号) of a drug: identified by manufacturer + approval number + batch number,
    never by the batch number alone."""

    drug = models.ForeignKey(
        Drug, verbose_name=_("drug"), on_delete=models.PROTECT, related_name="batches"
    )
    batch_number = models.CharField(_("batch number"), max_length=40)
    expiry = models.DateField(_("expiry date"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["drug_id", "-expiry", "batch_number"]
        constraints = [
            models.UniqueConstraint(fields=["drug", "batch_number"], name="batch_per_drug")
        ]

    def __str__(self) -> str:
        return f"{self.drug.generic_name} {self.batch_number}"


class ProblemType(models.TextChoices):
    COLOUR = "colour", _("Colour change")
    ODOUR = "odour", _("Odour")
    CAKING = "caking", _("Caking or clumping")
    MOULD = "mould", _("Mould")
    PARTICLES = "particles", _("Visible particles")
    PACKAGING = "packaging", _("Packaging damaged")
    LABELLING = "labelling", _("Labelling wrong")
    EFFICACY = "efficacy", _("Lack of efficacy")
    OTHER = "other", _("Other")


class FeedbackSource(models.TextChoices):
    PATIENT = "patient", _("Patient (public page or counter)")
    COLLECTED = "collected", _("Collected by staff")
    SOLICITED = "solicited", _("Solicited by staff")


class DrugFeedback(models.Model):
    """A drug quality feedback or quality query (R3.1, R3.3, R3.5)."""

    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.PROTECT, related_name="drug_feedback"
    )
    drug = models.ForeignKey(
        Drug, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    batch = models.ForeignKey(
        DrugBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    drug_text = models.CharField(_("drug as told"), max_length=200, blank=True)
    batch_text = models.CharField(_("batch as told"), max_length=40, blank=True)
    problem = models.CharField(_("problem"), max_length=20, choices=ProblemType.choices)
    description = models.TextField(_("description"))
    source = models.CharField(
        _("source"), max_length=20, choices=FeedbackSource.choices, default=FeedbackSource.PATIENT
    )
    from_public_page = models.BooleanField(default=False)
    patient_name = models.CharField(_("patient name"), max_length=60, blank=True)
    patient_phone = models.CharField(_("patient phone"), max_length=30, blank=True)
    major = models.BooleanField(_("major problem"), default=False)
    major_reason = models.TextField(_("why major"), blank=True)
    cause = models.TextField(_("cause"), blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    answer = models.TextField(_("answer to the person who asked"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    archived_for_inspection_at = models.DateTimeField(_("archived for inspection"), null=True)

    class Meta:
        verbose_name = _("drug quality feedback")
        verbose_name_plural = _("drug quality feedback")
        indexes = [
            models.Index(fields=["drug", "problem"], name="dq_drug_problem"),
            models.Index(
                fields=["batch"], name="dq_batch", condition=models.Q(batch__isnull=False)
            ),
            models.Index(fields=["case"], name="dq_major", condition=models.Q(major=True)),
            # The periodic summary reads a period's feedback through its cases, one probe
            # each: the counted columns are in the index, so the table is not read (#10).
            models.Index(
                fields=["case"],
                include=["problem", "major", "drug", "batch"],
                name="dq_case_counted",
            ),
        ]

    def __str__(self) -> str:
        return str(self.case_id)


class Finding(models.TextChoices):
    SUSPECTED = "suspected", _("Suspected, not yet established")
    COUNTERFEIT = "counterfeit", _("Counterfeit drug (假药)")
    SUBSTANDARD = "substandard", _("Substandard drug (劣药)")
    NEITHER = "neither", _("Neither (conforms)")


class Criterion(models.TextChoices):
    """Drug Administration Law of the PRC (2019) art. 98: what makes a drug counterfeit (假药)
    or substandard (劣药)."""

    CF_INGREDIENTS = "cf_ingredients", _("Counterfeit: ingredients not as the national standard")
    CF_PASSED_OFF = "cf_passed_off", _("Counterfeit: a non-drug or another drug passed off as it")
    CF_DETERIORATED = "cf_deteriorated", _("Counterfeit: deteriorated")
    CF_INDICATIONS = "cf_indications", _("Counterfeit: indications beyond those approved")
    SS_CONTENT = "ss_content", _("Substandard: content not to the national standard")
    SS_CONTAMINATED = "ss_contaminated", _("Substandard: contaminated")
    SS_EXPIRY = "ss_expiry", _("Substandard: expiry date missing or altered")
    SS_BATCH = "ss_batch", _("Substandard: batch number missing or altered")
    SS_EXPIRED = "ss_expired", _("Substandard: expired")
    SS_ADDITIVES = (
        "ss_additives",
        _("Substandard: preservatives or excipients added without approval"),
    )
    SS_OTHER = "ss_other", _("Substandard: otherwise not to the drug standard")


class CounterfeitCase(models.Model):
    """A counterfeit or substandard drug case opened (立案) under the Drug Administration Law
    (R3.4)."""

    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.PROTECT, related_name="counterfeit"
    )
    drug = models.ForeignKey(Drug, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(DrugBatch, on_delete=models.PROTECT, related_name="+")
    where_found = models.CharField(_("where found"), max_length=200)
    how_found = models.TextField(_("how found"))
    criteria = models.JSONField(_("criteria met"), default=list, blank=True)
    finding = models.CharField(
        _("finding"), max_length=20, choices=Finding.choices, default=Finding.SUSPECTED
    )
    testing_institute = models.CharField(_("drug testing institute"), max_length=120, blank=True)
    sample_sent_on = models.DateField(_("sample sent"), null=True, blank=True)
    sample_quantity = models.CharField(_("sample quantity"), max_length=40, blank=True)
    test_report_number = models.CharField(_("test report number"), max_length=60, blank=True)
    test_result = models.TextField(_("test result"), blank=True)
    test_conforms = models.BooleanField(_("conforms to the standard"), null=True)
    disposal = models.TextField(_("disposal"), blank=True)
    disposed_quantity = models.CharField(_("quantity disposed"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("counterfeit or substandard drug case")
        verbose_name_plural = _("counterfeit or substandard drug cases")

    def __str__(self) -> str:
        return str(self.case_id)


class StockHold(models.Model):
    """Stock of a batch put on hold in one store (药库, 门诊药房 …) while a case runs."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="stock_holds")
    batch = models.ForeignKey(DrugBatch, on_delete=models.PROTECT, related_name="holds")
    store = models.CharField(_("store"), max_length=80)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit = models.CharField(_("unit"), max_length=20, default="盒")
    held_at = models.DateTimeField(_("held at"), default=timezone.now)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock hold")
        verbose_name_plural = _("stock holds")
        ordering = ["held_at", "id"]

    def __str__(self) -> str:
        return f"{self.store} {self.quantity}{self.unit}"


class AdrCategory(models.TextChoices):
    """Which deadline of Order 81 applies to a report."""

    DEATH = "death", _("Death")
    NEW_SERIOUS = "new_serious", _("New or serious")
    GENERAL = "general", _("General")
    FOLLOW_UP = "follow_up", _("Follow-up information")
    GROUP = "group", _("Group event")


class AdrDeadlineRule(models.Model):
    """A deadline for reporting an ADR, as the law says it, with its source. A change of law is
    a new version (a row), never a code change; a report keeps the version it was judged by."""

    category = models.CharField(_("category"), max_length=20, choices=AdrCategory.choices)
    version = models.PositiveIntegerField(_("version"))
    valid_from = models.DateField(_("in force from"))
    hours = models.PositiveIntegerField(_("hours"), default=0)
    days = models.PositiveIntegerField(_("days"), default=0)
    immediate = models.BooleanField(_("immediately"), default=False)
    needs_call = models.BooleanField(_("phone or fax call required"), default=False)
    source = models.CharField(_("source"), max_length=300)

    class Meta:
        verbose_name = _("ADR deadline rule")
        verbose_name_plural = _("ADR deadline rules")
        ordering = ["category", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["category", "version"], name="adr_rule_version")
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} v{self.version}"

    @property
    def length(self) -> dt.timedelta:
        return dt.timedelta(days=self.days, hours=self.hours)

    @classmethod
    def in_force(cls, category: str, on: dt.date) -> AdrDeadlineRule | None:
        return (
            cls.objects.filter(category=category, valid_from__lte=on)
            .order_by("-valid_from", "-version")
            .first()
        )


class ReportType(models.TextChoices):
    FIRST = "first", _("First report")
    FOLLOW_UP = "follow_up", _("Follow-up report")


class Seriousness(models.TextChoices):
    NEW = "new", _("New")
    SERIOUS = "serious", _("Serious")
    NEW_SERIOUS = "new_serious", _("New and serious")
    GENERAL = "general", _("General")


class UnitType(models.TextChoices):
    HOSPITAL = "hospital", _("Medical institution")
    MANUFACTURER = "manufacturer", _("Manufacturer")
    DISTRIBUTOR = "distributor", _("Distributor")
    INDIVIDUAL = "individual", _("Individual")
    OTHER = "other", _("Other")


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "U", _("Unknown")


class Outcome(models.TextChoices):
    RECOVERED = "recovered", _("Recovered")
    IMPROVING = "improving", _("Improving")
    NOT_IMPROVED = "not_improved", _("Not improved")
    UNKNOWN = "unknown", _("Unknown")
    SEQUELAE = "sequelae", _("Recovered with sequelae")
    DEATH = "death", _("Death")


class Causality(models.TextChoices):
    CERTAIN = "certain", _("Certain")
    PROBABLE = "probable", _("Probable")
    POSSIBLE = "possible", _("Possible")
    UNLIKELY = "unlikely", _("Unlikely")
    PENDING = "pending", _("To be assessed")
    UNASSESSABLE = "unassessable", _("Unassessable")


class Challenge(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNCLEAR = "unclear", _("Unclear")
    NOT_DONE = "not_done", _("Not done / not applicable")


class AdrReport(models.Model):
    """A report of a suspected adverse drug reaction with the fields of the national form
    《药品不良反应/事件报告表》 (Order 81, appendix 1) (R3.6)."""

    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.PROTECT, related_name="adr"
    )
    report_type = models.CharField(
        _("report type"), max_length=20, choices=ReportType.choices, default=ReportType.FIRST
    )
    follow_up_of = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="adr_follow_ups"
    )
    seriousness = models.CharField(
        _("seriousness"), max_length=20, choices=Seriousness.choices, default=Seriousness.GENERAL
    )
    unit_type = models.CharField(
        _("reporting unit type"), max_length=20, choices=UnitType.choices, default=UnitType.HOSPITAL
    )
    # The patient.
    patient_name = models.CharField(_("patient name"), max_length=60, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    age_years = models.PositiveIntegerField(_("age"), null=True, blank=True)
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    patient_contact = models.CharField(_("patient contact"), max_length=60, blank=True)
    hospital = models.CharField(_("hospital"), max_length=120, blank=True)
    record_number = models.CharField(_("record number"), max_length=40, blank=True)
    underlying_disease = models.TextField(_("underlying disease"), blank=True)
    past_adr = models.TextField(_("past ADR"), blank=True)
    family_adr = models.TextField(_("family ADR"), blank=True)
    history = models.JSONField(_("other history"), default=list, blank=True)
    history_other = models.CharField(_("other history (other)"), max_length=200, blank=True)
    # The reaction.
    reaction = models.CharField(_("reaction"), max_length=200, blank=True)
    onset_at = models.DateTimeField(_("onset"), null=True, blank=True)
    course = models.TextField(_("course and treatment"), blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.UNKNOWN
    )
    sequelae = models.CharField(_("sequelae"), max_length=200, blank=True)
    death_cause = models.CharField(_("cause of death"), max_length=200, blank=True)
    death_at = models.DateTimeField(_("time of death"), null=True, blank=True)
    dechallenge = models.CharField(
        _("dechallenge"), max_length=20, choices=Challenge.choices, default=Challenge.UNCLEAR
    )
    rechallenge = models.CharField(
        _("rechallenge"), max_length=20, choices=Challenge.choices, default=Challenge.NOT_DONE
    )
    disease_effect = models.CharField(
        _("effect on the underlying disease"), max_length=60, blank=True
    )
    causality_reporter = models.CharField(
        _("causality (reporter)"), max_length=20, choices=Causality.choices, blank=True
    )
    causality_reporter_signed = models.CharField(_("signed (reporter)"), max_length=60, blank=True)
    causality_unit = models.CharField(
        _("causality (unit)"), max_length=20, choices=Causality.choices, blank=True
    )
    causality_unit_signed = models.CharField(_("signed (unit)"), max_length=60, blank=True)
    # The reporter and the unit.
    reporter_name = models.CharField(_("reporter"), max_length=60, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=30, blank=True)
    reporter_occupation = models.CharField(_("reporter occupation"), max_length=40, blank=True)
    reporter_email = models.CharField(_("reporter e-mail"), max_length=120, blank=True)
    reporting_unit = models.CharField(_("reporting unit"), max_length=120, blank=True)
    unit_contact = models.CharField(_("unit contact"), max_length=60, blank=True)
    unit_phone = models.CharField(_("unit phone"), max_length=30, blank=True)
    report_date = models.DateField(_("report date"), null=True, blank=True)
    # When the organisation became aware: deadlines count from here.
    aware_at = models.DateTimeField(_("aware since"))
    rule = models.ForeignKey(AdrDeadlineRule, null=True, on_delete=models.PROTECT, related_name="+")
    part_of_group = models.BooleanField(_("part of a group event"), default=False)
    group = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="group_members"
    )
    quality_suspected = models.BooleanField(_("may come from the drug's quality"), default=False)
    department = models.ForeignKey(
        "org.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("ADR report")
        verbose_name_plural = _("ADR reports")
        # Summaries and group detection read reports by the awareness date; the summary's
        # counts find their columns in the index itself (PostgreSQL; elsewhere a plain index),
        # the report type too since #10.
        indexes = [
            models.Index(
                fields=["aware_at"],
                include=["case", "report_type", "seriousness", "outcome", "department"],
                name="adr_aware_counted",
            )
        ]

    def __str__(self) -> str:
        return str(self.case_id)

    @property
    def category(self) -> str:
        """The deadline this report falls under (Order 81 art. 21)."""
        if self.outcome == Outcome.DEATH:
            return AdrCategory.DEATH
        if self.report_type == ReportType.FOLLOW_UP:
            return AdrCategory.FOLLOW_UP
        if self.seriousness in (Seriousness.NEW, Seriousness.SERIOUS, Seriousness.NEW_SERIOUS):
            return AdrCategory.NEW_SERIOUS
        return AdrCategory.GENERAL

    def missing(self) -> dict[str, str]:
        """What the report lacks before it may be sent (ICH E2B minimum: an identifiable
        patient, an identifiable reporter, a suspect drug and a reaction)."""
        from django.utils.translation import gettext as g

        out: dict[str, str] = {}
        if not (self.patient_name or self.record_number or self.age_years or self.birth_date):
            out["patient"] = g("An identifiable patient (name, record number or age) is missing.")
        if not (self.reporter_name and (self.reporter_phone or self.reporter_email)):
            out["reporter"] = g("An identifiable reporter (name and phone or e-mail) is missing.")
        if not self.drugs.filter(role=DrugRole.SUSPECT).exists():
            out["suspect_drugs"] = g("A suspect drug is missing.")
        if not self.reaction.strip():
            out["reaction"] = g("The reaction is missing.")
        return out


class DrugRole(models.TextChoices):
    SUSPECT = "suspect", _("Suspect")
    CONCOMITANT = "concomitant", _("Concomitant")


class AdrDrug(models.Model):
    """A suspect or concomitant drug on an ADR report, as the form lists it."""

    report = models.ForeignKey(AdrReport, on_delete=models.PROTECT, related_name="drugs")
    role = models.CharField(_("role"), max_length=20, choices=DrugRole.choices)
    drug = models.ForeignKey(
        Drug, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    batch = models.ForeignKey(
        DrugBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="adr_uses"
    )
    approval_number = models.CharField(_("approval number"), max_length=40, blank=True)
    brand_name = models.CharField(_("brand name"), max_length=120, blank=True)
    generic_name = models.CharField(_("generic name"), max_length=120)
    manufacturer = models.CharField(_("manufacturer"), max_length=120, blank=True)
    batch_number = models.CharField(_("batch number"), max_length=40, blank=True)
    dose = models.CharField(_("dose"), max_length=40, blank=True)
    route = models.CharField(_("route"), max_length=40, blank=True)
    times_per_day = models.CharField(_("times per day"), max_length=20, blank=True)
    started_on = models.DateField(_("started"), null=True, blank=True)
    stopped_on = models.DateField(_("stopped"), null=True, blank=True)
    reason = models.CharField(_("reason for use"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("drug on an ADR report")
        verbose_name_plural = _("drugs on ADR reports")
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["batch", "role"],
                name="adr_drug_batch",
                condition=models.Q(batch__isnull=False),
            ),
            # The suspect drugs of a set of reports (summaries, the signal table's recent
            # counts) without reading the table.
            models.Index(
                fields=["report"],
                include=["generic_name"],
                name="adr_drug_suspect",
                condition=models.Q(role="suspect"),
            ),
        ]

    def __str__(self) -> str:
        return self.generic_name


class AdrGroup(models.Model):
    """A group ADR event (art. 27) with the fields of 《药品群体不良事件基本信息表》."""

    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.PROTECT, related_name="adr_group"
    )
    drug = models.ForeignKey(Drug, null=True, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(DrugBatch, null=True, on_delete=models.PROTECT, related_name="+")
    area = models.CharField(_("area"), max_length=120, blank=True)
    using_unit = models.CharField(_("using unit"), max_length=120, blank=True)
    exposed = models.PositiveIntegerField(_("number exposed"), null=True, blank=True)
    affected = models.PositiveIntegerField(_("number with the event"), default=0)
    serious = models.PositiveIntegerField(_("serious"), default=0)
    deaths = models.PositiveIntegerField(_("deaths"), default=0)
    first_use_on = models.DateField(_("first use"), null=True, blank=True)
    first_onset_on = models.DateField(_("first onset"), null=True, blank=True)
    devices = models.CharField(_("devices used with it"), max_length=200, blank=True)
    detected = models.BooleanField(_("found by the system"), default=False)

    class Meta:
        verbose_name = _("group ADR event")
        verbose_name_plural = _("group ADR events")

    def __str__(self) -> str:
        return str(self.case_id)


class Recipient(models.TextChoices):
    REGULATOR = "regulator", _("Drug regulatory authority (national system)")
    COMMITTEE = "committee", _("Pharmacy and Therapeutics Committee")


class SummaryDestination(models.TextChoices):
    """To whom the periodic summaries go (R3.2): one of the two recipients, or both."""

    REGULATOR = "regulator", _("Drug regulatory authority (national system)")
    COMMITTEE = "committee", _("Pharmacy and Therapeutics Committee")
    BOTH = "both", _("Both")


class SendingChannel(models.TextChoices):
    NATIONAL_SYSTEM = "national_system", _("National ADR monitoring system")
    PHONE = "phone", _("Phone")
    FAX = "fax", _("Fax")
    EMAIL = "email", _("E-mail")
    # Not the survey's paper questionnaire (纸质问卷): the paper ADR report form (纸质报告表).
    PAPER = "paper", pgettext_lazy("how a report is sent", "Paper form")


class Sending(models.Model):
    """One sending of a case's report to an outside recipient: when, how, by whom, to whom and
    the reference returned. The sending a rule requires stops its clock."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="sendings")
    at = models.DateTimeField(_("sent at"), default=timezone.now)
    channel = models.CharField(_("how"), max_length=20, choices=SendingChannel.choices)
    recipient = models.CharField(_("to whom"), max_length=20, choices=Recipient.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(_("reference returned"), max_length=80, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("sending")
        verbose_name_plural = _("sendings")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.recipient} {self.at:%Y-%m-%d}"


class AdrDestination(models.TextChoices):
    REGULATOR = "regulator", _("The regulator's national system (document 3)")
    COMMITTEE = "committee", _("The Pharmacy and Therapeutics Committee (document 4)")
    BOTH = "both", _("Both")


class PharmacySettings(models.Model):
    """The pharmacy profile's settings (one row): where reports go, what counts as major, and
    when several ADR reports make a group event."""

    adr_destination = models.CharField(
        _("ADR reports go to"),
        max_length=20,
        choices=AdrDestination.choices,
        default=AdrDestination.REGULATOR,
    )
    major_problems = models.JSONField(_("problem types that are major"), default=list, blank=True)
    group_patients = models.PositiveIntegerField(_("group event: patients"), default=3)
    group_days = models.PositiveIntegerField(_("group event: within days"), default=7)
    # R3.2: which periodic summaries the worker produces, and to whom they go.
    monthly_summary = models.BooleanField(_("monthly summary"), default=True)
    quarterly_summary = models.BooleanField(_("quarterly summary"), default=True)
    summary_recipient = models.CharField(
        _("summaries go to"),
        max_length=20,
        choices=SummaryDestination.choices,
        default=SummaryDestination.COMMITTEE,
    )

    class Meta:
        verbose_name = _("pharmacy settings")
        verbose_name_plural = _("pharmacy settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> PharmacySettings:
        found = cls.objects.order_by("pk").first()
        return found if found is not None else cls.objects.create()

    def summary_recipients(self) -> set[str]:
        """The recipients the periodic summaries are made for (R3.2)."""
        if self.summary_recipient == SummaryDestination.BOTH:
            return {Recipient.REGULATOR, Recipient.COMMITTEE}
        return {str(self.summary_recipient)}

    def required_recipients(self) -> set[str]:
        if self.adr_destination == AdrDestination.BOTH:
            return {Recipient.REGULATOR, Recipient.COMMITTEE}
        return {str(self.adr_destination)}


class SignalReview(models.Model):
    """A pharmacist's review of a drug–reaction pair that stood out (PRR/ROR over the
    threshold): closed with a reason, kept for inspection."""

    generic_name = models.CharField(_("generic name"), max_length=120)
    reaction = models.CharField(_("reaction"), max_length=200)
    reason = models.TextField(_("reason"))
    reports = models.PositiveIntegerField(_("reports at review"))
    ror = models.FloatField(_("ROR at review"), null=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), default=timezone.now)

    class Meta:
        verbose_name = _("signal review")
        verbose_name_plural = _("signal reviews")
        ordering = ["-closed_at"]
        indexes = [models.Index(fields=["generic_name", "reaction"], name="signal_pair")]

    def __str__(self) -> str:
        return f"{self.generic_name} – {self.reaction}"


class SignalPairMonth(models.Model):
    """Pre-counted for the signal table: the first reports (not archived, with a reaction)
    naming one suspect generic drug with one reaction, in one month of awareness; kept by
    qloop.pharmacy.counts in the transaction that changes a report."""

    generic_name = models.CharField(_("generic name"), max_length=120)
    reaction = models.CharField(_("reaction"), max_length=200)
    month = models.DateField(_("month"))
    reports = models.PositiveIntegerField(_("reports"), default=0)
    first_at = models.DateTimeField(null=True)
    last_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("drug–reaction count")
        verbose_name_plural = _("drug–reaction counts")
        constraints = [
            models.UniqueConstraint(
                fields=["generic_name", "reaction", "month"], name="signal_pair_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.generic_name} – {self.reaction} {self.month:%Y-%m}: {self.reports}"


class SignalReactionMonth(models.Model):
    """Pre-counted for the signal table: the first reports (not archived) of one reaction in
    one month of awareness, whatever their drugs (the reaction's total and, summed, the
    overall total of the disproportionality)."""

    reaction = models.CharField(_("reaction"), max_length=200)
    month = models.DateField(_("month"))
    reports = models.PositiveIntegerField(_("reports"), default=0)

    class Meta:
        verbose_name = _("reaction count")
        verbose_name_plural = _("reaction counts")
        constraints = [
            models.UniqueConstraint(fields=["reaction", "month"], name="signal_reaction_month")
        ]

    def __str__(self) -> str:
        return f"{self.reaction} {self.month:%Y-%m}: {self.reports}"


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Monthly")
    QUARTER = "quarter", _("Quarterly")


class SummaryState(models.TextChoices):
    DRAFT = "draft", _("To be signed")
    SIGNED = "signed", _("Signed")
    SENT = "sent", _("Sent")


class Summary(models.Model):
    """A periodic summary made by the older mechanism (R3.2), kept as it was: the summaries
    are now period summaries (``qloop.pharmacy.summaries``, X5), and migration 0006 copied
    each of these rows into one; nothing writes here any more."""

    period = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    recipient = models.CharField(_("to whom"), max_length=20, choices=Recipient.choices)
    figures = models.JSONField(_("figures"), default=dict, editable=False)
    produced_at = models.DateTimeField(_("produced"), default=timezone.now, editable=False)
    state = models.CharField(
        _("state"), max_length=10, choices=SummaryState.choices, default=SummaryState.DRAFT
    )
    signature = models.JSONField(_("signature"), default=dict, blank=True, editable=False)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(_("signed"), null=True)
    sent_at = models.DateTimeField(_("sent at"), null=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_channel = models.CharField(_("how"), max_length=20, blank=True)
    sent_reference = models.CharField(_("reference returned"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("periodic summary")
        verbose_name_plural = _("periodic summaries")
        ordering = ["-start", "period"]
        constraints = [
            models.UniqueConstraint(fields=["period", "start"], name="summary_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.get_period_display()} {self.start:%Y-%m-%d}"
