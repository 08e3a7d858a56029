"""Administrators' side of messages: the outbox with its failures, robots, templates."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template import TemplateSyntaxError
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qloop.notify import outbox
from qloop.notify.models import (
    DeliveryAttempt,
    Message,
    MessagePreference,
    MessageState,
    MessageTemplate,
    Robot,
)
from qloop.notify.texts import KINDS, context, render_template
from qloop.org.admin_records import RecordAdmin


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("at", "ok", "duration_ms", "detail")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """The outbox. Failed messages are listed here with a retry button (X6)."""

    list_display = (
        "created_at",
        "channel",
        "kind",
        "recipient",
        "subject",
        "state",
        "attempts",
        "last_error_short",
        "retry_button",
    )
    list_filter = ("state", "channel", "kind")
    search_fields = ("subject", "address", "uid")
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]
    actions = ["retry_selected"]
    readonly_fields = [f.name for f in Message._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # nothing a user was told is ever erased

    @admin.display(description=gettext_lazy("recipient"))
    def recipient(self, obj: Message) -> str:
        return obj.address or str(obj.robot or "")

    @admin.display(description=gettext_lazy("last error"))
    def last_error_short(self, obj: Message) -> str:
        return obj.last_error[:80]

    @admin.display(description="")
    def retry_button(self, obj: Message) -> str:
        if obj.state not in (MessageState.FAILED, MessageState.CANCELLED):
            return ""
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:notify_message_retry", args=[obj.pk]),
            _("Retry"),
        )

    @admin.action(description=gettext_lazy("Retry the selected failed messages"))
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        count = outbox.retry(queryset)
        self.message_user(request, _("%(count)s message(s) queued again.") % {"count": count})

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="notify_message_retry",
            ),
            *super().get_urls(),
        ]

    def retry_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """GET asks to confirm; POST queues the message again."""
        if not self.has_change_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        message = get_object_or_404(Message, pk=pk)
        if request.method == "POST":
            count = outbox.retry(Message.objects.filter(pk=pk))
            if count:
                messages.success(request, _("The message is queued again."))
            else:
                messages.warning(request, _("Only a failed message can be retried."))
            return HttpResponseRedirect(reverse("admin:notify_message_changelist"))
        return render(
            request,
            "admin/notify/retry_confirm.html",
            {**self.admin_site.each_context(request), "message": message, "title": _("Retry")},
        )


@admin.register(Robot)
class RobotAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "department", "active")
    list_filter = ("channel", "active")


@admin.register(MessagePreference)
class MessagePreferenceAdmin(RecordAdmin):
    """Each person chooses where their messages reach them, on their own page."""

    list_display = ("user", "quiet_from", "quiet_to")


class MessageTemplateForm(forms.ModelForm):
    kind = forms.ChoiceField(label=gettext_lazy("kind"))

    class Meta:
        model = MessageTemplate
        fields = ("kind", "language", "active", "subject", "body")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [(k, f"{k} · {v.label}") for k, v in KINDS.items()]

    def _checked(self, name: str) -> str:
        value: str = self.cleaned_data.get(name, "")
        try:
            render_template(value, {})
        except TemplateSyntaxError as error:
            raise forms.ValidationError(
                _("The template has an error: %(error)s"), params={"error": error}
            ) from error
        return value

    def clean_subject(self) -> str:
        return self._checked("subject")

    def clean_body(self) -> str:
        return self._checked("body")


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """Words of a kind of message per language; the preview shows them with sample values."""

    form = MessageTemplateForm

    list_display = ("kind", "language", "subject", "active", "updated_at")
    list_filter = ("kind", "language", "active")
    readonly_fields = ("preview", "variables", "built_in")
    fields = ("kind", "language", "active", "subject", "body", "preview", "variables", "built_in")

    @admin.display(description=gettext_lazy("preview"))
    def preview(self, obj: MessageTemplate) -> str:
        if not obj.pk:
            return _("Save to see the preview.")
        spec = KINDS.get(obj.kind)
        ctx = context(obj.kind, spec.sample if spec else {}, link="https://qloop.example/cases/…")
        try:
            subject = render_template(obj.subject, ctx)
            body = render_template(obj.body, ctx)
        except TemplateSyntaxError as error:
            return format_html('<span class="errornote">{}</span>', str(error))
        return format_html(
            '<div class="qloop-preview"><strong>{}</strong><pre class="qloop-pre">{}</pre></div>',
            subject,
            body,
        )

    @admin.display(description=gettext_lazy("variables"))
    def variables(self, obj: MessageTemplate) -> str:
        spec = KINDS.get(obj.kind)
        names = sorted(context(obj.kind, spec.sample if spec else {}))
        return format_html_join(" ", "<code>{{{{ {} }}}}</code>", ((n,) for n in names))

    @admin.display(description=gettext_lazy("built-in words"))
    def built_in(self, obj: MessageTemplate) -> str:
        spec = KINDS.get(obj.kind)
        if spec is None:
            return ""
        return format_html(
            '<strong>{}</strong><pre class="qloop-pre">{}</pre>', spec.subject, spec.body
        )
