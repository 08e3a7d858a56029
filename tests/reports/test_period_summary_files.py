"""Period summaries kept as files (issue 13, X5): at sign-off the worker renders the summary as
PDF and .xlsx and keeps both with their SHA-256; the page and the archive offer them; they never
change afterwards, whatever happens to the cases; a file changed behind QLoop's back is refused.
The PDF reads back in Chinese (pdftotext) and its first page is kept as PNG in test-output/."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from qloop.cases.models import Case
from qloop.org.models import User
from qloop.reports import period_summaries as ps
from qloop.reports.models import PeriodSummary
from tests.conftest import PASSWORD
from tests.reports.test_period_summaries import Q3, Made, _moment, generated  # noqa: F401

pytestmark = pytest.mark.django_db
OUT = Path(__file__).resolve().parents[2] / "test-output" / "reports"


def _pdftotext(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def test_sign_off_keeps_pdf_and_xlsx_that_never_change(
    generated: list[Made],  # noqa: F811
    make_case: Callable[..., Case],
    client_for: Callable[[str], Client],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    summary = ps.produce("general_manager", "quarter", Q3[0])
    url = f"/reports/summaries/{summary.pk}/"
    gm = client_for("gm")
    assert gm.get(f"{url}kept.pdf").status_code == 404
    archive = gm.get("/reports/summaries/").content.decode()
    assert f"{url}print/" in archive  # the live print page until the files are kept

    with django_capture_on_commit_callbacks(execute=True):  # the worker's job, inline
        assert gm.post(f"{url}sign/", {"password": PASSWORD}).status_code == 302
    summary.refresh_from_db()
    assert summary.files_kept and summary.files_kept_at is not None
    pdf, xlsx = gm.get(f"{url}kept.pdf"), gm.get(f"{url}kept.xlsx")
    assert pdf.content.startswith(b"%PDF") and xlsx.content.startswith(b"PK")
    assert hashlib.sha256(pdf.content).hexdigest() == summary.pdf_sha256
    assert hashlib.sha256(xlsx.content).hexdigest() == summary.xlsx_sha256
    assert 'filename="summary-general_manager-quarter-2026-07.pdf"' in pdf["Content-Disposition"]
    archive = gm.get("/reports/summaries/").content.decode()
    assert f"{url}kept.pdf" in archive and summary.pdf_sha256 in archive

    # Cases change after sign-off; the worker runs again: the kept files are byte-identical.
    late = make_case()
    Case.objects.filter(pk=late.pk).update(received_at=_moment(Q3[0]))
    ps.keep_files(summary.pk)
    ps.keep_missing_files()
    assert gm.get(f"{url}kept.pdf").content == pdf.content
    assert gm.get(f"{url}kept.xlsx").content == xlsx.content
    assert summary.events.filter(verb="files_kept").count() == 1

    # A file changed in the storage is refused, not handed out as the signed summary.
    with default_storage.open(summary.xlsx_file, "wb") as f:
        f.write(b"changed")
    assert gm.get(f"{url}kept.xlsx").status_code == 409


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")
@pytest.mark.parametrize(
    ("language", "title", "received"),
    [
        ("zh-hans", "质量信息期间汇总", "接收"),
        ("zh-hant", "質量信息期間匯總", "接收"),
        ("en", "Quality information period summary", "Received"),
    ],
)
def test_the_kept_pdf_reads_back_with_its_title_figures_and_signature(
    generated: list[Made],  # noqa: F811
    users: dict[str, User],
    language: str,
    title: str,
    received: str,
) -> None:
    summary = ps.produce("general_manager", "quarter", Q3[0])
    ps.sign_off(summary, actor=users["gm"], signature={"password": PASSWORD, "meaning": "approved"})
    summary = ps.keep_files(summary.pk, language)
    assert isinstance(summary, PeriodSummary)
    with default_storage.open(summary.pdf_file, "rb") as f:
        pdf = f.read()
    text = _pdftotext(pdf)
    assert title in text and "2026-07-01" in text and "2025-07-01" in text
    assert users["gm"].printed_name in text
    f = summary.figures
    line = next(t for t in text.splitlines() if t.strip().startswith(received + " "))
    assert line.split()[-3:] == [
        str(f["current"]["received"]),
        str(f["previous"]["received"]),
        str(f["last_year"]["received"]),
    ]
    if language == "zh-hans" and shutil.which("pdftoppm"):
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "period-summary-kept.pdf").write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                str(OUT / "period-summary-kept.pdf"),
                str(OUT / "period-summary-kept-pdf"),
            ],
            check=True,
        )
