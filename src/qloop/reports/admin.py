from __future__ import annotations

from django.contrib import admin

from qloop.reports.models import ManagementReview, ReviewSummary


class ReviewSummaryInline(admin.TabularInline):
    model = ReviewSummary
    fields = ["prepared_at", "prepared_by", "period_start", "period_end"]
    readonly_fields = ["prepared_at", "prepared_by", "period_start", "period_end"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ManagementReview)
class ManagementReviewAdmin(admin.ModelAdmin):
    """Administrators set the review dates; the summary is prepared a month before (R2.7)."""

    list_display = ["held_on", "title", "summary_claimed_at"]
    date_hierarchy = "held_on"
    fields = ["held_on", "title", "notes"]
    inlines = [ReviewSummaryInline]

    def save_model(
        self, request: object, obj: ManagementReview, form: object, change: bool
    ) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)  # type: ignore[arg-type]
