"""Information feedback forms on the survey engine (R5.2, R5.3, R5.6): sent to the clinical
departments on schedule, returned, late ones reminded, reviewed item by item, issues
registered as cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from qloop.clinical import feedback
from qloop.clinical.models import FeedbackForm, FeedbackSchedule
from qloop.notify.models import Notification
from qloop.surveys.actions import create_from_template
from tests.clocktime import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(hospital: dict[str, Any]) -> FeedbackSchedule:
    from qloop.org.models import Department

    made = FeedbackSchedule.objects.create(
        register=hospital["registers"]["lab"],
        questionnaire=create_from_template("clinical_feedback", actor=None),
        collector=hospital["lab_head"],
        every_days=30,
        days_to_return=7,
        next_send_on=T0.date(),
    )
    made.departments.set(Department.objects.filter(code__in=["IM", "SURG"]))
    return made


def test_forms_go_out_on_schedule_once_and_late_ones_are_reminded(
    hospital: dict[str, Any], schedule: FeedbackSchedule, at: Any
) -> None:
    at(T0)
    assert feedback.send_due_forms() == 2
    assert feedback.send_due_forms() == 0  # the same day again: nothing twice
    schedule.refresh_from_db()
    assert schedule.next_send_on == T0.date() + dt.timedelta(days=30)
    assert Notification.objects.filter(user=hospital["doctor"], kind="feedback_form_sent").exists()
    at(T0 + dt.timedelta(days=8))
    assert feedback.remind_late_forms() == 2
    assert feedback.remind_late_forms() == 0  # at most once a day
    assert Notification.objects.filter(
        user=hospital["doctor"], kind="feedback_form_reminder"
    ).exists()


def test_a_department_returns_the_form_and_the_collector_registers_issues(
    hospital: dict[str, Any], schedule: FeedbackSchedule, at: Any
) -> None:
    at(T0)
    feedback.send_due_forms()
    form = FeedbackForm.objects.get(department__code="IM")
    raw = {
        "timeliness": ["2"],
        "accuracy": ["5"],
        "critical_values": ["4"],
        "communication": ["4"],
        "problems": ["急诊血常规报告经常超过 30 分钟。"],
    }
    with pytest.raises(PermissionDenied):  # surgery may not fill in medicine's form
        feedback.return_form(form, raw, actor=hospital["surg_doctor"])
    with pytest.raises(ValidationError):  # a rating of 9 out of 5
        feedback.return_form(form, {**raw, "accuracy": ["9"]}, actor=hospital["doctor"])
    doctor = Client()
    doctor.force_login(hospital["doctor"])
    posted = doctor.post(
        f"/clinical/feedback-forms/{form.pk}/", {f"q_{k}": v for k, v in raw.items()}
    )
    assert posted.status_code == 302
    form.refresh_from_db()
    assert form.returned_by == hospital["doctor"]
    with pytest.raises(PermissionDenied):
        feedback.review_form(form, [("problems", True)], actor=hospital["doctor"])
    lab_head = Client()
    lab_head.force_login(hospital["lab_head"])
    listing = lab_head.get("/clinical/feedback-forms/").content.decode()
    assert "50.0%" in listing  # one of two returned
    reviewed = lab_head.post(
        f"/clinical/feedback-forms/{form.pk}/",
        {
            "action": "review",
            "issue_problems": "on",
            "important_problems": "on",
            "issue_timeliness": "on",
        },
    )
    assert reviewed.status_code == 302
    issues = list(form.issues.select_related("case").order_by("case__number"))
    assert len(issues) == 2
    important = next(i for i in issues if i.important)
    assert "30 分钟" in important.said and important.clinical_department.code == "IM"
    assert important.case.number.startswith("CFI-") and important.case.department.code == "LAB"
    # The department concerned sees the issue; the manufacturer does not.
    assert doctor.get(f"/cases/{important.case.number}/").status_code == 200
    gm = Client()
    gm.force_login(hospital["gm"])
    assert gm.get(f"/cases/{important.case.number}/").status_code == 404
    assert gm.get(f"/clinical/feedback-forms/{form.pk}/").status_code == 403
