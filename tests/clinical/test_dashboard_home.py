"""The clinical departments' first page (issue 13): the laboratory, radiology and the
clinicians who acknowledge findings land on their board — findings waiting for acknowledgement
and this month's timeliness — while the clinical profile is on."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from qloop.org.models import Organisation, Profile
from qloop.reports.dashboards import home_board

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["lab", "lab_head", "rad", "doctor", "med_affairs"])
def test_the_clinical_first_page_shows_findings_waiting(
    persona: str, client_as: Callable[[str], Client], hospital: dict[str, Any]
) -> None:
    html = client_as(persona).get("/").content.decode()
    assert re.search(r'class="btn btn-outline-primary active" href="/dashboard/clinical/', html)
    assert 'id="card-clinical-findings"' in html
    assert 'id="my-work-waiting"' in html


def test_the_timeliness_card_is_for_the_departments_and_medical_affairs(
    client_as: Callable[[str], Client], hospital: dict[str, Any]
) -> None:
    assert 'id="card-clinical-timeliness"' in client_as("lab_head").get("/").content.decode()
    assert 'id="card-clinical-timeliness"' not in client_as("doctor").get("/").content.decode()


def test_without_the_clinical_profile_the_laboratory_lands_on_my_work(
    hospital: dict[str, Any],
) -> None:
    org = Organisation.current()
    org.profiles = [Profile.MANUFACTURER]
    org.save()
    assert home_board(hospital["lab"], (Profile.MANUFACTURER,)) is None
