"""What an error shows (issue 9 point 8): DEBUG's page never shows a secret, and without DEBUG
the 404 and 500 pages are QLoop's own, in the reader's language."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings

from qloop.settings import email_server

pytestmark = pytest.mark.django_db

MAIL_PASSWORD = "Mail-Pa55-9271"
SECRETS = {
    "EMAIL_URL": f"smtps://qloop%40example.cn:{MAIL_PASSWORD}@smtp.exmail.qq.com:465",
    "DATABASE_URL": "postgres://qloop:Db-Pa55-4410@db.example.cn:5432/qloop",
    "REDIS_URL": "redis://:Redis-Pa55-7755@redis.example.cn:6379/0",
    "SECRET_KEY": "Secret-Key-5566-abcdefghijklmnopqrstuvwxyz-0123456789",
}
SHOWN_NOWHERE = [
    MAIL_PASSWORD,
    "Db-Pa55-4410",
    "Redis-Pa55-7755",
    "Secret-Key-5566",
    "ROBOT-KEY-3f9a",
    "SEC-signing-secret-77",
]


def _as_configured() -> dict[str, Any]:
    """Settings as settings.py makes them from these environment variables."""
    mail = email_server(SECRETS["EMAIL_URL"])
    return {
        **SECRETS,
        **mail,
        "DEBUG": True,
        "ROOT_URLCONF": "tests.web.error_urls",
        # What REDIS_URL puts where: the cache's LOCATION and Huey's url.
        "CACHES": {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": SECRETS["REDIS_URL"],
            }
        },
        "QLOOP_QUEUE": {"huey_class": "huey.RedisHuey", "url": SECRETS["REDIS_URL"]},
        "TEST_ROBOT": {
            "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=ROBOT-KEY-3f9a",
            "secret": "SEC-signing-secret-77",
        },
    }


def test_the_debug_page_shows_no_password_key_or_secret() -> None:
    with override_settings(**_as_configured()):
        response = Client(raise_request_exception=False).get(
            "/broken/", HTTP_AUTHORIZATION="Bearer ql_token-never-shown"
        )

    page = response.content.decode()
    assert response.status_code == 500
    # It is the debug page, with the settings and the frame's variables listed …
    assert "RuntimeError" in page and "EMAIL_URL" in page and "robot_url" in page
    # … and not one secret on it.
    for secret in [*SHOWN_NOWHERE, "ql_token-never-shown"]:
        assert secret not in page, secret
    assert "smtp.exmail.qq.com" in page  # the mail server's name is no secret


@override_settings(ROOT_URLCONF="tests.web.error_urls", DEBUG=False)
def test_without_debug_a_failure_is_qloops_own_500_page_in_chinese() -> None:
    response = Client(raise_request_exception=False).get("/broken/")

    page = response.content.decode()
    assert response.status_code == 500
    assert "出错了" in page
    assert "RuntimeError" not in page and "Traceback" not in page
    for secret in SHOWN_NOWHERE:
        assert secret not in page


@override_settings(DEBUG=False)
def test_without_debug_an_unknown_address_is_qloops_own_404_page() -> None:
    client = Client()
    client.cookies["django_language"] = "en"

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "There is no such page, or you may not see it." in page
    assert "URLconf" not in page
