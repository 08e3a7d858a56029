"""Past complaints and feedback imported from a workbook (issue 13): a template, a report per
row, nothing half-imported, numbers kept where given and assigned otherwise."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from qloop.cases.actions import next_number
from qloop.cases.models import Case
from qloop.process.models import Clock

pytestmark = pytest.mark.django_db


def _upload(rows: list[list[Any]], header: list[Any]) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("history.xlsx", buf.getvalue())


def _template(client: Client) -> tuple[list[Any], list[Any]]:
    response = client.get(reverse("history-template"))
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws is not None
    header, example = list(ws.iter_rows(values_only=True))[:2]
    return list(header), list(example)


def test_a_good_workbook_is_imported_with_its_numbers_and_closed_cases(
    client_for: Callable[[str], Client], users: dict[str, Any]
) -> None:
    cs_head = client_for("cs_head")
    header, example = _template(cs_head)
    second = list(example)
    second[0] = ""  # no number: one is assigned
    second[2] = "2019-08-01 10:00"
    second[16] = ""  # still open

    response = cs_head.post(reverse("history-import"), {"file": _upload([example, second], header)})

    assert response.status_code == 200, response.content.decode()
    kept = Case.objects.get(number="QC-2019-000123")
    assert kept.state == "closed" and kept.closed_at is not None
    assigned = Case.objects.exclude(pk=kept.pk).get()
    assert assigned.number == "QC-2019-000124"  # numbering goes on after the kept number
    assert assigned.state == "new"
    assert not Clock.objects.exists()  # history starts no deadlines
    assert kept.events.filter(verb="imported").exists()
    from django.db import transaction

    with transaction.atomic():
        assert next_number("complaint", 2019) == "QC-2019-000125"


def test_one_bad_row_imports_nothing_and_the_report_names_each_row(
    client_for: Callable[[str], Client],
) -> None:
    cs_head = client_for("cs_head")
    header, example = _template(cs_head)
    bad_date, bad_kind, dup = list(example), list(example), list(example)
    bad_date[0], bad_date[2] = "", "yesterday"
    bad_kind[0], bad_kind[1] = "", "rumour"
    good = list(example)
    good[0] = "QC-2019-000200"
    dup[0] = "QC-2019-000200"

    response = cs_head.post(
        reverse("history-import"), {"file": _upload([good, bad_date, bad_kind, dup], header)}
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert not Case.objects.exists()
    for line in ("<td>3</td>", "<td>4</td>", "<td>5</td>"):
        assert line in html
    assert "<td>2</td>" not in html  # the good row is not reported


def test_only_those_who_manage_cases_import_and_junk_is_refused(
    client_for: Callable[[str], Client],
) -> None:
    assert client_for("prod").get(reverse("history-import")).status_code == 403
    assert client_for("prod").get(reverse("history-template")).status_code == 403
    junk = SimpleUploadedFile("x.xlsx", b"not a workbook")
    response = client_for("cs_head").post(reverse("history-import"), {"file": junk})
    assert response.status_code == 422 and not Case.objects.exists()
