"""My work's queues and the badge's counts are compiled once per person (``access.personal_rows``,
issue 14) and must say exactly what the querysets say, built afresh: for every demo persona of
the manufacturer and the hospital, read twice (the second time from the kept SQL); and a change
to a person's role, memberships or account shows at once on My work."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from qloop.cases.filters import page_ids
from qloop.cases.models import Case
from qloop.cases.queues import (
    badge_queue_counts,
    corrective_follow_up,
    my_work_count,
    my_work_ids,
    my_work_lists,
    my_work_queryset,
    open_tasks_for,
)
from qloop.org.models import Membership, Role, User
from qloop.process.engine import approvals_for
from qloop.reports.queues import improvement_actions_for, reports_waiting_for
from tests.clinical.conftest import hospital, report  # noqa: F401 (fixtures)
from tests.web.test_my_work_visibility import PERSONAS, cases_everywhere  # noqa: F401


def fresh(user: User) -> User:
    """The person as the next request reads them."""
    return User.objects.get(pk=user.pk)


def built_afresh(user: User) -> dict[str, Any]:
    """What the querysets say, compiled now."""
    return {
        "lists": {
            "approvals": list(approvals_for(user)[:20]),
            "reports": list(reports_waiting_for(user)[:20]),
            "tasks": list(open_tasks_for(user)[:50]),
            "improvement_actions": list(improvement_actions_for(user)[:50]),
            "follow_up": list(corrective_follow_up(user)[:50]),
        },
        "ids": page_ids(my_work_queryset(user), 1, 50),
        "second_page": page_ids(my_work_queryset(user), 2, 1),
        "counts": {
            "approvals": approvals_for(user).count(),
            "cases": my_work_queryset(user).count(),
            "tasks": open_tasks_for(user).count(),
            "reports": reports_waiting_for(user).count(),
            "improvement_actions": improvement_actions_for(user).count(),
        },
    }


def prepared(user: User) -> dict[str, Any]:
    return {
        "lists": my_work_lists(user),
        "ids": my_work_ids(user, 1, 50),
        "second_page": my_work_ids(user, 2, 1),
        "counts": badge_queue_counts(user) | {"cases": my_work_count(user)},
    }


def test_every_persona_reads_what_the_querysets_say(
    hospital: dict[str, Any],  # noqa: F811
    cases_everywhere: dict[str, Case],  # noqa: F811
) -> None:
    listed = 0
    for persona in PERSONAS:
        user = fresh(hospital[persona])
        expected = built_afresh(user)
        for _ in range(2):  # compiled, then run from the kept SQL
            assert prepared(fresh(user)) == expected, persona
        listed += len(expected["ids"]) + sum(len(rows) for rows in expected["lists"].values())
    assert listed  # the personas have work waiting, not only empty queues


def test_the_rows_are_those_django_builds(
    hospital: dict[str, Any],  # noqa: F811
    cases_everywhere: dict[str, Case],  # noqa: F811
) -> None:
    """The same joined rows as the queryset's: the template reads them without a query."""
    prod = fresh(hospital["prod"])  # Production's task in the complaint under investigation
    (task,) = my_work_lists(prod)["tasks"]
    (afresh,) = open_tasks_for(prod)[:50]
    assert task.case.number == afresh.case.number
    assert task.department.code == afresh.department.code
    assert "case" in task._state.fields_cache and "department" in task._state.fields_cache


def shown_fresh(client: Client, user: User) -> set[str]:
    """My work as the client sees it, checked against the querysets built afresh for the
    person as they are now; returns the case numbers it lists (rows and tasks)."""
    response = client.get(reverse("my-work"))
    assert response.status_code == 200
    now = fresh(user)
    expected = built_afresh(now)
    context = response.context
    assert [case.pk for case in context["page"].items] == expected["ids"]
    for name, rows in expected["lists"].items():
        assert context[name] == rows, name
    assert context["my_work_count"] == sum(expected["counts"].values())
    return {case.number for case in context["page"].items} | {
        task.case.number for task in context["tasks"]
    }


def test_a_role_change_a_removed_membership_and_a_deactivated_account_show_at_once(
    hospital: dict[str, Any],  # noqa: F811
    cases_everywhere: dict[str, Case],  # noqa: F811
) -> None:
    investigating = cases_everywhere["investigating"]
    qe, prod = hospital["qe"], hospital["prod"]
    qe_client, prod_client = Client(), Client()
    qe_client.force_login(qe)
    prod_client.force_login(prod)
    assert investigating.number in shown_fresh(qe_client, qe)  # his role's step
    assert investigating.number in shown_fresh(prod_client, prod)  # Production's task

    # The quality engineer becomes a salesman: the step is no longer his.
    Membership.objects.filter(user=qe).update(role=Role.objects.get(code="supply_sales"))
    assert investigating.number not in shown_fresh(qe_client, qe)

    # Production's only membership removed: no department's task any more.
    (membership,) = Membership.objects.filter(user=prod)
    membership.delete()
    assert investigating.number not in shown_fresh(prod_client, prod)
    Membership.objects.create(user=prod, department=membership.department, role=membership.role)
    assert investigating.number in shown_fresh(prod_client, prod)

    # The account switched off: signed out at once.
    User.objects.filter(pk=prod.pk).update(is_active=False)
    response = prod_client.get(reverse("my-work"))
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_general_managers_approvals_follow_his_role(
    hospital: dict[str, Any],  # noqa: F811
    cases_everywhere: dict[str, Case],  # noqa: F811
) -> None:
    """An approval waiting for the general manager's role leaves his My work when the role
    does, and comes back with it."""
    gm = hospital["gm"]
    client = Client()
    client.force_login(gm)
    approvals = client.get(reverse("my-work")).context["approvals"]
    expected = list(approvals_for(fresh(gm))[:20])
    assert approvals == expected
    memberships = list(Membership.objects.filter(user=gm).values("department_id", "role_id"))
    Membership.objects.filter(user=gm).delete()
    assert client.get(reverse("my-work")).context["approvals"] == []
    for row in memberships:
        Membership.objects.create(user=gm, **row)
    assert client.get(reverse("my-work")).context["approvals"] == expected
