"""The demo hospital for the clinical tests: its departments, people, registers and rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

HOSPITAL_PERSONAS = ["lab", "lab_head", "rad", "doctor", "med_affairs", "ic", "im_head", "nurse_im"]


@pytest.fixture
def hospital(users: dict[str, Any]) -> dict[str, Any]:
    """The manufacturer's personas and the hospital's, with the clinical profile on (no
    history: tests make their own results)."""
    from qloop.clinical.demo import _ensure_users
    from qloop.clinical.setup import load_clinical_setup
    from qloop.demo.hospital import load_hospital
    from qloop.org.models import Organisation, Profile

    people = _ensure_users(load_hospital())
    setup = load_clinical_setup()
    setup["wards"]["IM1"].staff.add(people["nurse_im"])
    org = Organisation.current()
    org.profiles = [Profile.MANUFACTURER, Profile.CLINICAL]
    org.save()
    return {**users, **people, **setup}


@pytest.fixture
def client_as(hospital: dict[str, Any]) -> Callable[[str], Client]:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(hospital[username])
        return client

    return make


def result(**overrides: Any) -> Any:
    """A potassium result from internal medicine, ward 1, ordered by the demo doctor."""
    from qloop.clinical.actions import ResultData

    fields: dict[str, Any] = {
        "patient_name": "王建华",
        "patient_id": "880123",
        "test_code": "K",
        "test_name": "血钾",
        "result_value": "4.1",
        "unit": "mmol/L",
        "reference_range": "3.5-5.3",
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
    return ResultData(**fields)


@pytest.fixture
def report(hospital: dict[str, Any]) -> Callable[..., Any]:
    """Enter a result in the laboratory register as ``lab``; returns (entry, opened cases)."""
    from qloop.clinical.actions import register_result

    def make(register: str = "lab", actor: str = "lab", **overrides: Any) -> Any:
        return register_result(
            result(**overrides), register=hospital["registers"][register], actor=hospital[actor]
        )

    return make


def minutes_after(moment: dt.datetime, n: float) -> dt.datetime:
    return moment + dt.timedelta(minutes=n)
