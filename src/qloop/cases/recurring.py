"""Recurring problems (issue 13, R1.5): cases about the same thing with similar problem text,
raised to Quality as a possible systemic problem.

What a case is about and its problem text come from its kind (``KindSpec.group_by``: the
product model for the manufacturer, the drug and batch for the pharmacy, the test for the
laboratory); the core names no kind. Within one kind, the live cases received in the last
``days`` days with the same key are compared on character bigrams weighted by how rare each
bigram is among that kind's recent cases (``qloop.cases.similar``: learned from the
organisation's own cases, offline). Cases at least ``similarity`` alike are linked, and a
linked set of at least ``cases`` cases is a group.

A group is raised once: running the search again changes nothing. A group Quality dismissed is
not raised again for the same cases, but a case that joins it raises it again; a group linked
to a corrective action takes new cases in quietly. Nothing is deleted; every change has an
event (``RecurringGroupEvent``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qloop.cases.kinds import KINDS, enabled_kinds
from qloop.cases.models import (
    Case,
    RecurringGroup,
    RecurringGroupEvent,
    RecurringState,
)
from qloop.cases.similar import grams
from qloop.process.definitions import process_for
from qloop.process.errors import Conflict

if TYPE_CHECKING:
    from qloop.org.models import User


@dataclass(frozen=True)
class Rule:
    """When cases make a group: ``cases`` or more within ``days`` days, each linked to another
    by a text similarity of at least ``similarity`` (cosine, 0–1)."""

    cases: int = 3
    days: int = 90
    similarity: float = 0.15


def rule() -> Rule:
    """The rule from the setting ``QLOOP_RECURRING`` (a dict with any of the three)."""
    given = getattr(settings, "QLOOP_RECURRING", None) or {}
    return Rule(**{k: v for k, v in given.items() if k in {"cases", "days", "similarity"}})


VERBS = {
    "raised": gettext_lazy("raised to Quality"),
    "joined": gettext_lazy("new cases joined"),
    "raised_again": gettext_lazy("raised again: new cases joined"),
    "linked": gettext_lazy("linked to the corrective action of"),
    "dismissed": gettext_lazy("dismissed"),
}


def verb_label(verb: str) -> str:
    return str(VERBS.get(verb, verb))


# --- who -----------------------------------------------------------------------------------


def _quality_roles(kind: str) -> frozenset[str]:
    """Quality of the kind's process, or the manufacturer's Quality when it names none."""
    try:
        roles = process_for(kind).role_set("quality")
    except KeyError:
        roles = frozenset()
    return roles or process_for("complaint").role_set("quality")


def can_see_groups(user: User) -> bool:
    """Quality (of any process) and those who see all cases read the recurring problems."""
    if not user.is_authenticated or not user.is_active:
        return False
    quality = frozenset().union(*(_quality_roles(spec.kind) for spec in KINDS.values()))
    return user.is_superuser or user.sees_all_cases or user.has_role(*quality)


def can_decide(user: User, group: RecurringGroup) -> bool:
    """Quality of the group's kind links it to a corrective action or dismisses it."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.has_role(*_quality_roles(group.kind))


def groups_for(user: User) -> QuerySet[RecurringGroup]:
    """The groups of the kinds switched on that this person decides on, or with a case this
    person may see; none for those who may not read the page."""
    if not can_see_groups(user):
        return RecurringGroup.objects.none()
    on = [s.kind for s in enabled_kinds()]
    groups = RecurringGroup.objects.filter(kind__in=on)
    if user.is_superuser:
        return groups
    decides = [k for k in on if user.has_role(*_quality_roles(k))]
    return groups.filter(
        Q(kind__in=decides) | Q(cases__in=Case.objects.for_user(user).values("pk"))
    ).distinct()


# --- finding groups ------------------------------------------------------------------------


@dataclass
class _Doc:
    case_id: int
    number: str
    key: str
    label: str
    grams: Counter[str]


def _fold(key: str) -> str:
    return " ".join(key.split()).casefold()[:200]


# At most this many of a kind's most recent cases are compared (a worker's memory and time
# stay bounded whatever the register's size).
POOL = 5000


def _docs(kind: str, since: dt.datetime) -> list[_Doc]:
    spec = KINDS[kind]
    assert spec.group_by is not None
    recent = (
        Case.objects.live()
        .filter(kind=kind, received_at__gte=since)
        .order_by("-received_at", "-pk")
        .values_list("pk", flat=True)[:POOL]
    )
    cases = (
        Case.objects.filter(pk__in=recent)
        .select_related(*spec.group_related)
        .order_by("received_at", "pk")
    )
    docs = []
    for case in cases.iterator(chunk_size=500):
        label, text = spec.group_by(case)
        key = _fold(label)
        if key:
            docs.append(_Doc(case.pk, case.number, key, label.strip()[:200], grams(text)))
    return docs


def _vectors(docs: list[_Doc]) -> list[dict[str, float]]:
    """Each text's bigrams weighted by their rarity among all of the kind's recent cases."""
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(doc.grams.keys())
    n = len(docs)
    idf = {g: math.log((1 + n) / (1 + c)) + 1 for g, c in df.items()}
    out = []
    for doc in docs:
        vec = {g: c * idf[g] for g, c in doc.grams.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        out.append({g: v / norm for g, v in vec.items()})
    return out


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(g, 0.0) for g, v in a.items())


def _root(parent: dict[int, int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def clusters(kind: str, *, now: dt.datetime | None = None, key: str = "") -> list[list[_Doc]]:
    """The sets of alike cases of one kind (one key only, if given) at least the rule's size."""
    current = rule()
    since = (now or timezone.now()) - dt.timedelta(days=current.days)
    docs = _docs(kind, since)
    vectors = _vectors(docs)
    buckets: dict[str, list[int]] = {}
    for i, doc in enumerate(docs):
        if not key or doc.key == _fold(key):
            buckets.setdefault(doc.key, []).append(i)
    found = []
    for members in buckets.values():
        if len(members) < current.cases:
            continue
        parent = {i: i for i in members}
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                ri, rj = _root(parent, i), _root(parent, j)
                if ri != rj and _cosine(vectors[i], vectors[j]) >= current.similarity:
                    parent[rj] = ri
        sets: dict[int, list[_Doc]] = {}
        for i in members:
            sets.setdefault(_root(parent, i), []).append(docs[i])
        found += [s for s in sets.values() if len(s) >= current.cases]
    return found


def _record(
    group: RecurringGroup, verb: str, numbers: list[str], actor: User | None = None
) -> None:
    RecurringGroupEvent.objects.create(group=group, actor=actor, verb=verb, data={"cases": numbers})


def _settle(kind: str, members: list[_Doc]) -> str:
    """Raise a new group, add new cases to the group they join, or leave it: the verb done
    ("" for nothing). Runs in a transaction with the kind's groups locked."""
    ids = {d.case_id for d in members}
    key = members[0].key
    # Two workers looking at the same cases (the daily job, a registration) take turns: the
    # cases' rows are locked in one order before the groups are read.
    list(Case.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    found = (
        RecurringGroup.objects.filter(kind=kind, key=key, cases__in=ids)
        .order_by("-raised_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    existing = (
        RecurringGroup.objects.select_for_update().get(pk=found) if found is not None else None
    )
    if existing is None:
        group = RecurringGroup.objects.create(kind=kind, key=key, label=members[0].label)
        group.cases.add(*ids)
        _record(group, "raised", [d.number for d in members])
        return "raised"
    known = set(existing.cases.values_list("pk", flat=True))
    new = [d for d in members if d.case_id not in known]
    if not new:
        return ""
    existing.cases.add(*(d.case_id for d in new))
    numbers = [d.number for d in new]
    if existing.state == RecurringState.DISMISSED:
        existing.state = RecurringState.OPEN
        existing.raised_at = timezone.now()
        existing.save(update_fields=["state", "raised_at"])
        _record(existing, "raised_again", numbers)
        return "raised_again"
    _record(existing, "joined", numbers)
    return "joined"


def find_groups(
    kinds: list[str] | None = None, *, now: dt.datetime | None = None, key: str = ""
) -> Counter[str]:
    """Look for recurring problems in the given kinds (default: every grouped kind switched
    on); returns how many groups were raised, joined and raised again. Idempotent."""
    done: Counter[str] = Counter()
    specs = [s for s in enabled_kinds() if s.group_by is not None]
    for spec in specs:
        if kinds is not None and spec.kind not in kinds:
            continue
        for members in clusters(spec.kind, now=now, key=key):
            with transaction.atomic():
                verb = _settle(spec.kind, members)
            if verb:
                done[verb] += 1
    return done


def find_for_case(case_id: int) -> Counter[str]:
    """After a registration: look again at the cases about the same thing as this one."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        return Counter()
    spec = KINDS.get(case.kind)
    if spec is None or spec.group_by is None:
        return Counter()
    label, _text = spec.group_by(case)
    if not _fold(label):
        return Counter()
    return find_groups([case.kind], key=label)


# --- Quality's decision --------------------------------------------------------------------


def _locked(group: RecurringGroup, actor: User) -> RecurringGroup:
    if not can_decide(actor, group):
        raise PermissionDenied
    locked = RecurringGroup.objects.select_for_update().get(pk=group.pk)
    if locked.state != RecurringState.OPEN:
        raise Conflict(_("This recurring problem has already been decided."))
    return locked


def link_corrective_action(group: RecurringGroup, number: str, *, actor: User) -> RecurringGroup:
    """Link the group to the corrective action of the case with this number (one the person
    may see, whose corrective action has been opened)."""
    number = (number or "").strip()
    with transaction.atomic():
        locked = _locked(group, actor)
        from qloop.capa.models import CorrectiveAction

        case = (
            Case.objects.for_user(actor).filter(number__iexact=number).first() if number else None
        )
        if case is None:
            raise ValidationError(
                {"case": [_("Enter the number of a case you can see, with a corrective action.")]}
            )
        action = CorrectiveAction.objects.filter(case=case).first()
        if action is None:
            raise ValidationError(
                {
                    "case": [
                        _("Case %(number)s has no corrective action yet.") % {"number": case.number}
                    ]
                }
            )
        locked.state = RecurringState.LINKED
        locked.corrective_action = action
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.save(update_fields=["state", "corrective_action", "decided_by", "decided_at"])
        RecurringGroupEvent.objects.create(
            group=locked, actor=actor, verb="linked", data={"case": case.number}
        )
    return locked


def dismiss(group: RecurringGroup, reason: str, *, actor: User) -> RecurringGroup:
    """Not a systemic problem: dismissed with a reason; a new case joining raises it again."""
    reason = (reason or "").strip()
    with transaction.atomic():
        locked = _locked(group, actor)
        if not reason:
            raise ValidationError({"reason": [_("Say why this is not a systemic problem.")]})
        locked.state = RecurringState.DISMISSED
        locked.reason = reason
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.save(update_fields=["state", "reason", "decided_by", "decided_at"])
        RecurringGroupEvent.objects.create(
            group=locked, actor=actor, verb="dismissed", comment=reason
        )
    return locked


def open_count(user: User) -> int:
    return groups_for(user).filter(state=RecurringState.OPEN).count()


def visible_members(user: User, group: RecurringGroup) -> QuerySet[Case]:
    """The group's cases this person may see, newest first."""
    return Case.objects.for_user(user).filter(Q(recurring_groups=group)).order_by("-received_at")
