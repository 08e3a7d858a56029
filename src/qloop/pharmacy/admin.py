"""Administration of the pharmacy profile's configuration: the catalogue, the ADR deadline
rules (a change of law is a new version: existing versions are read-only) and the settings.
Records that actions own (cases' details, holds, sendings) are not edited here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from qloop.pharmacy.models import AdrDeadlineRule, Drug, DrugBatch, PharmacySettings


class BatchInline(admin.TabularInline):
    model = DrugBatch
    extra = 0
    fields = ("batch_number", "expiry")


@admin.register(Drug)
class DrugAdmin(admin.ModelAdmin):
    list_display = (
        "generic_name",
        "dosage_form",
        "strength",
        "brand_name",
        "approval_number",
        "manufacturer",
        "is_active",
    )
    search_fields = ("generic_name", "brand_name", "approval_number", "manufacturer")
    list_filter = ("is_active",)
    inlines = [BatchInline]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # archive (is_active), never delete: cases refer to drugs


@admin.register(AdrDeadlineRule)
class AdrDeadlineRuleAdmin(admin.ModelAdmin):
    list_display = (
        "category",
        "version",
        "valid_from",
        "days",
        "hours",
        "immediate",
        "needs_call",
        "source",
    )
    list_filter = ("category",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A version in force is the law a report was judged by: add a new one instead.
        if obj is not None:
            return [f.name for f in self.model._meta.fields]
        return ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PharmacySettings)
class PharmacySettingsAdmin(admin.ModelAdmin):
    list_display = ("adr_destination", "group_patients", "group_days")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not PharmacySettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
