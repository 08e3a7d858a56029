"""The drug catalogue (issue 10 "Drugs"): a batch is manufacturer + approval number + batch
number; .xlsx import with a template and a report row by row, nothing imported while a row is
wrong unless the person chooses to import the good rows."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import translation
from openpyxl import Workbook, load_workbook

from qloop.pharmacy.catalogue import COLUMNS
from qloop.pharmacy.models import Drug, DrugBatch

pytestmark = pytest.mark.django_db


def workbook(rows: list[list[Any]], header: list[str] | None = None) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header or [str(label) for _n, label, _e, _m, _r in COLUMNS])
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "drugs.xlsx"
    return buf


GOOD = [
    "头孢克肟",
    "颗粒",
    "世福素",
    "国药准字H20000001",
    "50mg",
    "广州白云山制药股份有限公司",
    "2411023",
    "2027-10-31",
]
SAME_BATCH_OTHER_MAKER = [
    "头孢克肟",
    "颗粒",
    "",
    "国药准字H20000001",
    "50mg",
    "齐鲁制药有限公司",
    "2411023",
    "2027-06-30",
]
BAD = ["", "片", "", "国药准字H20000002", "0.1g", "齐鲁制药有限公司", "2411024", "31/10/2027"]


def test_the_batch_number_alone_is_not_unique_but_maker_approval_and_batch_are(
    pharmacy: dict[str, Any],
) -> None:
    a = Drug.objects.create(
        generic_name="甲",
        dosage_form="片",
        approval_number="国药准字H1",
        strength="1mg",
        manufacturer="厂甲",
    )
    b = Drug.objects.create(
        generic_name="甲",
        dosage_form="片",
        approval_number="国药准字H1",
        strength="1mg",
        manufacturer="厂乙",
    )
    DrugBatch.objects.create(drug=a, batch_number="240101")
    DrugBatch.objects.create(drug=b, batch_number="240101")
    with pytest.raises(IntegrityError), transaction.atomic():
        DrugBatch.objects.create(drug=a, batch_number="240101")
    with pytest.raises(IntegrityError), transaction.atomic():
        Drug.objects.create(
            generic_name="乙",
            dosage_form="片",
            approval_number="国药准字H1",
            strength="2mg",
            manufacturer="厂甲",
        )


def test_the_template_downloads_with_every_column(client_as: Callable[[str], Client]) -> None:
    response = client_as("pharm").get("/pharmacy/drugs/template.xlsx")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [c.value for c in ws[1]]
    assert header == [str(label) for _n, label, _e, _m, _r in COLUMNS]
    assert ws.max_row == 2  # one example line


def test_a_wrong_row_blocks_the_whole_import_and_is_named(
    client_as: Callable[[str], Client], pharmacy: dict[str, Any]
) -> None:
    before = Drug.objects.count()
    page = client_as("pharm").post(
        "/pharmacy/drugs/import/", {"file": workbook([GOOD, BAD, SAME_BATCH_OTHER_MAKER])}
    )
    assert page.status_code == 422
    html = page.content.decode()
    assert 'id="row-report"' in html
    # Row 3 is wrong twice: no generic name, a date not as YYYY-MM-DD.
    report = page.context["report"]
    assert [r.row for r in report.errors] == [3]
    assert len(report.errors[0].problems) == 2
    assert Drug.objects.count() == before


def test_importing_the_good_rows_when_asked(
    client_as: Callable[[str], Client], pharmacy: dict[str, Any]
) -> None:
    before = Drug.objects.count()
    page = client_as("pharm").post(
        "/pharmacy/drugs/import/",
        {"file": workbook([GOOD, BAD, SAME_BATCH_OTHER_MAKER]), "good_rows": "1"},
    )
    report = page.context["report"]
    assert report.imported == 2 and report.drugs_created == 2 and report.batches_created == 2
    assert Drug.objects.count() == before + 2
    # The same batch number under two manufacturers is two batches.
    assert DrugBatch.objects.filter(batch_number="2411023").count() == 2
    # Importing the same file again adds nothing.
    again = client_as("pharm").post("/pharmacy/drugs/import/", {"file": workbook([GOOD])})
    assert again.status_code == 200 and again.context["report"].drugs_created == 0
    assert Drug.objects.count() == before + 2


def test_a_file_that_is_not_a_workbook_or_lacks_columns(
    client_as: Callable[[str], Client],
) -> None:
    client = client_as("pharm")
    junk = io.BytesIO(b"not a workbook")
    junk.name = "x.xlsx"
    page = client.post("/pharmacy/drugs/import/", {"file": junk})
    assert page.status_code == 422 and page.context["report"].file_error
    page = client.post("/pharmacy/drugs/import/", {"file": workbook([GOOD], header=["名称"])})
    assert page.status_code == 422
    with translation.override("zh-hans"):
        assert str(COLUMNS[0][1]) in page.context["report"].file_error


def test_only_the_pharmacy_keeps_the_catalogue(client_as: Callable[[str], Client]) -> None:
    for persona in ("doctor", "gm", "cs"):
        assert client_as(persona).get("/pharmacy/drugs/").status_code == 403, persona
        assert client_as(persona).post("/pharmacy/drugs/import/").status_code == 403, persona
    page = client_as("pharm").get("/pharmacy/drugs/?q=国药准字")
    assert page.status_code == 200 and page.context["page"].paginator.count == 20
