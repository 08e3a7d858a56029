"""The person and their roles are kept between requests (``qloop.org.kept_user``) and sessions
are read from the cache (``cached_db``), issue 14's floor: a page read again asks the database
for neither, yet every change that ends or narrows a login still takes effect on the very next
request. These tests commit for real, as a kept value is only used after a commit."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qloop.org.kept_user import _snapshot
from qloop.org.models import Membership, Role, User

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = "message-settings"


def get(client: Client) -> Any:
    client.get(reverse(PAGE))  # the first reading keeps the person
    return client.get(reverse(PAGE))


def logged_out(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_page_read_again_reads_no_session_person_or_roles(
    client_for: Callable[[str], Client],
) -> None:
    client = client_for("cs")
    client.get(reverse(PAGE))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(PAGE))
    assert response.status_code == 200
    tables = " ".join(q["sql"] for q in queries)
    for table in ("django_session", '"org_user"', "org_membership", "org_role"):
        assert table not in tables
    user = response.wsgi_request.user
    assert user.username == "cs" and user.is_authenticated
    assert user.role_codes == User.objects.get(username="cs").role_codes


def test_a_deactivated_person_is_logged_out_on_the_next_request(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    client = client_for("cs")
    assert get(client).status_code == 200
    User.objects.filter(pk=users["cs"].pk).update(is_active=False)
    assert logged_out(client.get(reverse(PAGE)))


def test_a_removed_membership_and_a_changed_role_count_on_the_next_request(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    client = client_for("cs_head")
    before = get(client).wsgi_request.user
    assert before.manages_cases and before.role_codes
    Role.objects.filter(memberships__user=users["cs_head"]).update(manages_cases=False)
    assert not client.get(reverse(PAGE)).wsgi_request.user.manages_cases
    Membership.objects.filter(user=users["cs_head"]).delete()
    assert client.get(reverse(PAGE)).wsgi_request.user.role_codes == set()


def test_a_password_changed_elsewhere_ends_the_session(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    client = client_for("qe")
    assert get(client).status_code == 200
    user = User.objects.get(pk=users["qe"].pk)
    user.set_password("another-Secret-2026")
    user.save()
    assert logged_out(client.get(reverse(PAGE)))
    assert "_auth_user_id" not in client.session  # flushed, as Django does


def test_a_session_cookie_is_worth_nothing_after_logout(
    client_for: Callable[[str], Client],
) -> None:
    client = client_for("cs")
    assert get(client).status_code == 200
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.post(reverse("logout")).status_code == 302
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert logged_out(replay.get(reverse(PAGE)))


def test_an_expired_session_is_not_read_from_the_cache(
    client_for: Callable[[str], Client],
) -> None:
    client = client_for("cs")
    session = client.session
    session.set_expiry(1)
    session.save()
    assert get(client).status_code == 200
    time.sleep(1.2)
    assert logged_out(client.get(reverse(PAGE)))


def test_a_session_of_another_person_or_a_forged_hash_is_refused(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    client = client_for("cs")
    assert get(client).status_code == 200
    session = client.session
    session["_auth_user_hash"] = "0" * 64
    session.save()
    assert logged_out(client.get(reverse(PAGE)))


def test_the_kept_copy_holds_no_password_hash(users: dict[str, User]) -> None:
    entry = _snapshot(users["cs"].pk)
    assert entry is not None
    names, values, _hash, _roles = entry
    assert "password" not in names and "last_login" not in names
    assert users["cs"].password not in values
    assert _snapshot(10**9) is None


def test_a_copy_kept_with_other_columns_is_not_used(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    """``from_db`` pairs values with columns by order: a copy kept by a release with other
    columns would shift them (``is_active`` taking another column's value), so it is read
    afresh instead."""
    import qloop
    from qloop import freshness
    from qloop.org.kept_user import _secret_tag

    client = client_for("cs")
    assert get(client).status_code == 200
    key = f"qloop:person:{users['cs'].pk}:{_secret_tag(settings.SECRET_KEY)}"
    key = f"{key}:{qloop.__version__}:{freshness.KEPT_FORMAT}"
    version, (names, values, auth_hash, roles) = cache.get(key)
    cache.set(
        key, (version, (["id", "gone", *names[1:]], [values[0], 1, *values[1:]], auth_hash, roles))
    )
    response = client.get(reverse(PAGE))
    assert response.status_code == 200
    user = response.wsgi_request.user
    assert user.username == "cs" and user.is_active
    assert "password" in user._wrapped.__dict__  # read by Django's own get_user


def test_the_person_and_the_badge_come_in_one_cache_read(
    client_for: Callable[[str], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for("cs")
    get(client)
    reads: list[list[str]] = []
    original = cache.get_many

    def counted(keys: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(list(keys))
        return original(keys, *args, **kwargs)

    monkeypatch.setattr(cache, "get_many", counted)
    assert client.get(reverse(PAGE)).status_code == 200
    assert len(reads) == 1, reads
    assert any(":badge:" in key for key in reads[0]) and any(":person:" in key for key in reads[0])


def test_a_value_read_ahead_is_not_used_after_this_process_changed_something() -> None:
    """A request that commits a write after the read-ahead shows figures read afresh."""
    from qloop import freshness

    freshness.kept("qloop:test-ahead", lambda: "before")
    ahead = freshness.ReadAhead(["qloop:test-ahead"])
    assert freshness.kept("qloop:test-ahead", lambda: "fresh", ahead) == "before"
    freshness.changed()
    assert freshness.kept("qloop:test-ahead", lambda: "after", ahead) == "after"
    assert freshness.kept("qloop:other", lambda: "other", ahead) == "other"


def test_a_write_to_a_case_leaves_the_kept_person_in_place(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    """Only writes to the people's tables move the people version: after a case is written,
    the next page reads neither the person nor their roles (its badge is counted afresh)."""
    from qloop.cases.models import Contact

    client = client_for("cs")
    get(client)
    Contact.objects.create(name="王五", phone="13800000000")  # a committed write elsewhere
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(PAGE))
    assert response.status_code == 200
    tables = " ".join(q["sql"] for q in queries)
    assert '"org_user"' not in tables and "org_membership" not in tables
    assert response.wsgi_request.user.role_codes == users["cs"].role_codes


def test_a_department_renamed_counts_on_the_next_request(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    from qloop.org.models import Department

    client = client_for("cs")
    before = get(client).wsgi_request.user._role_flags()["department_codes"]
    assert before
    Department.objects.filter(memberships__user=users["cs"]).update(code="renamed-x")
    after = client.get(reverse(PAGE)).wsgi_request.user._role_flags()["department_codes"]
    assert after == {"renamed-x"}


def test_a_statement_of_unknown_shape_moves_the_kept_people(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    client = client_for("cs")
    get(client)
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH x AS (SELECT 1) UPDATE org_user SET is_active = false WHERE id = %s",
            [users["cs"].pk],
        )
    assert logged_out(client.get(reverse(PAGE)))


def test_person_is_the_user_behind_the_lazy_stand_in(users: dict[str, User]) -> None:
    """``person(request)`` gives actions the person itself: the same user the middleware's
    lazy ``request.user`` stands for, anonymous when logged out, and a ``request.user`` set
    without the middleware as it is."""
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.test import RequestFactory
    from django.utils.functional import SimpleLazyObject

    from qloop.org.kept_user import KeptUserAuthenticationMiddleware, person

    def through_middleware(login: User | None) -> Any:
        request = RequestFactory().get("/")
        SessionMiddleware(lambda r: None).process_request(request)  # type: ignore[arg-type, return-value]
        if login is not None:
            from django.contrib.auth import login as log_in

            log_in(request, login, backend="django.contrib.auth.backends.ModelBackend")
            request.session.save()
        KeptUserAuthenticationMiddleware(lambda r: None).process_request(request)  # type: ignore[arg-type, return-value]
        assert type(request.user) is SimpleLazyObject
        return request

    request = through_middleware(users["cs"])
    found = person(request)
    assert type(found) is User and found.pk == users["cs"].pk
    assert found is person(request) and found.username == request.user.username
    assert isinstance(person(through_middleware(None)), AnonymousUser)
    plain = RequestFactory().get("/")
    plain.user = users["qe"]
    assert person(plain) is users["qe"]
