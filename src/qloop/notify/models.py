"""Messages to people: the in-app bell, and the outbox that the worker delivers (X6).

A message for any channel other than the app is written to the outbox (``Message``) in the
same transaction as the event that causes it; the worker delivers it later, retrying with
back-off and logging each attempt (``DeliveryAttempt``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One message to one person inside the app: the bell."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["user", "-created_at"],
                name="notif_user_unread",
                condition=Q(read_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def text(self) -> str:
        """The message in the reader's language (rendered now, not when it was written)."""
        from qloop.notify.texts import render

        return render(self)


class Channel(models.TextChoices):
    APP = "app", _("In the app")
    EMAIL = "email", _("E-mail")
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")
    FEISHU = "feishu", _("Feishu / Lark group robot")
    WEBHOOK = "webhook", _("Webhook (JSON, HMAC-SHA256)")


ROBOT_CHANNELS = (Channel.WECOM, Channel.DINGTALK, Channel.FEISHU, Channel.WEBHOOK)
PERSONAL_CHANNELS = (Channel.APP, Channel.EMAIL)


class Robot(models.Model):
    """A group robot (WeCom, DingTalk, Feishu) or a generic webhook, usually one per department.

    A department's robot receives what the department's members receive.
    """

    name = models.CharField(_("name"), max_length=100)
    channel = models.CharField(
        _("kind"), max_length=20, choices=[(c.value, c.label) for c in ROBOT_CHANNELS]
    )
    url = models.URLField(_("address"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        blank=True,
        help_text=_(
            "DingTalk: the robot's signing secret (SEC…). Feishu: the signature key. "
            "Webhook: the HMAC-SHA256 key. WeCom robots have none."
        ),
    )
    department = models.ForeignKey(
        "org.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="robots",
        verbose_name=_("department"),
    )
    kinds = models.JSONField(
        _("kinds of message"),
        default=list,
        blank=True,
        help_text=_("Leave empty for every kind."),
    )
    quiet_from = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_to = models.TimeField(_("quiet hours to"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("group robot or webhook")
        verbose_name_plural = _("group robots and webhooks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def wants(self, kind: str) -> bool:
        return self.active and (not self.kinds or kind in self.kinds)


class MessagePreference(models.Model):
    """What a person wants to receive, and where; and when not to be disturbed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_preference"
    )
    # {kind: ["app", "email"]}; a kind not listed gets the defaults of notify.kinds.
    channels = models.JSONField(_("channels per kind"), default=dict, blank=True)
    quiet_from = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_to = models.TimeField(_("quiet hours to"), null=True, blank=True)

    class Meta:
        verbose_name = _("message preference")
        verbose_name_plural = _("message preferences")

    def __str__(self) -> str:
        return str(self.user)


class MessageState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Message(models.Model):
    """One message in the outbox: to one address (a person's e-mail) or one robot."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("person"),
    )
    robot = models.ForeignKey(
        Robot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        verbose_name=_("robot"),
    )
    address = models.CharField(_("address"), max_length=254, blank=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    html = models.TextField(_("HTML"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    urgent = models.BooleanField(_("urgent"), default=False)
    state = models.CharField(
        _("state"), max_length=20, choices=MessageState.choices, default=MessageState.PENDING
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    # Not before: the end of the recipient's quiet hours, or the next retry.
    due_at = models.DateTimeField(_("due"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The worker reads only what waits, soonest first.
            models.Index(
                fields=["due_at"], name="message_pending_due", condition=Q(state="pending")
            ),
            models.Index(fields=["state", "-created_at"], name="message_state"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.address or self.robot}: {self.subject}"


class DeliveryAttempt(models.Model):
    """One try at delivering a message, successful or not."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("time"), default=timezone.now)
    ok = models.BooleanField(_("delivered"))
    detail = models.TextField(_("answer or error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {'ok' if self.ok else 'failed'}"


class MessageTemplate(models.Model):
    """The words of one kind of message in one language, replacing the built-in ones.

    Subject and text are Django templates; the variables a kind offers are listed in the
    administration page's preview.
    """

    kind = models.CharField(_("kind"), max_length=40)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["kind", "language"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "language"], name="message_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.language})"
