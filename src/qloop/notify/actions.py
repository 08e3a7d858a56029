"""Telling people: one call per message, written in the same transaction as its cause."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone

from qloop.notify.models import Notification

if TYPE_CHECKING:
    from qloop.cases.models import Case
    from qloop.org.models import User


def people_in(department_codes: Iterable[str], roles: Iterable[str] = ()) -> list[User]:
    from qloop.org.models import User

    cond = Q(memberships__department__code__in=list(department_codes))
    roles = list(roles)
    if roles:
        cond &= Q(memberships__role__code__in=roles)
    return list(User.objects.filter(cond, is_active=True).distinct())


def people_with_role(*roles: str) -> list[User]:
    from qloop.org.models import User

    return list(User.objects.filter(memberships__role__code__in=roles, is_active=True).distinct())


def notify(
    users: Iterable[User],
    *,
    kind: str,
    case: Case | None = None,
    data: dict[str, Any] | None = None,
    urgent: bool = False,
    exclude: User | None = None,
    at: dt.datetime | None = None,
) -> int:
    """Leave a message for each person once (never for the one who caused it)."""
    seen: set[int] = set()
    rows = []
    for user in users:
        if user.pk in seen or (exclude is not None and user.pk == exclude.pk):
            continue
        seen.add(user.pk)
        rows.append(
            Notification(
                user=user,
                case=case,
                kind=kind,
                data=data or {},
                urgent=urgent,
                created_at=at or timezone.now(),
            )
        )
    Notification.objects.bulk_create(rows)
    return len(rows)


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
