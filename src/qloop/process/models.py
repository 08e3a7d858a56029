"""Deadline clocks on cases (X3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qloop.org import refdata


class ClockState(models.TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    STOPPED = "stopped", _("Stopped")
    BREACHED = "breached", _("Breached")


# A running clock is "near" its end in the last quarter of its time, at most these 12 hours.
NEAR = dt.timedelta(hours=12)


@dataclass(frozen=True)
class DeadlineStatus:
    """What a deadline shows, read from its clock's state (X3): ``late`` once the sweep has
    recorded a breach, ``paused``, ``met`` or ``late_stop`` once stopped, and only a running
    clock counts down (``ok``, ``near``, ``due`` when its time is up but the breach is not yet
    recorded). The wall clock never makes a clock late; the breach record does."""

    kind: str
    due_at: dt.datetime | None
    seconds: float = 0.0  # running: time left; breached: time since the due time (if past)

    @property
    def is_late(self) -> bool:
        return self.kind in {"late", "late_stop"}


def deadline_status(
    state: str,
    due_at: dt.datetime | None,
    *,
    started_at: dt.datetime | None = None,
    breached: bool = False,
    now: dt.datetime | None = None,
) -> DeadlineStatus | None:
    """The one reading of a clock's state for every screen and export (see DeadlineStatus);
    None when there is no deadline to show."""
    now = now or timezone.now()
    if state == ClockState.BREACHED:
        since = (now - due_at).total_seconds() if due_at is not None else 0.0
        return DeadlineStatus("late", due_at, max(since, 0.0))
    if state == ClockState.PAUSED:
        return DeadlineStatus("paused", due_at)
    if state == ClockState.STOPPED:
        return DeadlineStatus("late_stop" if breached else "met", due_at)
    if state != ClockState.RUNNING or due_at is None:
        return None
    left = (due_at - now).total_seconds()
    if left <= 0:
        return DeadlineStatus("due", due_at, 0.0)
    near = NEAR if started_at is None else min(NEAR, (due_at - started_at) / 4)
    return DeadlineStatus("near" if left < near.total_seconds() else "ok", due_at, left)


class ClockName(models.TextChoices):
    """The manufacturer's clocks; other profiles declare theirs in their processes (ClockSpec)."""

    CUSTOMER_ANSWER = "customer_answer", _("Answer to the customer")
    INVESTIGATION = "investigation", _("48-hour investigation")


def clock_choices() -> list[tuple[str, str]]:
    """Every clock of every registered process (a callable: no migration per new clock)."""
    from django.utils.translation import get_language

    from qloop.process.definitions import PROCESSES

    # Asked afresh by every ``get_name_display()``: the case page showed each clock's name at
    # the cost of translating all of them (issue 14). Kept per language and set of processes.
    return _clock_choices(get_language(), tuple(PROCESSES.values()))


# (language, the processes' ids) → (the processes, held so that no id is reused, the choices)
_CLOCK_CHOICES: dict[tuple[str | None, tuple[int, ...]], tuple[Any, list[tuple[str, str]]]] = {}


def _clock_choices(language: str | None, processes: tuple[Any, ...]) -> list[tuple[str, str]]:
    from qloop.process.definitions import clock_label, clock_names

    key = (language, tuple(map(id, processes)))
    found = _CLOCK_CHOICES.get(key)
    if found is None:
        if len(_CLOCK_CHOICES) > 32:  # processes registered again and again (tests)
            _CLOCK_CHOICES.clear()
        choices = [(name, str(clock_label(name))) for name in clock_names()]
        found = _CLOCK_CHOICES[key] = (processes, choices)
    return list(found[1])


class ClockUnit(models.TextChoices):
    MINUTES = "minutes", _("calendar minutes")
    HOURS = "hours", _("calendar hours")
    DAYS = "days", _("calendar days")
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


class ClockDefinition(models.Model):
    """How long a process's clock runs, on which calendar, when it reminds and whom it
    escalates to; edited by administrators, read when a clock starts (X3).

    Which clocks exist and which steps start and stop them stays in the process definitions;
    the rows are created from their defaults on first use.
    """

    process = models.CharField(_("process"), max_length=30)
    name = models.CharField(_("clock"), max_length=40, choices=clock_choices)
    amount = models.PositiveIntegerField(
        _("duration"),
        null=True,
        blank=True,
        help_text=_("Empty: the organisation's setting for answering customers (R2.3)."),
    )
    unit = models.CharField(_("unit"), max_length=20, choices=ClockUnit.choices, blank=True)
    calendar = models.ForeignKey(
        "org.WorkingCalendar",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("working calendar"),
        help_text=_("Empty: the calendar of the case's department, else the default one."),
    )
    reminders = models.CharField(
        _("reminders"),
        max_length=200,
        blank=True,
        help_text=_(
            "Comma-separated: shares of the time (50%) or hours before the due time (1h, 0.5h)."
        ),
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    # Kept in memory by every process (qloop.org.refdata): every write replaces the token.
    objects = refdata.WatchedQuerySet.as_manager()

    class Meta:
        verbose_name = _("clock definition")
        verbose_name_plural = _("clock definitions")
        ordering = ["process", "name"]
        constraints = [
            models.UniqueConstraint(fields=["process", "name"], name="clock_definition_unique")
        ]

    def __str__(self) -> str:
        from qloop.cases.kinds import kind_label
        from qloop.process.definitions import clock_label

        return f"{kind_label(self.process)} · {clock_label(self.name)}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from qloop.process.schedule import parse_reminders

        errors = {}
        try:
            parse_reminders(self.reminders)
        except ValueError as error:
            errors["reminders"] = str(error)
        if self.amount is not None and not self.unit:
            errors["unit"] = str(_("Give the unit of the duration."))
        if self.amount == 0:
            errors["amount"] = str(_("A deadline needs a duration above zero."))
        if errors:
            raise ValidationError(errors)


class EscalationStep(models.Model):
    """One rung of the ladder climbed after a breach: whom to tell, how long after it."""

    definition = models.ForeignKey(ClockDefinition, on_delete=models.CASCADE, related_name="ladder")
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    delay_hours = models.DecimalField(
        _("hours after the breach"),
        max_digits=6,
        decimal_places=2,
        default=0,
        help_text=_("0 escalates at once (R2.8). Counted in working hours on working clocks."),
    )
    audience = models.CharField(
        _("whom"),
        max_length=200,
        help_text=_(
            "Comma-separated: handler, department_head (who manage cases in the case's "
            "department), role:<code> (e.g. role:general_manager)."
        ),
    )

    # Kept in memory by every process (qloop.org.refdata): every write replaces the token.
    objects = refdata.WatchedQuerySet.as_manager()

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation ladder")
        ordering = ["definition", "order", "id"]

    def __str__(self) -> str:
        return f"{self.order}: +{self.delay_hours} h → {self.audience}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from qloop.process.audience import check_tokens

        try:
            check_tokens(self.audience)
        except ValueError as error:
            raise ValidationError({"audience": str(error)}) from error
        if self.delay_hours is not None and self.delay_hours < 0:
            raise ValidationError({"delay_hours": _("The delay cannot be negative.")})


class Clock(models.Model):
    """A deadline running on a case: started, due, paused, stopped or breached."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="clocks")
    name = models.CharField(_("clock"), max_length=40, choices=clock_choices)
    state = models.CharField(
        _("state"), max_length=20, choices=ClockState.choices, default=ClockState.RUNNING
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    # What the clock was started with, so that editing a definition changes later clocks only.
    unit = models.CharField(_("unit"), max_length=20, choices=ClockUnit.choices, blank=True)
    calendar = models.ForeignKey(
        "org.WorkingCalendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("working calendar"),
    )
    # Reminders and escalation steps: [{"at": iso, "type": "reminder"|"escalation",
    # "level": n, "to": "handler,role:…"}], soonest first; ``alerts_done`` of them are done.
    schedule = models.JSONField(default=list, blank=True)
    alerts_done = models.PositiveSmallIntegerField(default=0)
    next_alert_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("clock")
        verbose_name_plural = _("clocks")
        ordering = ["started_at", "id"]
        indexes = [
            # The breach sweep reads only running clocks past due: one indexed range scan.
            models.Index(fields=["due_at"], name="clock_running_due", condition=Q(state="running")),
            # The dashboards count breaches per month (issue 13): only breached clocks.
            models.Index(
                fields=["breached_at"],
                name="clock_breached",
                condition=Q(breached_at__isnull=False),
            ),
            # ... and the open clocks by name and state, from the index alone.
            models.Index(
                fields=["name", "state", "case"],
                name="clock_open_name_state",
                condition=Q(state__in=["running", "paused", "breached"]),
            ),
            # The alert sweep reads only clocks with a reminder or escalation to come.
            models.Index(
                fields=["next_alert_at"],
                name="clock_next_alert",
                condition=Q(next_alert_at__isnull=False),
            ),
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

    @property
    def deadline_status(self) -> DeadlineStatus | None:
        """What this clock shows, from its own state (see ``deadline_status``)."""
        return deadline_status(
            self.state, self.due_at, started_at=self.started_at, breached=self.was_breached
        )


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
