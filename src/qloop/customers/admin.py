from django.contrib import admin

from qloop.customers.models import ContactRecord, CustomerContact, CustomerOrganisation


class CustomerContactInline(admin.TabularInline):
    model = CustomerContact
    raw_id_fields = ("contact",)
    extra = 0


@admin.register(CustomerOrganisation)
class CustomerOrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "address", "archived_at")
    list_filter = ("kind",)
    search_fields = ("name", "address")
    inlines = [CustomerContactInline]


@admin.register(ContactRecord)
class ContactRecordAdmin(admin.ModelAdmin):
    list_display = ("date", "customer", "way", "recorded_by")
    list_filter = ("way",)
    raw_id_fields = ("customer", "contact", "case")
