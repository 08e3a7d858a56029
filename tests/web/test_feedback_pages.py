"""Feedback pages, the two named registers and the customer directory, as users see them
(R2.2–R2.5, R2.10, R2.11)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from qloop.cases.models import Case
from qloop.customers.models import ContactRecord, CustomerOrganisation


def text(response: Any) -> str:
    return str(response.content.decode())


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "channel": "visit",
        "severity": "minor",
        "contact_name": "王芳",
        "contact_phone": "13800138000",
        "contact_organisation": "苏州恒通水务有限公司",
        "symptom": "希望增加一款更大流量的型号。",
        "feedback_type": "suggestion",
        "category": "3A",
    }
    data.update(overrides)
    return data


def test_sales_register_feedback_with_type_and_category(
    client_for: Callable[[str], Client],
) -> None:
    """R2.4, R2.10: the feedback form asks for the type; the case page shows it."""
    client = client_for("sales")
    page = client.get(reverse("case-create") + "?kind=feedback")
    assert 'name="feedback_type"' in text(page)

    response = client.post(reverse("case-create") + "?kind=feedback", form_data())

    case = Case.objects.get()
    assert response.status_code == 302
    assert (case.kind, case.category.code, case.feedback.feedback_type) == (
        "feedback",
        "3A",
        "suggestion",
    )
    detail = client.get(reverse("case-detail", args=[case.number]))
    assert 'id="feedback-type"' in text(detail)


def test_feedback_without_a_type_is_refused_with_a_message(
    client_for: Callable[[str], Client],
) -> None:
    response = client_for("sales").post(
        reverse("case-create") + "?kind=feedback", form_data(feedback_type="")
    )
    assert response.status_code == 200
    assert "invalid-feedback" in text(response)
    assert Case.objects.count() == 0


def test_the_handling_record_lists_the_period_and_masks_phones_for_others(
    make_case: Any, client_for: Callable[[str], Client]
) -> None:
    """R2.3, X4: the period's feedback, printable; phones in full only for those who may."""
    case = make_case(actor="sales", kind="feedback", feedback_type="complaint")
    today = timezone.localdate().isoformat()
    url = reverse("feedback-handling-record") + f"?from={today}&to={today}"

    sales = text(client_for("sales").get(url))
    quality = text(client_for("qe").get(url))

    assert case.number in sales and "13800138000" in sales
    assert case.number in quality and "13800138000" not in quality and "138****8000" in quality


def test_a_period_that_cannot_be_read_is_explained(client_for: Callable[[str], Client]) -> None:
    response = client_for("sales").get(reverse("complaint-feedback-record") + "?from=2026-13-01")
    assert response.status_code == 422
    assert 'id="period-error"' in text(response)


def test_the_complaint_and_feedback_record_exports_the_same_rows(
    make_case: Any, client_for: Callable[[str], Client]
) -> None:
    """R2.5 a, X4: the workbook has the printed page's columns and rows."""
    fb = make_case(actor="sales", kind="feedback", feedback_type="opinion")
    qc = make_case(actor="cs")
    today = timezone.localdate().isoformat()
    response = client_for("sales").get(
        reverse("complaint-feedback-record-xlsx") + f"?from={today}&to={today}"
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    numbers = [row[0] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert sorted(numbers) == sorted([fb.number, qc.number])


def test_a_new_customer_gathers_its_contacts_cases_and_contact_records(
    make_case: Any, client_for: Callable[[str], Client]
) -> None:
    """R2.4, R2.5 b: the customer page shows its people, their cases and every contact."""
    case = make_case(actor="sales", kind="feedback", feedback_type="opinion")
    client = client_for("sales")
    response = client.post(
        reverse("customer-create"), {"name": "苏州恒通水务有限公司", "kind": "end_customer"}
    )
    customer = CustomerOrganisation.objects.get()
    assert response.status_code == 302

    client.post(
        reverse("contact-record-create", args=[customer.pk]),
        {"date": timezone.localdate().isoformat(), "way": "visit", "summary": "上门回访"},
    )
    page = text(client.get(reverse("customer-detail", args=[customer.pk])))

    assert case.number in page and "王芳" in page and "上门回访" in page
    found = text(client.get(reverse("customer-list") + "?q=王芳"))
    missed = text(client.get(reverse("customer-list") + "?q=无锡"))
    assert "苏州恒通水务有限公司" in found and "苏州恒通水务有限公司" not in missed


def test_a_contact_record_without_summary_is_refused_and_nothing_is_saved(
    client_for: Callable[[str], Client],
) -> None:
    customer = CustomerOrganisation.objects.create(name="无锡市自来水公司")
    response = client_for("sales").post(
        reverse("contact-record-create", args=[customer.pk]),
        {"date": timezone.localdate().isoformat(), "way": "phone", "summary": ""},
    )
    assert response.status_code == 422
    assert ContactRecord.objects.count() == 0


def test_people_without_the_right_do_not_open_the_directory(
    client_for: Callable[[str], Client],
) -> None:
    """Personal data of customers: Supply and Sales, CS and managers only."""
    assert client_for("prod").get(reverse("customer-list")).status_code == 403
    assert client_for("sales").get(reverse("customer-list")).status_code == 200
