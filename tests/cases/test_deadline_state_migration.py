"""The migration that adds ``Case.deadline_state`` fills it from the clocks already there: a
case with a breached open clock is overdue from the moment the new code runs (issue 12
point 1, X3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("cases", "0007_kinds_from_the_registry")]
AFTER = [("cases", "0008_case_deadline_state")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_reads_the_deadline_state_from_the_open_clocks() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(
        [*BEFORE, ("process", "0004_clocks_from_the_registry")]
    ).apps
    Case: Any = apps.get_model("cases", "Case")
    Clock: Any = apps.get_model("process", "Clock")
    Department: Any = apps.get_model("org", "Department")
    cs = Department.objects.create(code="CS", name="客户服务部")
    now = timezone.now()
    states = {
        "breached": ["stopped", "breached"],
        "running": ["running", "stopped"],
        "paused": ["paused"],
        "": ["stopped"],
    }
    made = {}
    for n, (expected, clocks) in enumerate(states.items()):
        case = Case.objects.create(
            number=f"QC-2026-{n:06d}",
            kind="complaint",
            profile="manufacturer",
            title="t",
            channel="phone",
            department=cs,
        )
        for k, state in enumerate(clocks):
            Clock.objects.create(
                case=case,
                name=["customer_answer", "investigation"][k],
                state=state,
                due_at=now + dt.timedelta(days=1),
            )
        made[case.pk] = expected

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    filled = dict(apps.get_model("cases", "Case").objects.values_list("pk", "deadline_state"))
    assert filled == made
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
