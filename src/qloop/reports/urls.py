"""The reports app's pages; web/urls.py adds them to its own list (the permission matrix
test reads that list)."""

from __future__ import annotations

from django.urls import path

from qloop.reports import analysis_views, dashboard_views, export_views, summary_views, views

urlpatterns = [
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("analysis/", analysis_views.analysis, name="analysis"),
    path("dashboard/<slug:board>/", dashboard_views.dashboard, name="dashboard-board"),
    path("exports/", export_views.export_list, name="export-list"),
    path("exports/jobs/<str:job>/", export_views.export_job, name="export-job"),
    path(
        "exports/jobs/<str:job>/download/",
        export_views.export_download,
        name="export-download",
    ),
    path("exports/<slug:code>/", export_views.export_start, name="export-start"),
    path("reports/surveys/", views.survey_report_list, name="survey-report-list"),
    path("reports/surveys/new/", views.survey_report_create, name="survey-report-create"),
    path(
        "reports/surveys/<int:report_id>/",
        views.survey_report_detail,
        name="survey-report-detail",
    ),
    path(
        "reports/surveys/<int:report_id>/edit/",
        views.survey_report_edit,
        name="survey-report-edit",
    ),
    path(
        "reports/surveys/<int:report_id>/refresh/",
        views.survey_report_refresh,
        name="survey-report-refresh",
    ),
    path(
        "reports/surveys/<int:report_id>/submit/",
        views.survey_report_submit,
        name="survey-report-submit",
    ),
    path(
        "reports/surveys/<int:report_id>/return/",
        views.survey_report_return,
        name="survey-report-return",
    ),
    path(
        "reports/surveys/<int:report_id>/decisions/",
        views.survey_report_add_decision,
        name="survey-report-add-decision",
    ),
    path(
        "reports/surveys/<int:report_id>/decide/",
        views.survey_report_decide,
        name="survey-report-decide",
    ),
    path(
        "reports/surveys/<int:report_id>/print/",
        views.survey_report_print,
        name="survey-report-print",
    ),
    path("reports/actions/", views.improvement_action_list, name="improvement-action-list"),
    path(
        "reports/actions/<int:action_id>/done/",
        views.improvement_action_done,
        name="improvement-action-done",
    ),
    path("reports/summaries/", summary_views.summary_archive, name="period-summary-list"),
    path(
        "reports/summaries/<int:summary_id>/", summary_views.summary_detail, name="period-summary"
    ),
    path(
        "reports/summaries/<int:summary_id>/print/",
        summary_views.summary_print,
        name="period-summary-print",
    ),
    path(
        "reports/summaries/<int:summary_id>/xlsx/",
        summary_views.summary_xlsx,
        name="period-summary-xlsx",
    ),
    path(
        "reports/summaries/<int:summary_id>/kept.<str:fmt>",
        summary_views.summary_kept_file,
        name="period-summary-file",
    ),
    path(
        "reports/summaries/<int:summary_id>/sign/",
        summary_views.summary_sign,
        name="period-summary-sign",
    ),
    path(
        "reports/summaries/<int:summary_id>/recount/",
        summary_views.summary_recount,
        name="period-summary-recount",
    ),
    path(
        "reports/summaries/<int:summary_id>/send/",
        summary_views.summary_send,
        name="period-summary-send",
    ),
    path("reports/reviews/", views.review_list, name="review-list"),
    path("reports/reviews/<int:review_id>/", views.review_summary, name="review-summary"),
    path(
        "reports/reviews/<int:review_id>/prepare/",
        views.review_prepare,
        name="review-prepare",
    ),
]
