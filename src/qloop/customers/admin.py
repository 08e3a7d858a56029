"""The customer directory, read here: customers, their people and contact records are written
on the directory's pages through customers.actions, each with its check (issue 9.3)."""

from django.contrib import admin

from qloop.customers.models import ContactRecord, CustomerContact, CustomerOrganisation
from qloop.org.admin_records import RecordAdmin, RecordInline


class CustomerContactInline(RecordInline):
    model = CustomerContact
    raw_id_fields = ("contact",)


@admin.register(CustomerOrganisation)
class CustomerOrganisationAdmin(RecordAdmin):
    list_display = ("name", "kind", "address", "archived_at")
    list_filter = ("kind",)
    search_fields = ("name", "address")
    inlines = [CustomerContactInline]


@admin.register(ContactRecord)
class ContactRecordAdmin(RecordAdmin):
    list_display = ("date", "customer", "way", "recorded_by")
    list_filter = ("way",)
    raw_id_fields = ("customer", "contact", "case")
