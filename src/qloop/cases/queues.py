"""Work queues: what waits for whom."""

from __future__ import annotations

import operator
from functools import reduce
from typing import TYPE_CHECKING

from django.db.models import F, Q, QuerySet

from qloop.cases.models import Case, CaseQuerySet

if TYPE_CHECKING:
    from qloop.org.models import User
    from qloop.process.models import Task


def my_work_queryset(user: User) -> CaseQuerySet:
    """What waits for me, soonest deadline first: cases I handle, unassigned cases in the queues
    of departments I manage for, cases whose next step my role takes (read from the process
    definitions), and corrective plans I own."""
    from qloop.capa.models import CorrectiveAction
    from qloop.process.definitions import states_moved_by

    # The plans I own, read first (a person owns a handful): with their case ids written into
    # the query, "handled by me or one of these" is two index look-ups that the database can
    # OR together, where a subquery or a join made it filter every open case (the badge on
    # every page: 106 ms at 1,000,000 cases on PostgreSQL, issue 14).
    owned = list(
        CorrectiveAction.objects.filter(owner=user, case__state="implementing").values_list(
            "case_id", flat=True
        )
    )
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
