"""Period summaries (issue 13, X5): monthly, quarterly and yearly figures for the general
manager and the management review, made once by the worker, each beside the period before and
the same period last year; signed off by the general manager or the quality head, then kept
unchanged with the record of when and to whom they went; an archive page per role."""

from __future__ import annotations

import datetime as dt
import io
import random
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from qloop.capa.models import CorrectiveAction
from qloop.cases.models import Case, Category
from qloop.notify.models import Notification
from qloop.org.models import User
from qloop.process.models import Clock
from qloop.reports import jobs
from qloop.reports import period_summaries as ps
from qloop.reports.models import PeriodSummary
from qloop.surveys.models import Answer, Campaign, Question, Questionnaire, Response, Section
from tests.conftest import PASSWORD, PERSONAS

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
# Q3 2026 is the period under test; Q2 2026 the one before; Q3 2025 the same one last year.
Q3 = (dt.date(2026, 7, 1), dt.date(2026, 10, 1))
Q2 = (dt.date(2026, 4, 1), dt.date(2026, 7, 1))
Q3_2025 = (dt.date(2025, 7, 1), dt.date(2025, 10, 1))


@dataclass
class Made:
    """What the generator did, for counting by hand."""

    received: dt.datetime
    kind: str
    category: str | None
    closed: dt.datetime | None
    breaches: list[tuple[str, dt.datetime]]
    corrective_due: dt.date | None


def _moment(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


def _in(moment: dt.datetime | None, period: tuple[dt.date, dt.date]) -> bool:
    return moment is not None and _moment(period[0], 0) <= moment < _moment(period[1], 0)


@pytest.fixture
def generated(
    make_case: Callable[..., Case], at: Callable[[dt.datetime], None], users: dict[str, User]
) -> list[Made]:
    """Forty cases from May 2025 to November 2026, each with a random kind, category,
    closing, clock breaches and corrective action; the clock is then set to December 2026."""
    rng = random.Random(13)
    categories = [*Category.objects.filter(parent__isnull=False).values_list("code", flat=True)]
    made: list[Made] = []
    at(dt.datetime(2026, 12, 2, 9, tzinfo=TZ))
    start = dt.date(2025, 5, 1)
    for i in range(40):
        received = _moment(start + dt.timedelta(days=rng.randrange(0, 570)), 8 + i % 10)
        case = make_case()
        kind = rng.choice(["complaint", "complaint", "feedback"])
        category = rng.choice([*categories[:4], None])
        closed = (
            received + dt.timedelta(hours=rng.choice([5, 30, 47, 60, 200, 900]))
            if rng.random() < 0.6
            else None
        )
        Case.objects.filter(pk=case.pk).update(
            received_at=received,
            kind=kind,
            category=Category.objects.filter(code=category).first() if category else None,
            closed_at=closed,
            state="closed" if closed else "investigating",
        )
        breaches = []
        Clock.objects.filter(case=case).delete()
        for name in ("customer_answer", "investigation"):
            if rng.random() < 0.35:
                when = received + dt.timedelta(days=rng.choice([2, 3, 40]))
                Clock.objects.create(
                    case=case, name=name, state="breached", due_at=when, breached_at=when
                )
                breaches.append((name, when))
        due = None
        if rng.random() < 0.4:
            due = received.date() + dt.timedelta(days=rng.choice([10, 30, 120]))
            CorrectiveAction.objects.create(case=case, plan="整改", due=due, owner=users["qe"])
        made.append(Made(received, kind, category, closed, breaches, due))
    return made


def _survey(users: dict[str, User]) -> dict[tuple[dt.date, dt.date], tuple[list[int], list[int]]]:
    """Ratings and recommendations submitted in each of the three periods."""
    q = Questionnaire.objects.create(title="满意度", created_by=users["sales"])
    section = Section.objects.create(questionnaire=q, title="总体", order=1)
    rating = Question.objects.create(
        questionnaire=q, section=section, code="r", text="质量", type="rating", order=1
    )
    rec = Question.objects.create(
        questionnaire=q, section=section, code="n", text="推荐", type="recommendation", order=2
    )
    campaign = Campaign.objects.create(
        questionnaire=q,
        title="调查",
        opens_at=_moment(dt.date(2025, 1, 1)),
        closes_at=_moment(dt.date(2026, 11, 30)),
    )
    given = {
        Q3: ([5, 4, 3, 2, 5], [10, 9, 6, 8, 3]),
        Q2: ([4, 4, 1], [10, 10, 0]),
        Q3_2025: ([2, 3], [5, 9]),
    }
    for period, (ratings, recs) in given.items():
        for i, (r, n) in enumerate(zip(ratings, recs, strict=True)):
            response = Response.objects.create(
                campaign=campaign,
                source="paper",
                submitted_at=_moment(period[0] + dt.timedelta(days=3 + i)),
            )
            Answer.objects.create(response=response, campaign=campaign, question=rating, value=r)
            Answer.objects.create(response=response, campaign=campaign, question=rec, value=n)
    return given


def _by_hand(made: list[Made], period: tuple[dt.date, dt.date]) -> dict[str, Any]:
    received = [m for m in made if _in(m.received, period)]
    closed = [m for m in made if _in(m.closed, period)]
    end = _moment(period[1], 0)
    days = [(m.closed - m.received).total_seconds() / 86400 for m in closed if m.closed]
    kinds: dict[str, int] = {}
    cats: dict[str, int] = {}
    for m in received:
        kinds[m.kind] = kinds.get(m.kind, 0) + 1
        cats[m.category or ""] = cats.get(m.category or "", 0) + 1
    breaches: dict[str, int] = {}
    for m in made:
        for name, when in m.breaches:
            if _in(when, period):
                breaches[name] = breaches.get(name, 0) + 1
    open_actions = [
        m
        for m in made
        if m.corrective_due and m.received < end and (m.closed is None or m.closed >= end)
    ]
    return {
        "received": len(received),
        "by_kind": kinds,
        "by_category": cats,
        "breaches": breaches,
        "closed": len(closed),
        "mean_days_to_close": round(sum(days) / len(days), 1) if days else None,
        "closed_within_2_days": sum(1 for d in days if d <= 2),
        "corrective_open": len(open_actions),
        "corrective_overdue": sum(
            1 for m in open_actions if m.corrective_due and m.corrective_due < period[1]
        ),
    }


def _sign(summary: PeriodSummary, user: User) -> PeriodSummary:
    return ps.sign_off(summary, actor=user, signature={"password": PASSWORD, "meaning": "approved"})


def test_figures_agree_with_counts_made_by_hand_for_the_period_the_one_before_and_last_year(
    generated: list[Made], users: dict[str, User]
) -> None:
    survey = _survey(users)
    summary = ps.produce("general_manager", "quarter", Q3[0])
    assert (summary.start, summary.end) == (Q3[0], dt.date(2026, 9, 30))
    f = summary.figures
    assert f["periods"]["previous"] == ["2026-04-01", "2026-06-30"]
    assert f["periods"]["last_year"] == ["2025-07-01", "2025-09-30"]
    for key, period in (("current", Q3), ("previous", Q2), ("last_year", Q3_2025)):
        got, want = f[key], _by_hand(generated, period)
        assert want["received"] > 0, key  # the generator put cases in every period
        for name in (
            "received",
            "by_kind",
            "breaches",
            "closed",
            "mean_days_to_close",
            "closed_within_2_days",
            "corrective_open",
            "corrective_overdue",
        ):
            assert got[name] == want[name], (key, name)
        assert {c["code"]: c["n"] for c in got["by_category"]} == want["by_category"], key
        ratings, recs = survey[period]
        satisfied = sum(1 for r in ratings if r >= 4)
        nps = 100 * (sum(1 for n in recs if n >= 9) - sum(1 for n in recs if n <= 6)) / len(recs)
        assert got["satisfaction"] == {
            "responses": len(ratings),
            "csat": round(100 * satisfied / len(ratings), 1),
            "nps": round(nps, 1),
        }


def test_the_worker_makes_each_period_once_for_each_recipient_set(
    generated: list[Made], at: Callable[[dt.datetime], None]
) -> None:
    at(dt.datetime(2027, 1, 1, 0, 40, tzinfo=TZ))
    assert jobs.produce_period_summaries.call_local() == 5
    made = {(s.recipients, s.period, s.start, s.end) for s in PeriodSummary.objects.all()}
    assert made == {
        ("general_manager", "month", dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        ("general_manager", "quarter", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        ("general_manager", "year", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        ("management_review", "quarter", dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        ("management_review", "year", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
    }
    # The general manager and the quality head are told once per summary.
    told = Notification.objects.filter(kind="period_summary_ready")
    assert sorted(set(told.values_list("user__username", flat=True))) == ["gm", "qa_head"]
    assert told.filter(user__username="gm").count() == 5
    first = {s.pk: s.figures for s in PeriodSummary.objects.all()}
    # Run again (the next sweep, a second worker): nothing new, nothing changed.
    at(dt.datetime(2027, 1, 1, 6, 35, tzinfo=TZ))
    jobs.produce_period_summaries.call_local()
    assert {s.pk: s.figures for s in PeriodSummary.objects.all()} == first
    # A month later only January's monthly summary is new.
    at(dt.datetime(2027, 2, 1, 0, 35, tzinfo=TZ))
    jobs.produce_period_summaries.call_local()
    assert PeriodSummary.objects.count() == 6
    assert told.filter(user__username="gm").count() == 6
    assert PeriodSummary.objects.filter(period="month", start=dt.date(2027, 1, 1)).exists()


def test_sign_off_freezes_the_figures_later_cases_do_not_change_them(
    generated: list[Made],
    users: dict[str, User],
    make_case: Callable[..., Case],
    client_for: Callable[[str], Client],
) -> None:
    summary = ps.produce("general_manager", "quarter", Q3[0])
    before = summary.figures["current"]["received"]

    def late_case() -> None:
        case = make_case()
        Case.objects.filter(pk=case.pk).update(received_at=_moment(dt.date(2026, 8, 15)))

    # While a draft, a late case is counted when the figures are counted again.
    late_case()
    assert (
        client_for("qa_head").post(f"/reports/summaries/{summary.pk}/recount/").status_code == 302
    )
    summary.refresh_from_db()
    assert summary.figures["current"]["received"] == before + 1
    # A wrong password signs nothing.
    wrong = client_for("gm").post(f"/reports/summaries/{summary.pk}/sign/", {"password": "x"})
    assert wrong.status_code == 422
    summary.refresh_from_db()
    assert not summary.is_signed
    signed = client_for("gm").post(f"/reports/summaries/{summary.pk}/sign/", {"password": PASSWORD})
    assert signed.status_code == 302
    summary.refresh_from_db()
    assert summary.is_signed and summary.signature["signer"] == "gm"
    assert summary.signature["figures_sha256"] == ps.fingerprint(summary.figures)
    kept = summary.figures
    # After sign-off: later cases, recounting and the worker leave it as signed.
    late_case()
    refused = client_for("gm").post(f"/reports/summaries/{summary.pk}/recount/")
    assert refused.status_code == 409
    assert ps.produce("general_manager", "quarter", Q3[0]).pk == summary.pk
    summary.refresh_from_db()
    assert summary.figures == kept and summary.figures["current"]["received"] == before + 1
    # Every step left an event; the figures counted before the recount are kept in it.
    events = list(summary.events.order_by("seq"))
    assert [e.verb for e in events] == ["produced", "recounted", "signed_off"]
    assert events[1].data["before"]["current"]["received"] == before
    assert events[2].actor == users["gm"]
    again = client_for("qa_head").post(
        f"/reports/summaries/{summary.pk}/sign/", {"password": PASSWORD}
    )
    assert again.status_code == 409
    # The .xlsx is written from the kept figures.
    sheet = client_for("gm").get(f"/reports/summaries/{summary.pk}/xlsx/")
    assert sheet["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(sheet.content))
    values = [row for row in wb.worksheets[0].iter_rows(values_only=True)]
    assert values[2][0] in ("接收的投诉与反馈", "Complaints and feedback received")
    assert values[3][1] == before + 1  # "Received", this period


def test_the_sending_is_recorded_only_after_sign_off_and_shown_in_the_archive(
    generated: list[Made], users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    summary = ps.produce("management_review", "quarter", Q3[0])
    gm = client_for("gm")
    data = {"sent_to": "2026年第四季度管理评审会议", "channel": "meeting", "note": "会上分发"}
    assert gm.post(f"/reports/summaries/{summary.pk}/send/", data).status_code == 409
    _sign(summary, users["qa_head"])
    assert (
        gm.post(f"/reports/summaries/{summary.pk}/send/", {**data, "channel": "pigeon"}).status_code
        == 422
    )
    assert gm.post(f"/reports/summaries/{summary.pk}/send/", data).status_code == 302
    sending = summary.sendings.get()
    assert (sending.sent_to, sending.channel, sending.recorded_by) == (
        data["sent_to"],
        "meeting",
        users["gm"],
    )
    assert list(summary.events.values_list("verb", flat=True).order_by("seq")) == [
        "produced",
        "signed_off",
        "sent",
    ]
    archive = gm.get("/reports/summaries/").content.decode()
    assert data["sent_to"] in archive and f"/reports/summaries/{summary.pk}/" in archive


def test_the_printed_page_is_a4_without_inline_style_or_script(
    generated: list[Made], client_for: Callable[[str], Client]
) -> None:
    summary = ps.produce("general_manager", "month", dt.date(2026, 8, 1))
    page = client_for("gm").get(f"/reports/summaries/{summary.pk}/print/").content.decode()
    assert "period-summary-print.css" in page and "paper.css" in page
    assert "<style" not in page and "style=" not in page
    assert "<script>" not in page and "onclick" not in page


READERS = {"qe", "qa_head", "sales", "gm", "admin"}
SIGNERS = {"qa_head", "gm", "admin"}


def _reads(user: User) -> bool:
    return ps.RECIPIENT_SETS["general_manager"].readers(user)


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_role_sees_the_archive_only_if_it_may(
    persona: str, users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    summary = ps.produce("general_manager", "month", dt.date(2026, 11, 1))
    user = users[persona]
    reads, signs = _reads(user), ps.can_sign(user, summary)
    # The roles as the demo organisation has them: the matrix names them so a change shows.
    assert reads == (persona in READERS), persona
    assert signs == (persona in SIGNERS), persona
    client = client_for(persona)
    base = f"/reports/summaries/{summary.pk}/"
    assert client.get("/reports/summaries/").status_code == (200 if reads else 403)
    for url in (base, base + "print/", base + "xlsx/"):
        assert client.get(url).status_code == (200 if reads else 404), url
    sign = client.post(base + "sign/", {"password": PASSWORD})
    assert sign.status_code == (302 if signs else 403 if reads else 404)
    summary.refresh_from_db()
    assert summary.is_signed == signs
    # The menu offers the archive exactly to those who may open it.
    menu = client.get("/dashboard/").content.decode()
    assert ('href="/reports/summaries/"' in menu) == reads


def test_the_figures_take_the_same_queries_however_many_cases(
    generated: list[Made], make_case: Callable[..., Case]
) -> None:
    """Counted by aggregates in the database: more cases, not more queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            ps.manufacturer_figures(*Q3)
        return len(ctx.captured_queries)

    before = queries()
    for _i in range(15):
        case = make_case()
        Case.objects.filter(pk=case.pk).update(received_at=_moment(dt.date(2026, 8, 3)))
    assert queries() == before <= 12
