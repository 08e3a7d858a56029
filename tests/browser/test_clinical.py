"""The clinical profile in a real browser (#11): the patients' opinion page and a doctor's
acknowledgement on a phone (390×844), the finding register and the 传染病报告卡 printed to
PDF. Screenshots and PDF pages land in test-output/ for a person to look at."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.conftest import REPO_ROOT, PageWatch, log_in, pdf_to_png
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

REPORTS = REPO_ROOT / "test-output" / "reports"


@pytest.fixture
def hospital(demo_org: dict[str, Any]) -> dict[str, Any]:
    from qloop.clinical.demo import _ensure_users
    from qloop.clinical.setup import load_clinical_setup
    from qloop.demo.hospital import load_hospital
    from qloop.org.models import Organisation, Profile

    people = _ensure_users(load_hospital())
    setup = load_clinical_setup()
    org = Organisation.current()
    org.profiles = [Profile.MANUFACTURER, Profile.CLINICAL]
    org.save()
    return {**demo_org, **people, **setup}


def _result(hospital: dict[str, Any], **overrides: Any) -> Any:
    from qloop.clinical.actions import ResultData, register_result

    fields: dict[str, Any] = {
        "patient_name": "王建华",
        "patient_id": "880123",
        "test_code": "K",
        "test_name": "血钾",
        "result_value": "2.3",
        "unit": "mmol/L",
        "reference_range": "3.5-5.3",
        "abnormal_flag": "LL",
        "ordering_department": "IM",
        "ordering_doctor_name": "郑国华",
        "ordering_doctor": "doctor",
        "ward": "IM1",
        "bed": "12",
        "sex": "M",
        "age_years": Decimal(67),
        "specimen": "血清",
    }
    fields.update(overrides)
    return register_result(
        ResultData(**fields), register=hospital["registers"]["lab"], actor=hospital["lab"]
    )


def test_a_patient_gives_an_opinion_on_the_phone(
    phone_page: Any, hospital: dict[str, Any], screenshot: Any, watch: PageWatch
) -> None:
    from qloop.cases.models import Case

    phone_page.goto("/p/opinion/lab/")
    assert phone_page.locator("h1").inner_text().startswith("检验科")
    screenshot(phone_page, "opinion-empty")
    # Nothing filled in: told what is missing, nothing registered.
    # The answer to the POST, not the page before it (a busy machine is slow).
    with phone_page.expect_navigation():
        phone_page.locator("#opinion-form button").click()
    assert phone_page.locator(".text-danger, .invalid-feedback").count() >= 1
    assert not Case.objects.filter(kind="patient_opinion").exists()
    screenshot(phone_page, "opinion-errors")
    phone_page.locator("label", has_text="建议").click()
    phone_page.fill("#id_content", "抽血窗口中午也能开一个就好了，上班族不用请假。")
    phone_page.fill("#id_phone", "13912345678")
    phone_page.locator("#opinion-form button").click()
    phone_page.wait_for_selector("#thanks")
    number = phone_page.locator("#opinion-number").inner_text()
    screenshot(phone_page, "opinion-thanks")
    case = Case.objects.get(number=number)
    assert case.patient_opinion.opinion_type == "suggestion"
    assert case.patient_opinion.from_public_page
    assert case.department.code == "LAB"
    # The page is as wide as the phone: nothing to scroll sideways.
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    # Issue 12.22: the patient follows it on the status page with the number and his phone.
    phone_page.locator("#status-link").click()
    phone_page.fill("#id_phone", "5678")
    phone_page.get_by_role("button", name="查询").click()
    phone_page.wait_for_selector("#case-status")
    assert phone_page.locator("#stage").get_attribute("data-stage") == "received"
    screenshot(phone_page, "opinion-status")
    phone_page.goto("/p/opinion/lab/?lang=en")
    assert "Your opinion" in phone_page.locator("h1").inner_text()
    screenshot(phone_page, "opinion-english")
    # No script errors; the only failed loads are the refused form (422) and the browser's
    # own favicon request.
    assert not [e for e in watch.errors if "status of" not in e]
    assert not [f for f in watch.failed if "/p/opinion/" not in f and "favicon" not in f]
    assert not [r for r in watch.requests if not r.startswith(("http://localhost", "data:"))]


def test_the_doctor_signs_a_critical_value_on_the_phone(
    phone_page: Any, hospital: dict[str, Any], screenshot: Any
) -> None:
    _entry, (case,) = _result(hospital)
    log_in(phone_page, "doctor")
    phone_page.goto(f"/cases/{case.number}/")
    assert phone_page.locator("#finding-patient").inner_text() == "王建华"
    screenshot(phone_page, "finding-on-phone")
    phone_page.locator("#btn-step-acknowledge").click()
    # Bootstrap marks the step "show" once it has finished opening: a click while the panel
    # still grows can land where the button no longer is (seen on a busy machine).
    phone_page.wait_for_selector("#step-acknowledge.collapse.show")
    form = phone_page.locator("form[action$='/transitions/acknowledge/']")
    form.locator("input[name=signature_password]").fill(PASSWORD)
    # The answer to the POST, not the page before it (a busy machine is slow to answer).
    with phone_page.expect_navigation():
        form.locator("button[type=submit], button").last.click()
    screenshot(phone_page, "finding-acknowledged")
    case.refresh_from_db()
    assert case.state == "acknowledged"
    assert case.finding.ack_method == "signature"
    assert "郑国华" in phone_page.locator("#finding-ack").inner_text()


def test_the_finding_register_and_the_report_card_print_as_pdf(
    page: Any, hospital: dict[str, Any], screenshot: Any
) -> None:
    from qloop.process.engine import take_transition

    now = timezone.now()
    for i, (value, minutes) in enumerate([("2.3", 6), ("6.9", 22), ("2.1", None)]):
        _e, (case,) = _result(
            hospital,
            result_value=value,
            abnormal_flag="",
            patient_id=f"88012{i}",
            reported_at=now - dt.timedelta(minutes=40),
        )
        if minutes is not None:
            take_transition(
                case,
                "record_call",
                {
                    "receiver_name": "杨丽",
                    "receiver_role": "nurse",
                    "outcome": "confirmed",
                    "readback_name": "王建华",
                    "readback_patient_id": f"88012{i}",
                    "readback_result": value,
                },
                actor=hospital["lab"],
            )
    _e, (stool,) = _result(
        hospital,
        test_code="17576-0",
        test_name="粪便培养（志贺菌）",
        result_value="检出福氏志贺菌",
        unit="",
        abnormal_flag="",
        reference_range="未检出",
        patient_id="990001",
        age_years=Decimal(8),
        ordering_department="PED",
        ordering_doctor="",
        ordering_doctor_name="罗晓燕",
        ward="PED1",
    )
    card = stool.finding.disease_report
    REPORTS.mkdir(parents=True, exist_ok=True)
    log_in(page, "lab_head")
    page.goto("/clinical/findings/?print=1")
    assert page.locator("#register tbody tr").count() == 4
    pdf = REPORTS / "clinical-finding-register.pdf"
    page.pdf(path=str(pdf), format="A4", landscape=True, print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF")
    pdf_to_png(pdf, first_page_only=True)
    page.goto("/clinical/timeliness/")
    screenshot(page, "timeliness")
    page.context.clear_cookies()
    log_in(page, "ic")
    page.goto(f"/clinical/report-cards/{card.number}/")
    assert page.locator("#card-disease").inner_text() == "细菌性痢疾"
    assert page.locator("#card-patient").inner_text() == "王建华"
    pdf = REPORTS / "clinical-report-card.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF")
    pdf_to_png(pdf, first_page_only=True)
