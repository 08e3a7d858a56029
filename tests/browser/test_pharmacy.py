"""The pharmacy profile in a real browser (#10): a patient's drug quality feedback on a phone
(390×844), and the printed forms (《药品质量信息反馈表》, 《药品质量信息反馈报告表》, the ADR
form, the group event form) as A4 PDF and PNG. Screenshots and PDF pages land in test-output/
for a person to look at."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import REPO_ROOT, PageWatch, log_in, pdf_to_png
from tests.pharmacy.conftest import adr_detail

pytestmark = pytest.mark.browser

REPORTS = REPO_ROOT / "test-output" / "reports"


@pytest.fixture
def pharmacy(demo_org: dict[str, Any]) -> dict[str, Any]:
    from qloop.demo.hospital import load_hospital
    from qloop.org.models import Organisation, Profile
    from qloop.pharmacy.models import Drug
    from qloop.pharmacy.setup import load_catalogue, load_pharmacy_setup

    people = load_hospital()
    load_pharmacy_setup(catalogue=False)
    load_catalogue(count=20)
    org = Organisation.current()
    org.profiles = [Profile.MANUFACTURER, Profile.PHARMACY]
    org.save()
    drug = Drug.objects.order_by("pk").first()
    assert drug is not None
    return {**demo_org, **people, "drug": drug, "batch": drug.batches.order_by("pk").first()}


def test_a_patient_reports_a_drug_problem_on_the_phone(
    phone_page: Any, pharmacy: dict[str, Any], screenshot: Any, watch: PageWatch
) -> None:
    from qloop.cases.models import Case

    phone_page.goto("/p/drug-feedback/")
    screenshot(phone_page, "drug-feedback-empty")
    # The answer to the POST, not the page before it (a busy machine is slow).
    with phone_page.expect_navigation():
        phone_page.locator("#drug-feedback-form button").click()
    assert phone_page.locator(".invalid-feedback").count() >= 1
    screenshot(phone_page, "drug-feedback-errors")
    phone_page.fill("#id_drug_text", "头孢克肟颗粒")
    phone_page.fill("#id_batch_text", "2411023")
    phone_page.locator("label", has_text="霉变").click()
    phone_page.fill("#id_description", "打开后颗粒里有黑色霉点，有霉味。")
    phone_page.fill("#id_patient_phone", "13912345678")
    phone_page.locator("#drug-feedback-form button").click()
    phone_page.wait_for_selector("#thanks")
    screenshot(phone_page, "drug-feedback-thanks")
    case = Case.objects.get(kind="drug_feedback")
    assert case.number in phone_page.locator("#thanks").inner_text()
    assert case.drug_feedback.problem == "mould"
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    phone_page.goto("/p/drug-feedback/?lang=en")
    assert "Drug quality feedback" in phone_page.locator("h1").inner_text()
    screenshot(phone_page, "drug-feedback-english")
    # No script errors (a CSP refusal would be one), nothing loaded from outside.
    assert not [e for e in watch.errors if "status of" not in e]
    assert not [f for f in watch.failed if "/p/drug-feedback/" not in f and "favicon" not in f]
    assert not [r for r in watch.requests if not r.startswith(("http://localhost", "data:"))]


def test_the_forms_print_on_a4_as_pdf(page: Any, pharmacy: dict[str, Any], screenshot: Any) -> None:
    from qloop.cases.actions import ContactData, Registration, register_case
    from qloop.cases.models import Case

    def register(kind: str, detail: dict[str, Any], actor: str) -> Case:
        return register_case(
            Registration(
                kind=kind, channel="visit", contact=ContactData(name=""), symptom="", detail=detail
            ),
            actor=pharmacy[actor],
        )

    feedback = [
        register(
            "drug_feedback",
            {
                "drug_id": pharmacy["drug"].pk,
                "batch_number": pharmacy["batch"].batch_number,
                "problem": problem,
                "description": text,
                "patient_name": "李秀英",
                "patient_phone": "13912345678",
                "source": "collected",
            },
            "pharm",
        )
        for problem, text in (("mould", "颗粒霉变。"), ("packaging", "铝塑板破损。"))
    ]
    adr = register("adr", adr_detail(pharmacy, part_of_group=True), "doctor")
    group = Case.objects.get(kind="adr_group")
    log_in(page, "pharm")
    REPORTS.mkdir(parents=True, exist_ok=True)
    for name, url in (
        ("pharmacy-feedback-form", f"/pharmacy/cases/{feedback[0].number}/print/"),
        (
            "pharmacy-feedback-report-form",
            f"/pharmacy/cases/{feedback[0].number}/print/?form=report&also={feedback[1].number}",
        ),
        ("pharmacy-adr-form", f"/pharmacy/cases/{adr.number}/print/"),
        ("pharmacy-group-form", f"/pharmacy/cases/{group.number}/print/"),
    ):
        page.goto(url)
        assert page.locator("#form-title").count() == 1
        screenshot(page, name)
        pdf = REPORTS / f"{name}.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
        assert pdf.read_bytes().startswith(b"%PDF")
        pdf_to_png(pdf, first_page_only=True)


def test_the_signal_table_shows_each_pair_over_the_last_twelve_months(
    page: Any, pharmacy: dict[str, Any], screenshot: Any
) -> None:
    """Issue 10 (signals): the pairs with at least three reports, their counts over time (the
    last 12 months, from the pre-counted months), PRR and ROR; a pharmacist closes one."""
    import datetime as dt

    from django.utils import timezone

    from qloop.cases.actions import ContactData, Registration, register_case

    now = timezone.now()
    for generic, reaction, days in (
        [("甲药", "肝损伤", d) for d in (2, 3, 40, 70)]
        + [("甲药", "皮疹", d) for d in (5, 100)]
        + [("乙药", "肝损伤", d) for d in (8, 200)]
        + [("乙药", "皮疹", d) for d in (1, 20, 50, 80, 150, 300)]
        + [("丙药", "头晕", d) for d in (4, 9, 30, 60, 120, 240)]
    ):
        register_case(
            Registration(
                kind="adr",
                channel="visit",
                contact=ContactData(name=""),
                symptom="",
                detail=adr_detail(
                    pharmacy,
                    reaction=reaction,
                    aware_at=(now - dt.timedelta(days=days)).isoformat(),
                    drugs=[{"role": "suspect", "generic_name": generic}],
                ),
            ),
            actor=pharmacy["pharm"],
        )
    log_in(page, "pharm")
    page.goto("/pharmacy/signals/")
    assert "近 12 个月" in page.locator("#signal-table thead").inner_text()
    row = page.locator('tr[data-pair="甲药|肝损伤"]')
    months = row.locator("td").nth(4).inner_text().split()
    assert len(months) == 12 and sum(int(n) for n in months) == 4
    screenshot(page, "pharmacy-signals")
    row.locator("input[name=reason]").fill("说明书已载明，已通报临床。")
    with page.expect_navigation():
        row.locator("button").click()
    assert "说明书已载明" in page.locator('tr[data-pair="甲药|肝损伤"]').inner_text()
    screenshot(page, "pharmacy-signals-closed")
