"""The attempt counts behind the login limits (django-axes), for administrators: read-only,
in the interface's language; clearing an attempt row lifts that lock-out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from qloop.org.attempts import cool_off, failure_limit

# django-axes ships no Chinese: its model and field names, translated in QLoop's catalogues
# (which Django reads before any app's), so these pages speak the interface's language.
AXES_WORDS = (
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("User Agent"),
    gettext_noop("IP Address"),
    gettext_noop("Username"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Path"),
    gettext_noop("Attempt Time"),
    gettext_noop("GET Data"),
    gettext_noop("POST Data"),
    gettext_noop("Failed Logins"),
    gettext_noop("Access lock out"),
    gettext_noop("Logout Time"),
    gettext_noop("Session key hash (sha256)"),
)


class _ReadOnly(admin.ModelAdmin):
    """Rows written by the login checks only."""

    date_hierarchy = "attempt_time"
    search_fields = ("username", "ip_address")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessAttempt)
class AccessAttemptAdmin(_ReadOnly):
    """Who is counting wrong passwords, from where, and who is locked out until when."""

    list_display = (
        "username",
        "ip_address",
        "failures_since_start",
        "attempt_time",
        "locked_until",
        "path_info",
        "user_agent",
    )
    list_filter = ("path_info",)
    fields = (
        "username",
        "ip_address",
        "failures_since_start",
        "attempt_time",
        "path_info",
        "user_agent",
        "http_accept",
    )
    actions = ("clear_lockout",)

    @admin.display(description=_("locked out until"))
    def locked_until(self, obj: AccessAttempt) -> dt.datetime | str:
        until = obj.attempt_time + cool_off()
        if obj.failures_since_start >= failure_limit() and until > timezone.now():
            return timezone.localtime(until)
        return "—"

    @admin.action(description=_("Clear the lock-out (forget these wrong passwords)"))
    def clear_lockout(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        count = queryset.delete()[0]
        self.message_user(request, _("Forgotten: %(count)s rows.") % {"count": count})


@admin.register(AccessFailureLog)
class AccessFailureLogAdmin(_ReadOnly):
    """Every wrong password, kept after the count is cleared (the latest per user)."""

    list_display = ("attempt_time", "username", "ip_address", "locked_out", "path_info")
    list_filter = ("locked_out", "path_info")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccessLog)
class AccessLogAdmin(_ReadOnly):
    """Every login and logout."""

    list_display = ("attempt_time", "logout_time", "username", "ip_address", "path_info")
    list_filter = ("path_info",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
