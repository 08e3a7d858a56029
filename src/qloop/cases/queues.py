"""Work queues: what waits for whom."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import F, Q

from qloop.cases.models import Case, CaseQuerySet

if TYPE_CHECKING:
    from qloop.org.models import User


def my_work_queryset(user: User) -> CaseQuerySet:
    """Open cases I handle, and unassigned cases in the queues of departments I manage for,
    soonest deadline first."""
    mine = Q(handler=user)
    if user.manages_cases and user.department_ids:
        mine |= Q(handler__isnull=True, department_id__in=user.department_ids)
    return Case.objects.open().filter(mine).order_by(F("next_due_at").asc(nulls_last=True), "-id")
