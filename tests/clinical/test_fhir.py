"""FHIR R4 (R5.8): the same results as DiagnosticReport + Observation, the acknowledgement
readable as a Communication."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from qloop.clinical.models import Finding, ResultEntry
from qloop.process.engine import take_transition

pytestmark = pytest.mark.django_db


def _token(username: str) -> dict[str, str]:
    out = io.StringIO()
    call_command("token", "create", username, stdout=out)
    return {"Authorization": f"Bearer {out.getvalue().strip()}"}


def report(value: float = 2.3, flag: str = "LL", rid: str = "LAB-20261207-0001") -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": rid,
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}
        ],
        "code": {"text": "电解质"},
        "subject": {"reference": "#p1"},
        "issued": "2026-03-02T09:00:00+08:00",
        "result": [{"reference": "#k"}],
        "contained": [
            {
                "resourceType": "Patient",
                "id": "p1",
                "identifier": [{"value": "880123"}],
                "name": [{"text": "王建华"}],
                "gender": "male",
                "birthDate": "1959-01-01",
            },
            {
                "resourceType": "Observation",
                "id": "k",
                "status": "final",
                "code": {
                    "coding": [{"system": "urn:hospital:lis", "code": "K", "display": "血钾"}]
                },
                "subject": {"reference": "#p1"},
                "effectiveDateTime": "2026-03-02T08:10:00+08:00",
                "valueQuantity": {"value": value, "unit": "mmol/L"},
                "interpretation": [{"coding": [{"code": flag}]}],
                "referenceRange": [{"low": {"value": 3.5}, "high": {"value": 5.3}}],
            },
        ],
    }


def _post(body: Any, who: str = "lab") -> Any:
    return Client().post(
        "/fhir/r4/DiagnosticReport",
        json.dumps(body),
        content_type="application/fhir+json",
        headers=_token(who),
    )


def test_a_diagnostic_report_fills_the_register_and_the_communication_shows_the_ack(
    hospital: dict[str, Any],
) -> None:
    made = _post(report())
    assert made.status_code == 201, made.content
    entry = ResultEntry.objects.get()
    assert (entry.patient_name, entry.result_value, entry.abnormal_flag) == ("王建华", "2.3", "LL")
    assert entry.reference_range == "3.5-5.3" and int(entry.age_years or 0) == 67
    finding = Finding.objects.get()
    number = finding.case.number
    comm = Client().get(f"/fhir/r4/Communication/{number}", headers=_token("lab"))
    assert comm.status_code == 200
    assert comm.json()["status"] == "in-progress" and "received" not in comm.json()
    take_transition(
        finding.case,
        "record_call",
        {
            "outcome": "confirmed",
            "readback_name": "王建华",
            "readback_patient_id": "880123",
            "readback_result": "2.3",
            "receiver_name": "郑国华",
        },
        actor=hospital["lab"],
    )
    comm = (
        Client().get("/fhir/r4/Communication", {"based-on": number}, headers=_token("lab")).json()
    )
    assert comm["resourceType"] == "Communication" and comm["status"] == "completed"
    assert comm["received"] and "郑国华" in comm["note"][0]["text"]
    assert comm["subject"]["display"] == "王建华"
    # Medical affairs reads it with the patient masked; the general manager not at all.
    masked = Client().get(f"/fhir/r4/Communication/{number}", headers=_token("med_affairs")).json()
    assert masked["subject"]["display"] == "王**"
    assert Client().get(f"/fhir/r4/Communication/{number}", headers=_token("gm")).status_code == 404
    # The same report sent again corrects, it does not repeat.
    again = _post(report(value=2.2))
    assert again.status_code == 201
    entry.refresh_from_db()
    assert (ResultEntry.objects.count(), entry.version, entry.result_value) == (1, 2, "2.2")


def test_bad_fhir_is_refused_with_an_operation_outcome_and_changes_nothing(
    hospital: dict[str, Any],
) -> None:
    broken = report()
    broken["contained"][1]["valueQuantity"]["value"] = "二点三"
    got = _post(broken)
    assert got.status_code == 422 and got.json()["resourceType"] == "OperationOutcome"
    no_value = report()
    del no_value["contained"][1]["valueQuantity"]
    assert _post(no_value).status_code == 422
    assert _post(report(), who="doctor").status_code == 403
    assert (
        Client()
        .post("/fhir/r4/DiagnosticReport", "{}", content_type="application/fhir+json")
        .status_code
        == 401
    )
    assert ResultEntry.objects.count() == 0
