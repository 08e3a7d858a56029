"""The periodic summary's figures (R3.2) are counted in one statement per period so that a
summary at 1,000,000 cases is made in under 2 s (issue 10); the head of pharmacy must see
exactly what a plain count of each table gives. Runs on SQLite and on PostgreSQL
(DATABASE_URL), whose statements differ."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.db.models import Count, F
from django.utils import timezone

from qloop.reports import period_summaries as ps

pytestmark = pytest.mark.django_db

TOP = 20


def _counts(qs: Any, field: str) -> list[list[Any]]:
    rows = qs.values(key=F(field)).annotate(n=Count("pk")).order_by("-n", "key")[:TOP]
    return [[str(r["key"] or "—"), r["n"]] for r in rows]


def orm_figures(start: dt.date, end: dt.date) -> dict[str, Any]:
    """The straightforward count, one ORM query per figure (the figures function before #10)."""
    from qloop.cases.models import Case
    from qloop.pharmacy.models import AdrDrug, AdrReport, DrugFeedback, DrugRole

    since, until = ps.local_start(start), ps.local_start(end)
    feedback = DrugFeedback.objects.filter(
        case__received_at__gte=since, case__received_at__lt=until, case__archived_at__isnull=True
    )
    reports = AdrReport.objects.filter(
        aware_at__gte=since, aware_at__lt=until, case__archived_at__isnull=True
    )
    suspects = AdrDrug.objects.filter(role=DrugRole.SUSPECT, report__in=reports)
    cases = Case.objects.filter(
        received_at__gte=since, received_at__lt=until, archived_at__isnull=True
    )
    return {
        "feedback": feedback.count(),
        "major": feedback.filter(major=True).count(),
        "counterfeit": cases.filter(kind="counterfeit").count(),
        "adr": reports.count(),
        "groups": cases.filter(kind="adr_group").count(),
        "by_problem": _counts(feedback, "problem"),
        "by_drug": _counts(feedback, "drug__generic_name"),
        "by_batch": _counts(feedback.filter(batch__isnull=False), "batch__batch_number"),
        "adr_by_type": _counts(reports, "report_type"),
        "adr_by_seriousness": _counts(reports, "seriousness"),
        "adr_by_outcome": _counts(reports, "outcome"),
        "adr_by_department": _counts(reports, "department__name"),
        "adr_by_drug": [
            [r["generic_name"], r["n"]]
            for r in suspects.values("generic_name")
            .annotate(n=Count("report", distinct=True))
            .order_by("-n", "generic_name")[:TOP]
        ],
    }


def make_cases(count: int, first: dt.datetime, days: int) -> None:
    """Pharmacy cases of every kind spread over ``days``: drugs without a catalogue entry or
    batch, two catalogue drugs sharing a generic name, reports without a department, archived
    cases, awareness before the case was received, and some exactly at midnight."""
    from qloop.cases.models import Case
    from qloop.org.models import Department
    from qloop.pharmacy.models import (
        AdrDrug,
        AdrReport,
        Drug,
        DrugFeedback,
        Outcome,
        ProblemType,
        ReportType,
        Seriousness,
    )

    rng = random.Random(10)
    drugs = list(Drug.objects.prefetch_related("batches").order_by("pk"))
    twin = Drug.objects.create(
        generic_name=drugs[0].generic_name,
        dosage_form="注射剂",
        approval_number="国药准字H00000001",
        strength="1 g",
        manufacturer="另一厂",
    )
    drugs.append(twin)
    drugs += [  # more names than a table shows
        Drug.objects.create(
            generic_name=f"试验药{n:02d}",
            dosage_form="片剂",
            approval_number=f"国药准字H000001{n:02d}",
            strength="1 mg",
            manufacturer="试验厂",
        )
        for n in range(20)
    ]
    batches = {d.pk: list(d.batches.all()) for d in drugs}
    departments: list[Department | None] = [*Department.objects.order_by("pk")[:4], None]
    kinds = ["adr"] * 10 + ["drug_feedback"] * 10 + ["counterfeit", "adr_group"]
    for i in range(count):
        kind = rng.choice(kinds)
        when = first + dt.timedelta(days=rng.randrange(days), minutes=rng.randrange(1440))
        if i % 25 == 0:  # at local midnight: the first moment of a day belongs to that day
            when = timezone.localtime(when).replace(hour=0, minute=0, second=0, microsecond=0)
        archived = rng.random() < 0.05
        case = Case.objects.create(
            number=f"T-{i:05d}",
            kind=kind,
            profile="pharmacy",
            title="figures",
            received_at=when,
            channel="visit",
            department=departments[0],
            state="closed",
            archived_at=when if archived else None,
        )
        drug = rng.choice([*drugs[:8], twin] if i % 3 else drugs)
        if kind == "drug_feedback":
            DrugFeedback.objects.create(
                case=case,
                drug=None if rng.random() < 0.1 else drug,
                drug_text="外院带入",
                batch=None if rng.random() < 0.2 else rng.choice(batches[drug.pk] or [None]),
                problem=rng.choice(ProblemType.values),
                major=rng.random() < 0.2,
                description="x",
            )
        elif kind == "adr":
            report = AdrReport.objects.create(
                case=case,
                aware_at=when - dt.timedelta(days=rng.choice([0, 0, 0, 1, 3])),
                report_type=rng.choice(ReportType.values),
                seriousness=rng.choice(Seriousness.values),
                outcome=rng.choice(Outcome.values),
                department=rng.choice(departments),
                reaction="皮疹",
            )
            suspects = rng.sample([*drugs[:10], twin], rng.choice([1, 1, 2]))
            for role, d in [("suspect", d) for d in suspects] + [
                ("concomitant", rng.choice(drugs))
            ]:
                AdrDrug.objects.create(
                    report=report, role=role, drug=d, generic_name=d.generic_name
                )


@pytest.mark.parametrize("kind", ["month", "quarter"])
def test_figures_equal_a_plain_count(pharmacy: dict[str, Any], kind: str) -> None:
    """R3.2, issue 10: every total and every table of the summary — its period, the period
    before and the same period last year — is what counting each table one by one gives,
    including the order of equal counts and the cut at the 20 largest."""
    from qloop.pharmacy import summaries

    tz = timezone.get_current_timezone()
    make_cases(700, dt.datetime(2025, 1, 1, tzinfo=tz), 480)
    item = ps.RECIPIENT_SETS[summaries.COMMITTEE]
    compared = 0
    for start in (dt.date(2026, 1, 1), dt.date(2026, 4, 1)):
        start, _end = ps.period_bounds(kind, start)
        fast = ps.count_figures(item, kind, start)
        for period in ("current", "previous", "last_year"):
            first, last = fast["periods"][period]
            expected = orm_figures(
                dt.date.fromisoformat(first),
                dt.date.fromisoformat(last) + dt.timedelta(days=1),
            )
            assert fast[period] == expected, (kind, start, period)
            compared += expected["feedback"] + expected["adr"]
    assert compared > 100  # the periods were not empty
    fast = summaries.figures(dt.date(2025, 1, 1), dt.date(2026, 6, 1))
    assert fast == orm_figures(dt.date(2025, 1, 1), dt.date(2026, 6, 1))
    assert len(fast["by_drug"]) == TOP  # more drugs than the table shows
    assert fast["major"] > 0 and fast["counterfeit"] > 0 and fast["groups"] > 0
    assert any(key == "—" for key, _n in fast["adr_by_department"])  # no department


def test_an_empty_period_counts_zero(pharmacy: dict[str, Any]) -> None:
    """R3.2: a month without cases still has its totals (0) and empty tables."""
    from qloop.pharmacy.summaries import figures

    empty = figures(dt.date(2020, 1, 1), dt.date(2020, 2, 1))
    assert empty == orm_figures(dt.date(2020, 1, 1), dt.date(2020, 2, 1))
    assert empty["feedback"] == 0 and empty["by_problem"] == []
