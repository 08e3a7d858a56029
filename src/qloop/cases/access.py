"""Who may see and change which case: every view and API handler starts here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import EmptyResultSet, PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from qloop.cases.kinds import KINDS, enabled_kinds
from qloop.cases.models import Case, Contact
from qloop.prepared import Prepared

if TYPE_CHECKING:
    from qloop.org.models import User


def can_edit(user: User, case: Case) -> bool:
    if case.is_archived:
        return False
    return user.manages_cases or case.handler_id == user.pk


def can_archive(user: User, case: Case) -> bool:
    return not case.is_archived and user.manages_cases


def can_see_personal_data(user: User, case: Case) -> bool:
    spec = KINDS.get(case.kind)
    if spec is not None and spec.personal_data is not None:
        return spec.personal_data(user, case)
    return user.sees_personal_data or case.handler_id == user.pk or case.registered_by_id == user.pk


# Whether a person may see a case by its id, compiled once per person and rule (qloop.prepared):
# the rule (``Case.objects.for_user``) is the one every list uses, and building it took about
# 0.5 ms on every case page and action. Keyed by everything the rule is made of: the person's
# roles and departments, and the kinds switched on.
_MAY_SEE: dict[tuple[Any, ...], Prepared[int]] = {}
# About 14 KiB each: at most some 7 MB for the people one worker has served since it started.
_MAY_SEE_KEPT = 500


def rule_key(user: User) -> tuple[Any, ...]:
    """Everything the visibility rule and a person's queues are made of: who they are (their
    roles, departments and flags, ``User.access_key``) and which kinds are switched on."""
    return (user.access_key(), tuple(spec.kind for spec in enabled_kinds()), len(KINDS))


# A person's own reads (My work's queues, the badge's counts), compiled once per person and
# rule like ``may_see``: building and compiling them was a third of My work's CPU (issue 14).
# The query still runs every time; only its SQL is kept. About 10–15 KiB each: at most
# 1,000 (some 15 MB) keep a worker within the memory goal of issue 14; a person's eight
# reads compile again (1–2 ms) after the dictionary is cleared at the cap.
_PERSONAL: dict[tuple[Any, ...], Prepared[Any] | None] = {}
_PERSONAL_KEPT = 1000
_UNSEEN: Any = object()


def personal_rows(
    name: str, user: User, build: Callable[..., QuerySet[Any]], **values: Any
) -> list[Any]:
    """``list(build(**values))``, with ``build``'s SQL compiled once per ``name`` and person
    (``rule_key``) and run again with new ``values`` (``qloop.prepared``: ints, strs, lists
    of ints). ``build`` may read of ``user`` only what ``rule_key`` holds, and nothing else
    that changes (no clock, no settings); a queue with no rows at all for this person (a
    ``none()``) is remembered as such."""
    key = (name, *rule_key(user))
    # One look-up, not "in" then "[]": another thread may clear the dictionary in between.
    read = _PERSONAL.get(key, _UNSEEN)
    if read is _UNSEEN:
        if len(_PERSONAL) >= _PERSONAL_KEPT:
            _PERSONAL.clear()
        read = _PERSONAL[key] = Prepared(build, **{k: type(v) for k, v in values.items()})
    if read is None:
        return []
    try:
        return read(**values)
    except EmptyResultSet:  # the rule lets this person see nothing of it, whatever the values
        _PERSONAL[key] = None
        return []


def may_see(user: User, case_id: int) -> bool:
    """``Case.objects.for_user(user).filter(pk=case_id).exists()``, the SQL built once."""
    if not user.is_authenticated or not user.is_active:
        return False
    key = rule_key(user)
    read = _MAY_SEE.get(key)
    if read is None:
        if len(_MAY_SEE) >= _MAY_SEE_KEPT:
            _MAY_SEE.clear()
        read = _MAY_SEE[key] = Prepared(
            lambda pk: Case.objects.for_user(user).filter(pk=pk).values_list("pk", flat=True)[:1],
            pk=int,
        )
    try:
        return bool(read(pk=case_id))
    except EmptyResultSet:  # a rule that lets this person see nothing at all
        return False


def check_can_see(user: User, case: Case) -> None:
    """For actions: 404 unless ``user`` may see the case, whoever calls the action."""
    if not may_see(user, case.pk):
        raise Http404


def check_can_edit(user: User, case: Case) -> None:
    """For actions: 404 unless ``user`` may see the case, 403 unless they may change it."""
    check_can_see(user, case)
    if not can_edit(user, case):
        raise PermissionDenied


def contacts_for(user: User | None) -> QuerySet[Contact]:
    """The contacts whose phone, e-mail and QQ this person may read in full: every contact for
    roles that see personal data, else the contacts of the cases they registered or handle.
    A returning contact is matched, and suggested, only among these, so that typing someone's
    phone number never reveals their e-mail (issue 9.1)."""
    shape = _contacts_shape(user)
    return Contact.objects.none() if shape is None else _contacts(shape, user.pk)  # type: ignore[union-attr]


def _own_rule_kinds() -> list[str]:
    # A kind with its own personal-data rule (KindSpec.personal_data) decides per case, which
    # no query here can repeat: its contacts are never matched or suggested, so that the
    # general rule's readers of phone numbers do not read that kind's people through them.
    return [k for k, spec in KINDS.items() if spec.has_contact and spec.personal_data]


def _contacts_shape(user: User | None) -> str | None:
    """Which of ``_contacts``' three rules applies to ``user``; None: no contact at all."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.sees_personal_data:
        return "general" if _own_rule_kinds() else "all"
    return "mine"


def _contacts(shape: str, user: Any) -> QuerySet[Contact]:
    """``contacts_for``'s rules by their shape; ``user`` (an id) is read by "mine" alone."""
    own_rule = _own_rule_kinds()
    if shape == "all":
        return Contact.objects.all()
    if shape == "general":
        general = Case.objects.filter(contact_id=OuterRef("pk")).exclude(kind__in=own_rule)
        return Contact.objects.filter(Exists(general))
    mine = Case.objects.filter(Q(registered_by=user) | Q(handler=user)).exclude(kind__in=own_rule)
    return Contact.objects.filter(pk__in=mine.values("contact_id"))


def _returning_read(shape: str, by: str) -> Prepared[Contact]:
    """The newest contact of this name with this phone (``by="phone"``) or e-mail (any case,
    ``by="email"``) among ``_contacts(shape, user)``, locked until the transaction ends (only
    the contact's row): the queryset registration built, compiled once per process."""

    def build(name: str, value: str, user: Any = None) -> QuerySet[Contact]:
        lookup = (
            _contacts(shape, user)
            .filter(name=name)
            .order_by("-created_at")
            .select_for_update(of=("self",))
        )
        return (
            lookup.filter(phone=value) if by == "phone" else lookup.filter(email__iexact=value)
        )[:1]

    if shape == "mine":
        return Prepared(build, name=str, value=str, user=int)
    return Prepared(lambda name, value: build(name, value), name=str, value=str)


_RETURNING: dict[tuple[str, str], Prepared[Contact]] = {
    (shape, by): _returning_read(shape, by)
    for shape in ("all", "general", "mine")
    for by in ("phone", "email")
}


def returning_contact(user: User | None, name: str, phone: str, email: str) -> Contact | None:
    """The returning contact registration matches (issue 9.1), locked until the transaction
    ends: among ``contacts_for(user)``, the newest of this name with this phone, else the
    newest of this name with this e-mail (case aside); None if neither (or none given).

    What ``contacts_for(user).filter(name=name).order_by("-created_at")
    .select_for_update(of=("self",)).filter(phone=phone).first()`` (then the same by
    ``email__iexact``) reads, by a read compiled once per process (``qloop.prepared``): the
    same SQL with the same values."""
    shape = _contacts_shape(user)
    if shape is None:
        return None
    extra: dict[str, Any] = {"user": user.pk} if shape == "mine" else {}  # type: ignore[union-attr]
    if phone:
        found = _RETURNING[shape, "phone"](name=name, value=phone, **extra)
        if found:
            return found[0]
    if email:
        # ``email__iexact`` sends the value as its lookup prepares it (SQLite: LIKE with its
        # wildcards escaped); the compiled read kept the SQL, so the value is prepared here.
        from django.db import connection

        value = connection.ops.prep_for_iexact_query(email)
        found = _RETURNING[shape, "email"](name=name, value=value, **extra)
        if found:
            return found[0]
    return None


def detail_relations() -> list[str]:
    """The one-to-one records of every kind, to fetch with a case in the same query."""
    return sorted({"product", *(s.detail_relation for s in KINDS.values() if s.detail_relation)})


# What every case page and action shows of a case, read in the same query as the case.
CASE_RELATIONS = (
    "contact",
    "category",
    "department",
    "handler",
    "registered_by",
    "source_case",
    "product",
)


def load_detail(case: Case) -> None:
    """Read the case's own kind's detail record and mark every other kind's as absent, as a
    join of them all would: one small query instead of a join per kind in every case lookup
    (eleven joins cost about 3 ms to compile, more than the query itself)."""
    spec = KINDS.get(case.kind)
    own = spec.detail_relation if spec is not None else ""
    for name in detail_relations():
        if name in CASE_RELATIONS or name == own:
            continue
        relation = Case._meta.get_field(name)
        relation.set_cached_value(case, None)  # type: ignore[union-attr]
    if own and own not in CASE_RELATIONS:
        getattr(case, own, None)  # reads it once; afterwards the instance holds it (or None)


# The case with what every page shows of it, compiled once (qloop.prepared): with seven
# relations this query took 2.6 ms to compile and 0.5 ms to run (issue 14).
_CASE_BY_NUMBER: Prepared[Case] = Prepared(
    lambda number: Case.objects.select_related(*CASE_RELATIONS).filter(number=number),
    number=str,
)


def get_case_for_user(user: User, number: str, *, write: bool = False) -> Case:
    """The case with this number if ``user`` may see it (404 otherwise, so numbers don't leak),
    and, with ``write``, may change it (403)."""
    found = _CASE_BY_NUMBER(number=number)
    # Whether this person may see it is asked of the database with the one rule every list
    # uses (``visible_to``), by the case's id: a small query, unlike the case's own.
    if not found or not may_see(user, found[0].pk):
        raise Http404
    case = found[0]
    if write and not can_edit(user, case):
        raise PermissionDenied
    load_detail(case)
    return case


def mask(value: str) -> str:
    """Hide the middle of a phone number or e-mail address for those who need not see it."""
    if not value:
        return value
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(value) <= 4:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}" if len(value) >= 8 else f"{value[:1]}***{value[-2:]}"


REACH_FIELDS = ("contact.phone", "contact.email", "contact.qq")


def event_changes(user: User, case: Case, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An event's changes as this person may read them: a contact's old and new phone, e-mail
    and QQ masked like the contact itself for those who need not see them (issue 9.1)."""
    if not any(c.get("field") in REACH_FIELDS for c in changes) or can_see_personal_data(
        user, case
    ):
        return changes
    return masked_changes(changes)


def masked_changes(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The changes with a contact's old and new phone, e-mail and QQ masked."""
    return [
        {**c, "old": mask(str(c["old"])), "new": mask(str(c["new"]))}
        if c.get("field") in REACH_FIELDS
        else c
        for c in changes
    ]


def contact_details(user: User, case: Case) -> dict[str, str]:
    """The contact's phone, e-mail and QQ as this person may see them: in full for those who
    need them, masked for everyone else. Pages, the report, the API and exports all ask here."""
    contact = case.contact
    if contact is None:
        return {"phone": "", "email": "", "qq": ""}
    full = can_see_personal_data(user, case)
    return {
        key: value if full else mask(value)
        for key, value in (("phone", contact.phone), ("email", contact.email), ("qq", contact.qq))
    }
