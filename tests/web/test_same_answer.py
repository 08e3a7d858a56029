"""The page and the API give the same answer to the same request (issue 9.4).

An unknown assignee was a 422 in the API and, on the page, a silent task for the whole
department. Both now go through ``create_task``, which refuses it; the page shows the message
on its form (422) with what was typed, and nothing is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from qloop.cases.models import Case
from qloop.org.models import User
from tests.api.test_api import ApiClient, create_token
from tests.web.test_permissions import _investigating

BAD_TASKS = [
    ({"department": "PROD", "title": "复测", "assignee": "nobody"}, "assignee"),
    ({"department": "PROD", "title": "复测", "assignee": "sales"}, "assignee"),
    ({"department": "NOPE", "title": "复测"}, "department"),
    ({"department": "PROD", "title": "  "}, "title"),
]


@pytest.fixture
def investigating(make_case: Callable[..., Case], users: dict[str, User]) -> Case:
    User.objects.filter(username="qe").update(language="en")
    case = make_case(actor="cs")
    _investigating(case, users)
    case.refresh_from_db()
    return case


@pytest.mark.parametrize(("data", "field"), BAD_TASKS)
def test_a_refused_task_is_refused_alike_on_the_page_and_in_the_api(
    data: dict[str, Any],
    field: str,
    investigating: Case,
    client_for: Callable[[str], Client],
) -> None:
    case = investigating
    api = ApiClient(create_token("qe"))

    from_api = api.post(f"/cases/{case.number}/tasks", data)
    from_page = client_for("qe").post(reverse("case-task-create", args=[case.number]), data)

    assert from_api.status_code == 422
    [error] = [e for e in from_api.json()["errors"] if e["field"] == field]
    assert from_page.status_code == 422
    page = from_page.content.decode()
    assert error["message"] in page
    assert f'value="{data["title"]}"' in page  # what was typed stays
    assert not case.tasks.exists()


def test_a_known_assignee_gets_the_task_from_the_page(
    investigating: Case, client_for: Callable[[str], Client], users: dict[str, User]
) -> None:
    response = client_for("qe").post(
        reverse("case-task-create", args=[investigating.number]),
        {"department": "PROD", "title": "复测", "assignee": "prod"},
    )
    assert response.status_code == 302
    assert investigating.tasks.get().assignee == users["prod"]
