"""Periodic summaries (R3.2) in the one period-summary mechanism (X5, issue 13): produced by
the worker for the month and quarter just ended for the recipient the setting names (the drug
regulator, the Pharmacy and Therapeutics Committee, or both), counted by the database beside
the period before and the same period last year, signed off by the head of pharmacy, kept
unchanged as PDF and .xlsx, and their sending recorded; the older mechanism's summaries are
copied in and its pages lead there."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import io
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from qloop.cases.actions import ContactData, Registration, register_case
from qloop.pharmacy.models import PharmacySettings, Summary
from qloop.reports import jobs
from qloop.reports import period_summaries as ps
from qloop.reports.models import PeriodSummary
from tests.conftest import PASSWORD
from tests.pharmacy.conftest import adr_detail

pytestmark = pytest.mark.django_db

COMMITTEE, REGULATOR = "pharmacy_committee", "pharmacy_regulator"


def feedback(pharmacy: dict[str, Any], problem: str) -> None:
    register_case(
        Registration(
            kind="drug_feedback",
            channel="visit",
            contact=ContactData(name=""),
            symptom="",
            detail={"drug_id": pharmacy["drug"].pk, "problem": problem, "description": "x"},
        ),
        actor=pharmacy["pharm"],
    )


def adr(pharmacy: dict[str, Any], **overrides: Any) -> None:
    register_case(
        Registration(
            kind="adr",
            channel="visit",
            contact=ContactData(name=""),
            symptom="",
            detail=adr_detail(pharmacy, **overrides),
        ),
        actor=pharmacy["doctor"],
    )


def at(year: int, month: int, day: int) -> Any:
    return time_machine.travel(dt.datetime(year, month, day, 2, tzinfo=dt.UTC), tick=False)


@pytest.fixture
def cases(pharmacy: dict[str, Any]) -> dict[str, Any]:
    """October 2025 (last year), September 2026 (the month before) and October 2026."""
    with at(2025, 10, 14):
        feedback(pharmacy, "mould")
        feedback(pharmacy, "mould")
        feedback(pharmacy, "mould")
    with at(2026, 9, 10):
        feedback(pharmacy, "mould")
        adr(pharmacy)
    with at(2026, 10, 12):
        feedback(pharmacy, "mould")
        feedback(pharmacy, "caking")
        adr(pharmacy, seriousness="serious")
        adr(pharmacy, seriousness="general")
    return pharmacy


def produce(day: dt.date = dt.date(2026, 11, 1)) -> int:
    with at(day.year, day.month, day.day):
        return int(jobs.produce_period_summaries.call_local())


def month_summary(code: str = COMMITTEE) -> PeriodSummary:
    return PeriodSummary.objects.get(recipients=code, period="month", start=dt.date(2026, 10, 1))


def test_the_worker_makes_the_committee_summaries_with_the_period_before_and_last_year(
    cases: dict[str, Any],
) -> None:
    """R3.2: monthly and quarterly, for the recipient the setting names (the committee by
    default); made once — running again changes nothing."""
    produce()
    produce()
    pharmacy_made = PeriodSummary.objects.filter(recipients__startswith="pharmacy_")
    assert sorted(pharmacy_made.values_list("recipients", "period", "start")) == [
        (COMMITTEE, "month", dt.date(2026, 10, 1)),
        (COMMITTEE, "quarter", dt.date(2026, 7, 1)),
    ]
    month = month_summary()
    now, before, last_year = (month.figures[k] for k in ("current", "previous", "last_year"))
    assert (now["feedback"], before["feedback"], last_year["feedback"]) == (2, 1, 3)
    assert (now["adr"], before["adr"], last_year["adr"]) == (2, 1, 0)
    assert dict(now["by_problem"]) == {"mould": 1, "caking": 1}
    assert dict(now["adr_by_seriousness"]) == {"serious": 1, "general": 1}
    assert dict(now["adr_by_type"]) == {"first": 2}
    assert month.figures["periods"]["last_year"] == ["2025-10-01", "2025-10-31"]
    rows = ps.table(month, "zh-hans")
    mould = next(r for r in rows if r.get("section") == "by_problem" and r["label"] == "霉变")
    assert mould["values"] == [1, 1, 3]
    # Later cases do not change a summary already made... until recounted (a draft).
    with at(2026, 10, 20):
        feedback(cases, "odour")
    month.refresh_from_db()
    assert month.figures["current"]["feedback"] == 2


def test_the_setting_chooses_the_recipients_and_the_periods(cases: dict[str, Any]) -> None:
    settings = PharmacySettings.current()
    settings.summary_recipient, settings.quarterly_summary = "both", False
    settings.save()
    produce()
    made = PeriodSummary.objects.filter(recipients__startswith="pharmacy_")
    assert sorted(made.values_list("recipients", "period")) == [
        (COMMITTEE, "month"),
        (REGULATOR, "month"),
    ]


def test_head_of_pharmacy_signs_off_and_the_kept_files_never_change(
    cases: dict[str, Any],
    client_as: Callable[[str], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Sign-off through the page; the worker keeps the PDF and .xlsx with their SHA-256; the
    archive and the page offer them; cases added later leave them byte for byte the same."""
    produce()
    month = month_summary()
    url = f"/reports/summaries/{month.pk}/"
    pharm, head = client_as("pharm"), client_as("pharm_head")
    assert pharm.post(f"{url}sign/", {"password": PASSWORD}).status_code == 403
    assert pharm.get(f"{url}kept.pdf").status_code == 404  # nothing kept before sign-off
    assert 'href="/reports/summaries/' in pharm.get("/reports/summaries/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        signed = head.post(f"{url}sign/", {"password": PASSWORD})
    assert signed.status_code == 302
    month.refresh_from_db()
    assert month.is_signed and month.signature["signer"] == "pharm_head"
    assert month.files_kept and month.pdf_file.endswith(".pdf")
    event = month.events.get(verb="files_kept")
    assert event.data["pdf"]["sha256"] == month.pdf_sha256
    assert event.data["xlsx"]["sha256"] == month.xlsx_sha256

    pdf = pharm.get(f"{url}kept.pdf")
    xlsx = pharm.get(f"{url}kept.xlsx")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == month.pdf_sha256
    assert hashlib.sha256(xlsx.content).hexdigest() == month.xlsx_sha256
    page = pharm.get(url).content.decode()
    archive = pharm.get("/reports/summaries/").content.decode()
    assert f"{url}kept.pdf" in page and month.pdf_sha256 in page
    assert f"{url}kept.pdf" in archive and f"{url}kept.xlsx" in archive
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["霉变", 1, 1, 3] in values

    # More cases in October, a recount attempt, the job run again: the files stay as kept.
    with at(2026, 10, 20):
        feedback(cases, "odour")
        adr(cases, seriousness="serious")
    assert head.post(f"{url}recount/").status_code == 409
    ps.keep_files(month.pk, "en")
    produce(dt.date(2026, 11, 2))
    assert pharm.get(f"{url}kept.pdf").content == pdf.content
    assert pharm.get(f"{url}kept.xlsx").content == xlsx.content
    month.refresh_from_db()
    assert hashlib.sha256(pdf.content).hexdigest() == month.pdf_sha256
    assert month.events.filter(verb="files_kept").count() == 1


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
def test_the_kept_pdf_reads_back_in_chinese(
    cases: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    produce()
    month = ps.sign_off(
        month_summary(),
        actor=cases["pharm_head"],
        signature={"password": PASSWORD, "meaning": "approved"},
    )
    ps.keep_files(month.pk, "zh-hans")
    pdf = client_as("adr_officer").get(f"/reports/summaries/{month.pk}/kept.pdf").content
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "药品质量与不良反应定期汇总" in text
    assert "院药事委员会" in text and "2026-10-01" in text
    assert "同期去年" in text or "去年同期" in text
    assert "钱文博" in text  # who signed
    line = next(t for t in text.splitlines() if "霉变" in t)
    assert line.split()[-3:] == ["1", "1", "3"]


def test_the_sending_is_recorded_with_reference_by_the_pharmacy(
    cases: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    """Sent when, how, to whom, with the reference returned (R3.2), by the pharmacy's staff,
    once signed off; the ways are the pharmacy's."""
    produce()
    month = month_summary()
    url = f"/reports/summaries/{month.pk}/send/"
    data = {"sent_to": "院药事委员会", "channel": "paper", "reference": "药事委〔2026〕11号"}
    assert client_as("pharm").post(url, data).status_code == 409  # not signed off yet
    ps.sign_off(
        month, actor=cases["pharm_head"], signature={"password": PASSWORD, "meaning": "approved"}
    )
    assert client_as("pharm").post(url, {**data, "channel": "meeting"}).status_code == 422
    assert client_as("doctor").post(url, data).status_code == 404
    assert client_as("pharm").post(url, data).status_code == 302
    sending = month.sendings.get()
    assert (sending.sent_to, sending.channel, sending.reference) == (
        "院药事委员会",
        "paper",
        "药事委〔2026〕11号",
    )
    assert sending.recorded_by == cases["pharm"]
    assert month.events.get(verb="sent").data["reference"] == "药事委〔2026〕11号"
    page = client_as("pharm_head").get(f"/reports/summaries/{month.pk}/").content.decode()
    assert "药事委〔2026〕11号" in page and "纸质" in page


@pytest.mark.parametrize(
    ("persona", "archive", "read", "sign"),
    [
        ("pharm_head", 200, 200, 302),
        ("pharm", 200, 200, 403),
        ("adr_officer", 200, 200, 403),
        ("doctor", 403, 404, 404),
        ("med_affairs", 403, 404, 404),
        ("gm", 200, 404, 404),  # reads the manufacturer's summaries, not the pharmacy's
        ("qa_head", 200, 404, 404),
    ],
)
def test_who_may_read_sign_and_download_the_pharmacy_summaries(
    cases: dict[str, Any],
    client_as: Callable[[str], Client],
    persona: str,
    archive: int,
    read: int,
    sign: int,
) -> None:
    produce()
    month = month_summary()
    signed = ps.sign_off(
        PeriodSummary.objects.get(
            recipients=COMMITTEE, period="quarter", start=dt.date(2026, 7, 1)
        ),
        actor=cases["pharm_head"],
        signature={"password": PASSWORD, "meaning": "approved"},
    )
    ps.keep_files(signed.pk)
    client = client_as(persona)
    listing = client.get("/reports/summaries/")
    assert listing.status_code == archive
    if archive == 200:
        assert (f"/reports/summaries/{month.pk}/" in listing.content.decode()) == (read == 200)
    assert client.get(f"/reports/summaries/{month.pk}/").status_code == read
    assert client.get(f"/reports/summaries/{month.pk}/print/").status_code == read
    assert client.get(f"/reports/summaries/{month.pk}/xlsx/").status_code == read
    assert client.get(f"/reports/summaries/{signed.pk}/kept.pdf").status_code == read
    assert client.get(f"/reports/summaries/{signed.pk}/kept.xlsx").status_code == read
    assert (
        client.post(f"/reports/summaries/{month.pk}/sign/", {"password": PASSWORD}).status_code
        == sign
    )
    month.refresh_from_db()
    assert month.is_signed == (sign == 302)
    assert Client().get(f"/reports/summaries/{month.pk}/").status_code == 302  # to the login


def test_a_manufacturer_summary_is_not_the_pharmacys(
    cases: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    produce()
    gm_summary = PeriodSummary.objects.filter(recipients="general_manager").first()
    assert gm_summary is not None
    assert client_as("pharm_head").get(f"/reports/summaries/{gm_summary.pk}/").status_code == 404
    assert client_as("gm").get(f"/reports/summaries/{gm_summary.pk}/").status_code == 200


def test_the_older_summaries_are_copied_and_their_pages_lead_to_the_copies(
    pharmacy: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    """Migration pharmacy 0006: each summary of the older mechanism becomes a period summary
    with its figures, signature and sending; the old row stays; the old address redirects."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    migration_0006 = importlib.import_module(
        "qloop.pharmacy.migrations.0006_summaries_into_period_summaries"
    )

    signed_at = dt.datetime(2026, 8, 2, 3, tzinfo=dt.UTC)
    old = Summary.objects.create(
        period="month",
        start=dt.date(2026, 7, 1),
        end=dt.date(2026, 7, 31),
        recipient="regulator",
        figures={
            "current": {"feedback": 4, "by_problem": [["mould", 4]]},
            "previous": {"feedback": 2, "by_problem": [["mould", 2]]},
            "previous_start": "2026-06-01",
        },
        state="sent",
        signature={"signer": "pharm_head", "printed_name": "钱文博", "meaning": "approved"},
        signed_by=pharmacy["pharm_head"],
        signed_at=signed_at,
        sent_at=signed_at + dt.timedelta(days=1),
        sent_by=pharmacy["pharm"],
        sent_channel="national_system",
        sent_reference="ADR-2026-07",
    )
    draft = Summary.objects.create(
        period="quarter",
        start=dt.date(2026, 4, 1),
        end=dt.date(2026, 6, 30),
        recipient="committee",
        figures={"current": {"feedback": 9}, "previous": {"feedback": 1}},
    )
    state = MigrationExecutor(connection).loader.project_state(
        ("pharmacy", "0006_summaries_into_period_summaries")
    )
    migration_0006.copy_summaries(state.apps, None)
    migration_0006.copy_summaries(state.apps, None)  # again: nothing copied twice

    copy = PeriodSummary.objects.get(recipients=REGULATOR)
    assert copy.is_signed and copy.signed_by == pharmacy["pharm_head"]
    assert copy.signature["copied_from_summary"] == old.pk
    assert copy.figures["current"]["feedback"] == 4 and copy.figures["last_year"] is None
    assert copy.sendings.get().reference == "ADR-2026-07"
    assert copy.events.filter(verb="copied").count() == 1
    assert PeriodSummary.objects.get(recipients=COMMITTEE).state == "draft"
    assert Summary.objects.count() == 2  # the old rows are kept
    # The copies' events sit in the hash chain: the trail still verifies.
    from qloop.org.trail import verify_chain
    from qloop.reports.models import PeriodSummaryEvent

    assert verify_chain(PeriodSummaryEvent).ok

    client = client_as("pharm")
    moved = client.get(f"/pharmacy/summaries/{old.pk}/")
    assert moved.status_code == 302 and moved["Location"] == f"/reports/summaries/{copy.pk}/"
    assert client.get(f"/pharmacy/summaries/{draft.pk + 100}/").status_code == 404
    assert client.get("/pharmacy/summaries/")["Location"] == "/reports/summaries/"
    assert client_as("doctor").get("/pharmacy/summaries/").status_code == 403
    page = client.get(moved["Location"]).content.decode()
    assert "ADR-2026-07" in page and "霉变" in page
    assert ps.keep_missing_files() == 1  # the copied signed one gets its kept files
    copy.refresh_from_db()
    assert copy.files_kept
    assert client.get(f"/reports/summaries/{copy.pk}/kept.pdf").status_code == 200
