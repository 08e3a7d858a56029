"""The kinds of register entry, each registered by the profile that brings it.

A profile (manufacturer, pharmacy, clinical …) is a Django app that registers its kinds here in
its ``AppConfig.ready()``; the core reads this registry and never imports the profile. Every
question the core asks about a kind — its number prefix, its register, whom its cases are shown
to, its kind-specific record, its part of the API and of the case page — is a field of its
``KindSpec``. Switching a profile off (``Organisation.profiles``) hides its kinds everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from qloop.org.models import Profile

if TYPE_CHECKING:
    from django.db.models import Q

    from qloop.cases.models import Case
    from qloop.org.models import Department, User

Label = str | Promise


class CaseKind(models.TextChoices):
    """The manufacturer's kinds (documents 1 and 2); other profiles register their own."""

    COMPLAINT = "complaint", _("Market quality complaint")
    FEEDBACK = "feedback", _("Customer feedback")


@dataclass(frozen=True)
class KindSpec:
    """Everything the core needs to know about one kind of case."""

    kind: str
    label: Label
    prefix: str  # of the case number: QC-2026-000123
    profile: str
    register_name: Label
    # Whether the case has the manufacturer's product problem (model, serial, symptom …).
    product_problem: bool = False
    # Whether somebody told us (a contact with a way to reach them); False for cases a rule
    # opens by itself, such as a laboratory finding, whose patient sits in the detail record.
    has_contact: bool = True
    # The phone number of the person who told us, for a kind without a contact that keeps it
    # in its detail record (a patient's opinion): the public status page matches its last four
    # digits (issue 12.22). Kinds with a contact use the contact's phone.
    status_phone: Callable[[Case], str] | None = None
    # The one-to-one record holding this kind's own fields (its ``related_name`` on Case), and
    # the hooks that fill, check, show and search it. All optional.
    detail_relation: str = ""
    # Who may register one (a person; registrations the system makes itself have none): checked
    # by register_case for every caller, so a page's own check is never the only one.
    may_register: Callable[[User], bool] | None = None
    clean_detail: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    create_detail: Callable[[Case, dict[str, Any], User | None], None] | None = None
    detail_out: Callable[[Case, User], dict[str, Any]] | None = None
    search_parts: Callable[[Case], list[str]] | None = None
    # The department whose queue a case lands in, from its cleaned detail (a radiology
    # finding goes to radiology); None, or a None answer: the kind's intake department.
    department_for: Callable[[dict[str, Any]], Department | None] | None = None
    # The title of a case registered without one, from its cleaned detail.
    title_from: Callable[[dict[str, Any]], str] | None = None
    # The template included on the case page for the detail record, and the URL name of the
    # kind's own registration form (kinds without a product problem).
    case_template: str = ""
    registration_url: str = ""
    # The words of the button that registers one ("New complaint").
    new_label: Label = ""
    # Which cases of this kind a person may see, as a filter on Case; None: the general rule
    # (role sees all, own departments, handler, registered, tasked). Kinds with patients'
    # data (pharmacy, clinical) narrow it to the roles that need them.
    visibility: Callable[[User], Q] | None = None
    # Whether this person sees the full personal data of the case's contact or patient; None:
    # the general rule (role flag, handler, registrant).
    personal_data: Callable[[User, Case], bool] | None = None
    # Recurring problems (issue 13): what a case is about — a product model, a drug and its
    # batch, a test — and its problem text, or None for kinds whose cases are not grouped.
    # Cases of one kind with the same key ("" is none) and similar text form a group;
    # ``group_related`` names what to select_related to read them without a query per case.
    group_by: Callable[[Case], tuple[str, str]] | None = None
    group_related: tuple[str, ...] = ()
    # Called by archive_case in its transaction, the case already archived: for a profile's
    # figures kept up to date by its own code (the pharmacy's signal counts).
    on_archive: Callable[[Case], None] | None = None


KINDS: dict[str, KindSpec] = {}


def register_kind(spec: KindSpec) -> KindSpec:
    """Add a kind; registering the same code twice with another prefix is a start-up error."""
    clash = KINDS.get(spec.kind)
    if clash is not None and clash != spec:
        raise ImproperlyConfigured(f"Kind {spec.kind!r} is registered twice")
    prefixes = {s.prefix: s.kind for s in KINDS.values() if s.kind != spec.kind}
    if spec.prefix in prefixes:
        raise ImproperlyConfigured(
            f"Kinds {spec.kind!r} and {prefixes[spec.prefix]!r} share the prefix {spec.prefix!r}"
        )
    KINDS[spec.kind] = spec
    return spec


def kind_choices() -> list[tuple[str, Label]]:
    """Every registered kind, for model fields' choices (a callable: no migration per kind)."""
    return [(spec.kind, spec.label) for spec in KINDS.values()]


def kind_label(kind: str) -> Label:
    spec = KINDS.get(kind)
    return spec.label if spec is not None else kind


def enabled_profiles() -> list[str]:
    """The profiles this organisation runs (Organisation.profiles, read at most every few
    seconds per process: every page and API call asks)."""
    from qloop.org.models import Organisation

    return list(Organisation.current_profiles())


def enabled_kinds(profiles: Iterable[str] | None = None) -> list[KindSpec]:
    """The kinds of the profiles this organisation runs, in registration order."""
    on = set(enabled_profiles() if profiles is None else profiles)
    return [spec for spec in KINDS.values() if spec.profile in on]


# (the kinds' ids, script prefix, URL configuration in use) → (the kinds, held so that no id is
# reused, their buttons as (kind, label, address))
_LINKS: dict[tuple[Any, ...], tuple[list[KindSpec], list[tuple[str, Any, str]]]] = {}


def registration_links(profiles: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """A "New …" button for each kind of the profiles that are on, where it is registered.
    The addresses are reversed once per set of kinds, script prefix and URL configuration:
    four reversals cost the register 60 µs a page (issue 14). Labels stay as declared (lazy),
    translated where they are shown."""
    from django.conf import settings
    from django.urls import get_script_prefix, get_urlconf

    specs = enabled_kinds(profiles)
    key = (tuple(map(id, specs)), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    found = _LINKS.get(key)
    if found is None:
        if len(_LINKS) > 64:  # kinds registered again and again (tests)
            _LINKS.clear()
        found = _LINKS[key] = (specs, _links(specs))
    return [{"kind": kind, "label": label, "url": url} for kind, label, url in found[1]]


def _links(specs: list[KindSpec]) -> list[tuple[str, Any, str]]:
    from django.urls import reverse

    links = []
    for spec in specs:
        if spec.product_problem:
            url = reverse("case-create") + (
                "" if spec.kind == "complaint" else f"?kind={spec.kind}"
            )
        elif spec.registration_url:
            url = reverse(spec.registration_url)
        else:
            continue
        links.append((spec.kind, spec.new_label or spec.label, url))
    return links


def is_enabled(kind: str) -> bool:
    spec = KINDS.get(kind)
    return spec is not None and spec.profile in enabled_profiles()


def product_group(case: Case) -> tuple[str, str]:
    """The product model and the symptom of a manufacturer's case."""
    product = getattr(case, "product", None)
    if product is None:
        return "", ""
    return product.model.strip(), product.symptom


register_kind(
    KindSpec(
        CaseKind.COMPLAINT,
        CaseKind.COMPLAINT.label,
        "QC",
        Profile.MANUFACTURER,
        _("Market quality complaint register"),
        product_problem=True,
        new_label=_("New complaint"),
        group_by=lambda case: product_group(case),
        group_related=("product",),
    )
)
register_kind(
    KindSpec(
        CaseKind.FEEDBACK,
        CaseKind.FEEDBACK.label,
        "FB",
        Profile.MANUFACTURER,
        _("Customer feedback register"),
        product_problem=True,
        detail_relation="feedback",
        new_label=_("New feedback"),
        group_by=lambda case: product_group(case),
        group_related=("product",),
    )
)
