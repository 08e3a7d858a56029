"""Administrators edit how long clocks run, when they remind and whom they escalate to."""

from __future__ import annotations

from django.contrib import admin

from qloop.process.models import ClockDefinition, EscalationStep


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 1
    fields = ("order", "delay_hours", "audience")


@admin.register(ClockDefinition)
class ClockDefinitionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "amount", "unit", "calendar", "reminders", "updated_at")
    list_filter = ("process",)
    fields = ("process", "name", "amount", "unit", "calendar", "reminders")
    readonly_fields = ("process", "name")
    inlines = [EscalationStepInline]

    def has_add_permission(self, request: object) -> bool:
        return False  # one per clock of each process, made from the process's defaults

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
