"""Who may open the pharmacy's cases (issue 10 "API"): roles outside the pharmacy get a 404
through pages and API, except the physician for the ADR reports he made; patient data is shown
in full only to the pharmacy (and the reporter). The API registers each kind with its detail,
lists by kind and gives an ADR report as E2B(R3) XML."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from qloop.cases.actions import ContactData, Registration, register_case
from qloop.cases.models import Case
from qloop.org.models import Department, Membership, Role, User
from tests.pharmacy.conftest import adr_detail

pytestmark = pytest.mark.django_db
API = "/api/v1"


def token_for(username: str) -> dict[str, str]:
    out = io.StringIO()
    call_command("token", "create", username, stdout=out)
    return {"Authorization": f"Bearer {out.getvalue().strip()}"}


def api_get(username: str, path: str) -> Any:
    return Client().get(API + path, headers=token_for(username))


def api_post(username: str, path: str, payload: dict[str, Any]) -> Any:
    return Client().post(
        API + path, payload, content_type="application/json", headers=token_for(username)
    )


@pytest.fixture
def cases(pharmacy: dict[str, Any]) -> dict[str, Case]:
    """One case of each kind; the doctor reported one ADR, the pharmacist another."""
    im = Department.objects.get(code="IM")
    other, _c = User.objects.get_or_create(username="doctor2", defaults={"display_name": "何医生"})
    Membership.objects.get_or_create(
        user=other, department=im, role=Role.objects.get(code="physician")
    )
    pharmacy["doctor2"] = other

    def make(kind: str, actor: str, detail: dict[str, Any]) -> Case:
        return register_case(
            Registration(
                kind=kind, channel="visit", contact=ContactData(name=""), symptom="", detail=detail
            ),
            actor=pharmacy[actor],
        )

    drug, batch = pharmacy["drug"], pharmacy["batch"]
    return {
        "drug_feedback": make(
            "drug_feedback",
            "pharm",
            {
                "drug_id": drug.pk,
                "batch_number": batch.batch_number,
                "problem": "colour",
                "description": "片剂变黄。",
                "patient_name": "李秀英",
                "patient_phone": "13912345678",
            },
        ),
        "counterfeit": make(
            "counterfeit",
            "pharm",
            {
                "drug_id": drug.pk,
                "batch_number": batch.batch_number,
                "where_found": "药库",
                "how_found": "抽检",
                "holds": [{"store": "药库", "quantity": 10}],
            },
        ),
        "adr_by_doctor": make("adr", "doctor", adr_detail(pharmacy)),
        "adr_by_pharmacist": make("adr", "pharm", adr_detail(pharmacy, patient_name="钱多多")),
        "adr_group": make(
            "adr_group", "adr_officer", {"drug_id": drug.pk, "batch_number": batch.batch_number}
        ),
    }


PHARMACY = {"pharm", "pharm_head", "adr_officer"}
# persona -> the cases it may open; every other one is a 404.
MAY_OPEN = {
    **{
        p: {"drug_feedback", "counterfeit", "adr_by_doctor", "adr_by_pharmacist", "adr_group"}
        for p in PHARMACY
    },
    "doctor": {"adr_by_doctor"},
    "doctor2": set(),
    "med_affairs": {"adr_group"},
    "gm": set(),  # sees every manufacturer case, none of the pharmacy's
    "qa_head": set(),
    "cs": set(),
}


@pytest.mark.parametrize("persona", sorted(MAY_OPEN))
def test_each_role_opens_only_its_share_through_pages_and_api(
    persona: str, pharmacy: dict[str, Any], cases: dict[str, Case]
) -> None:
    page_client = Client()
    page_client.force_login(pharmacy[persona])
    for name, case in cases.items():
        expected = 200 if name in MAY_OPEN[persona] else 404
        assert page_client.get(f"/cases/{case.number}/").status_code == expected, (persona, name)
        assert api_get(persona, f"/cases/{case.number}").status_code == expected, (persona, name)
    listed = {c["number"] for c in api_get(persona, "/cases?page_size=100").json()["results"]}
    assert listed == {cases[n].number for n in MAY_OPEN[persona]}


def test_patient_data_is_full_for_the_pharmacy_and_the_reporter_only(
    pharmacy: dict[str, Any], cases: dict[str, Case]
) -> None:
    number = cases["adr_by_doctor"].number
    for persona, full in (("pharm", True), ("adr_officer", True), ("doctor", True)):
        detail = api_get(persona, f"/cases/{number}").json()["detail"]
        assert detail["personal_data"] is full
        assert detail["patient_name"] == "王建华" and detail["record_number"] == "880123"
    page = Client()
    page.force_login(pharmacy["pharm"])
    html = page.get(f"/cases/{cases['drug_feedback'].number}/").content.decode()
    assert "13912345678" in html and "李秀英" in html


def test_patient_data_is_masked_for_someone_who_sees_the_case_without_the_right(
    pharmacy: dict[str, Any], cases: dict[str, Case]
) -> None:
    """A nurse who registered a drug quality case for a patient in her ward (staff outside
    the pharmacy may not, through the pages; through the action they are refused the patient's
    details)."""
    from qloop.cases.access import can_see_personal_data
    from qloop.pharmacy.presentation import drug_feedback_out

    case = cases["drug_feedback"]
    out = drug_feedback_out(case, pharmacy["doctor"])
    assert not can_see_personal_data(pharmacy["doctor"], case)
    assert out["patient_name"] == "李**" and out["patient_phone"].endswith("678")
    assert "13912345678" not in str(out)


def test_the_api_registers_each_kind_with_its_detail_and_clocks(pharmacy: dict[str, Any]) -> None:
    drug, batch = pharmacy["drug"], pharmacy["batch"]
    base = {"channel": "phone", "contact": {"name": "—"}}
    made = api_post(
        "pharm",
        "/cases",
        {
            **base,
            "kind": "drug_feedback",
            "detail": {
                "approval_number": drug.approval_number,
                "manufacturer": drug.manufacturer,
                "batch_number": batch.batch_number,
                "problem": "odour",
                "description": "有异味",
            },
        },
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["number"].startswith("DQ-") and body["detail"]["problem"] == "odour"
    assert [c["name"] for c in body["clocks"]] == ["dq_answer"]
    made = api_post(
        "adr_officer", "/cases", {**base, "kind": "adr", "detail": adr_detail(pharmacy)}
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["number"].startswith("ADR-")
    assert [c["name"] for c in body["clocks"]] == ["adr_report"]
    assert body["detail"]["rule"]["category"] == "general" and body["detail"]["missing"] == {}
    made = api_post(
        "pharm",
        "/cases",
        {
            **base,
            "kind": "counterfeit",
            "detail": {
                "drug_id": drug.pk,
                "batch_number": batch.batch_number,
                "where_found": "药库",
                "how_found": "抽检",
                "criteria": ["ss_expired"],
                "holds": [{"store": "药库", "quantity": 4}],
            },
        },
    )
    assert made.status_code == 201, made.content
    assert made.json()["number"].startswith("JL-")
    # A bad detail is a 422 naming the fields; nothing is registered.
    before = Case.objects.count()
    refused = api_post(
        "pharm",
        "/cases",
        {
            **base,
            "kind": "adr",
            "detail": {
                "seriousness": "very",
                "drugs": [{"role": "suspect", "started_on": "yesterday"}],
            },
        },
    )
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.json()["errors"]}
    assert {
        "detail.seriousness",
        "detail.drugs.0.started_on",
        "detail.drugs.0.generic_name",
    } <= fields
    assert Case.objects.count() == before


def test_sending_an_incomplete_report_through_the_api_is_a_422_naming_each_gap(
    pharmacy: dict[str, Any],
) -> None:
    made = api_post(
        "doctor",
        "/cases",
        {
            "kind": "adr",
            "channel": "visit",
            "contact": {"name": "—"},
            "detail": {"reaction": "", "drugs": []},
        },
    ).json()
    refused = api_post(
        "adr_officer",
        f"/cases/{made['number']}/transitions/record_sending",
        {"channel": "national_system", "recipient": "regulator"},
    )
    assert refused.status_code == 422, refused.content
    fields = {e["field"] for e in refused.json()["errors"]}
    assert fields == {"patient", "reporter", "suspect_drugs", "reaction"}


def test_listing_group_events_by_kind(pharmacy: dict[str, Any], cases: dict[str, Case]) -> None:
    body = api_get("adr_officer", "/cases?kind=adr_group").json()
    assert [c["number"] for c in body["results"]] == [cases["adr_group"].number]
    assert api_get("doctor", "/cases?kind=adr_group").json()["results"] == []


def test_the_e2b_export_is_xml_for_those_who_may_see_the_report(
    pharmacy: dict[str, Any], cases: dict[str, Case]
) -> None:
    number = cases["adr_by_doctor"].number
    response = api_get("adr_officer", f"/cases/{number}/e2b")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert b"MCCI_IN200100UV01" in response.content and number.encode() in response.content
    assert api_get("doctor", f"/cases/{number}/e2b").status_code == 200
    assert api_get("doctor2", f"/cases/{number}/e2b").status_code == 404
    assert api_get("gm", f"/cases/{number}/e2b").status_code == 404
    assert api_get("pharm", f"/cases/{cases['counterfeit'].number}/e2b").status_code == 404


def test_a_profile_switched_off_hides_the_kinds(
    pharmacy: dict[str, Any], cases: dict[str, Case], client_as: Callable[[str], Client]
) -> None:
    from qloop.org.models import Organisation, Profile

    org = Organisation.current()
    org.profiles = [Profile.MANUFACTURER]
    org.save()
    assert client_as("pharm").get(f"/cases/{cases['adr_by_doctor'].number}/").status_code == 404
    refused = api_post(
        "pharm",
        "/cases",
        {"kind": "adr", "channel": "visit", "contact": {"name": "—"}, "detail": {}},
    )
    assert refused.status_code == 422


def test_a_client_cannot_claim_what_the_server_decides(pharmacy: dict[str, Any]) -> None:
    """Where a drug report came from and whether the system found a group are the server's."""
    base = {"channel": "web", "contact": {"name": "—"}}
    made = api_post(
        "pharm",
        "/cases",
        {
            **base,
            "kind": "adr_group",
            "detail": {
                "_batch": "2406123",
                "_detected": True,
                "drug_id": pharmacy["drug"].pk,
                "batch_number": pharmacy["batch"].batch_number,
            },
        },
    )
    assert made.status_code == 201, made.content
    assert made.json()["detail"]["detected"] is False
    made = api_post(
        "pharm",
        "/cases",
        {
            **base,
            "kind": "drug_feedback",
            "detail": {
                "drug_text": "某药",
                "problem": "other",
                "description": "x",
                "_public": True,
            },
        },
    )
    assert made.status_code == 422
    assert {e["field"] for e in made.json()["errors"]} == {"detail._public"}


@pytest.mark.parametrize(("persona", "kind"), [("cs", "counterfeit"), ("qe", "drug_feedback")])
def test_who_may_not_open_a_pharmacy_case_is_refused_by_the_api_as_by_the_page(
    pharmacy: dict[str, Any], persona: str, kind: str
) -> None:
    """Issue 9.4: the registration itself checks who may open a kind (KindSpec.may_register),
    so the API refuses what the pharmacy's pages refuse, and nothing is numbered or stored."""
    drug, batch = pharmacy["drug"], pharmacy["batch"]
    before = Case.objects.count()
    made = api_post(
        persona,
        "/cases",
        {
            "channel": "phone",
            "contact": {"name": "—"},
            "kind": kind,
            "detail": {
                "approval_number": drug.approval_number,
                "manufacturer": drug.manufacturer,
                "batch_number": batch.batch_number,
                "problem": "odour",
                "description": "有异味",
            },
        },
    )
    assert made.status_code == 403, made.content
    assert Case.objects.count() == before
