"""A profile plugs in through the registries (DESIGN "How a profile plugs in", X1, X2).

A stand-in profile registers a kind with its own record, visibility rule and process, the way
the pharmacy and clinical apps do, and the core takes it through registration, the case page,
the API, the register, the menus and the profile switch without knowing it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Q
from django.test import Client
from django.utils.translation import gettext_lazy as _

from qloop.cases import kinds
from qloop.cases.actions import ContactData, Registration, register_case
from qloop.cases.models import Case, ProductProblem
from qloop.org.models import Department, Membership, Organisation, Profile, Role, User
from qloop.process import definitions
from qloop.process.definitions import check_definitions, clock_names
from qloop.process.models import clock_choices
from qloop.process.spec import ClockSpec, Input, Process, Transition, Who
from tests.conftest import PASSWORD, registration

PHARMACIST = frozenset({"test_pharmacist"})


def _clean(detail: dict[str, Any]) -> dict[str, Any]:
    drug = str(detail.pop("drug", "")).strip()
    errors: dict[str, list[str]] = {}
    if not drug:
        errors["drug"] = ["Name the drug."]
    for unknown in detail:
        errors[unknown] = ["No such field."]
    if errors:
        raise ValidationError(errors)
    return {"drug": drug}


def _create(case: Case, detail: dict[str, Any], actor: User | None) -> None:
    # The stand-in keeps its one field in the extra fields; real profiles have a model.
    Case.objects.filter(pk=case.pk).update(extra={"drug": detail["drug"]})


def _visible(user: User) -> Q:
    if user.has_role(*PHARMACIST):
        return Q()
    return Q(registered_by=user)


SAMPLE_KIND = kinds.KindSpec(
    "sample_drug",
    "Sample drug report",
    "SD",
    Profile.PHARMACY,
    "Sample drug register",
    clean_detail=_clean,
    create_detail=_create,
    detail_out=lambda case, user: {"drug": case.extra.get("drug", "")},
    search_parts=lambda case: [str(case.extra.get("drug", ""))],
    title_from=lambda detail: f"{detail['drug']} report",
    visibility=_visible,
    personal_data=lambda user, case: user.has_role(*PHARMACIST),
)

SAMPLE_PROCESS = Process(
    kind="sample_drug",
    version=1,
    initial="new",
    states={"new": "New", "closed": "Closed"},
    terminal=frozenset({"closed"}),
    clocks={"sample_report": ClockSpec("sample_report", hours=24, label="Sample report clock")},
    clocks_on_registration=("sample_report",),
    roles={"pharmacy": PHARMACIST},
    transitions=(
        Transition(
            "close",
            "Close",
            frozenset({"new"}),
            "closed",
            Who(PHARMACIST),
            inputs=(Input("note", "Note"),),
            stops=("sample_report",),
            notify=("pharmacy",),
        ),
    ),
)


@pytest.fixture
def sample_profile(
    users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    """The stand-in profile registered and switched on, with a pharmacy and a pharmacist."""
    monkeypatch.setitem(kinds.KINDS, SAMPLE_KIND.kind, SAMPLE_KIND)
    monkeypatch.setitem(definitions.PROCESSES, ("sample_drug", 1), SAMPLE_PROCESS)
    monkeypatch.setitem(definitions.CURRENT_VERSION, "sample_drug", 1)
    monkeypatch.setitem(definitions.STATES, "sample_drug", SAMPLE_PROCESS.states)
    org = Organisation.current()
    org.profiles = [Profile.MANUFACTURER, Profile.PHARMACY]
    org.save()
    pharmacy = Department.objects.create(code="PH", name="药剂科", intake_kinds=["sample_drug"])
    role = Role.objects.create(code="test_pharmacist", name="药师", sees_personal_data=False)
    pharmacist = User.objects.create_user("pharm_t", password=PASSWORD)
    Membership.objects.create(user=pharmacist, department=pharmacy, role=role)
    yield {**users, "pharm_t": pharmacist}


def sample_registration(**overrides: Any) -> Registration:
    fields: dict[str, Any] = {
        "kind": "sample_drug",
        "channel": "phone",
        "contact": ContactData(name="李患者", phone="13912345678"),
        "symptom": "",
        "detail": {"drug": "阿莫西林胶囊"},
    }
    fields.update(overrides)
    return Registration(**fields)


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_registered_kind_is_numbered_stored_and_searchable(
    sample_profile: dict[str, Any],
) -> None:
    case = register_case(sample_registration(), actor=sample_profile["cs"])
    assert case.number.startswith("SD-")
    assert case.title == "阿莫西林胶囊 report"
    assert case.department.code == "PH"
    assert Case.objects.get(pk=case.pk).extra == {"drug": "阿莫西林胶囊"}
    assert not ProductProblem.objects.filter(case=case).exists()
    assert Case.objects.search("阿莫西林").filter(pk=case.pk).exists()
    # The process's registration clock runs, under the label the process gave it.
    assert case.clocks.get().name == "sample_report"
    assert "sample_report" in clock_names()
    assert ("sample_report", "Sample report clock") in clock_choices()


def test_a_kind_checks_its_own_detail_and_refuses_a_product(
    sample_profile: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError) as missing:
        register_case(sample_registration(detail={}), actor=sample_profile["cs"])
    assert "detail.drug" in missing.value.message_dict
    with pytest.raises(ValidationError) as product:
        register_case(sample_registration(symptom="漏水"), actor=sample_profile["cs"])
    assert "product" in product.value.message_dict
    assert not Case.objects.filter(kind="sample_drug").exists()


def test_the_kinds_visibility_rule_narrows_the_general_one(
    sample_profile: dict[str, Any],
) -> None:
    """The general manager sees every manufacturer case, but not a pharmacy's reports; the
    pharmacist and the person who registered it do (through pages and API alike)."""
    case = register_case(sample_registration(), actor=sample_profile["cs"])
    page = f"/cases/{case.number}/"
    assert logged_in(sample_profile["gm"]).get(page).status_code == 404
    assert logged_in(sample_profile["pharm_t"]).get(page).status_code == 200
    mine = logged_in(sample_profile["cs"]).get(page)
    assert mine.status_code == 200
    # The registrant sees the case but not the patient's phone: the kind's rule says so.
    assert "13912345678" not in mine.content.decode()
    assert "13912345678" in logged_in(sample_profile["pharm_t"]).get(page).content.decode()
    gm_list = logged_in(sample_profile["gm"]).get("/cases/", {"q": case.number})
    assert f"/cases/{case.number}/" not in gm_list.content.decode()


def test_a_kinds_own_personal_data_rule_keeps_its_contacts_out_of_matching(
    sample_profile: dict[str, Any],
) -> None:
    """Issue 9.1 for a kind with its own rule: the clerk reads every complaint's phone numbers,
    but typing a patient's phone neither suggests the pharmacy's contact nor joins the new
    complaint to it, so the e-mail the pharmacist recorded stays with the pharmacy."""
    patient = ContactData(name="李患者", phone="13912345678", email="li.secret@example.cn")
    sample = register_case(sample_registration(contact=patient), actor=sample_profile["pharm_t"])
    cs = sample_profile["cs"]
    assert cs.sees_personal_data
    lookup = logged_in(cs).get("/cases/contact-lookup/", {"contact_phone": "1391234"})
    assert lookup.status_code == 200
    assert "li.secret@example.cn" not in lookup.content.decode()
    complaint = register_case(
        registration(contact=ContactData(name="李患者", phone="13912345678")), actor=cs
    )
    assert complaint.contact_id != sample.contact_id
    assert complaint.contact.email == ""


def api_token(username: str) -> dict[str, str]:
    out = io.StringIO()
    call_command("token", "create", username, stdout=out)
    return {"Authorization": f"Bearer {out.getvalue().strip()}"}


def test_the_api_registers_a_kind_with_its_detail(sample_profile: dict[str, Any]) -> None:
    client = Client()
    payload = {
        "kind": "sample_drug",
        "channel": "phone",
        "contact": {"name": "李患者", "phone": "13912345678"},
        "symptom": "",
        "detail": {"drug": "头孢克肟片"},
    }
    made = client.post(
        "/api/v1/cases", payload, content_type="application/json", headers=api_token("pharm_t")
    )
    assert made.status_code == 201, made.content
    assert made.json()["detail"] == {"drug": "头孢克肟片"}
    assert made.json()["product"] is None
    payload["detail"] = {"drug": ""}
    refused = client.post(
        "/api/v1/cases", payload, content_type="application/json", headers=api_token("pharm_t")
    )
    assert refused.status_code == 422
    assert "detail.drug" in {e["field"] for e in refused.json()["errors"]}
    assert Case.objects.filter(kind="sample_drug").count() == 1
    number = made.json()["number"]
    assert client.get(f"/api/v1/cases/{number}", headers=api_token("gm")).status_code == 404


def test_a_profile_switched_off_takes_its_kinds_and_menus_away(
    sample_profile: dict[str, Any],
) -> None:
    case = register_case(sample_registration(), actor=sample_profile["cs"])
    org = Organisation.current()
    org.profiles = [Profile.MANUFACTURER]
    org.save()
    with pytest.raises(ValidationError) as refused:
        register_case(sample_registration(), actor=sample_profile["cs"])
    assert "kind" in refused.value.message_dict
    pharmacist = logged_in(sample_profile["pharm_t"])
    assert pharmacist.get(f"/cases/{case.number}/").status_code == 404
    assert Case.objects.for_user(sample_profile["admin"]).filter(pk=case.pk).count() == 0

    # The manufacturer's own menu entries go with its profile too.
    gm = logged_in(sample_profile["gm"])
    assert "?kind=feedback" in gm.get("/cases/").content.decode()
    org.profiles = [Profile.PHARMACY]
    org.save()
    page = gm.get("/cases/").content.decode()
    assert "?kind=feedback" not in page
    assert 'href="/cases/new/"' not in page


def test_a_process_names_its_own_audiences(sample_profile: dict[str, Any]) -> None:
    """``notify=("pharmacy",)`` reaches the roles the process calls "pharmacy"."""
    from qloop.notify.models import Notification
    from qloop.process.engine import take_transition

    case = register_case(sample_registration(), actor=sample_profile["cs"])
    other = User.objects.create_user("pharm_2", password=PASSWORD)
    Membership.objects.create(
        user=other,
        department=Department.objects.get(code="PH"),
        role=Role.objects.get(code="test_pharmacist"),
    )
    take_transition(case, "close", {"note": "已回复"}, actor=sample_profile["pharm_t"])
    assert Notification.objects.filter(user=other).exists()
    assert not Notification.objects.filter(user=sample_profile["gm"]).exists()


def test_the_start_up_check_accepts_the_stand_in_profile(sample_profile: dict[str, Any]) -> None:
    check_definitions()


def test_every_shipped_kind_has_its_process_and_its_label() -> None:
    assert {k for k, _label in kinds.kind_choices()} >= {"complaint", "feedback"}
    for kind in kinds.KINDS:
        assert kind in definitions.CURRENT_VERSION
    assert str(kinds.kind_label("complaint")) == str(_("Market quality complaint"))
