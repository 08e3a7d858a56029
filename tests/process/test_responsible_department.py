"""The department a case waits for follows its state (issue 12 point 8, R1.1, R1.3–R1.5): read
from the process definition (whose step moves it on) and the organisation (who holds those
roles), never from the intake department the case belongs to."""

from __future__ import annotations

from typing import Any

import pytest

from qloop.cases.models import Case
from qloop.process.audience import responsible_departments
from qloop.process.definitions import CS, QUALITY, SUPERIOR, SUPPLY_SALES, process_for

COMPLAINT = {
    "new": {"CS"},
    "cs_review": {"CS"},
    "investigating": {"QA"},
    "cs_handling": {"CS"},
    "corrective_action": {"QA"},
    "implementing": {"QA"},
    "standardising": {"QA"},
    "ready_to_close": {"CS"},
    "closed": set(),
}
FEEDBACK = {"new": {"SALES"}, "handling": {"SALES"}, "escalated": {"GM"}, "closed": set()}


def test_the_roles_that_move_a_complaint_on_come_from_its_transitions() -> None:
    process = process_for("complaint")
    assert process.moved_on_by("investigating") == QUALITY
    assert process.moved_on_by("cs_review") == CS  # answer_customer stays: it does not count
    assert process.moved_on_by("implementing") == QUALITY  # the owner's progress note neither
    assert process.moved_on_by("closed") == frozenset()
    assert process_for("feedback").moved_on_by("escalated") == SUPERIOR
    assert process_for("feedback").moved_on_by("handling") == SUPPLY_SALES


@pytest.mark.parametrize(
    ("kind", "state", "expected"),
    [("complaint", s, d) for s, d in COMPLAINT.items()]
    + [("feedback", s, d) for s, d in FEEDBACK.items()],
)
def test_each_state_names_the_department_it_waits_for(
    make_case: Any, kind: str, state: str, expected: set[str]
) -> None:
    case = make_case(kind=kind)
    Case.objects.filter(pk=case.pk).update(state=state)
    case.refresh_from_db()
    assert {d.code for d in responsible_departments(case)} == expected
    # The intake department stays the case's owner (R1.1) whatever the state.
    assert case.department.code == ("CS" if kind == "complaint" else "SALES")


def test_kept_departments_follow_memberships_roles_and_departments(
    make_case: Any, users: dict[str, Any]
) -> None:
    """Each process keeps the answer (qloop.org.refdata, issue 14); every change under it shows
    on the next read, whether made by ``save()``, ``delete()`` or a queryset ``update()``."""
    from qloop.org.models import Department, Membership, Role

    case = make_case()
    Case.objects.filter(pk=case.pk).update(state="investigating")
    case.refresh_from_db()
    assert [d.code for d in responsible_departments(case)] == ["QA"]

    lab = Department.objects.create(code="LABX", name="检测室")
    qa_role = Role.objects.get(code="quality_engineer")
    joined = Membership.objects.create(user=users["gm"], department=lab, role=qa_role)
    assert [d.code for d in responsible_departments(case)] == ["LABX", "QA"]

    Department.objects.filter(pk=lab.pk).update(is_active=False)
    assert [d.code for d in responsible_departments(case)] == ["QA"]
    Department.objects.filter(pk=lab.pk).update(is_active=True)
    assert [d.code for d in responsible_departments(case)] == ["LABX", "QA"]

    joined.delete()
    assert [d.code for d in responsible_departments(case)] == ["QA"]

    Membership.objects.create(user=users["gm"], department=lab, role=qa_role)
    assert [d.code for d in responsible_departments(case)] == ["LABX", "QA"]
    # the process names roles by their code: under another code gm's role no longer counts
    Role.objects.filter(pk=qa_role.pk).update(code="qa-renamed")
    assert [d.code for d in responsible_departments(case)] == ["QA"]
