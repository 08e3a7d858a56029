"""The pharmacy's pages: registration forms, the case page of each kind, the public phone page
behind the QR code (no login, rate-limited per address), and the A4 forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from qloop.cases.models import Case
from tests.pharmacy.conftest import adr_detail

pytestmark = pytest.mark.django_db

PUBLIC = {
    "drug_text": "阿莫西林胶囊",
    "batch_text": "2406123",
    "problem": "caking",
    "description": "胶囊粘连在一起。",
    "patient_phone": "13800001111",
}


@override_settings(QLOOP_DRUG_FEEDBACK_PER_HOUR=3)
def test_the_public_page_registers_without_login_and_is_rate_limited_per_address(
    pharmacy: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    cache.clear()
    public = Client(REMOTE_ADDR="10.1.2.3")
    page = public.get("/p/drug-feedback/")
    assert page.status_code == 200 and 'name="viewport"' in page.content.decode()
    assert "<style" not in page.content.decode() and " style=" not in page.content.decode()
    assert public.get("/p/drug-feedback/?lang=en").headers["Content-Language"] == "en"
    refused = public.post("/p/drug-feedback/", {"problem": "caking"})
    assert refused.status_code == 422
    for _ in range(3):
        assert public.post("/p/drug-feedback/", PUBLIC).status_code == 200
    assert public.post("/p/drug-feedback/", PUBLIC).status_code == 429
    assert Client(REMOTE_ADDR="10.9.9.9").post("/p/drug-feedback/", PUBLIC).status_code == 200
    case = Case.objects.filter(kind="drug_feedback").first()
    assert case is not None and case.drug_feedback.from_public_page
    assert case.channel == "web" and case.registered_by is None
    assert case.clocks.filter(name="dq_answer").exists()
    # The pharmacy sees the patient's phone; nobody outside it sees the case.
    assert "13800001111" in client_as("pharm").get(f"/cases/{case.number}/").content.decode()
    assert client_as("doctor").get(f"/cases/{case.number}/").status_code == 404


def test_the_qr_code_of_the_public_page_is_for_the_pharmacy_to_print(
    client_as: Callable[[str], Client],
) -> None:
    response = client_as("pharm").get("/pharmacy/qr/")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert client_as("gm").get("/pharmacy/qr/").status_code == 403


def test_staff_register_feedback_and_open_a_counterfeit_case_through_the_forms(
    pharmacy: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    pharm = client_as("pharm")
    assert pharm.get("/pharmacy/feedback/new/").status_code == 200
    bad = pharm.post("/pharmacy/feedback/new/", {"problem": "mould", "source": "collected"})
    assert bad.status_code == 422
    made = pharm.post(
        "/pharmacy/feedback/new/",
        {
            "drug_id": pharmacy["drug"].pk,
            "batch_number": pharmacy["batch"].batch_number,
            "problem": "mould",
            "description": "霉点",
            "source": "solicited",
        },
    )
    assert made.status_code == 302
    case = Case.objects.get(kind="drug_feedback")
    page = pharm.get(f"/cases/{case.number}/").content.decode()
    assert pharmacy["drug"].approval_number in page and 'id="drug-feedback"' in page
    made = pharm.post(
        "/pharmacy/counterfeit/new/",
        {
            "drug_id": pharmacy["drug"].pk,
            "batch_number": "X1",
            "where_found": "药库",
            "how_found": "抽检",
            "criteria": ["ss_expired", "ss_batch"],
            "finding": "suspected",
            "store": "药库",
            "quantity": 5,
            "unit": "盒",
        },
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    case = Case.objects.get(kind="counterfeit")
    assert case.counterfeit.criteria == ["ss_expired", "ss_batch"]
    page = pharm.get(f"/cases/{case.number}/").content.decode()
    assert 'id="holds"' in page
    # The pharmacy's forms are the pharmacy's.
    assert client_as("doctor").get("/pharmacy/counterfeit/new/").status_code == 403


def test_a_physician_reports_an_adr_completes_it_and_sees_the_gaps_named(
    pharmacy: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    doctor = client_as("doctor")
    made = doctor.post(
        "/pharmacy/adr/new/",
        {
            "report_type": "first",
            "seriousness": "general",
            "unit_type": "hospital",
            "sex": "U",
            "outcome": "unknown",
            "dechallenge": "unclear",
            "rechallenge": "not_done",
            "reaction": "皮疹",
        },
    )
    assert made.status_code == 302, made.content.decode()[:3000]
    case = Case.objects.get(kind="adr")
    page = doctor.get(f"/cases/{case.number}/").content.decode()
    assert 'id="adr-missing"' in page
    for gap in ("patient", "reporter", "suspect_drugs"):
        assert f'data-missing="{gap}"' in page
    assert 'data-missing="reaction"' not in page
    detail = adr_detail(pharmacy)
    suspect = detail["drugs"][0]
    edited = doctor.post(
        f"/pharmacy/adr/{case.number}/edit/",
        {
            "report_type": "first",
            "seriousness": "general",
            "unit_type": "hospital",
            "sex": "M",
            "outcome": "improving",
            "dechallenge": "yes",
            "rechallenge": "not_done",
            "reaction": "皮疹",
            "patient_name": "王建华",
            "age_years": 67,
            "reporter_name": "郑国华",
            "reporter_phone": "0512-1",
            "drug_id": suspect["drug_id"],
            "batch_number": suspect["batch_number"],
            "dose": "0.5g",
        },
    )
    assert edited.status_code == 302, edited.content.decode()[:3000]
    page = doctor.get(f"/cases/{case.number}/").content.decode()
    assert 'id="adr-missing"' not in page
    # Another physician may neither see nor edit it.
    assert client_as("gm").get(f"/pharmacy/adr/{case.number}/edit/").status_code == 404


@pytest.mark.parametrize("form", ["", "report"])
def test_the_feedback_forms_print_on_a4(
    form: str, pharmacy: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    pharm = client_as("pharm")
    for _ in range(2):
        pharm.post(
            "/pharmacy/feedback/new/",
            {
                "drug_id": pharmacy["drug"].pk,
                "problem": "colour",
                "description": "变色",
                "source": "collected",
                "patient_name": "李秀英",
            },
        )
    first, second = Case.objects.filter(kind="drug_feedback").order_by("pk")
    query = f"?form={form}&also={second.number}" if form else ""
    page = pharm.get(f"/pharmacy/cases/{first.number}/print/{query}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "paper.css" in html and "<style" not in html and " style=" not in html
    assert 'id="form-title"' in html
    if form:
        assert first.number in html and second.number in html
    else:
        assert "李秀英" in html


def test_the_adr_and_group_forms_print(
    pharmacy: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    from qloop.cases.actions import ContactData, Registration, register_case

    case = register_case(
        Registration(
            kind="adr",
            channel="visit",
            contact=ContactData(name=""),
            symptom="",
            detail=adr_detail(pharmacy, part_of_group=True),
        ),
        actor=pharmacy["doctor"],
    )
    group = Case.objects.get(kind="adr_group")
    pharm = client_as("pharm")
    html = pharm.get(f"/pharmacy/cases/{case.number}/print/").content.decode()
    assert "王建华" in html and pharmacy["batch"].batch_number in html
    html = pharm.get(f"/pharmacy/cases/{group.number}/print/").content.decode()
    assert case.number in html
    assert pharm.get(f"/pharmacy/cases/{case.number}/e2b.xml").status_code == 200
    assert client_as("gm").get(f"/pharmacy/cases/{case.number}/print/").status_code == 404


def test_adr_reports_export_as_xlsx_one_row_per_suspect_drug(
    pharmacy: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    import io

    from openpyxl import load_workbook

    from qloop.cases.actions import ContactData, Registration, register_case
    from qloop.pharmacy.export import COLUMNS

    case = register_case(
        Registration(
            kind="adr",
            channel="visit",
            contact=ContactData(name=""),
            symptom="",
            detail=adr_detail(pharmacy),
        ),
        actor=pharmacy["doctor"],
    )
    response = client_as("pharm").get("/pharmacy/adr/export.xlsx")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2 and len(rows[0]) == len(COLUMNS)
    assert rows[1][0] == case.number and "王建华" in rows[1]
    assert pharmacy["batch"].batch_number in rows[1] and "维生素C" in rows[1]
    assert client_as("doctor").get("/pharmacy/adr/export.xlsx").status_code == 403
