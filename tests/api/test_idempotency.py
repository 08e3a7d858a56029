"""``Idempotency-Key`` on ``POST /api/v1/cases`` (issue 9.13): a client that retries after a
lost answer gets the first case back, never a duplicate."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from qloop.api.idempotency import remove_expired
from qloop.api.jobs import remove_expired_idempotency_keys
from qloop.api.models import IdempotencyKey
from qloop.cases.models import Case
from tests.api.test_api import ApiClient, assert_error, complaint, create_token


@pytest.fixture
def api_as(users: dict[str, Any]) -> Callable[[str], ApiClient]:
    return lambda username: ApiClient(create_token(username))


def post(api: ApiClient, body: dict[str, Any], key: str | None) -> Any:
    headers = {**api.headers, **({"Idempotency-Key": key} if key is not None else {})}
    return api.client.post("/api/v1/cases", body, content_type="application/json", headers=headers)


def test_a_retry_with_the_same_key_gets_the_first_case(
    api_as: Callable[[str], ApiClient],
) -> None:
    """The answer was lost; the client sends the same request with the same key again."""
    api = api_as("cs")
    body = complaint()
    first = post(api, body, "3f1c9a52-order-7781")
    again = post(api, body, "3f1c9a52-order-7781")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Case.objects.count() == 1
    assert Case.objects.get().number == first.json()["number"]


def test_the_same_request_reordered_is_the_same_request(
    api_as: Callable[[str], ApiClient],
) -> None:
    api = api_as("cs")
    body = complaint()
    first = post(api, body, "k1")
    reordered = dict(reversed(list(body.items())))
    assert post(api, reordered, "k1").json()["number"] == first.json()["number"]
    assert Case.objects.count() == 1


def test_another_request_with_a_used_key_is_refused_and_says_so(
    api_as: Callable[[str], ApiClient],
) -> None:
    api = api_as("cs")
    post(api, complaint(), "k1")
    response = post(api, complaint(symptom="另一起投诉：外壳裂纹"), "k1")
    error = assert_error(response, 422, "Idempotency-Key")
    assert "24" in error["detail"]
    assert Case.objects.count() == 1


def test_without_a_key_every_request_registers(api_as: Callable[[str], ApiClient]) -> None:
    api = api_as("cs")
    post(api, complaint(), None)
    post(api, complaint(), None)
    assert Case.objects.count() == 2


def test_keys_belong_to_their_person(api_as: Callable[[str], ApiClient]) -> None:
    """Two people's clients may pick the same key; each gets their own case."""
    post(api_as("cs"), complaint(), "k1")
    post(api_as("sales"), complaint(), "k1")
    assert Case.objects.count() == 2


def test_a_refused_request_keeps_no_key(api_as: Callable[[str], ApiClient]) -> None:
    """A 422 is not an answer to replay: the corrected request with the same key registers."""
    api = api_as("cs")
    bad = complaint(symptom="")
    assert_error(post(api, bad, "k1"), 422, "symptom")
    assert not IdempotencyKey.objects.exists()
    assert post(api, complaint(), "k1").status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "a\x01b"], ids=["empty", "too-long", "control"])
def test_a_key_that_is_not_a_key_is_refused(api_as: Callable[[str], ApiClient], key: str) -> None:
    response = post(api_as("cs"), complaint(), key)
    assert response.status_code == 422, response.content
    assert not Case.objects.exists()


def test_after_24_hours_a_key_is_free_again_and_old_keys_are_removed(
    api_as: Callable[[str], ApiClient], at: Callable[[dt.datetime], None]
) -> None:
    api = api_as("cs")
    start = timezone.now()
    at(start)
    body = complaint()
    first = post(api, body, "k1").json()["number"]
    at(start + dt.timedelta(hours=23, minutes=59))
    assert post(api, body, "k1").json()["number"] == first
    at(start + dt.timedelta(hours=24, minutes=1))
    second = post(api, body, "k1").json()["number"]
    assert second != first
    assert Case.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1

    post(api, body, "k2")
    at(start + dt.timedelta(hours=48, minutes=2))
    assert remove_expired_idempotency_keys.call_local() == 2
    assert remove_expired() == 0  # twice is harmless
    assert not IdempotencyKey.objects.exists()
    assert Case.objects.count() == 3  # the cases stay


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_make_one_case(users: dict[str, Any]) -> None:
    """Eight clients send the same registration with the same key at once: one case; each
    waits for the first to commit and gets its answer. PostgreSQL only: the test database of
    SQLite is one shared in-memory file whose table locks do not wait."""
    if connection.vendor != "postgresql":
        pytest.skip("runs on PostgreSQL (DATABASE_URL=postgres://…)")
    raw = create_token("cs")
    body = complaint()
    barrier = threading.Barrier(8)
    answers: list[tuple[int, str]] = []

    def client() -> None:
        try:
            api = ApiClient(raw)
            barrier.wait()
            response = post(api, body, "same-key")
            answers.append((response.status_code, response.json().get("number", "")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(answers) == 8
    assert {status for status, _number in answers} == {201}
    assert len({number for _status, number in answers}) == 1
    assert Case.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
