"""The smallest end-to-end check: a persona registers a complaint and finds it (R1.1, X2)."""

from __future__ import annotations

from typing import Any


def test_registered_complaint_lands_in_cs_queue_numbered(make_case: Any, users: Any) -> None:
    case = make_case(actor="prod")
    assert case.number.startswith("QC-")
    assert case.department.code == "CS"
    assert case.state == "new"
    assert case.events.filter(verb="registered").count() == 1
