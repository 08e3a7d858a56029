"""Who a process step, a reminder or an escalation speaks to, by name (X6).

Process definitions and escalation ladders name their audiences with tokens; this turns
tokens into people. A ``memo`` shared across calls lets a sweep over thousands of clocks ask
for each role's members once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from qloop.notify.actions import people_in, people_with_role
from qloop.process.definitions import process_for

if TYPE_CHECKING:
    from qloop.cases.models import Case
    from qloop.org.models import Department, User

LADDER_TOKENS = ("handler", "department_head")

# Audiences a profile names for its own cases ("the ordering department's head"): a function
# of the case (and the memo) giving the people. Registered in the profile's AppConfig.ready.
AUDIENCES: dict[str, Callable[[Case, dict[Any, Any] | None], list[User]]] = {}


def register_audience(
    name: str, people: Callable[[Case, dict[Any, Any] | None], list[User]]
) -> None:
    AUDIENCES[name] = people


def check_tokens(text: str) -> list[str]:
    """Tokens of an escalation step's audience, or ValueError with a message for people."""
    from qloop.org.models import Role

    tokens = [t.strip() for t in text.split(",") if t.strip()]
    if not tokens:
        raise ValueError(_("Say whom to tell."))
    for name in tokens:
        if name in LADDER_TOKENS or name in AUDIENCES:
            continue
        if name.startswith("role:") and Role.objects.filter(code=name[5:]).exists():
            continue
        raise ValueError(
            _("Unknown audience “%(name)s”: use handler, department_head or role:<code>.")
            % {"name": name}
        )
    return tokens


def department_heads(department_id: int | None, memo: dict[Any, Any] | None = None) -> list[User]:
    """Who manage cases in a department: its head, for escalation."""
    from qloop.org.models import User

    if department_id is None:
        return []
    key = ("heads", department_id)
    if memo is not None and key in memo:
        return list(memo[key])
    heads = list(
        User.objects.filter(
            memberships__department_id=department_id,
            memberships__role__manages_cases=True,
            is_active=True,
        ).distinct()
    )
    if memo is not None:
        memo[key] = heads
    return heads


def responsible_departments(case: Case) -> list[Department]:
    """The departments a case waits for in its state, read from the process definition (the
    roles whose step moves it on) and the organisation (where people hold those roles): Quality
    while it investigates, CS while it reviews and answers (R1.3–R1.5). Empty once closed."""
    from qloop.org import refdata
    from qloop.org.models import Department
    from qloop.process.definitions import process_for

    roles = process_for(case.kind, case.process_version).moved_on_by(case.state)
    if not roles:
        return []
    key = tuple(sorted(roles))

    def read() -> list[Department]:
        return list(
            Department.objects.filter(is_active=True, memberships__role__code__in=key)
            .distinct()
            .order_by("code")
        )

    # Kept by every process until a department, membership or role changes: the case page
    # asks on every view (issue 14). The instances are shared.
    return list(refdata.cached(("responsible-departments", key), read))


def resolve(
    name: str,
    case: Case,
    cleaned: dict[str, Any] | None = None,
    memo: dict[Any, Any] | None = None,
) -> list[User]:
    """The people one name names, for this case."""
    if name == "handler":
        return [case.handler] if case.handler_id and case.handler else []
    if name == "department_head":
        return department_heads(case.department_id, memo)
    if name == "owner":
        ca = getattr(case, "corrective_action", None)
        return [ca.owner] if ca is not None and ca.owner else []
    if name == "departments":
        return people_in((cleaned or {}).get("departments") or [])
    if name in AUDIENCES:
        return AUDIENCES[name](case, memo)
    roles: tuple[str, ...]
    if name.startswith("role:"):
        roles = (name[5:],)
    else:
        # A name the case's process declares ("cs", "quality", "gm" …): its roles.
        named = process_for(case.kind, case.process_version).role_set(name)
        if not named:
            raise ValueError(name)
        roles = tuple(sorted(named))
    if memo is None:
        return people_with_role(*roles)
    key = ("roles", roles)
    if key not in memo:
        memo[key] = people_with_role(*roles)
    return list(memo[key])


def resolve_all(
    tokens: str | tuple[str, ...],
    case: Case,
    cleaned: dict[str, Any] | None = None,
    memo: dict[Any, Any] | None = None,
) -> list[User]:
    if isinstance(tokens, str):
        tokens = tuple(t.strip() for t in tokens.split(",") if t.strip())
    return [u for t in tokens for u in resolve(t, case, cleaned, memo)]
