"""Who may use the customer directory, and how much of a contact person they see."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404

from qloop.cases.access import mask
from qloop.customers.models import CustomerOrganisation

if TYPE_CHECKING:
    from qloop.cases.models import Contact
    from qloop.org.models import User


def can_use_directory(user: User) -> bool:
    """Supply and Sales, Customer Service and the managers (R2.4, R2.5)."""
    from qloop.process.definitions import process_for

    return user.is_active and (
        user.sees_personal_data
        or user.manages_cases
        or user.has_role(*process_for("feedback").role_set("intake"))
    )


def get_customer_for_user(user: User, pk: int) -> CustomerOrganisation:
    if not can_use_directory(user):
        raise PermissionDenied
    customer = CustomerOrganisation.objects.filter(pk=pk).first()
    if customer is None:
        raise Http404
    return customer


def reach(user: User, contact: Contact) -> dict[str, str]:
    """A contact person's phone, e-mail and QQ: in full for roles that see personal data."""
    full = user.sees_personal_data
    return {
        key: value if full else mask(value)
        for key, value in (("phone", contact.phone), ("email", contact.email), ("qq", contact.qq))
    }
