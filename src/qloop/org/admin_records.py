"""The administration pages read what the process and the actions own (issue 9.3).

A record written by an action (a customer's archive date, a campaign's questionnaire and
thresholds, a token's owner and revocation, survey answers, messages sent …) carries an event
or a trail of its own; written here it would have neither. Such models are registered with
``RecordAdmin``: they can be listed and opened, never added, changed or deleted. Configuration
(departments, roles, categories, extra fields, calendars, message templates, clock definitions
…) stays editable with the ordinary ``ModelAdmin``. tests/web/test_admin_records.py walks every
registered model and checks which is which.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class RecordAdmin(admin.ModelAdmin):
    """View only: changed through its action, with its event, never here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RecordInline(admin.TabularInline):
    """An inline list of records, view only."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
