"""Work queues: what waits for whom."""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import reduce
from typing import TYPE_CHECKING, Any

from django.db.models import F, Q, QuerySet

from qloop.cases.access import personal_rows
from qloop.cases.models import Case, CaseQuerySet
from qloop.prepared import MAX_LIST, Prepared, counted

if TYPE_CHECKING:
    from qloop.org.models import User
    from qloop.process.models import Task


def my_work_queryset(user: User, owned: list[int] | None = None) -> CaseQuerySet:
    """What waits for me, soonest deadline first: cases I handle, unassigned cases in the queues
    of departments I manage for, cases whose next step my role takes (read from the process
    definitions), and corrective plans I own (``owned``: their case ids, read here if not
    given)."""
    from qloop.process.definitions import states_moved_by

    # The plans I own, read first (a person owns a handful): with their case ids written into
    # the query, "handled by me or one of these" is two index look-ups that the database can
    # OR together, where a subquery or a join made it filter every open case (the badge on
    # every page: 106 ms at 1,000,000 cases on PostgreSQL, issue 14).
    if owned is None:
        owned = owned_plan_cases(user)
    mine = Q(handler=user) | Q(pk__in=owned)
    if user.manages_cases and user.department_ids:
        mine |= Q(handler__isnull=True, department_id__in=user.department_ids)
    for kind, states in states_moved_by(user.role_codes).items():
        if states:
            mine |= Q(kind=kind, state__in=sorted(states))
    # Only cases this person can open (the case page's rule): a role that moves a state sees
    # nothing of the cases it may not open, in the list or in the badge (issue 9 point 2).
    return (
        Case.objects.open()
        .for_user(user)
        .filter(mine)
        .order_by(F("next_due_at").asc(nulls_last=True), "-id")
    )


def _owned_plans(owner: Any) -> QuerySet[Any]:
    from qloop.capa.models import CorrectiveAction

    return CorrectiveAction.objects.filter(owner=owner, case__state="implementing").values_list(
        "case_id", flat=True
    )


_OWNED_PLANS: Prepared[int] = Prepared(_owned_plans, owner=int)


def owned_plan_cases(user: User) -> list[int]:
    """The cases of the corrective plans this person owns and carries out."""
    return _OWNED_PLANS(owner=user.pk)


def _mine(user: User, name: str, build: Callable[[Any], QuerySet[Any]]) -> list[Any]:
    """``build(my_work_queryset(user))``'s rows, compiled once per person (``personal_rows``);
    the corrective plans they own are the read's values, read afresh every time."""
    owned = owned_plan_cases(user)
    if len(owned) > MAX_LIST:
        return list(build(my_work_queryset(user, owned)))
    if not owned:
        return personal_rows(f"{name}:0", user, lambda: build(my_work_queryset(user, [])))
    return personal_rows(
        name, user, lambda owned: build(my_work_queryset(user, owned)), owned=owned
    )


def _the_count(rows: list[int]) -> int:
    # No row: the person's rule lets them see none of it (``personal_rows``).
    return rows[0] if rows else 0


def my_work_count(user: User) -> int:
    """``my_work_queryset(user).count()``, its SQL compiled once per person."""
    return _the_count(_mine(user, "my-work:count", counted))


def my_work_ids(user: User, page: int, size: int) -> list[int]:
    """The ids of a page of ``my_work_queryset(user)`` (``page_ids``), compiled once per
    person and page."""
    return _mine(
        user,
        f"my-work:ids:{page}:{size}",
        lambda qs: qs.values_list("pk", flat=True)[(page - 1) * size : page * size],
    )


def my_work_lists(user: User) -> dict[str, list[Any]]:
    """My work's short lists (the first 20 approvals and reports, 50 tasks, improvement
    actions and corrective cases followed), each compiled once per person."""
    from qloop.process.engine import approvals_for
    from qloop.reports.queues import improvement_actions_list, reports_waiting_list

    return {
        "approvals": personal_rows("my-work:approvals", user, lambda: approvals_for(user)[:20]),
        "reports": reports_waiting_list(user, 20),
        "tasks": personal_rows("my-work:tasks", user, lambda: open_tasks_for(user)[:50]),
        "improvement_actions": improvement_actions_list(user, 50),
        "follow_up": personal_rows(
            "my-work:follow-up", user, lambda: _follow_up_columns(corrective_follow_up(user))[:50]
        ),
    }


# What My work's follow-up table shows (number, title, state, the plan's owner and due date):
# the 50 cases with every column and their product and contact were half of Customer
# Service's My work (issue 14).
FOLLOW_UP_COLUMNS = (
    "number",
    "title",
    "kind",
    "state",
    "corrective_action__due",
    "corrective_action__owner__username",
    "corrective_action__owner__display_name",
    "corrective_action__owner__first_name",
    "corrective_action__owner__last_name",
)


def _follow_up_columns(qs: CaseQuerySet) -> CaseQuerySet:
    return (
        qs.select_related(None).select_related("corrective_action__owner").only(*FOLLOW_UP_COLUMNS)
    )


# The badge counts a person's cases up to here and then says "99+": counting them all read
# every open case of the person's queues, after every write, on every page (7 ms at 100,000
# cases on SQLite, 10-20 ms at 1,000,000 on PostgreSQL, issue 14); My work counts them all.
BADGE_CASES = 100


def badge_queue_counts(user: User) -> dict[str, int]:
    """The badge's counts of a person's queues, each compiled once per person; the cases up to
    ``BADGE_CASES`` (the first ones the database finds, in no order)."""
    from qloop.process.engine import approvals_for
    from qloop.reports.queues import improvement_actions_count, reports_waiting_count

    return {
        "approvals": _the_count(
            personal_rows("badge:approvals", user, lambda: counted(approvals_for(user)))
        ),
        "cases": len(
            _mine(
                user,
                "badge:cases",
                lambda qs: qs.order_by().values_list("pk", flat=True)[:BADGE_CASES],
            )
        ),
        "tasks": _the_count(
            personal_rows("badge:tasks", user, lambda: counted(open_tasks_for(user)))
        ),
        "reports": reports_waiting_count(user),
        "improvement_actions": improvement_actions_count(user),
    }


def open_tasks_for(user: User) -> QuerySet[Task]:
    """Open tasks of my departments, or given to me (R1.8), soonest due first."""
    from qloop.process.models import Task

    return (
        Task.objects.filter(done_at__isnull=True, case__archived_at__isnull=True)
        .filter(Q(department_id__in=user.department_ids) | Q(assignee=user))
        .filter(case__in=Case.objects.for_user(user))
        .select_related("case", "department", "assignee")
        .order_by(F("due").asc(nulls_last=True), "id")
    )


def corrective_follow_up(user: User) -> CaseQuerySet:
    """For the intake department (CS): cases whose corrective work it follows (R1.7), read from
    each process's "corrective" states and its "cs" roles."""
    from qloop.process.definitions import CURRENT_VERSION, process_for

    followed = [
        Q(kind=kind, state__in=sorted(process.states_in("corrective")))
        for kind in CURRENT_VERSION
        if (process := process_for(kind)).states_in("corrective")
        and user.has_role(*process.role_set("cs"))
    ]
    if not followed:
        return Case.objects.none()
    # Corrective states are open ones: said as open(), the cases come from the open cases'
    # index on updated_at in order, instead of every case in those states sorted (47 ms at
    # 100,000 cases, more the larger the register).
    return (
        Case.objects.open()
        .for_user(user)
        .filter(reduce(operator.or_, followed))
        .select_related("corrective_action__owner", "product", "contact")
        .order_by("updated_at")
    )
