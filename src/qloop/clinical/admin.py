"""Administration of the clinical profile's configuration (registers, wards, rules, diseases,
reporting rules, feedback form schedules). Records that actions own are read here only."""

from __future__ import annotations

from django.contrib import admin

from qloop.clinical.models import (
    ClinicalRegister,
    FeedbackSchedule,
    FindingRule,
    HL7Message,
    NotifiableDisease,
    ReportingRule,
    Ward,
)


@admin.register(ClinicalRegister)
class ClinicalRegisterAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "department", "modality", "prefix", "ack_minutes", "is_active")


@admin.register(Ward)
class WardAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "department", "beds", "phone")
    filter_horizontal = ("staff",)


@admin.register(FindingRule)
class FindingRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "register",
        "kind",
        "test_code",
        "low_limit",
        "high_limit",
        "sex",
        "age_min_years",
        "age_max_years",
        "disease",
        "ack_minutes",
        "is_active",
    )
    list_filter = ("register", "kind", "is_active")


@admin.register(NotifiableDisease)
class NotifiableDiseaseAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "disease_class", "icd10", "repeat_days", "is_active")


@admin.register(ReportingRule)
class ReportingRuleAdmin(admin.ModelAdmin):
    """A new rule is a new row (version, valid from); cards keep the rule they were made under."""

    list_display = ("disease_class", "version", "hours", "valid_from", "valid_to", "source")

    def get_readonly_fields(
        self, request: object, obj: ReportingRule | None = None
    ) -> tuple[str, ...]:
        return ("disease_class", "version", "hours", "valid_from", "source") if obj else ()


@admin.register(FeedbackSchedule)
class FeedbackScheduleAdmin(admin.ModelAdmin):
    list_display = (
        "register",
        "questionnaire",
        "collector",
        "every_days",
        "next_send_on",
        "is_active",
    )
    filter_horizontal = ("departments",)


@admin.register(HL7Message)
class HL7MessageAdmin(admin.ModelAdmin):
    """Read only: messages are kept as they came; replay from /clinical/messages/."""

    list_display = ("received_at", "sender", "control_id", "message_type", "ack_code", "status")
    list_filter = ("status", "transport")
    exclude = ("raw",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
