"""The pharmacy profile's pages; included by qloop.urls because PharmacyConfig names them."""

from __future__ import annotations

from django.urls import path

from qloop.pharmacy import views

urlpatterns = [
    path("pharmacy/drugs/", views.drugs, name="pharmacy-drugs"),
    path("pharmacy/drugs/template.xlsx", views.import_template, name="pharmacy-import-template"),
    path("pharmacy/drugs/import/", views.import_drugs, name="pharmacy-import"),
    path("pharmacy/feedback/new/", views.feedback_create, name="pharmacy-feedback-create"),
    path("pharmacy/counterfeit/new/", views.counterfeit_create, name="pharmacy-counterfeit-create"),
    path("pharmacy/adr/new/", views.adr_create, name="pharmacy-adr-create"),
    path("pharmacy/adr/export.xlsx", views.adr_export, name="pharmacy-adr-export"),
    path("pharmacy/adr/<str:number>/edit/", views.adr_edit, name="pharmacy-adr-edit"),
    path("pharmacy/cases/<str:number>/print/", views.print_form, name="pharmacy-print"),
    path("pharmacy/cases/<str:number>/e2b.xml", views.e2b_download, name="pharmacy-e2b"),
    path("pharmacy/qr/", views.feedback_qr, name="pharmacy-feedback-qr"),
    path("pharmacy/signals/", views.signals, name="pharmacy-signals"),
    path("pharmacy/summaries/", views.summaries, name="pharmacy-summaries"),
    path("pharmacy/summaries/<int:pk>/", views.summary_detail, name="pharmacy-summary"),
    # Public: the patients' drug quality feedback page behind the QR code (no login).
    path("p/drug-feedback/", views.feedback_public, name="pharmacy-feedback-public"),
]
