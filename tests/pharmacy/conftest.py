"""The demo hospital's pharmacy for the pharmacy tests: its people, the catalogue and the
pharmacy profile on (no history: tests make their own cases)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def pharmacy(users: dict[str, Any]) -> dict[str, Any]:
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
    return {**users, **people, "drug": drug, "batch": drug.batches.order_by("pk").first()}


@pytest.fixture
def client_as(pharmacy: dict[str, Any]) -> Callable[[str], Client]:
    def make(username: str) -> Client:
        client = Client()
        client.force_login(pharmacy[username])
        return client

    return make


def adr_detail(pharmacy: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A complete first report of a general ADR with the fixture's drug and batch as suspect."""
    import datetime as dt

    from django.utils import timezone

    drug, batch = pharmacy["drug"], pharmacy["batch"]
    now = timezone.localtime()
    detail: dict[str, Any] = {
        "report_type": "first",
        "seriousness": "general",
        "patient_name": "王建华",
        "sex": "M",
        "age_years": 67,
        "record_number": "880123",
        "reaction": "皮疹",
        "onset_at": (now - dt.timedelta(hours=20)).isoformat(),
        "outcome": "improving",
        "reporter_name": "郑国华",
        "reporter_phone": "0512-65223637",
        "reporter_occupation": "医师",
        "reporting_unit": "苏州市第二人民医院",
        "causality_reporter": "probable",
        "causality_unit": "possible",
        "drugs": [
            {
                "role": "suspect",
                "drug_id": drug.pk,
                "batch_number": batch.batch_number,
                "dose": "0.5g",
                "route": "口服",
                "times_per_day": "3",
                "started_on": (now - dt.timedelta(days=3)).date().isoformat(),
                "reason": "肺部感染",
            },
            {"role": "concomitant", "generic_name": "维生素C", "dose": "0.1g"},
        ],
    }
    detail.update(overrides)
    return detail
