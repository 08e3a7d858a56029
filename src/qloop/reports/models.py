"""The survey summary report (R2.7), the general manager's decisions on it, and the
management review with its prepared summary (R2.7, X5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qloop.org.models import TrailEntry


class ReportState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted to the general manager")
    DECIDED = "decided", _("Decided")


class SurveyReport(models.Model):
    """One 《顾客满意度调查总结报告》: a campaign's numbers, Supply and Sales' analysis, the GM's decision."""

    number = models.CharField(_("number"), max_length=30, unique=True, editable=False)
    campaign_id = models.PositiveBigIntegerField(_("survey campaign"), db_index=True)
    title = models.CharField(_("title"), max_length=200)
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    # The campaign's results as they were when the report was drafted (or refreshed while a
    # draft): the printed numbers never change under a submitted report.
    results = models.JSONField(_("results"), default=dict)
    results_at = models.DateTimeField(_("results taken"), default=timezone.now)
    analysis = models.TextField(_("analysis of the results"), blank=True)
    improvements = models.TextField(_("proposed improvements"), blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=ReportState.choices, default=ReportState.DRAFT
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drafted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("drafted"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_comment = models.TextField(_("general manager's comment"), blank=True)

    class Meta:
        verbose_name = _("survey summary report")
        verbose_name_plural = _("survey summary reports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_draft(self) -> bool:
        return self.state == ReportState.DRAFT


class ReportEvent(TrailEntry):
    """One change to a survey summary report: who, when, what, old and new text (append-only)."""

    report = models.ForeignKey(SurveyReport, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)

    class Meta(TrailEntry.Meta):
        verbose_name = _("report event")
        verbose_name_plural = _("report events")
        indexes = [models.Index(fields=["report", "at"], name="reportevent_report_at")]

    def __str__(self) -> str:
        return f"{self.report_id} {self.verb} {self.at:%Y-%m-%d %H:%M}"


class ImprovementActionQuerySet(models.QuerySet["ImprovementAction"]):
    def open(self) -> ImprovementActionQuerySet:
        return self.filter(done_at__isnull=True)

    def overdue(self, today: dt.date | None = None) -> ImprovementActionQuerySet:
        return self.open().filter(due__lt=today or timezone.localdate())

    def for_user(self, user: Any) -> ImprovementActionQuerySet:
        """All of them for those who may read the reports; otherwise one's own and one's
        department's."""
        from qloop.reports.access import can_read_reports

        if not user.is_authenticated or not user.is_active:
            return self.none()
        if can_read_reports(user):
            return self
        return self.filter(Q(owner=user) | Q(department_id__in=user.department_ids))


class ImprovementAction(models.Model):
    """One improvement measure the general manager decided on a survey summary report."""

    report = models.ForeignKey(SurveyReport, on_delete=models.PROTECT, related_name="actions")
    measure = models.TextField(_("improvement measure"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="improvement_actions",
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="improvement_actions",
    )
    due = models.DateField(_("due"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result = models.TextField(_("result"), blank=True)

    objects = ImprovementActionQuerySet.as_manager()

    class Meta:
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        ordering = ["due", "id"]
        indexes = [
            models.Index(
                fields=["due"], name="improvement_open_due", condition=Q(done_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return self.measure[:60]

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due < timezone.localdate()


class ManagementReview(models.Model):
    """A management review (管理评审) on a date set by administrators."""

    held_on = models.DateField(_("date of the review"), unique=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Set once when the job claims the review: the summary is prepared once per review.
    summary_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("management review")
        verbose_name_plural = _("management reviews")
        ordering = ["-held_on"]

    def __str__(self) -> str:
        return self.title or f"{self.held_on:%Y-%m-%d}"

    @property
    def latest_summary(self) -> ReviewSummary | None:
        return self.summaries.order_by("-prepared_at", "-id").first()


class ReviewSummary(models.Model):
    """The summary prepared for a management review, kept as it was when prepared."""

    review = models.ForeignKey(ManagementReview, on_delete=models.PROTECT, related_name="summaries")
    prepared_at = models.DateTimeField(_("prepared"), default=timezone.now)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    data = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("management review summary")
        verbose_name_plural = _("management review summaries")
        ordering = ["-prepared_at", "-id"]

    def __str__(self) -> str:
        return f"{self.review} {self.prepared_at:%Y-%m-%d}"


class ExportState(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Being written")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Removed")


class ExportJob(models.Model):
    """One export of a list asked for by one person (X4): written by the worker, row by row,
    to a file only that person may download."""

    token = models.CharField(max_length=40, unique=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    list_code = models.CharField(_("list"), max_length=40)
    file_format = models.CharField(_("format"), max_length=10)
    params = models.JSONField(_("filters"), default=dict, blank=True)
    language = models.CharField(max_length=20, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=ExportState.choices, default=ExportState.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file_name = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("asked for"), default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["requested_by", "-created_at"], name="export_requested_by"),
            models.Index(fields=["state", "created_at"], name="export_state"),
        ]

    def __str__(self) -> str:
        return f"{self.list_code}.{self.file_format} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        if self.state == ExportState.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)

    @property
    def is_finished(self) -> bool:
        return self.state in (ExportState.DONE, ExportState.FAILED, ExportState.EXPIRED)


class SummaryPeriod(models.TextChoices):
    MONTH = "month", _("Monthly")
    QUARTER = "quarter", _("Quarterly")
    YEAR = "year", _("Yearly")


class PeriodSummaryState(models.TextChoices):
    DRAFT = "draft", _("To be signed off")
    SIGNED = "signed", _("Signed off")


class PeriodSummary(models.Model):
    """One period's summary for one recipient set (X5): the figures of the period, the period
    before and the same period a year earlier; frozen once signed off."""

    recipients = models.CharField(_("for"), max_length=40)
    period = models.CharField(_("period"), max_length=10, choices=SummaryPeriod.choices)
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    figures = models.JSONField(_("figures"), default=dict, editable=False)
    produced_at = models.DateTimeField(_("produced"), default=timezone.now, editable=False)
    counted_at = models.DateTimeField(_("figures counted"), default=timezone.now, editable=False)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=PeriodSummaryState.choices,
        default=PeriodSummaryState.DRAFT,
    )
    signature = models.JSONField(_("signature"), default=dict, blank=True, editable=False)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(_("signed off"), null=True, blank=True)
    # The files kept at sign-off (written once by the worker, never again), with their SHA-256
    # so a download can be checked against what was signed.
    pdf_file = models.CharField(_("PDF file"), max_length=300, blank=True, editable=False)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True, editable=False)
    xlsx_file = models.CharField(_(".xlsx file"), max_length=300, blank=True, editable=False)
    xlsx_sha256 = models.CharField(_(".xlsx SHA-256"), max_length=64, blank=True, editable=False)
    files_kept_at = models.DateTimeField(_("files kept"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("period summary")
        verbose_name_plural = _("period summaries")
        ordering = ["-start", "period", "recipients"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipients", "period", "start"], name="period_summary_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipients} {self.period} {self.start:%Y-%m-%d}"

    @property
    def is_signed(self) -> bool:
        return self.state == PeriodSummaryState.SIGNED

    @property
    def files_kept(self) -> bool:
        return bool(self.pdf_file and self.xlsx_file)


class SummarySending(models.Model):
    """When a signed-off period summary went to whom, how, and who recorded it."""

    summary = models.ForeignKey(PeriodSummary, on_delete=models.PROTECT, related_name="sendings")
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    sent_to = models.CharField(_("to whom"), max_length=200)
    channel = models.CharField(_("how"), max_length=20)
    note = models.CharField(_("note"), max_length=200, blank=True)
    # What the recipient gave back (the regulator's receipt number, the committee's file no.).
    reference = models.CharField(_("reference returned"), max_length=80, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("sending of a period summary")
        verbose_name_plural = _("sendings of period summaries")
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.summary_id} → {self.sent_to}"


class PeriodSummaryEvent(TrailEntry):
    """One step in a period summary's life: made, counted again, signed off, sent
    (append-only, hash-chained)."""

    summary = models.ForeignKey(PeriodSummary, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)

    class Meta(TrailEntry.Meta):
        verbose_name = _("period summary event")
        verbose_name_plural = _("period summary events")
        indexes = [models.Index(fields=["summary", "at"], name="summaryevent_summary_at")]

    def __str__(self) -> str:
        return f"{self.summary_id} {self.verb} {self.at:%Y-%m-%d %H:%M}"
