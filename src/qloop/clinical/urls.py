"""The clinical profile's pages; included by qloop.urls because ClinicalConfig names them."""

from __future__ import annotations

from django.urls import path

from qloop.clinical import views

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
]
