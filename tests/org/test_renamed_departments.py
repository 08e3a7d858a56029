"""Departments are configuration, not code (X1, issue 9.16): an organisation that calls
Customer Service "KFB" and Supply and Sales "GXB" gets the same system.

Which department takes in which kind comes from ``Department.intake_kinds``
(``Department.intake_for``), who does what from the roles the process declares
(``Process.roles``) and when from its state groups (``Process.state_groups``); nothing reads a
department code written in the code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from qloop.cases.models import Case
from qloop.customers.access import can_use_directory
from qloop.org.models import Department, User
from qloop.process.engine import take_transition
from qloop.reports.access import can_draft
from qloop.surveys.access import can_manage_surveys
from tests.api.test_api import ApiClient, complaint, create_token
from tests.web.test_views import registration_form

RENAMED = {"CS": "KFB", "SALES": "GXB", "QA": "PZB", "PROD": "SCB"}


@pytest.fixture
def renamed(users: dict[str, User]) -> dict[str, User]:
    for old, new in RENAMED.items():
        Department.objects.filter(code=old).update(code=new)
    for user in users.values():
        if isinstance(user, User):
            user.forget_roles()
    return users


def test_complaints_and_feedback_land_in_the_renamed_intake_departments(
    renamed: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    client_for("qe").post(reverse("case-create"), registration_form())
    api = ApiClient(create_token("cs"))
    feedback = api.post("/cases", complaint(kind="feedback", extra={}))

    assert feedback.status_code == 201, feedback.content
    assert Case.objects.get(kind="complaint").department.code == "KFB"
    assert Case.objects.get(kind="feedback").department.code == "GXB"


def test_the_renamed_departments_keep_their_work(
    renamed: dict[str, User], make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    case = make_case(actor="cs")
    take_transition(case, "assign", {"handler": "cs"}, actor=renamed["cs_head"])
    take_transition(case, "forward_to_quality", {"analysis": "需品质部调查"}, actor=renamed["cs"])
    case.refresh_from_db()
    quality = client_for("qe")

    given = quality.post(
        reverse("case-task-create", args=[case.number]), {"department": "SCB", "title": "复测"}
    )

    assert given.status_code == 302
    task = case.tasks.get()
    assert task.department.code == "SCB"
    # Production sees the case through its task and finds the task in its work.
    production = client_for("prod")
    assert production.get(reverse("case-detail", args=[case.number])).status_code == 200
    assert "复测" in production.get(reverse("my-work")).content.decode()


def test_supply_and_sales_keeps_surveys_reports_and_the_directory(
    renamed: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    sales: Any = renamed["sales"]
    assert can_manage_surveys(sales)
    assert can_draft(sales)
    assert can_use_directory(sales)
    assert not can_manage_surveys(renamed["prod"])
    assert client_for("sales").get(reverse("survey-home")).status_code == 200
