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
