from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from qloop.org.models import ApiToken, Department, Membership, Organisation, Role, User


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
    list_display = ["code", "name", "name_en", "parent", "intake_kinds", "is_active"]
    search_fields = ["code", "name", "name_en"]
    list_filter = ["is_active"]


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


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "profiles"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
