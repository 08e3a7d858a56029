"""Wrong passwords are limited (issue 9 point 5): /login/, /admin/login/ and e-signatures count
together, by user name AND client address, so a stranger locks out only their own address;
the lock-out says until when, in the reader's language; behind the TLS proxy the address is the
one the proxy saw; administrators see and clear lock-outs.

The concurrent case (many wrong passwords at once) is in test_login_limits_concurrent.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import Client
from django.urls import reverse

from qloop.cases.models import Case
from qloop.org.models import User
from qloop.process.engine import take_transition
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

STRANGER = "203.0.113.66"
OFFICE = "10.20.0.5"
LOCKED_EN = "Too many wrong passwords for this user name from this address. Try again after"


@pytest.fixture(autouse=True)
def _three_attempts(settings: Any) -> None:
    settings.QLOOP_LOGIN_ATTEMPTS = 3


def browser(address: str = OFFICE, language: str = "en", **headers: str) -> Client:
    client = Client(REMOTE_ADDR=address, **headers)
    client.cookies["django_language"] = language
    return client


def log_in(client: Client, username: str, password: str, *, admin: bool = False) -> Any:
    url = reverse("admin:login") if admin else reverse("login")
    return client.post(url, {"username": username, "password": password})


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def page(response: Any) -> str:
    return response.content.decode()


def test_the_right_password_is_refused_after_too_many_wrong_ones_and_says_until_when(
    users: dict[str, User],
) -> None:
    client = browser()
    for _ in range(2):
        answer = log_in(client, "cs", "wrong-password")
        assert answer.status_code == 200 and LOCKED_EN not in page(answer)
    third = log_in(client, "cs", "wrong-password")  # the one that reaches the limit

    refused = log_in(client, "cs", PASSWORD)

    for answer in (third, refused):
        assert answer.status_code == 429
        assert LOCKED_EN in page(answer)
        assert re.search(r"Try again after \d\d:\d\d \(in 15 minutes\)", page(answer))
        assert 14 * 60 < int(answer["Retry-After"]) <= 15 * 60
    assert not logged_in(client)
    # Someone else at the same computer is not locked out.
    assert log_in(browser(), "qe", PASSWORD).status_code == 302


def test_the_lock_out_is_in_chinese_by_default(users: dict[str, User]) -> None:
    client = Client(REMOTE_ADDR=OFFICE)
    for _ in range(3):
        log_in(client, "cs", "wrong-password")

    answer = log_in(client, "cs", PASSWORD)

    assert answer.status_code == 429
    assert "此用户名从此地址输错密码的次数过多" in page(answer)


def test_fewer_wrong_passwords_than_the_limit_and_then_the_right_one_logs_in_and_forgets(
    users: dict[str, User],
) -> None:
    client = browser()
    for _ in range(2):
        log_in(client, "cs", "wrong-password")

    assert log_in(client, "cs", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="cs").exists()
    assert AccessLog.objects.filter(username="cs", ip_address=OFFICE).exists()
    assert AccessFailureLog.objects.filter(username="cs").count() == 2


def test_a_stranger_elsewhere_cannot_lock_the_real_user_out(users: dict[str, User]) -> None:
    stranger = browser(STRANGER)
    for _ in range(5):
        log_in(stranger, "cs", "guess")
    assert log_in(stranger, "cs", PASSWORD).status_code == 429

    office = browser(OFFICE)
    assert log_in(office, "cs", PASSWORD).status_code == 302
    assert logged_in(office)


def test_the_administration_login_is_limited_and_counts_with_the_other_login_page(
    users: dict[str, User],
) -> None:
    client = browser()
    log_in(client, "admin", "wrong-password")
    log_in(client, "admin", "wrong-password", admin=True)
    log_in(client, "admin", "wrong-password")

    answer = log_in(client, "admin", PASSWORD, admin=True)

    assert answer.status_code == 429
    assert LOCKED_EN in page(answer)
    assert 'id="login-form"' in page(answer)  # the administration's own login page
    assert not logged_in(client)
    assert log_in(browser(STRANGER), "admin", PASSWORD, admin=True).status_code == 302


# E-signatures ---------------------------------------------------------------------------------


@pytest.fixture
def investigating(complaint: Case, users: dict[str, User]) -> Case:
    """A complaint with Quality, where the quality head may sign "not ours"."""
    return take_transition(
        complaint, "forward_to_quality", {"analysis": "疑似密封件问题"}, actor=users["cs"]
    )


def sign_on_the_page(client: Client, case: Case, password: str) -> Any:
    return client.post(
        reverse("case-transition", args=[case.number, "dispose_not_ours"]),
        {
            "findings": "安装不当",
            "signature_password": password,
            "signature_meaning": "approved",
        },
    )


def test_wrong_signatures_count_with_wrong_logins_from_the_same_address(
    investigating: Case, users: dict[str, User]
) -> None:
    head = browser()
    assert log_in(head, "qa_head", PASSWORD).status_code == 302
    log_in(browser(), "qa_head", "wrong-password")  # a typo at the login page this morning

    wrong = sign_on_the_page(head, investigating, "wrong-password")
    assert wrong.status_code == 422
    assert "The password is wrong; nothing was signed." in page(wrong)
    sign_on_the_page(head, investigating, "wrong-password")  # the third: the limit

    refused = sign_on_the_page(head, investigating, PASSWORD)

    assert refused.status_code == 422  # the case page, with the reason at the step
    assert LOCKED_EN in page(refused)
    investigating.refresh_from_db()
    assert investigating.state == "investigating"
    assert log_in(browser(), "qa_head", PASSWORD).status_code == 429  # and logging in
    # From another address the quality head signs.
    elsewhere = browser(STRANGER)
    elsewhere.force_login(users["qa_head"])
    assert sign_on_the_page(elsewhere, investigating, PASSWORD).status_code == 302
    investigating.refresh_from_db()
    assert investigating.state == "cs_handling"


def test_a_right_signature_forgets_the_wrong_passwords(
    investigating: Case, users: dict[str, User]
) -> None:
    head = browser()
    head.force_login(users["qa_head"])
    for _ in range(2):
        log_in(browser(), "qa_head", "wrong-password")

    assert sign_on_the_page(head, investigating, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="qa_head").exists()


def test_wrong_signatures_through_the_api_are_counted_by_the_same_rule(
    investigating: Case, users: dict[str, User]
) -> None:
    from tests.api.test_api_auth import create_token

    token = create_token("qa_head")
    api = Client(REMOTE_ADDR=OFFICE, headers={"Authorization": f"Bearer {token}"})
    url = f"/api/v1/cases/{investigating.number}/transitions/dispose_not_ours"

    def sign(password: str) -> Any:
        return api.post(
            url,
            {"findings": "安装不当", "signature": {"password": password, "meaning": "approved"}},
            content_type="application/json",
        )

    for _ in range(3):
        wrong = sign("wrong-password")
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "signature.password"
    refused = sign(PASSWORD)

    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "signature"
    assert "此用户名从此地址输错密码的次数过多" in refused.json()["detail"]
    assert log_in(browser(), "qa_head", PASSWORD).status_code == 429


# The client's address behind the TLS proxy -----------------------------------------------------

ADDRESS_SCRIPT = """
import sys
import django
django.setup()
from django.http import HttpRequest
from qloop.org.attempts import client_address
for forwarded_for in sys.argv[1:]:
    request = HttpRequest()
    request.META = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": forwarded_for}
    print(client_address(request))
"""


def addresses_seen(forwarded_for: list[str], **env: str) -> list[str]:
    """The addresses the limits count for each X-Forwarded-For (from 127.0.0.1, the proxy),
    with the settings settings.py makes from ``env``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QLOOP_PROX")}
    environment.pop("QLOOP_BEHIND_TLS_PROXY", None)
    environment |= {"DJANGO_SETTINGS_MODULE": "qloop.settings", **env}
    done = subprocess.run(
        [sys.executable, "-c", ADDRESS_SCRIPT, *forwarded_for],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-len(forwarded_for) :]


def test_the_address_is_the_proxys_header_only_behind_the_proxy() -> None:
    # Without the proxy, anyone may write the header: it is never read.
    assert addresses_seen(["10.20.0.5"]) == ["127.0.0.1"]
    # Behind it, the address the proxy added (the last); what the client wrote before it
    # (a forged colleague's address, a public one) is skipped.
    assert addresses_seen(
        ["10.20.0.5", "10.20.0.5, 203.0.113.66", "8.8.8.8, 10.20.0.77"],
        QLOOP_BEHIND_TLS_PROXY="true",
    ) == ["10.20.0.5", "203.0.113.66", "10.20.0.77"]
    # Two proxies (a load balancer, then the TLS proxy): one more entry is the proxies'.
    assert addresses_seen(
        ["10.20.0.5, 203.0.113.66, 10.0.0.2"], QLOOP_BEHIND_TLS_PROXY="true", QLOOP_PROXIES="2"
    ) == ["203.0.113.66"]


def test_behind_the_proxy_a_forged_header_locks_out_only_the_forger(
    users: dict[str, User], settings: Any
) -> None:
    # What settings.py sets with QLOOP_BEHIND_TLS_PROXY=true and one proxy.
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0
    # Every request arrives from the proxy; it appends the address it was reached from.
    forger = browser("127.0.0.1", HTTP_X_FORWARDED_FOR=f"{OFFICE}, {STRANGER}")
    for _ in range(4):
        log_in(forger, "cs", "guess")
    assert log_in(forger, "cs", PASSWORD).status_code == 429

    colleague = browser("127.0.0.1", HTTP_X_FORWARDED_FOR=OFFICE)
    assert log_in(colleague, "cs", PASSWORD).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {STRANGER}


# Administrators ----------------------------------------------------------------------------------


def test_administrators_see_lock_outs_and_clear_them(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    stranger = browser(STRANGER)
    for _ in range(3):
        log_in(stranger, "cs", "guess")
    admin = client_for("admin")
    admin.cookies["django_language"] = "en"
    users["admin"].language = "en"
    users["admin"].save(update_fields=["language"])
    changelist = reverse("admin:axes_accessattempt_changelist")

    listed = page(admin.get(changelist))
    assert STRANGER in listed and ">cs<" in listed
    assert re.search(r"\d\d:\d\d", listed)  # locked out until
    attempt = AccessAttempt.objects.get()
    # Read-only: nothing is added or edited here.
    assert admin.get(reverse("admin:axes_accessattempt_add")).status_code == 403
    change = reverse("admin:axes_accessattempt_change", args=[attempt.pk])
    admin.post(change, {"failures_since_start": 0})
    attempt.refresh_from_db()
    assert attempt.failures_since_start == 3

    admin.post(
        changelist,
        {"action": "clear_lockout", "_selected_action": [attempt.pk], "index": 0},
    )

    assert not AccessAttempt.objects.exists()
    assert log_in(stranger, "cs", PASSWORD).status_code == 302


def test_only_administrators_see_the_attempts(client_for: Callable[[str], Client]) -> None:
    for persona in ("cs", "qa_head", "gm"):
        answer = client_for(persona).get(reverse("admin:axes_accessattempt_changelist"))
        assert answer.status_code == 302 and "/admin/login/" in answer["Location"]
