from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from qloop.org.actions import revoke_token
from qloop.org.admin_records import RecordAdmin
from qloop.org.models import (
    ApiToken,
    CalendarOverride,
    Department,
    Membership,
    Organisation,
    Profile,
    Role,
    StatutoryNotice,
    User,
    WorkingCalendar,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["department", "role"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "display_name", "email", "phone", "is_active", "last_login"]
    search_fields = ["username", "display_name", "email", "phone"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]
        (_("QLoop"), {"fields": ("display_name", "phone", "qq", "language")}),
    )

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # People leave; their cases stay. Deactivate instead of deleting.
        return False


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "parent", "intake_kinds", "calendar", "is_active"]
    search_fields = ["code", "name", "name_en"]
    list_filter = ["is_active", "calendar"]


_DASH = re.compile(r"\s*(?:-|–|—|~|～|至|到)\s*")
_PERIOD = re.compile(r"^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")


class PeriodsField(forms.CharField):
    """Working hours typed as ``08:30-12:00, 13:30-17:30``, kept as ``[["08:30", "12:00"], …]``."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(f"{start}-{end}" for start, end in value)
        return value

    def to_python(self, value: Any) -> Any:
        text = _DASH.sub("-", (super().to_python(value) or "").replace("：", ":"))
        periods = []
        for piece in re.split(r"[,，;；、\s]+", text.strip()):
            if not piece:
                continue
            match = _PERIOD.match(piece)
            if match is None:
                raise ValidationError(
                    _("“%(value)s” is not a working period written as 08:30-12:00."),
                    code="period",
                    params={"value": piece},
                )
            periods.append([t.zfill(5) for t in match.groups()])
        return periods


class WorkingCalendarForm(forms.ModelForm):
    periods = PeriodsField(
        label=_("working hours"),
        required=False,
        help_text=_("Working periods of a working day, in order, e.g. 08:30-12:00, 13:30-17:30."),
    )
    workdays = forms.TypedMultipleChoiceField(
        label=_("working weekdays"),
        choices=sorted(WEEKDAYS.items()),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The weekdays normally worked."),
    )

    class Meta:
        model = WorkingCalendar
        fields = [
            "code",
            "name",
            "name_zh_hant",
            "name_en",
            "periods",
            "workdays",
            "statutory",
            "is_default",
        ]


class CalendarOverrideInline(admin.TabularInline):
    model = CalendarOverride
    fields = ["date", "working", "note"]
    extra = 1


@admin.register(WorkingCalendar)
class WorkingCalendarAdmin(admin.ModelAdmin):
    form = WorkingCalendarForm
    inlines = [CalendarOverrideInline]
    list_display = ["code", "name", "hours", "weekdays", "statutory", "is_default"]
    search_fields = ["code", "name", "name_en", "name_zh_hant"]

    @admin.display(description=_("working hours"))
    def hours(self, obj: WorkingCalendar) -> str:
        return ", ".join(f"{start}–{end}" for start, end in obj.periods)

    @admin.display(description=_("working weekdays"))
    def weekdays(self, obj: WorkingCalendar) -> str:
        return ", ".join(str(WEEKDAYS[day]) for day in sorted(obj.workdays) if day in WEEKDAYS)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Departments without a calendar of their own run on the default one.
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "sees_all_cases",
        "manages_cases",
        "sees_personal_data",
        "administers",
    ]
    search_fields = ["code", "name"]


class OrganisationForm(forms.ModelForm):
    """The profiles as boxes to tick: menus, registration, dashboards and the API show the
    kinds of the profiles that are on, and nothing of the others."""

    profiles = forms.MultipleChoiceField(
        label=_("profiles"),
        choices=Profile.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Switch a kind of organisation on or off. Cases already registered stay in the "
            "register; switched off, their kinds can no longer be registered or seen."
        ),
    )

    class Meta:
        model = Organisation
        fields = ["name", "profiles"]

    def clean_profiles(self) -> list[str]:
        # In the order of Profile, whatever order the boxes came in.
        chosen = set(self.cleaned_data["profiles"])
        return [p for p in Profile.values if p in chosen]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = OrganisationForm
    list_display = ["name", "profiles"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Organisation.objects.exists()  # one organisation per installation

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(RecordAdmin):
    """Tokens are read here; revoking one goes through its action (issue 9.3): its owner and
    dates are never edited."""

    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    exclude = ["key_hash"]
    actions = ["revoke_selected"]

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        user: User = request.user  # type: ignore[assignment]
        for token in queryset:
            revoke_token(token.pk, actor=user, as_administrator=True)
        self.message_user(request, _("Tokens revoked: %(count)s.") % {"count": queryset.count()})

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # The revocation is an action of its own; the admin's change permission is not needed.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(StatutoryNotice)
class StatutoryNoticeAdmin(RecordAdmin):
    """A reader: notices are entered, checked and previewed on the statutory holidays page
    (/calendars/holidays/), and a correction is a newer notice, never an edit."""

    list_display = ["year", "source", "entered_by", "entered_at"]
