"""The management review (R2.7, X5): administrators set its date; a month before, the job
prepares the summary once (feedback by category and month, satisfaction, open actions) and
tells the general manager, the quality head and Supply and Sales."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qloop.capa.models import CorrectiveAction
from qloop.cases.models import Case, Category
from qloop.notify.models import Notification
from qloop.reports import actions
from qloop.reports.jobs import prepare_review_summaries
from qloop.reports.models import ManagementReview, ReviewSummary
from qloop.reports.review import month_before, prepare_due_reviews, summary_data
from tests.reports.surveydata import make_campaigns

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_a_month_before_keeps_the_day_or_takes_the_last_of_a_shorter_month() -> None:
    assert month_before(dt.date(2027, 3, 15)) == dt.date(2027, 2, 15)
    assert month_before(dt.date(2027, 3, 31)) == dt.date(2027, 2, 28)
    assert month_before(dt.date(2027, 1, 10)) == dt.date(2026, 12, 10)


def test_the_summary_is_prepared_a_month_before_the_review_and_only_once(
    users: dict[str, Any],
) -> None:
    review = ManagementReview.objects.create(held_on=dt.date(2027, 3, 15), title="2027年管理评审")

    with time_machine.travel(_at(2027, 2, 14, 23, 0), tick=False):
        early = prepare_review_summaries.call_local()
    with time_machine.travel(_at(2027, 2, 15, 8, 20), tick=False):
        first = prepare_review_summaries.call_local()
    with time_machine.travel(_at(2027, 2, 15, 9, 20), tick=False):
        second = prepare_review_summaries.call_local()
    with time_machine.travel(_at(2027, 3, 1, 9, 20), tick=False):
        later = prepare_due_reviews()

    assert (early, first, second, later) == (0, 1, 0, 0)
    summary = ReviewSummary.objects.get(review=review)
    assert summary.prepared_at == _at(2027, 2, 15, 8, 20)
    assert (summary.period_start, summary.period_end) == (dt.date(2026, 3, 1), dt.date(2027, 2, 15))
    told = set(
        Notification.objects.filter(kind="review_summary_prepared").values_list(
            "user__username", flat=True
        )
    )
    assert told == {"gm", "qa_head", "sales"}


def test_a_review_set_less_than_a_month_ahead_is_prepared_at_once(users: dict[str, Any]) -> None:
    with time_machine.travel(_at(2027, 5, 2, 10, 0), tick=False):
        ManagementReview.objects.create(held_on=dt.date(2027, 5, 20))
        ManagementReview.objects.create(held_on=dt.date(2027, 9, 1))  # too early
        ManagementReview.objects.create(held_on=dt.date(2027, 4, 30))  # already held
        assert prepare_due_reviews() == 1
    assert ReviewSummary.objects.get().review.held_on == dt.date(2027, 5, 20)


def _case(
    make_case: Callable[..., Case], code: str | None, received: dt.datetime, **kw: Any
) -> Case:
    case = make_case(**kw)
    Case.objects.filter(pk=case.pk).update(
        received_at=received,
        category=Category.objects.get(code=code) if code else None,
    )
    return case


def test_the_summary_counts_feedback_by_category_and_by_month(
    users: dict[str, Any], make_case: Callable[..., Case]
) -> None:
    with time_machine.travel(_at(2027, 2, 15, 8, 0), tick=False):
        _case(make_case, "1A", _at(2027, 2, 1, 9))
        _case(make_case, "1A", _at(2026, 12, 31, 23, 30))  # Shanghai time: still December
        _case(make_case, "1F", _at(2026, 3, 1, 0, 10))  # first day of the period
        _case(make_case, "2B", _at(2026, 7, 10, 12))
        _case(make_case, None, _at(2026, 7, 11, 12))
        _case(make_case, "1A", _at(2026, 2, 28, 23, 50))  # before the period: not counted
        archived = _case(make_case, "1A", _at(2026, 8, 1, 12))
        Case.objects.filter(pk=archived.pk).update(archived_at=_at(2026, 8, 2, 12))

        data = summary_data(dt.date(2026, 3, 1), dt.date(2027, 2, 15))

    rows = {r["code"]: r for r in data["categories"]["rows"]}
    assert (rows["1"]["total"], rows["1A"]["total"], rows["1F"]["total"]) == (3, 2, 1)
    assert (rows["2"]["total"], rows["2B"]["total"], rows["3"]["total"]) == (1, 1, 0)
    assert data["categories"]["uncategorised"]["total"] == 1
    assert data["categories"]["total"]["total"] == 5
    assert rows["1A"]["complaint"] == 2
    months = {m["month"]: m["total"] for m in data["months"]}
    assert len(months) == 12 and next(iter(months)) == "2026-03"
    assert months == {
        "2026-03": 1, "2026-04": 0, "2026-05": 0, "2026-06": 0, "2026-07": 2, "2026-08": 0,
        "2026-09": 0, "2026-10": 0, "2026-11": 0, "2026-12": 1, "2027-01": 0, "2027-02": 1,
    }  # fmt: skip


def test_the_summary_has_the_latest_survey_results_and_the_open_actions(
    users: dict[str, Any], make_case: Callable[..., Case]
) -> None:
    campaigns = make_campaigns(users)
    report = actions.draft_report(campaigns.current.pk, actor=users["sales"])
    actions.update_report(report, {"analysis": "a", "improvements": "b"}, actor=users["sales"])
    actions.submit_report(report, actor=users["sales"])
    today = timezone.localdate()
    actions.add_decision(
        report,
        measure="售后24小时响应",
        owner=users["sales"],
        department=users["sales"].departments.get(),
        due=today + dt.timedelta(days=3),
        actor=users["gm"],
    )
    open_case = make_case()
    CorrectiveAction.objects.create(
        case=open_case, plan="更换密封件", owner=users["prod"], due=today - dt.timedelta(days=1)
    )
    closed_case = make_case()
    Case.objects.filter(pk=closed_case.pk).update(state="closed")
    CorrectiveAction.objects.create(case=closed_case, plan="已完成的整改")

    data = summary_data(today - dt.timedelta(days=365), today)

    latest = data["satisfaction"][0]
    assert (latest["title"], latest["csat"], latest["nps"]) == (
        "2026年度顾客满意度调查",
        62.5,
        25.0,
    )
    assert latest["previous_csat"] == 25.0
    assert [c["number"] for c in data["corrective_actions"]] == [open_case.number]
    assert data["corrective_actions"][0]["overdue"] is True
    assert [a["measure"] for a in data["improvement_actions"]] == ["售后24小时响应"]
    assert data["survey_reports"][0]["open"] == 1


def test_administrators_set_review_dates_on_the_page(
    client_for: Callable[[str], Client], users: dict[str, Any]
) -> None:
    admin = client_for("admin")
    admin.cookies["django_language"] = "en"
    future = (timezone.localdate() + dt.timedelta(days=90)).isoformat()

    saved = admin.post(reverse("review-list"), {"held_on": future, "title": "年度管理评审"})
    twice = admin.post(reverse("review-list"), {"held_on": future})
    past = admin.post(reverse("review-list"), {"held_on": "2020-01-01"})
    refused = client_for("gm").post(reverse("review-list"), {"held_on": future})

    assert saved.status_code == 302
    assert twice.status_code == 422
    assert "A management review is already set on this day." in twice.content.decode()
    assert "The date has already passed." in past.content.decode()
    assert refused.status_code == 403
    assert ManagementReview.objects.count() == 1


def test_the_summary_page_shows_the_stored_numbers(
    client_for: Callable[[str], Client], users: dict[str, Any], make_case: Callable[..., Case]
) -> None:
    review = ManagementReview.objects.create(held_on=timezone.localdate() + dt.timedelta(days=20))
    _case(make_case, "2B", dt.datetime.now(tz=SHANGHAI) - dt.timedelta(days=3))
    prepare_due_reviews()
    # A case registered after the summary was prepared does not change it.
    _case(make_case, "2B", dt.datetime.now(tz=SHANGHAI) - dt.timedelta(days=2))

    page = client_for("gm").get(reverse("review-summary", args=[review.pk])).content.decode()

    assert 'data-testid="cat-2B">1<' in page
    assert 'data-testid="cat-total">1<' in page
    assert "<svg" in page and "paper.css" in page
