"""Periodic summaries (R3.2): produced by the worker for the month and quarter just ended,
counted by the database beside the period before, signed by the head of pharmacy, then kept
unchanged and their sending recorded."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from openpyxl import load_workbook

from qloop.cases.actions import ContactData, Registration, register_case
from qloop.pharmacy.jobs import pharmacy_summaries
from qloop.pharmacy.models import Summary
from qloop.pharmacy.summaries import period_bounds, record_summary_sending, sign_summary
from tests.conftest import PASSWORD
from tests.pharmacy.conftest import adr_detail

pytestmark = pytest.mark.django_db


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


def test_period_bounds() -> None:
    assert period_bounds("month", dt.date(2026, 12, 7)) == (
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
    )
    assert period_bounds("quarter", dt.date(2026, 11, 7)) == (
        dt.date(2026, 10, 1),
        dt.date(2027, 1, 1),
    )
    assert period_bounds("quarter", dt.date(2026, 3, 31)) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 4, 1),
    )


def test_the_worker_produces_signed_kept_summaries_beside_the_period_before(
    pharmacy: dict[str, Any], client_as: Callable[[str], Client]
) -> None:
    with time_machine.travel(dt.datetime(2026, 9, 10, 2, tzinfo=dt.UTC), tick=False):
        feedback(pharmacy, "mould")
        adr(pharmacy)
    with time_machine.travel(dt.datetime(2026, 10, 12, 2, tzinfo=dt.UTC), tick=False):
        feedback(pharmacy, "mould")
        feedback(pharmacy, "caking")
        adr(pharmacy, seriousness="serious")
        adr(pharmacy, seriousness="general")
    with time_machine.travel(dt.datetime(2026, 11, 1, 0, 30, tzinfo=dt.UTC), tick=False):
        assert pharmacy_summaries.call_local() == 2
        assert pharmacy_summaries.call_local() == 2  # idempotent: nothing made twice
    month = Summary.objects.get(period="month")
    assert (month.start, month.end) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert month.recipient == "committee"
    now, before = month.figures["current"], month.figures["previous"]
    assert (now["feedback"], now["adr"], before["feedback"], before["adr"]) == (2, 2, 1, 1)
    assert dict(now["by_problem"]) == {"mould": 1, "caking": 1}
    assert dict(now["adr_by_seriousness"]) == {"serious": 1, "general": 1}
    quarter = Summary.objects.get(period="quarter")
    # The quarter last ended (July–September; made now if the 1 October run was missed).
    assert quarter.start == dt.date(2026, 7, 1) and quarter.figures["current"]["feedback"] == 1
    # Later cases do not change a summary already produced.
    feedback(pharmacy, "odour")
    month.refresh_from_db()
    assert month.figures["current"]["feedback"] == 2
    # The page shows it; the .xlsx is the kept figures.
    page = client_as("pharm").get(f"/pharmacy/summaries/{month.pk}/")
    assert page.status_code == 200 and 'data-section="by_problem"' in page.content.decode()
    sheet = load_workbook(
        io.BytesIO(client_as("pharm").get(f"/pharmacy/summaries/{month.pk}/?format=xlsx").content)
    )["by_problem"]
    assert [c.value for c in sheet[3]][1:] in ([1, 1], [1, 0])
    # Sent only once signed, signed only by the head of pharmacy with her password.
    with pytest.raises(ValidationError):
        record_summary_sending(month, actor=pharmacy["pharm"], channel="paper")
    with pytest.raises(PermissionDenied):
        sign_summary(
            month, actor=pharmacy["pharm"], signature={"password": PASSWORD, "meaning": "approved"}
        )
    with pytest.raises(ValidationError):
        sign_summary(
            month,
            actor=pharmacy["pharm_head"],
            signature={"password": "wrong", "meaning": "approved"},
        )
    signed = client_as("pharm_head").post(
        f"/pharmacy/summaries/{month.pk}/", {"action": "sign", "password": PASSWORD}
    )
    assert signed.status_code == 302
    month.refresh_from_db()
    assert month.state == "signed" and month.signature["signer"] == "pharm_head"
    month = record_summary_sending(
        month, actor=pharmacy["pharm"], channel="paper", reference="药事委〔2026〕11号"
    )
    assert month.state == "sent" and month.sent_by == pharmacy["pharm"]
    assert client_as("doctor").get("/pharmacy/summaries/").status_code == 403
