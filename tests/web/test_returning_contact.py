"""A returning contact is matched by the server, never chosen by a client field (issue 9.1).

Anyone logged in may register (R1.1); before this, a posted ``contact_id`` attached the new
case to any contact, rewrote its name and phone without a trace on its other cases, and showed
its e-mail and QQ to whoever registered. These tests play the attacker through the page and the
API, and check that a change to a shared contact is on every case that uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from qloop.cases.actions import ContactData, update_case
from qloop.cases.models import Case, Contact, Event
from qloop.org.models import User
from tests.api.test_api import ApiClient, complaint, create_token
from tests.web.test_views import registration_form, text

VICTIM = ContactData(
    name="王芳",
    gender="female",
    phone="13800138000",
    email="wangfang@example.cn",
    qq="99887766",
    organisation="苏州恒通水务有限公司",
)
# "qe" sees every case but no one's personal data; "prod" sees only their department's cases.
ATTACKERS = ["qe", "prod"]


def contact_row(contact: Contact) -> dict[str, Any]:
    return {
        k: getattr(Contact.objects.get(pk=contact.pk), k)
        for k in ("name", "gender", "phone", "email", "qq", "organisation")
    }


@pytest.fixture
def victim_case(make_case: Callable[..., Case]) -> Case:
    """A customer's case registered by Customer Service."""
    return make_case(actor="cs", contact=VICTIM)


def assert_no_secret(body: str) -> None:
    assert VICTIM.email not in body
    assert VICTIM.qq not in body


# Through the page --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ATTACKERS)
def test_a_posted_contact_id_is_ignored_by_the_registration_page(
    persona: str, victim_case: Case, client_for: Callable[[str], Client]
) -> None:
    assert victim_case.contact is not None
    before = contact_row(victim_case.contact)
    client = client_for(persona)

    response = client.post(
        reverse("case-create"),
        registration_form(contact_id=str(victim_case.contact.pk), contact_name="攻击者"),
        follow=True,
    )

    assert response.status_code == 200
    new = Case.objects.exclude(pk=victim_case.pk).get()
    assert new.contact_id != victim_case.contact_id
    assert contact_row(victim_case.contact) == before
    assert not victim_case.events.exclude(verb="registered").exists()
    assert_no_secret(text(response))


@pytest.mark.parametrize("persona", ATTACKERS)
def test_typing_a_strangers_name_and_phone_gives_a_new_contact_and_reveals_nothing(
    persona: str, victim_case: Case, client_for: Callable[[str], Client]
) -> None:
    """Whoever may not see the contact gets one of their own: nothing read, nothing changed."""
    assert victim_case.contact is not None
    before = contact_row(victim_case.contact)
    client = client_for(persona)

    response = client.post(
        reverse("case-create"),
        registration_form(
            contact_name=VICTIM.name,
            contact_phone=VICTIM.phone,
            contact_email="attacker@example.cn",
            contact_qq="",
            contact_organisation="",
        ),
        follow=True,
    )

    new = Case.objects.exclude(pk=victim_case.pk).get()
    assert new.contact_id != victim_case.contact_id
    assert contact_row(victim_case.contact) == before
    assert not Event.objects.filter(verb="contact_changed").exists()
    assert_no_secret(text(response))
    assert_no_secret(text(client.get(reverse("case-detail", args=[new.number]))))


@pytest.mark.parametrize("persona", ATTACKERS)
def test_the_returning_contact_hint_shows_no_one_else_s_contact(
    persona: str, victim_case: Case, client_for: Callable[[str], Client]
) -> None:
    body = text(
        client_for(persona).get(
            reverse("contact-lookup"),
            {"contact_phone": VICTIM.phone[:7], "contact_email": VICTIM.email[:4]},
        )
    )
    assert VICTIM.name not in body
    assert VICTIM.phone not in body
    assert_no_secret(body)


def test_the_hint_offers_ones_own_contacts_without_an_id(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    """A person without the personal-data role still finds the contacts of their own cases."""
    mine = make_case(actor="prod", contact=ContactData(name="赵敏", phone="15900001111"))
    body = text(client_for("prod").get(reverse("contact-lookup"), {"contact_phone": "1590000"}))
    assert "赵敏" in body
    assert "data-id" not in body
    assert str(mine.contact_id) not in body.replace("15900001111", "")


# Through the API ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ATTACKERS)
def test_the_api_refuses_a_contact_id(
    persona: str, victim_case: Case, users: dict[str, User]
) -> None:
    assert victim_case.contact is not None
    api = ApiClient(create_token(persona))
    body = complaint()
    body["contact"] = {"name": "攻击者", "phone": "13000000000", "id": victim_case.contact.pk}

    response = api.post("/cases", {**body, "contact_id": victim_case.contact.pk})

    assert response.status_code == 422
    assert Case.objects.count() == 1


@pytest.mark.parametrize("persona", ATTACKERS)
def test_the_api_gives_a_stranger_a_new_contact_and_reveals_nothing(
    persona: str, victim_case: Case, users: dict[str, User]
) -> None:
    assert victim_case.contact is not None
    before = contact_row(victim_case.contact)
    api = ApiClient(create_token(persona))

    response = api.post(
        "/cases",
        complaint(contact={"name": VICTIM.name, "phone": VICTIM.phone, "email": "x@example.cn"}),
    )

    assert response.status_code == 201
    assert_no_secret(response.content.decode())
    new = Case.objects.get(number=response.json()["number"])
    assert new.contact_id != victim_case.contact_id
    assert contact_row(victim_case.contact) == before


# A change to a shared contact is an audited step ------------------------------------------


def test_a_returning_contact_s_new_details_are_on_every_case_of_the_contact(
    victim_case: Case, make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    """CS, who may see the contact, registers the customer's second call with a new e-mail."""
    second = make_case(
        actor="cs",
        contact=ContactData(name=VICTIM.name, phone=VICTIM.phone, email="wf.new@example.cn"),
    )

    assert second.contact_id == victim_case.contact_id
    for case in (victim_case, second):
        [event] = case.events.filter(verb="contact_changed")
        assert event.data["via"] == second.number
        assert [(c["field"], c["old"], c["new"]) for c in event.changes] == [
            ("contact.email", VICTIM.email, "wf.new@example.cn")
        ]
    page = text(client_for("cs").get(reverse("case-detail", args=[victim_case.number])))
    assert "wf.new@example.cn" in page
    assert second.number in page


def test_an_edit_of_the_contact_is_on_the_contact_s_other_cases(
    victim_case: Case, make_case: Callable[..., Case], users: dict[str, User]
) -> None:
    second = make_case(actor="cs", contact=ContactData(name=VICTIM.name, phone=VICTIM.phone))

    update_case(second, {"contact.phone": "13911112222"}, actor=users["cs"], reason="客户换号")

    [event] = victim_case.events.filter(verb="contact_changed")
    assert event.changes[0]["old"] == VICTIM.phone
    assert event.changes[0]["new"] == "13911112222"
    assert event.data["via"] == second.number
    assert event.comment == "客户换号"
    assert not second.events.filter(verb="contact_changed").exists()  # its own "changed" says it


def test_the_change_is_masked_for_those_who_may_not_see_the_contact(
    victim_case: Case,
    make_case: Callable[..., Case],
    client_for: Callable[[str], Client],
) -> None:
    make_case(
        actor="cs",
        contact=ContactData(name=VICTIM.name, phone=VICTIM.phone, email="wf.new@example.cn"),
    )
    qe_page = text(client_for("qe").get(reverse("case-detail", args=[victim_case.number])))
    assert "wf.new@example.cn" not in qe_page
    assert_no_secret(qe_page)
    api = ApiClient(create_token("qe"))
    detail = api.get(f"/cases/{victim_case.number}").content.decode()
    assert "wf.new@example.cn" not in detail
    assert_no_secret(detail)


def test_the_change_is_on_the_contact_in_the_customer_directory(
    victim_case: Case,
    make_case: Callable[..., Case],
    users: dict[str, User],
    client_for: Callable[[str], Client],
) -> None:
    """The contact person's own history lists each change once, however many cases share it."""
    from qloop.customers.models import CustomerContact, CustomerOrganisation

    assert victim_case.contact is not None
    customer = CustomerOrganisation.objects.create(name=VICTIM.organisation)
    CustomerContact.objects.create(customer=customer, contact=victim_case.contact)
    second = make_case(
        actor="cs",
        contact=ContactData(name=VICTIM.name, phone=VICTIM.phone, email="wf.new@example.cn"),
    )
    url = reverse("customer-detail", args=[customer.pk])

    page = text(client_for("cs").get(url))
    assert page.count('class="contact-changes"') == 1
    assert page.count(f"<del>{VICTIM.email}</del> → wf.new@example.cn") == 1
    assert second.number in page
    # The quality head uses the directory without seeing personal data: masked.
    assert not users["qa_head"].sees_personal_data
    masked = text(client_for("qa_head").get(url))
    assert 'class="contact-changes"' in masked
    assert "wf.new@example.cn" not in masked
    assert_no_secret(masked)
