"""Who may write through the API (issue 9 point 6): every write without a token, or with a
wrong or revoked one, is 401 with ``WWW-Authenticate: Bearer`` and a JSON detail, and changes
nothing; the browser's own session may write only with its CSRF token.

Django's test client skips CSRF checks unless asked, which is how a 403 "CSRF check Failed"
went unseen: these clients check CSRF as a real server does. The operations come from the
OpenAPI document, so a write added later is covered without editing this file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from qloop.api.api import api
from qloop.cases.models import Case, Event
from qloop.org.models import ApiToken, User
from qloop.process.models import Task

pytestmark = pytest.mark.django_db

WRITE_METHODS = {"post", "put", "patch", "delete"}


def write_operations() -> list[tuple[str, str]]:
    """(method, path) of every write in the API, path parameters filled with "1"."""
    schema = api.get_openapi_schema()
    found = []
    for path, operations in schema["paths"].items():
        for method in operations:
            if method in WRITE_METHODS:
                found.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return sorted(found)


WRITES = write_operations()


def test_the_api_has_the_writes_this_file_checks() -> None:
    assert ("POST", "/api/v1/cases") in WRITES
    assert ("POST", "/api/v1/cases/1/transitions/1") in WRITES


def create_token(username: str) -> str:
    out = io.StringIO()
    call_command("token", "create", username, stdout=out)
    return out.getvalue().strip()


def fingerprint() -> tuple[int, int, int]:
    return Case.objects.count(), Event.objects.count(), Task.objects.count()


def send(client: Client, method: str, path: str, headers: dict[str, str]) -> Any:
    return client.generic(method, path, b"{}", content_type="application/json", headers=headers)


def assert_401(response: Any) -> None:
    assert response.status_code == 401, (response.status_code, response.content[:200])
    assert response["WWW-Authenticate"] == "Bearer"
    assert response["Content-Type"].startswith("application/json")
    assert "Bearer" in response.json()["detail"]


@pytest.fixture
def revoked_token(users: dict[str, User], client_for: Callable[[str], Client]) -> str:
    raw = create_token("cs")
    ApiToken.objects.update(revoked_at=ApiToken.objects.get().created_at)
    return raw


@pytest.mark.parametrize("method,path", WRITES)
def test_a_write_without_a_valid_token_is_401_and_changes_nothing(
    method: str, path: str, users: dict[str, User], revoked_token: str
) -> None:
    before = fingerprint()
    for authorization in (None, "Bearer ql_not-a-real-token", f"Bearer {revoked_token}", "Basic x"):
        client = Client(enforce_csrf_checks=True)
        headers = {"Authorization": authorization} if authorization else {}
        assert_401(send(client, method, path, headers))
    assert fingerprint() == before


@pytest.mark.parametrize("method,path", WRITES)
def test_a_token_gets_past_authentication_without_csrf(
    method: str, path: str, users: dict[str, User]
) -> None:
    token = create_token("admin")
    response = send(
        Client(enforce_csrf_checks=True), method, path, {"Authorization": f"Bearer {token}"}
    )
    # What follows is the operation's own answer (404 for case "1", 422 for an empty body).
    assert response.status_code not in (401, 403), (response.status_code, response.content[:200])


@pytest.mark.parametrize("method,path", WRITES)
def test_the_browser_session_writes_only_with_its_csrf_token(
    method: str, path: str, users: dict[str, User]
) -> None:
    users["admin"].language = "en"
    users["admin"].save(update_fields=["language"])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["admin"])
    browser.get("/my-work/")  # the page that would send the request sets the CSRF cookie
    before = fingerprint()

    refused = send(browser, method, path, {})

    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "The page's security token is missing or old: reload the page and try again."
    )
    assert fingerprint() == before
    allowed = send(browser, method, path, {"X-CSRFToken": browser.cookies["csrftoken"].value})
    assert allowed.status_code not in (401, 403), (allowed.status_code, allowed.content[:200])


def test_a_wrong_token_beside_a_logged_in_session_is_still_401(users: dict[str, User]) -> None:
    """A program that sends a token is judged by the token alone, not by cookies it carries."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["cs"])
    browser.get("/my-work/")

    response = send(
        browser,
        "POST",
        "/api/v1/cases",
        {"Authorization": "Bearer ql_wrong", "X-CSRFToken": browser.cookies["csrftoken"].value},
    )

    assert_401(response)
