"""My work's page of ids, soonest deadline first and no deadline last, then newest first
(issue 14): on PostgreSQL walked from ``case_open_due_order`` (migration 0018) instead of
sorting every open case that matches, with the same rows in the same order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from qloop.cases.filters import page_ids
from qloop.cases.models import Case
from qloop.cases.queues import my_work_queryset
from qloop.org.models import User

pytestmark = pytest.mark.django_db


def expected_order(user: User) -> list[int]:
    far = timezone.now() + dt.timedelta(days=10**5)
    rows = list(my_work_queryset(user).values_list("pk", "next_due_at"))
    return [pk for pk, _due in sorted(rows, key=lambda r: (r[1] is None, r[1] or far, -r[0]))]


@pytest.fixture
def waiting(users: dict[str, User], make_case: Callable[..., Any]) -> list[Case]:
    """Cases in cs_head's queue with deadlines in both orders, ties and none at all."""
    cases = [make_case() for _ in range(7)]
    now = timezone.now()
    dues = [now + dt.timedelta(hours=5), None, now + dt.timedelta(hours=1), None]
    dues += [now + dt.timedelta(hours=1), now - dt.timedelta(hours=2), now + dt.timedelta(hours=5)]
    for case, due in zip(cases, dues, strict=True):
        Case.objects.filter(pk=case.pk).update(next_due_at=due)
    return cases


def test_my_work_ids_come_soonest_first_none_last_newest_first(
    users: dict[str, User], waiting: list[Case]
) -> None:
    user = users["cs_head"]
    ids = page_ids(my_work_queryset(user), 1, 50)
    assert len(ids) == len(waiting)
    assert ids == expected_order(user)
    assert page_ids(my_work_queryset(user), 2, 3) == expected_order(user)[3:6]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL index")
def test_postgresql_walks_the_index_to_the_same_page(
    users: dict[str, User], waiting: list[Case]
) -> None:
    user = users["cs_head"]
    sorted_ids = page_ids(my_work_queryset(user), 1, 50)
    query = my_work_queryset(user).values_list("pk", flat=True)[:50]
    with transaction.atomic(), connection.cursor() as cursor:
        # A handful of test rows: make the planner walk the index as it does at a million.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        walked = list(query)
    assert "case_open_due_order" in plan, plan
    assert walked == sorted_ids
