from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from qloop.reports import urls as reports_urls
from qloop.web import (
    account_views,
    customer_views,
    history_views,
    holiday_views,
    process_views,
    recurring_views,
    register_views,
    status_views,
    views,
)
from qloop.web.login import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set-language"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("calendars/holidays/", holiday_views.statutory_holidays, name="statutory-holidays"),
    # No login: a customer or patient looks up his case (number + last four phone digits).
    path("status/", status_views.case_status, name="case-status"),
    path("cases/<str:number>/status-slip/", status_views.case_status_slip, name="case-status-slip"),
    path("my-work/", views.my_work, name="my-work"),
    path("my-work/registered/", views.registered_by_me, name="registered-by-me"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/export.xlsx", views.case_export, name="case-export"),
    path("cases/new/", views.case_create, name="case-create"),
    path("cases/import/", history_views.history_import, name="history-import"),
    path("cases/similar/", history_views.similar_cases, name="similar-cases"),
    path("quality/recurring/", recurring_views.recurring_list, name="recurring-list"),
    path(
        "quality/recurring/<int:group_id>/link/",
        recurring_views.recurring_link,
        name="recurring-link",
    ),
    path(
        "quality/recurring/<int:group_id>/dismiss/",
        recurring_views.recurring_dismiss,
        name="recurring-dismiss",
    ),
    path("cases/import/template.xlsx", history_views.history_template, name="history-template"),
    path("cases/contact-lookup/", views.contact_lookup, name="contact-lookup"),
    path("cases/<str:number>/", views.case_detail, name="case-detail"),
    path("cases/<str:number>/edit/", views.case_edit, name="case-edit"),
    path("cases/<str:number>/comment/", views.case_comment, name="case-comment"),
    path("cases/<str:number>/photos/", views.case_photos, name="case-photos"),
    path("cases/<str:number>/archive/", views.case_archive, name="case-archive"),
    path("files/<str:token>/", views.attachment, name="attachment"),
    path("files/<str:token>/thumbnail/", views.attachment_thumbnail, name="attachment-thumbnail"),
    path("account/tokens/", views.tokens, name="tokens"),
    path("account/messages/", account_views.message_settings, name="message-settings"),
    path(
        "cases/<str:number>/transitions/<str:name>/",
        process_views.case_transition,
        name="case-transition",
    ),
    path("cases/<str:number>/tasks/", process_views.case_task_create, name="case-task-create"),
    path(
        "cases/<str:number>/clocks/<str:name>/pause/",
        process_views.case_clock_pause,
        name="case-clock-pause",
    ),
    path(
        "cases/<str:number>/clocks/<str:name>/resume/",
        process_views.case_clock_resume,
        name="case-clock-resume",
    ),
    path("cases/<str:number>/8d/", process_views.case_eight_d, name="case-eight-d"),
    path("cases/<str:number>/report/", process_views.case_report, name="case-report"),
    path("tasks/<int:task_id>/done/", process_views.task_done, name="task-done"),
    path("approvals/", process_views.approvals, name="approvals"),
    path(
        "approvals/<int:approval_id>/decide/", process_views.approval_decide, name="approval-decide"
    ),
    path("processes/<str:kind>/", process_views.process_diagram, name="process-diagram"),
    path("notifications/", process_views.notifications, name="notifications"),
    path(
        "registers/feedback-handling/",
        register_views.feedback_handling_record,
        name="feedback-handling-record",
    ),
    path(
        "registers/feedback-handling.xlsx",
        register_views.feedback_handling_record_xlsx,
        name="feedback-handling-record-xlsx",
    ),
    path(
        "registers/complaints-and-feedback/",
        register_views.complaint_feedback_record,
        name="complaint-feedback-record",
    ),
    path(
        "registers/complaints-and-feedback.xlsx",
        register_views.complaint_feedback_record_xlsx,
        name="complaint-feedback-record-xlsx",
    ),
    path("customers/", customer_views.customer_list, name="customer-list"),
    path("customers/new/", customer_views.customer_create, name="customer-create"),
    path("customers/<int:pk>/", customer_views.customer_detail, name="customer-detail"),
    path(
        "customers/<int:pk>/contact-records/",
        customer_views.contact_record_create,
        name="contact-record-create",
    ),
    path(
        "customers/<int:pk>/contacts/",
        customer_views.customer_add_contact,
        name="customer-add-contact",
    ),
]
# The reports app's pages sit in this list so the permission matrix sees every URL.
urlpatterns += reports_urls.urlpatterns
