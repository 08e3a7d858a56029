"""Investigation, disposition and corrective action of a complaint (R1.3–R1.7, 8D)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Disposition(models.TextChoices):
    NOT_OURS = "not_ours", _("Not our product's problem")
    OURS = "ours", _("Our product's problem")


class Investigation(models.Model):
    """What CS and Quality found out about one case: the body of the investigation report."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, primary_key=True, related_name="investigation"
    )
    cs_analysis = models.TextField(_("CS's preliminary analysis"), blank=True)
    departments = models.JSONField(_("departments concerned"), default=list, blank=True)
    onsite_reason = models.TextField(_("reason for on-site investigation"), blank=True)
    onsite_findings = models.TextField(_("on-site findings"), blank=True)
    findings = models.TextField(_("investigation findings"), blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    disposition = models.CharField(
        _("disposition"), max_length=20, choices=Disposition.choices, blank=True
    )
    disposed_at = models.DateTimeField(_("disposed"), null=True, blank=True)
    disposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.TextField(_("answer to the customer"), blank=True)
    answer_channel = models.CharField(_("answered by"), max_length=20, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        verbose_name = _("investigation")
        verbose_name_plural = _("investigations")

    def __str__(self) -> str:
        return f"{self.case_id}"


class CorrectiveAction(models.Model):
    """The corrective plan of a case and its 8D record (R1.5 B)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, primary_key=True, related_name="corrective_action"
    )
    plan = models.TextField(_("corrective plan"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    due = models.DateField(_("due"), null=True, blank=True)
    d0_emergency = models.TextField(_("D0 emergency response"), blank=True)
    d1_team = models.TextField(_("D1 team"), blank=True)
    d2_problem = models.TextField(_("D2 problem description (5W2H)"), blank=True)
    d3_containment = models.TextField(_("D3 containment"), blank=True)
    d4_root_cause = models.TextField(_("D4 root cause and escape point"), blank=True)
    d5_permanent_action = models.TextField(_("D5 permanent action chosen and verified"), blank=True)
    d6_implementation = models.TextField(_("D6 implementation"), blank=True)
    d7_prevention = models.TextField(_("D7 prevention of recurrence"), blank=True)
    d8_closure = models.TextField(_("D8 closure and recognition"), blank=True)
    verification_result = models.CharField(_("verification result"), max_length=20, blank=True)
    verification_evidence = models.TextField(_("verification evidence"), blank=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    standardised_changes = models.TextField(
        _("procedures, drawings or work instructions changed"), blank=True
    )

    class Meta:
        verbose_name = _("corrective action")
        verbose_name_plural = _("corrective actions")

    def __str__(self) -> str:
        return f"{self.case_id}"


EIGHT_D_FIELDS = (
    "d0_emergency",
    "d1_team",
    "d2_problem",
    "d3_containment",
    "d4_root_cause",
    "d5_permanent_action",
    "d6_implementation",
    "d7_prevention",
    "d8_closure",
)
