"""What the case page shows of the process: steps, investigation, 8D, tasks, approvals."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from qloop.capa.actions import can_edit_eight_d, eight_d_open
from qloop.capa.models import EIGHT_D_FIELDS, CorrectiveAction, Investigation
from qloop.cases.models import Case
from qloop.freshness import PEOPLE_VERSION_KEY, kept
from qloop.org.models import Department, User
from qloop.prepared import Prepared
from qloop.process import engine
from qloop.process.audience import responsible_departments
from qloop.process.definitions import process_for
from qloop.process.diagram import render_svg
from qloop.process.models import Approval, Task
from qloop.process.signatures import Meaning
from qloop.process.tasks import can_complete, can_give_tasks, task_states
from qloop.web.options import active_people


@lru_cache(maxsize=256)
def _diagram(kind: str, version: int, state: str, language: str | None) -> str:
    """The process chart with the case's state marked: the same for every case of a kind,
    version and state, in one language (the definitions are code, fixed for the process)."""
    return render_svg(process_for(kind, version), state)


def people_options() -> str:
    """The options of a step's person input: everyone active in a department, by user name,
    ``<option value="name">Printed (name)</option>``. Rendered once from rows (one option per
    person: too many for a template loop) and kept until people or their memberships change
    (``qloop.freshness``): kept until any write, the first case page after every registration
    rendered them again (issue 14)."""

    def render() -> str:
        return str(
            format_html_join(
                "", '<option value="{}">{} ({})</option>', ((u, n, u) for u, n in active_people())
            )
        )

    return kept("qloop:people-options", render, version_key=PEOPLE_VERSION_KEY)


# The process's records of a case, each compiled once per process (qloop.prepared, issue 14).
_INVESTIGATION: Prepared[Investigation] = Prepared(
    lambda case: Investigation.objects.filter(case=case), case=int
)
_CORRECTIVE: Prepared[CorrectiveAction] = Prepared(
    lambda case: CorrectiveAction.objects.filter(case=case).select_related("owner"), case=int
)
_TASKS: Prepared[Task] = Prepared(
    lambda case: Task.objects.filter(case=case).select_related("department", "assignee", "done_by"),
    case=int,
)
_APPROVALS: Prepared[Approval] = Prepared(
    lambda case: Approval.objects.filter(case=case).select_related("requested_by", "decided_by"),
    case=int,
)


def process_context(case: Case, user: User) -> dict[str, Any]:
    process = engine.process_of(case)
    investigation = next(iter(_INVESTIGATION.of(case)), None)
    corrective = next(iter(_CORRECTIVE.of(case)), None)
    tasks = _TASKS.of(case)
    approvals = _APPROVALS.of(case)
    steps = [
        engine.describe_transition(case, t, approvals)
        for t in engine.available_transitions(case, user)
    ]
    for step in steps:
        if step["signature"]:
            step["signature_label"] = Meaning(step["signature"]).label
    eight_d = []
    # The states come from the process declaration (its "corrective" and "tasks" groups), never
    # from a set written here (issue 9.16).
    if corrective is not None or eight_d_open(case):
        eight_d = [
            (
                name,
                CorrectiveAction._meta.get_field(name).verbose_name,  # type: ignore[union-attr]
                getattr(corrective, name) if corrective else "",
            )
            for name in EIGHT_D_FIELDS
        ]
    return {
        "process": process,
        "steps": steps,
        "diagram": mark_safe(  # noqa: S308 - built with escape()
            _diagram(process.kind, process.version, case.state, get_language())
        ),
        "investigation": investigation,
        "corrective": corrective,
        "eight_d": eight_d,
        "can_edit_eight_d": can_edit_eight_d(user, case),
        "tasks": [(t, not t.is_done and can_complete(user, t)) for t in tasks],
        "can_give_tasks": can_give_tasks(user, case) and case.state in task_states(case),
        "approvals": [
            (a, a.state == "pending" and (user.is_superuser or user.has_role(a.role)))
            for a in approvals
        ],
        "responsible_departments": responsible_departments(case),
        "active_departments": Department.active(),
        # Only when a step asks for a person.
        "active_people": (
            people_options()
            if any(i["type"] == "user" for step in steps for i in step["inputs"])
            else ""
        ),
    }
