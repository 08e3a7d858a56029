"""Every write to the customer directory goes through these functions (house style)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop import inputs
from qloop.cases.actions import _contact_errors
from qloop.cases.choices import Gender
from qloop.cases.models import Case, Contact
from qloop.customers.access import can_use_directory
from qloop.customers.models import (
    ContactRecord,
    ContactWay,
    CustomerContact,
    CustomerKind,
    CustomerOrganisation,
)

if TYPE_CHECKING:
    from qloop.org.models import User


def _require(user: User) -> None:
    if not can_use_directory(user):
        raise PermissionDenied


def create_customer(
    name: str, *, kind: str, address: str = "", notes: str = "", actor: User
) -> CustomerOrganisation:
    """A new customer; the contacts already registered with this organisation's name (on
    earlier cases) become its contact persons, so its history is there from the start."""
    _require(actor)
    inputs.check_texts({"name": name, "address": address, "notes": notes})
    name = name.strip()
    errors: dict[str, list[Any]] = {}
    if not name:
        errors["name"] = [_("Enter the customer's name.")]
    elif CustomerOrganisation.objects.live().filter(name=name).exists():
        errors["name"] = [_("There is already a customer with this name.")]
    if kind not in CustomerKind.values:
        errors["kind"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(CustomerKind.values)}
        ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        customer = CustomerOrganisation.objects.create(
            name=name, kind=kind, address=address.strip(), notes=notes.strip(), created_by=actor
        )
        known = Contact.objects.filter(organisation=name, customer_link__isnull=True)
        CustomerContact.objects.bulk_create(
            [CustomerContact(customer=customer, contact=c) for c in known]
        )
    return customer


def add_contact_person(
    customer: CustomerOrganisation,
    *,
    name: str,
    gender: str = "",
    phone: str = "",
    email: str = "",
    qq: str = "",
    position: str = "",
    actor: User,
) -> CustomerContact:
    """A contact person, with the same rules as a case's contact (R1.2)."""
    _require(actor)
    inputs.check_texts(
        {
            "contact.name": name,
            "contact.phone": phone,
            "contact.email": email,
            "contact.qq": qq,
            "position": position,
        }
    )
    errors = _contact_errors(name, phone, email, qq)
    if gender not in Gender.values:
        errors["contact.gender"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(Gender.values)}
        ]
    if customer.is_archived:
        errors[""] = [_("The customer is archived.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        contact = Contact.objects.create(
            name=name.strip(),
            gender=gender,
            phone=phone.strip(),
            email=email.strip(),
            qq=qq.strip(),
            organisation=customer.name,
        )
        return CustomerContact.objects.create(
            customer=customer, contact=contact, position=position.strip()
        )


def add_contact_record(
    customer: CustomerOrganisation,
    *,
    date: dt.date | None,
    way: str,
    summary: str,
    actor: User,
    contact_id: int | None = None,
    case_number: str = "",
) -> ContactRecord:
    """Record a visit, call, letter or message and what the customer said (R2.5 b)."""
    _require(actor)
    inputs.check_texts({"summary": summary, "case": case_number})
    errors: dict[str, list[Any]] = {}
    if date is None:
        errors["date"] = [_("Enter a date as YYYY-MM-DD.")]
    elif date > timezone.localdate():
        errors["date"] = [_("The date cannot be in the future.")]
    elif date < inputs.EARLIEST_DATE:
        errors["date"] = [inputs.date_range_message()]
    if way not in ContactWay.values:
        errors["way"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(ContactWay.values)}
        ]
    if not summary.strip():
        errors["summary"] = [_("Write what was said.")]
    contact = None
    if contact_id:
        link = CustomerContact.objects.filter(customer=customer, contact_id=contact_id).first()
        if link is None:
            errors["contact"] = [_("This person is not a contact of this customer.")]
        else:
            contact = link.contact
    case = None
    if case_number.strip():
        case = Case.objects.for_user(actor).filter(number=case_number.strip()).first()
        if case is None:
            errors["case"] = [_("There is no such case.")]
    if customer.is_archived:
        errors[""] = [_("The customer is archived.")]
    if errors:
        raise ValidationError(errors)
    assert date is not None
    return ContactRecord.objects.create(
        customer=customer,
        contact=contact,
        date=date,
        way=way,
        summary=summary.strip(),
        recorded_by=actor,
        case=case,
    )


def archive_customer(customer: CustomerOrganisation, *, actor: User) -> CustomerOrganisation:
    """Archive instead of delete: the customer and its history stay."""
    _require(actor)
    if not customer.is_archived:
        customer.archived_at = timezone.now()
        customer.save(update_fields=["archived_at"])
    return customer
