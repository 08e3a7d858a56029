"""The customer directory (R2.4, R2.5): thin views over ``qloop.customers.actions``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from qloop.cases.access import masked_changes
from qloop.cases.filters import paginate
from qloop.cases.models import Case, Event
from qloop.customers import actions
from qloop.customers.access import can_use_directory, get_customer_for_user, reach
from qloop.customers.forms import ContactPersonForm, ContactRecordForm, CustomerForm
from qloop.customers.models import CustomerOrganisation
from qloop.org.models import User


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not can_use_directory(user):
        raise PermissionDenied
    return user


def _page(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("page", 1))
    except ValueError:
        return 1


def _put_errors(form: Any, exc: ValidationError) -> None:
    for key, msgs in exc.message_dict.items():
        name = key.removeprefix("contact.")
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    _user(request)
    q = request.GET.get("q", "").strip()
    archived = request.GET.get("archived") == "1"
    qs = CustomerOrganisation.objects.search(q)
    if not archived:
        qs = qs.live()
    page = paginate(qs, _page(request), 50)
    return render(request, "customers/list.html", {"page": page, "q": q, "archived": archived})


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer = actions.create_customer(**form.cleaned_data, actor=user)
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Customer added."))
            return redirect("customer-detail", pk=customer.pk)
    return render(request, "customers/form.html", {"form": form})


def _detail(
    request: HttpRequest,
    customer: CustomerOrganisation,
    *,
    record_form: ContactRecordForm | None = None,
    person_form: ContactPersonForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    people = list(customer.people.select_related("contact"))
    history = _contact_history(user, [p.contact_id for p in people])
    contacts = [(p, reach(user, p.contact), history.get(p.contact_id, [])) for p in people]
    # The cases of its contacts that this person may see, newest first.
    cases = (
        Case.objects.for_user(user)
        .filter(contact_id__in=[p.contact_id for p in people])
        .select_related("contact", "category", "handler")
        .order_by("-received_at", "-id")[:200]
    )
    records = customer.contact_records.select_related("contact", "recorded_by", "case")[:500]
    choices = [(p.contact_id, p.contact.name) for p in people]
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "contacts": contacts,
            "cases": list(cases),
            "records": list(records),
            "record_form": record_form or ContactRecordForm(people=choices),
            "person_form": person_form or ContactPersonForm(),
        },
        status=status,
    )


def _contact_history(user: User, contact_ids: list[int]) -> dict[int, list[Any]]:
    """Each contact person's changes of details (issue 9.1): the contact_changed events of
    their cases, once per change, masked as the person's details are for this reader."""
    history: dict[int, list[Any]] = {}
    seen: set[tuple[Any, ...]] = set()
    events = (
        Event.objects.filter(verb="contact_changed", case__contact_id__in=contact_ids)
        .select_related("actor", "case")
        .order_by("-at", "-id")[:500]
    )
    for event in events:
        assert event.case.contact_id is not None
        key = (event.case.contact_id, event.at, event.data.get("via"))
        if key in seen:
            continue
        seen.add(key)
        changes = event.changes if user.sees_personal_data else masked_changes(event.changes)
        history.setdefault(event.case.contact_id, []).append((event, changes))
    return history


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    return _detail(request, get_customer_for_user(user, pk))


@login_required
@require_POST
def contact_record_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    customer = get_customer_for_user(user, pk)
    people = [(p.contact_id, p.contact.name) for p in customer.people.select_related("contact")]
    form = ContactRecordForm(request.POST, people=people)
    if form.is_valid():
        d = form.cleaned_data
        try:
            actions.add_contact_record(
                customer,
                date=d["date"],
                way=d["way"],
                summary=d["summary"],
                contact_id=d["contact"],
                case_number=d["case"],
                actor=user,
            )
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Contact record added."))
            return redirect("customer-detail", pk=customer.pk)
    return _detail(request, customer, record_form=form, status=422)


@login_required
@require_POST
def customer_add_contact(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    customer = get_customer_for_user(user, pk)
    form = ContactPersonForm(request.POST)
    if form.is_valid():
        try:
            actions.add_contact_person(customer, **form.cleaned_data, actor=user)
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Contact person added."))
            return redirect("customer-detail", pk=customer.pk)
    return _detail(request, customer, person_form=form, status=422)
