"""Tasks handed to departments inside a case (R1.8): given by Quality, done by the department."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop import inputs
from qloop.cases import access
from qloop.cases.models import Case, Event
from qloop.notify.actions import notify, people_in
from qloop.org.models import Department, User
from qloop.process.definitions import process_for
from qloop.process.errors import Conflict
from qloop.process.models import Task


def _investigators(case: Case) -> frozenset[str]:
    """Who give departments tasks in this case (R1.8): its process's "quality" roles."""
    return process_for(case.kind, case.process_version).role_set("quality")


def task_states(case: Case) -> frozenset[str]:
    return process_for(case.kind, case.process_version).states_in("tasks")


def can_give_tasks(user: User, case: Case) -> bool:
    return (user.is_superuser or user.has_role(*_investigators(case))) and not case.is_archived


def can_complete(user: User, task: Task) -> bool:
    return (
        user.is_superuser
        or task.assignee_id == user.pk
        or task.department_id in user.department_ids
        or user.has_role(*_investigators(task.case))
    )


def create_task(
    case: Case,
    *,
    department: str,
    title: str,
    actor: User,
    due: dt.date | None = None,
    assignee: str = "",
) -> Task:
    """Give a department (and, optionally, one of its people by user name) a task in the case.

    The action itself checks that the actor may see the case and give tasks, and resolves the
    assignee, so the page and the API refuse the same input the same way (issue 9.4)."""
    access.check_can_see(actor, case)
    if not can_give_tasks(actor, case):
        raise PermissionDenied
    if case.state not in task_states(case):
        raise Conflict(_("Tasks are given during investigation and corrective action."))
    inputs.check_texts({"department": department, "title": title, "assignee": assignee})
    inputs.check_dates({"due": due})
    errors: dict[str, list[str]] = {}
    dept = Department.objects.filter(code=department, is_active=True).first()
    if not department:
        errors["department"] = [_("Choose a department.")]
    elif dept is None:
        errors["department"] = [_("Unknown department.")]
    title = title.strip()
    if not title:
        errors["title"] = [_("Say what is to be done.")]
    person = None
    if assignee.strip():
        person = User.objects.filter(username=assignee.strip(), is_active=True).first()
        if person is None:
            errors["assignee"] = [_("There is no active person with this user name.")]
        elif dept is not None and dept.pk not in person.department_ids:
            errors["assignee"] = [_("The assignee is not in this department.")]
    if errors:
        raise ValidationError(errors)
    assert dept is not None
    with transaction.atomic():
        task = Task.objects.create(
            case=case,
            department=dept,
            assignee=person,
            title=title[:200],
            due=due,
            created_by=actor,
        )
        Event.objects.create(
            case=case,
            actor=actor,
            verb="task_created",
            data={
                "task": task.pk,
                "department": dept.code,
                "title": task.title,
                "due": due.isoformat() if due else None,
            },
        )
        notify(
            [person] if person else people_in([dept.code]),
            kind="task_assigned",
            case=case,
            data={"number": case.number, "title": task.title},
            exclude=actor,
        )
    return task


def complete_task(task: Task, result: str, *, actor: User) -> Task:
    access.check_can_see(actor, task.case)
    if not can_complete(actor, task):
        raise PermissionDenied
    inputs.check_texts({"result": result})
    result = result.strip()
    if not result:
        raise ValidationError({"result": [_("Say what was done.")]})
    with transaction.atomic():
        task = Task.objects.select_for_update().select_related("case").get(pk=task.pk)
        if task.done_at is not None:
            raise Conflict(_("This task is already done."))
        task.done_at, task.done_by, task.result = timezone.now(), actor, result
        task.save(update_fields=["done_at", "done_by", "result"])
        Event.objects.create(
            case=task.case,
            actor=actor,
            verb="task_done",
            comment=result,
            data={"task": task.pk, "title": task.title},
        )
        notify(
            [task.created_by],
            kind="task_done",
            case=task.case,
            data={"number": task.case.number, "title": task.title},
            exclude=actor,
        )
    return task
