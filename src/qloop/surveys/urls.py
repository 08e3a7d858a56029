from __future__ import annotations

from django.urls import path

from qloop.surveys import views

urlpatterns = [
    path("surveys/", views.survey_home, name="survey-home"),
    path("surveys/questionnaires/new/", views.questionnaire_create, name="questionnaire-create"),
    path(
        "surveys/questionnaires/<int:questionnaire_id>/",
        views.questionnaire_builder,
        name="questionnaire-builder",
    ),
    path(
        "surveys/questionnaires/<int:questionnaire_id>/sections/",
        views.section_add,
        name="section-add",
    ),
    path(
        "surveys/questionnaires/<int:questionnaire_id>/campaigns/new/",
        views.campaign_create,
        name="campaign-create",
    ),
    path("surveys/sections/<int:section_id>/questions/", views.question_add, name="question-add"),
    path("surveys/questions/<int:question_id>/edit/", views.question_edit, name="question-edit"),
    path(
        "surveys/questions/<int:question_id>/delete/", views.question_delete, name="question-delete"
    ),
    path("surveys/questions/<int:question_id>/move/", views.question_move, name="question-move"),
    path("surveys/campaigns/<int:campaign_id>/", views.campaign_detail, name="campaign-detail"),
    path(
        "surveys/campaigns/<int:campaign_id>/invite/", views.campaign_invite, name="campaign-invite"
    ),
    path(
        "surveys/campaigns/<int:campaign_id>/remind/", views.campaign_remind, name="campaign-remind"
    ),
    path("surveys/campaigns/<int:campaign_id>/close/", views.campaign_close, name="campaign-close"),
    path("surveys/campaigns/<int:campaign_id>/qr.<str:fmt>", views.campaign_qr, name="campaign-qr"),
    path("surveys/campaigns/<int:campaign_id>/card/", views.campaign_card, name="campaign-card"),
    path(
        "surveys/invitations/<int:invitation_id>/qr.png",
        views.invitation_qr,
        name="invitation-qr",
    ),
    path(
        "surveys/invitations/<int:invitation_id>/card/",
        views.invitation_card,
        name="invitation-card",
    ),
    path("surveys/campaigns/<int:campaign_id>/paper/", views.campaign_paper, name="campaign-paper"),
    path(
        "surveys/campaigns/<int:campaign_id>/results/",
        views.campaign_results_page,
        name="campaign-results",
    ),
    # No login: the customer's personal link and the public link behind the QR code.
    path("survey/<str:token>/", views.survey_answer, name="survey-answer"),
    path("survey/p/<str:token>/", views.survey_public, name="survey-public"),
]
