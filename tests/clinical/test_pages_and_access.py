"""Per-role access to the clinical pages and API (DESIGN: patients' data only for those who
need them): the department, the ordering clinician and infection control see the patient;
medical affairs sees findings masked; manufacturer roles that see all cases see none."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from openpyxl import Workbook, load_workbook

from qloop.clinical.models import ResultEntry

pytestmark = pytest.mark.django_db

NAME, RECORD = "王建华", "880123"


def _token(username: str) -> dict[str, str]:
    out = io.StringIO()
    call_command("token", "create", username, stdout=out)
    return {"Authorization": f"Bearer {out.getvalue().strip()}"}


# persona → (sees the critical finding, sees the patient in full)
CRITICAL = {
    "lab": (True, True),
    "lab_head": (True, True),
    "doctor": (True, True),  # the ordering clinician
    "im_head": (True, True),  # head of the ordering department
    "nurse_im": (True, False),  # same department, not named: the doctor is
    "med_affairs": (True, False),  # supervises, masked
    "ic": (False, False),  # a critical value is not infection control's
    "rad": (False, False),
    "gm": (False, False),  # manufacturer: sees all *manufacturer* cases
    "cs": (False, False),
    "admin": (False, False),
}
INFECTIOUS = {**CRITICAL, "ic": (True, True)}


@pytest.mark.parametrize("kind", ["critical", "infectious"])
def test_who_sees_a_finding_and_its_patient_through_page_and_api(
    hospital: dict[str, Any], report: Callable[..., Any], kind: str
) -> None:
    if kind == "critical":
        case = report(result_value="2.1")[1][0]
        expected = CRITICAL
    else:
        case = report(test_code="TPPA", test_name="梅毒螺旋体抗体", result_value="阳性")[1][0]
        expected = INFECTIOUS
    for persona, (sees, full) in expected.items():
        client = Client()
        client.force_login(hospital[persona])
        page = client.get(f"/cases/{case.number}/")
        api = Client().get(f"/api/v1/cases/{case.number}", headers=_token(persona))
        if not sees:
            assert page.status_code == 404, persona
            assert api.status_code == 404, persona
            continue
        assert page.status_code == 200, persona
        assert api.status_code == 200, persona
        html = page.content.decode()
        detail = api.json()["detail"]
        assert (NAME in html) is full, persona
        assert (RECORD in html) is full, persona
        assert (detail["patient_name"] == NAME) is full, persona
        assert detail["personal_data"] is full
        if not full:
            assert detail["patient_name"] == "王**" and detail["patient_id"].endswith("123")
        # The register of cases lists it for them, never with the patient's name.
        listed = client.get("/cases/", {"kind": "finding"}).content.decode()
        assert case.number in listed and NAME not in listed


ROUTES = [
    # url, who gets 200 (everyone else: 403; anonymous: login)
    ("/clinical/registers/lab/", {"lab", "lab_head", "admin"}),
    ("/clinical/registers/rad/", {"rad", "admin"}),
    ("/clinical/registers/lab/new/", {"lab", "lab_head", "admin"}),
    ("/clinical/registers/lab/import/", {"lab", "lab_head", "admin"}),
    ("/clinical/timeliness/", {"lab", "lab_head", "rad", "med_affairs", "admin"}),
    (
        "/clinical/findings/",
        {"lab", "lab_head", "rad", "doctor", "im_head", "nurse_im", "med_affairs", "ic", "admin"},
    ),
    ("/clinical/messages/", {"admin"}),
    (
        "/clinical/feedback-forms/",
        {"lab", "lab_head", "rad", "doctor", "im_head", "nurse_im", "med_affairs", "ic", "admin"},
    ),
    ("/clinical/requests/new/", {"doctor", "im_head", "nurse_im", "admin"}),
    ("/clinical/opinions/new/", {"lab", "lab_head", "rad", "admin"}),
]
PERSONAS = [
    "lab",
    "lab_head",
    "rad",
    "doctor",
    "im_head",
    "nurse_im",
    "med_affairs",
    "ic",
    "gm",
    "cs",
    "admin",
]


@pytest.mark.parametrize(("url", "allowed"), ROUTES)
def test_every_clinical_page_for_every_persona(
    hospital: dict[str, Any], url: str, allowed: set[str]
) -> None:
    for persona in PERSONAS:
        client = Client()
        client.force_login(hospital[persona])
        got = client.get(url)
        want = 200 if persona in allowed else 403
        if got.status_code == 302 and persona in allowed:  # one register: straight to it
            got = client.get(got["Location"])
        assert got.status_code == want, (persona, url, got.status_code)
    assert Client().get(url).status_code == 302  # to the login page


def test_the_entry_page_and_a_correction_for_the_lab_only(
    hospital: dict[str, Any], report: Callable[..., Any]
) -> None:
    entry, _opened = report(result_value="4.1")
    url = f"/clinical/results/{entry.number}/"
    lab = Client()
    lab.force_login(hospital["lab"])
    for persona in ("doctor", "gm", "med_affairs", "rad"):
        other = Client()
        other.force_login(hospital[persona])
        assert other.get(url).status_code == 403
        refused = other.post(f"{url}correct/", {"reason": "x"})
        assert refused.status_code == 403
    form = {
        "patient_name": NAME,
        "patient_id": RECORD,
        "sex": "M",
        "test_code": "K",
        "test_name": "血钾",
        "result_value": "2.4",
        "unit": "mmol/L",
        "ordering_department": "IM",
        "ward": "IM1",
    }
    missing_reason = lab.post(f"{url}correct/", form)
    assert missing_reason.status_code == 422
    entry.refresh_from_db()
    assert entry.version == 1
    done = lab.post(f"{url}correct/", {**form, "reason": "仪器校准后复测"}, follow=True)
    assert done.status_code == 200
    entry.refresh_from_db()
    assert (entry.version, entry.result_value) == (2, "2.4")
    page = lab.get(url).content.decode()
    assert "仪器校准后复测" in page and "4.1" in page  # the old value stays visible
    assert entry.findings.count() == 1


def test_a_technologist_registers_a_result_through_the_form(hospital: dict[str, Any]) -> None:
    lab = Client()
    lab.force_login(hospital["lab"])
    bad = lab.post("/clinical/registers/lab/new/", {"patient_name": NAME, "test_name": "血钾"})
    assert bad.status_code == 422
    assert ResultEntry.objects.count() == 0
    made = lab.post(
        "/clinical/registers/lab/new/",
        {
            "patient_name": NAME,
            "patient_id": RECORD,
            "sex": "M",
            "age_years": "67",
            "test_code": "K",
            "test_name": "血钾",
            "result_value": "6.9",
            "unit": "mmol/L",
            "ordering_department": "IM",
            "ordering_doctor_name": "郑国华",
            "ward": "IM1",
            "bed": "12",
        },
        follow=True,
    )
    assert made.status_code == 200
    assert ResultEntry.objects.get().findings.get().kind == "critical"


def _row(**kw: Any) -> list[Any]:
    from qloop.clinical.imports import COLUMNS

    values = {name: example for name, _label, example in COLUMNS}
    values.update(kw)
    return [values[name] for name, _label, _example in COLUMNS]


def test_an_xlsx_import_is_all_or_nothing_with_a_report_per_row(
    hospital: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    lab = client_as("lab")
    template = lab.get("/clinical/registers/lab/template.xlsx")
    assert template.status_code == 200
    header = [
        c.value
        for c in next(
            load_workbook(io.BytesIO(template.content)).worksheets[0].iter_rows(max_row=1)
        )
    ]
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(header)
    ws.append(_row(result_value="2.0", accession="S1"))
    ws.append(_row(patient_name="", accession="S2"))
    ws.append(_row(reported_at="昨天", accession="S3"))
    buf = io.BytesIO()
    book.save(buf)
    buf.seek(0)
    buf.name = "results.xlsx"  # type: ignore[attr-defined]
    refused = lab.post("/clinical/registers/lab/import/", {"file": buf})
    assert refused.status_code == 422
    page = refused.content.decode()
    assert ">3<" in page and ">4<" in page  # rows 3 and 4 are named
    assert ResultEntry.objects.count() == 0  # nothing half-imported
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(header)
    ws.append(_row(result_value="2.0", accession="S1"))
    ws.append(_row(accession="S2"))
    buf = io.BytesIO()
    book.save(buf)
    buf.seek(0)
    buf.name = "results.xlsx"  # type: ignore[attr-defined]
    done = lab.post("/clinical/registers/lab/import/", {"file": buf})
    assert done.status_code == 200
    assert ResultEntry.objects.count() == 2
    assert ResultEntry.objects.filter(findings__isnull=False).count() == 1
    # Not a workbook at all: a clear message, nothing written.
    junk = io.BytesIO(b"not a workbook")
    junk.name = "x.xlsx"  # type: ignore[attr-defined]
    assert lab.post("/clinical/registers/lab/import/", {"file": junk}).status_code == 422


def test_the_timeliness_figures_and_their_drill_down(
    hospital: dict[str, Any], report: Callable[..., Any], at: Callable[..., None]
) -> None:
    import datetime as dt

    from qloop.clinical import timeliness
    from qloop.process.engine import take_transition
    from tests.clocktime import MINUTE, T0

    at(T0)
    minutes = [2, 4, 6, 8, 10, 12, 14, 20, 30]  # the last two late (limit 15)
    for i, m in enumerate(minutes):
        case = report(result_value="2.0", patient_id=f"P{i}", reported_at=T0)[1][0]
        at(T0 + m * MINUTE)
        take_transition(
            case,
            "record_call",
            {
                "outcome": "confirmed",
                "readback_name": NAME,
                "readback_patient_id": f"P{i}",
                "readback_result": "2.0",
            },
            actor=hospital["lab"],
        )
        at(T0)
    report(result_value="2.0", patient_id="PX", reported_at=T0)  # never acknowledged
    start, end = T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1)
    (row,) = timeliness.figures(start, end, group="register")
    assert (row.total, row.acknowledged, row.on_time, row.late, row.unacknowledged) == (
        10,
        9,
        7,
        2,
        1,
    )
    assert row.median_seconds == 10 * 60  # nearest rank of nine: the fifth
    assert row.p90_seconds == 30 * 60
    assert round(row.on_time_rate or 0) == 70
    at(T0 + dt.timedelta(hours=2))
    lab = Client()
    lab.force_login(hospital["lab_head"])
    page = lab.get("/clinical/timeliness/", {"from": "2026-03-02", "to": "2026-03-02"})
    assert page.status_code == 200
    assert "70.0%" in page.content.decode()
    late = lab.get(
        "/clinical/findings/",
        {"from": "2026-03-02", "to": "2026-03-02", "register": "lab", "status": "late"},
    )
    assert late.content.decode().count("/cases/FN-") == 2
    api = Client().get(
        "/api/v1/clinical/timeliness",
        {"start": "2026-03-02", "end": "2026-03-02", "group": "test"},
        headers=_token("med_affairs"),
    )
    assert api.status_code == 200 and api.json()[0]["late"] == 2
    assert (
        Client()
        .get(
            "/api/v1/clinical/timeliness",
            {"start": "2026-03-02", "end": "2026-03-02"},
            headers=_token("gm"),
        )
        .status_code
        == 403
    )


def test_the_patient_opinion_qr_code_carries_the_site_address_not_the_request_host(
    client_as: Callable[[str], Any], hospital: dict[str, Any], settings: Any
) -> None:
    """Printed and scanned by patients elsewhere: SITE_URL, whatever Host the lab used
    (issue 12.16, 12.20)."""
    import segno
    from django.urls import reverse

    from qloop.clinical.models import ClinicalRegister

    settings.SITE_URL = "https://qloop.hospital.example"
    settings.ALLOWED_HOSTS = ["*"]
    code = ClinicalRegister.objects.filter(is_active=True).values_list("code", flat=True)[0]
    svg = client_as("lab").get(f"/clinical/opinions/qr/{code}/", HTTP_HOST="10.0.0.9:8123")

    expected = io.BytesIO()
    link = "https://qloop.hospital.example" + reverse("clinical-opinion-public", args=[code])
    segno.make(link, error="m").save(expected, kind="svg", scale=8, border=4)
    assert svg.status_code == 200 and svg.content == expected.getvalue()
