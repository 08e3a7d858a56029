"""The clinical profile's pages; included by qloop.urls because ClinicalConfig names them."""

from __future__ import annotations

from django.urls import path

from qloop.clinical import casework_views, fhir, views

urlpatterns = [
    path("clinical/registers/", views.registers, name="clinical-registers"),
    path("clinical/registers/<slug:code>/", views.register_detail, name="clinical-register"),
    path("clinical/registers/<slug:code>/new/", views.entry_create, name="clinical-entry-create"),
    path(
        "clinical/registers/<slug:code>/template.xlsx",
        views.import_template,
        name="clinical-import-template",
    ),
    path("clinical/registers/<slug:code>/import/", views.import_results, name="clinical-import"),
    path("clinical/results/<str:number>/", views.entry_detail, name="clinical-entry"),
    path(
        "clinical/results/<str:number>/correct/", views.entry_correct, name="clinical-entry-correct"
    ),
    path("clinical/findings/", views.findings, name="clinical-findings"),
    path("clinical/timeliness/", views.timeliness_page, name="clinical-timeliness"),
    path("clinical/report-cards/<str:number>/", views.report_card, name="clinical-report-card"),
    path(
        "clinical/report-cards/<str:number>/edit/",
        casework_views.report_card_edit,
        name="clinical-report-card-edit",
    ),
    path("clinical/opinions/new/", casework_views.opinion_create, name="clinical-opinion-create"),
    path(
        "clinical/opinions/qr/<slug:code>/", casework_views.opinion_qr, name="clinical-opinion-qr"
    ),
    path("clinical/requests/new/", casework_views.request_create, name="clinical-request-create"),
    path("clinical/messages/", casework_views.hl7_messages, name="clinical-messages"),
    path(
        "clinical/messages/<int:pk>/replay/",
        casework_views.hl7_replay,
        name="clinical-message-replay",
    ),
    path("clinical/feedback-forms/", casework_views.feedback_forms, name="clinical-feedback-forms"),
    path(
        "clinical/feedback-forms/<int:pk>/",
        casework_views.feedback_form,
        name="clinical-feedback-form",
    ),
    # Public: the patients' opinion page behind the QR code (no login).
    path("p/opinion/<slug:code>/", casework_views.opinion_public, name="clinical-opinion-public"),
    # FHIR R4: results in, acknowledgements out (R5.8).
    path("fhir/r4/<str:resource>", fhir.endpoint, name="fhir-r4"),
    path("fhir/r4/<str:resource>/<str:rid>", fhir.read, name="fhir-r4-read"),
]
