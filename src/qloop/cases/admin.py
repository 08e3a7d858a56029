from __future__ import annotations

from django.contrib import admin

from qloop.cases.models import Category, ExtraField


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "parent", "profile", "order", "is_active"]
    list_filter = ["profile", "is_active"]
    search_fields = ["code", "name"]


@admin.register(ExtraField)
class ExtraFieldAdmin(admin.ModelAdmin):
    list_display = ["kind", "code", "label", "field_type", "required", "order", "is_active"]
    list_filter = ["kind", "field_type", "is_active"]
    search_fields = ["code", "label"]
