from __future__ import annotations

from django.contrib import admin

from qloop.org.admin_records import RecordAdmin, RecordInline
from qloop.surveys.models import Campaign, Invitation, Question, Questionnaire, Response, Section


class SectionInline(RecordInline):
    model = Section
    fields = ["order", "title", "title_zh_hant", "title_en"]


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    fields = [
        ("section", "order", "code", "type", "required"),
        "text",
        ("text_zh_hant", "text_en"),
        ("choices", "choices_zh_hant", "choices_en"),
    ]

    def get_formset(self, request, obj=None, **kwargs):  # type: ignore[no-untyped-def]
        formset = super().get_formset(request, obj, **kwargs)
        # Only this questionnaire's sections may hold its questions.
        field = formset.form.base_fields.get("section")
        if field is not None:
            sections = Section.objects.filter(questionnaire=obj) if obj else Section.objects.none()
            field.queryset = sections  # type: ignore[attr-defined]
        return formset


@admin.register(Questionnaire)
class QuestionnaireAdmin(RecordAdmin):
    """Read here; built in the survey builder, whose actions keep answered questions intact."""

    list_display = ["title", "template_code", "created_at", "is_archived"]
    list_filter = ["is_archived"]
    search_fields = ["title"]
    inlines = [SectionInline, QuestionInline]


@admin.register(Campaign)
class CampaignAdmin(RecordAdmin):
    """Read here: the questionnaire and the low-score thresholds are set when the campaign is
    created (surveys.actions.create_campaign); answers are judged by them."""

    list_display = ["title", "questionnaire", "opens_at", "closes_at", "public_enabled"]
    list_filter = ["public_enabled"]
    search_fields = ["title"]
    readonly_fields = ["public_token", "created_by", "created_at"]


@admin.register(Invitation)
class InvitationAdmin(RecordAdmin):
    list_display = ["campaign", "contact", "email", "invited_at", "reminders", "answered_at"]
    list_filter = ["campaign"]
    search_fields = ["email", "contact__name"]
    readonly_fields = ["token", "answered_at"]


@admin.register(Response)
class ResponseAdmin(RecordAdmin):
    """Answers are records (R2.9): read here, never edited nor deleted."""

    list_display = ["campaign", "source", "contact", "submitted_at", "low_score", "case"]
    list_filter = ["campaign", "source", "low_score"]
