"""Paper answers typed in by staff (R2.6) and invitations and reminders through the outbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from qloop.cases.models import Contact
from qloop.notify.channels import render_email_html, render_email_text
from qloop.notify.models import Message
from qloop.surveys import actions
from qloop.surveys.models import Campaign, Invitation, Response, Source
from tests.surveys.conftest import BASE_URL


def test_staff_type_in_a_paper_form_recorded_as_paper_under_their_name(
    campaign: Campaign, client_for: Any, users: dict[str, Any]
) -> None:
    client = client_for("sales")
    url = reverse("campaign-paper", args=[campaign.pk])

    page = client.get(url)
    done = client.post(
        url,
        {"q_quality": "5", "q_service": "4", "q_recommend": "10", "q_needs": ["0", "2"]},
    )

    assert page.status_code == 200
    assert done.status_code == 302
    response = Response.objects.get()
    assert response.source == Source.PAPER and response.entered_by == users["sales"]
    assert sorted(
        response.answers.filter(question__code="needs").values_list("value", flat=True)
    ) == [0, 2]


def test_a_paper_form_missing_answers_is_refused_and_keeps_what_was_typed(
    campaign: Campaign, client_for: Any
) -> None:
    response = client_for("sales").post(
        reverse("campaign-paper", args=[campaign.pk]), {"q_quality": "5", "q_comments": "纸质问卷"}
    )

    assert response.status_code == 422
    assert "纸质问卷" in response.content.decode()
    assert not Response.objects.exists()


def test_a_paper_form_from_an_invited_contact_counts_as_their_answer(
    campaign: Campaign, contacts: list[Contact], client_for: Any, users: dict[str, Any]
) -> None:
    invitation = actions.invite_contacts(
        campaign, [contacts[1].pk], base_url=BASE_URL, actor=users["sales"]
    )[0]
    url = reverse("campaign-paper", args=[campaign.pk])
    answers = {"q_quality": "4", "q_service": "4", "q_recommend": "8"}

    client_for("sales").post(url, {**answers, "invitation": invitation.pk})
    twice = client_for("sales").post(url, {**answers, "invitation": invitation.pk})

    invitation.refresh_from_db()
    assert invitation.answered_at is not None
    assert Response.objects.get().invitation == invitation
    assert twice.status_code == 422


def test_invitations_go_through_the_outbox_with_the_personal_link(
    campaign: Campaign, contacts: list[Contact], users: dict[str, Any]
) -> None:
    no_email = Contact.objects.create(name="无邮箱", phone="13700000000")

    created = actions.invite_contacts(
        campaign,
        [c.pk for c in contacts] + [no_email.pk],
        base_url=BASE_URL,
        language="en",
        actor=users["sales"],
    )
    again = actions.invite_contacts(
        campaign, [contacts[0].pk], base_url=BASE_URL, actor=users["sales"]
    )

    # Everyone gets a personal link; only those with an e-mail address an e-mail (12.16).
    assert len(created) == 5 and again == []
    messages = Message.objects.filter(kind="survey_invitation")
    assert messages.count() == 4
    first = messages.get(address=contacts[0].email)
    token = Invitation.objects.get(contact=contacts[0]).token
    assert first.link == f"http://testserver/survey/{token}/"
    assert first.link in first.body
    assert first.language == "en"


def test_reminders_go_only_to_those_who_have_not_answered(
    campaign: Campaign, contacts: list[Contact], users: dict[str, Any], client_for: Any
) -> None:
    invitations = actions.invite_contacts(
        campaign, [c.pk for c in contacts], base_url=BASE_URL, actor=users["sales"]
    )
    actions.submit_response(
        campaign,
        {"quality": ["5"], "service": ["5"], "recommend": ["10"]},
        source="link",
        invitation=invitations[0],
    )

    response = client_for("sales").post(reverse("campaign-remind", args=[campaign.pk]))

    assert response.status_code == 302
    reminded = set(Message.objects.filter(kind="survey_reminder").values_list("address", flat=True))
    assert reminded == {c.email for c in contacts[1:]}
    assert Invitation.objects.get(pk=invitations[1].pk).reminders == 1
    assert Invitation.objects.get(pk=invitations[0].pk).reminders == 0


def test_a_closed_campaign_sends_no_more_invitations(
    campaign: Campaign, contacts: list[Contact], client_for: Any
) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(closes_at=timezone.now() - dt.timedelta(days=1))

    page = client_for("sales").post(
        reverse("campaign-invite", args=[campaign.pk]),
        {"contacts": [contacts[0].pk], "language": "zh-hans"},
    )

    assert page.status_code == 200
    assert not Invitation.objects.exists() and not Message.objects.exists()


def test_the_invite_page_finds_contacts_by_organisation(
    campaign: Campaign, contacts: list[Contact], client_for: Any
) -> None:
    page = client_for("sales").get(
        reverse("campaign-invite", args=[campaign.pk]), {"organisation": "东方泵业"}
    )

    html = page.content.decode()
    assert "韩梅梅" in html and "张伟" in html and "王芳" not in html


@override_settings(SITE_URL="https://qloop.example.cn", ALLOWED_HOSTS=["*"])
def test_a_contact_without_e_mail_gets_a_personal_link_and_qr_code_to_pass_on(
    campaign: Campaign, contacts: list[Contact], client_for: Any, users: dict[str, Any]
) -> None:
    """Issue 12.16 (X6: QQ, WeChat, paper): the link is the site's (SITE_URL), never the
    address the staff member happened to reach the server by."""
    no_email = Contact.objects.create(name="赵六", phone="13700000000", organisation="东方泵业")
    sales = client_for("sales")

    page = sales.get(reverse("campaign-invite", args=[campaign.pk]), HTTP_HOST="10.0.0.5:8123")
    assert "赵六" in page.content.decode()
    sent = sales.post(
        reverse("campaign-invite", args=[campaign.pk]),
        {"contacts": [no_email.pk, contacts[0].pk], "language": "zh-hans"},
        HTTP_HOST="10.0.0.5:8123",
    )
    assert sent.status_code == 302

    invitation = Invitation.objects.get(contact=no_email)
    assert invitation.email == ""
    assert Message.objects.filter(kind="survey_invitation").count() == 1
    link = f"https://qloop.example.cn/survey/{invitation.token}/"
    assert Message.objects.get().link.startswith("https://qloop.example.cn/survey/")
    detail = sales.get(reverse("campaign-detail", args=[campaign.pk]), HTTP_HOST="10.0.0.5:8123")
    html = detail.content.decode()
    assert link in html and "10.0.0.5" not in html
    qr = sales.get(reverse("invitation-qr", args=[invitation.pk]))
    assert qr["Content-Type"] == "image/png" and qr.content.startswith(b"\x89PNG")
    card = sales.get(reverse("invitation-card", args=[invitation.pk])).content.decode()
    assert "<svg" in card and link in card and "赵六" in card
    # Reminders go by e-mail only, to those who have an address.
    actions.remind_unanswered(campaign, base_url="https://qloop.example.cn/", actor=users["sales"])
    assert set(
        Message.objects.filter(kind="survey_reminder").values_list("address", flat=True)
    ) == {contacts[0].email}


def test_someone_outside_survey_management_sees_no_personal_link(
    campaign: Campaign, contacts: list[Contact], client_for: Any, users: dict[str, Any]
) -> None:
    invitation = actions.invite_contacts(
        campaign, [contacts[0].pk], base_url=BASE_URL, actor=users["sales"]
    )[0]
    for name in ("invitation-qr", "invitation-card"):
        response = client_for("prod").get(reverse(name, args=[invitation.pk]))
        assert response.status_code in (403, 404)


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
def test_an_invitation_e_mail_speaks_to_a_customer_not_to_staff(
    campaign: Campaign, contacts: list[Contact], users: dict[str, Any], language: str
) -> None:
    """Issue 12.17: no "open in QLoop", no message settings the customer does not have; the
    organisation signs it and the button says what to do."""
    actions.invite_contacts(
        campaign, [contacts[0].pk], base_url=BASE_URL, language=language, actor=users["sales"]
    )
    message = Message.objects.get(kind="survey_invitation")
    from qloop.org.models import Organisation

    Organisation.objects.filter(pk=Organisation.current().pk).update(name="恒达泵业有限公司")
    org = "恒达泵业有限公司"
    for rendered in (render_email_text(message), render_email_html(message)):
        assert "QLoop" not in rendered.replace(message.link, "")
        assert org in rendered
    staff = {
        "zh-hans": ("在 QLoop 中打开", "消息设置"),
        "zh-hant": ("在 QLoop 中打開", "消息設置"),
        "en": ("Open in QLoop", "message settings"),
    }[language]
    answer = {"zh-hans": "填写问卷", "zh-hant": "填寫問卷", "en": "Answer the survey"}[language]
    text = render_email_text(message)
    assert not any(words in text for words in staff)
    assert answer in text
