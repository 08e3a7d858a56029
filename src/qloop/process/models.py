"""Deadline clocks on cases (X3)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    STOPPED = "stopped", _("Stopped")
    BREACHED = "breached", _("Breached")


class ClockName(models.TextChoices):
    CUSTOMER_ANSWER = "customer_answer", _("Answer to the customer")
    INVESTIGATION = "investigation", _("48-hour investigation")


class Clock(models.Model):
    """A deadline running on a case: started, due, paused, stopped or breached."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="clocks")
    name = models.CharField(_("clock"), max_length=40, choices=ClockName.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=ClockState.choices, default=ClockState.RUNNING
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)

    class Meta:
        verbose_name = _("clock")
        verbose_name_plural = _("clocks")
        ordering = ["started_at", "id"]
        indexes = [
            # The breach sweep reads only running clocks past due: one indexed range scan.
            models.Index(fields=["due_at"], name="clock_running_due", condition=Q(state="running")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "name"],
                name="clock_one_open_per_name",
                condition=Q(state__in=["running", "paused", "breached"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_name_display()} {self.get_state_display()}"

    @property
    def is_open(self) -> bool:
        return self.state in {ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED}

    @property
    def was_breached(self) -> bool:
        return self.breached_at is not None

    def remaining_seconds(self) -> float:
        return (self.due_at - timezone.now()).total_seconds()


class ApprovalState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ApprovalKind(models.TextChoices):
    ONSITE = "onsite", _("On-site investigation")


class Approval(models.Model):
    """A request to a role (e.g. the general manager) that blocks a step until decided."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="approvals")
    kind = models.CharField(_("kind"), max_length=30, choices=ApprovalKind.choices)
    role = models.CharField(_("decided by role"), max_length=30)
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    state = models.CharField(
        _("state"), max_length=20, choices=ApprovalState.choices, default=ApprovalState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    signature = models.JSONField(_("e-signature"), default=dict, blank=True)

    class Meta:
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["role", "state"], name="approval_role_state")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.get_state_display()}"


class Task(models.Model):
    """Work handed to a department or person inside a case (R1.8)."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="tasks")
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    title = models.CharField(_("task"), max_length=200)
    due = models.DateField(_("due"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result = models.TextField(_("result"), blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["done_at", "due", "id"]
        indexes = [models.Index(fields=["department", "done_at"], name="task_department_open")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
