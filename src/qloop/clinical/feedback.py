"""Information feedback forms (信息反馈单) on the survey engine (R5.2, R5.3, R5.6).

A department sends its form to the clinical departments on a schedule (each round is a survey
campaign of the form's questionnaire); a clinician of each department fills it in; the named
collector follows sent → returned per department, reminds the late ones, reviews the answers
item by item and registers each issue as a case (important ones are taken up with the
department through that case's process).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop.cases.actions import ContactData, Registration, register_case
from qloop.cases.models import Case
from qloop.clinical.actions import can_write_register
from qloop.clinical.models import FeedbackForm, FeedbackSchedule
from qloop.notify.actions import notify, people_in
from qloop.org.models import User
from qloop.surveys.actions import clean_answers, questions_of
from qloop.surveys.models import Answer, Campaign, Response, Source

FORM_TEMPLATE: dict[str, Any] = {
    "code": "clinical_feedback",
    "title": ("信息反馈单", "信息反饋單", "Information feedback form"),
    "intro": (
        "请贵科对本科室近期的检验（检查）工作提出意见和要求，我们将逐项审阅并改进。",
        "請貴科對本科室近期的檢驗（檢查）工作提出意見和要求，我們將逐項審閱並改進。",
        "Please tell us what you think of our recent work; we review every item and act on it.",
    ),
    "sections": [
        (
            ("服务质量", "服務質量", "Service"),
            [
                ("timeliness", "报告及时性", "報告及時性", "Reports on time", "rating", True, None),
                (
                    "accuracy",
                    "结果准确性与临床符合",
                    "結果準確性與臨床符合",
                    "Results accurate and consistent with the clinic",
                    "rating",
                    True,
                    None,
                ),
                (
                    "critical_values",
                    "危急值及时通知",
                    "危急值及時通知",
                    "Critical values told in time",
                    "rating",
                    True,
                    None,
                ),
                (
                    "communication",
                    "沟通与咨询",
                    "溝通與諮詢",
                    "Communication and advice",
                    "rating",
                    True,
                    None,
                ),
            ],
        ),
        (
            ("意见与要求", "意見與要求", "Opinions and requests"),
            [
                ("problems", "存在的问题", "存在的問題", "Problems", "text", False, None),
                (
                    "requests",
                    "对检验项目或服务的要求",
                    "對檢驗項目或服務的要求",
                    "Requests for tests or services",
                    "text",
                    False,
                    None,
                ),
            ],
        ),
    ],
}


def register_template() -> None:
    from qloop.surveys.defaults import TEMPLATES

    TEMPLATES.setdefault(FORM_TEMPLATE["code"], FORM_TEMPLATE)


def can_collect(user: User, schedule: FeedbackSchedule) -> bool:
    return user.pk == schedule.collector_id or can_write_register(user, schedule.register)


def can_fill_in(user: User, form: FeedbackForm) -> bool:
    return user.is_authenticated and form.department_id in user.department_ids


def send_due_forms(now: dt.datetime | None = None) -> int:
    """Send every schedule's round that has come due (idempotent: a round is sent once)."""
    now = now or timezone.now()
    sent = 0
    for pk in FeedbackSchedule.objects.filter(
        is_active=True, next_send_on__lte=timezone.localdate(now)
    ).values_list("pk", flat=True):
        with transaction.atomic():
            schedule = (
                FeedbackSchedule.objects.select_for_update()
                .select_related("register__department", "questionnaire")
                .get(pk=pk)
            )
            if schedule.next_send_on > timezone.localdate(now):
                continue  # another worker sent it
            due = now + dt.timedelta(days=schedule.days_to_return)
            campaign = Campaign.objects.create(
                questionnaire=schedule.questionnaire,
                title=f"{schedule.questionnaire.title} {timezone.localdate(now):%Y-%m-%d}",
                opens_at=now,
                closes_at=None,
                public_enabled=False,
            )
            for department in schedule.departments.filter(is_active=True):
                form = FeedbackForm.objects.create(
                    schedule=schedule,
                    campaign=campaign,
                    department=department,
                    sent_at=now,
                    due_at=due,
                )
                _tell(form, "feedback_form_sent", now)
                sent += 1
            schedule.next_send_on = schedule.next_send_on + dt.timedelta(days=schedule.every_days)
            while schedule.next_send_on <= timezone.localdate(now):
                schedule.next_send_on += dt.timedelta(days=schedule.every_days)
            schedule.save(update_fields=["next_send_on"])
    return sent


def _tell(form: FeedbackForm, kind: str, now: dt.datetime) -> None:
    from django.conf import settings

    notify(
        people_in([form.department.code]),
        kind=kind,
        data={
            "sender": form.schedule.register.department.name,
            "due": timezone.localtime(form.due_at).strftime("%Y-%m-%d"),
            "link": settings.SITE_URL + reverse("clinical-feedback-form", args=[form.pk]),
        },
        at=now,
    )


def remind_late_forms(now: dt.datetime | None = None) -> int:
    """Remind the departments whose form is late, at most once a day each."""
    now = now or timezone.now()
    reminded = 0
    late = FeedbackForm.objects.filter(returned_at__isnull=True, due_at__lt=now).select_related(
        "department", "schedule__register__department"
    )
    for form in late:
        if form.reminded_at is not None and form.reminded_at > now - dt.timedelta(days=1):
            continue
        with transaction.atomic():
            claimed = FeedbackForm.objects.filter(
                pk=form.pk, reminders=form.reminders, returned_at__isnull=True
            ).update(reminders=form.reminders + 1, reminded_at=now)
            if claimed:
                _tell(form, "feedback_form_reminder", now)
                reminded += 1
    return reminded


def return_form(
    form: FeedbackForm, raw: Mapping[str, Sequence[str]], *, actor: User
) -> FeedbackForm:
    """A clinician of the department fills the form in (R5.3); once."""
    if not can_fill_in(actor, form):
        raise PermissionDenied
    questions = questions_of(form.campaign)
    cleaned = clean_answers(questions, raw)
    if not cleaned:
        raise ValidationError({"__all__": [_("Answer at least one question.")]})
    with transaction.atomic():
        form = FeedbackForm.objects.select_for_update().get(pk=form.pk)
        if form.returned_at is not None:
            raise ValidationError({"__all__": [_("This form has already been returned.")]})
        now = timezone.now()
        response = Response.objects.create(
            campaign=form.campaign, source=Source.LINK, submitted_at=now, entered_by=actor
        )
        rows = []
        for question, values, text in cleaned:
            if text:
                rows.append(
                    Answer(response=response, campaign=form.campaign, question=question, text=text)
                )
            for value in values:
                rows.append(
                    Answer(
                        response=response, campaign=form.campaign, question=question, value=value
                    )
                )
        Answer.objects.bulk_create(rows)
        form.response, form.returned_at, form.returned_by = response, now, actor
        form.save(update_fields=["response", "returned_at", "returned_by"])
    return form


def review_form(
    form: FeedbackForm, issues: Sequence[tuple[str, bool]], *, actor: User
) -> list[Case]:
    """The collector reviews the returned form item by item: each item marked an issue is
    registered as a case (important ones flagged, to take up with the department)."""
    form = FeedbackForm.objects.select_related("schedule__register", "department", "response").get(
        pk=form.pk
    )
    if not can_collect(actor, form.schedule):
        raise PermissionDenied
    if form.returned_at is None or form.response is None:
        raise ValidationError({"__all__": [_("The form has not been returned yet.")]})
    answers = {
        a.question.code: a
        for a in Answer.objects.filter(response=form.response).select_related("question")
    }
    unknown = [code for code, _important in issues if code not in answers]
    if unknown:
        raise ValidationError({"__all__": [_("No such item: %(c)s.") % {"c": ", ".join(unknown)}]})
    made = []
    with transaction.atomic():
        form = FeedbackForm.objects.select_for_update().get(pk=form.pk)
        if form.reviewed_at is not None:
            raise ValidationError({"__all__": [_("This form has already been reviewed.")]})
        for code, important in issues:
            answer = answers[code]
            said = answer.text or str(answer.value)
            reg = Registration(
                kind="clinician_issue",
                channel="web",
                contact=ContactData(name=""),
                symptom="",
                severity="major" if important else "minor",
                detail={
                    "register": form.schedule.register.code,
                    "clinical_department": form.department.code,
                    "_form": form,
                    "question": answer.question.text,
                    "said": said,
                    "important": important,
                },
            )
            made.append(register_case(reg, actor=actor))
        form.reviewed_at, form.reviewed_by = timezone.now(), actor
        form.save(update_fields=["reviewed_at", "reviewed_by"])
    return made
