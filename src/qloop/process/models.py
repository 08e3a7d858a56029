"""Deadline clocks on cases (X3)."""

from __future__ import annotations

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
