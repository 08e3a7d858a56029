"""At least one survey a year (R2.5 c): Supply and Sales is warned after 11 quiet months,
once a month at most however often the job runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from django.utils import timezone

from qloop.notify.models import Notification
from qloop.surveys import actions
from qloop.surveys.jobs import survey_overdue_check
from qloop.surveys.models import Questionnaire

START = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)


def _warnings() -> list[Notification]:
    return list(Notification.objects.filter(kind="survey_overdue"))


def test_a_warning_after_eleven_months_without_a_survey_then_monthly(
    questionnaire: Questionnaire, users: dict[str, Any]
) -> None:
    with time_machine.travel(START, tick=False):
        actions.create_campaign(
            questionnaire,
            title="2026 春季",
            opens_at=timezone.now(),
            closes_at=timezone.now() + dt.timedelta(days=30),
            actor=users["sales"],
        )
    # Ten months after the survey closed: nothing yet.
    with time_machine.travel(START + dt.timedelta(days=30 + 300), tick=False):
        survey_overdue_check()
    assert _warnings() == []
    # Eleven months after it closed: Supply and Sales hears of it, once, whoever runs the job.
    with time_machine.travel(START + dt.timedelta(days=30 + 336), tick=False):
        survey_overdue_check()
        survey_overdue_check()
    warned = _warnings()
    assert {n.user.username for n in warned} == {"sales"}
    assert len(warned) == 1
    assert warned[0].data["last_closed_at"].startswith("2026-02-09")
    # Daily runs for the next four weeks add nothing; a month later, a second reminder.
    for day in range(1, 29):
        with time_machine.travel(START + dt.timedelta(days=30 + 336 + day), tick=False):
            survey_overdue_check()
    assert len(_warnings()) == 1
    with time_machine.travel(START + dt.timedelta(days=30 + 336 + 31), tick=False):
        survey_overdue_check()
    assert len(_warnings()) == 2


def test_an_open_campaign_counts_as_a_survey_running(
    questionnaire: Questionnaire, users: dict[str, Any]
) -> None:
    with time_machine.travel(START, tick=False):
        actions.create_campaign(questionnaire, title="常年调查", actor=users["sales"])
    with time_machine.travel(START + dt.timedelta(days=700), tick=False):
        survey_overdue_check()
    assert _warnings() == []


def test_with_no_survey_ever_the_first_run_warns(org: dict[str, Any]) -> None:
    with time_machine.travel(START, tick=False):
        assert survey_overdue_check.call_local() is True
        assert survey_overdue_check.call_local() is False
    assert len(_warnings()) == 1
    assert _warnings()[0].data["last_closed_at"] is None
