"""Public survey links and QR codes point at SITE_URL, and the public answer limit counts real
client addresses with the documented setting (issue 9.16, R2.6).

A link built on the request's Host header lets whoever sends a forged Host put their own
address into invitations and printed QR cards; a limit counted on REMOTE_ADDR behind the TLS
proxy counts the proxy (everyone together), and one counted on a client's own X-Forwarded-For
is no limit at all.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from qloop.cases.models import Contact
from qloop.notify.models import Message
from qloop.surveys.models import Campaign, Response

SITE = "https://qloop.example.cn"
FORGED_HOST = "evil.example"
FULL = {"q_quality": "4", "q_service": "5", "q_recommend": "9", "q_comments": "不错"}


@pytest.fixture
def site(settings: Any) -> None:
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["*"]  # as behind a proxy that passes any Host on


def test_the_campaign_page_shows_the_site_s_link_whatever_the_host(
    site: None, campaign: Campaign, client_for: Callable[[str], Client]
) -> None:
    body = (
        client_for("sales")
        .get(reverse("campaign-detail", args=[campaign.pk]), HTTP_HOST=FORGED_HOST)
        .content.decode()
    )
    assert f"{SITE}/survey/p/{campaign.public_token}/" in body
    assert FORGED_HOST not in body


def test_the_qr_code_holds_the_site_s_link_whatever_the_host(
    site: None, campaign: Campaign, client_for: Callable[[str], Client]
) -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    png = client_for("sales").get(
        reverse("campaign-qr", args=[campaign.pk, "png"]), HTTP_HOST=FORGED_HOST
    )
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert code.text == f"{SITE}/survey/p/{campaign.public_token}/"


def test_invitations_sent_from_the_page_link_to_the_site(
    site: None, campaign: Campaign, contacts: list[Contact], client_for: Callable[[str], Client]
) -> None:
    client_for("sales").post(
        reverse("campaign-invite", args=[campaign.pk]),
        {"contacts": [contacts[0].pk], "language": "zh-hans"},
        HTTP_HOST=FORGED_HOST,
    )
    [message] = Message.objects.filter(kind__startswith="survey")
    assert f"{SITE}/survey/" in message.body
    assert FORGED_HOST not in message.body


# The public answer limit ---------------------------------------------------------------------


def _answers(client: Client, campaign: Campaign, n: int, **headers: str) -> list[int]:
    url = reverse("survey-public", args=[campaign.public_token])
    return [client.post(url, FULL, **headers).status_code for _ in range(n)]


def test_the_limit_is_the_documented_setting(campaign: Campaign, settings: Any) -> None:
    from qloop import settings as qloop_settings

    assert qloop_settings.QLOOP_SURVEY_ANSWERS_PER_HOUR == 30  # the default docs/surveys.md gives
    cache.clear()
    settings.QLOOP_SURVEY_ANSWERS_PER_HOUR = 3
    assert _answers(Client(REMOTE_ADDR="10.0.0.7"), campaign, 4) == [200, 200, 200, 429]


def test_a_forged_forwarded_for_from_an_untrusted_peer_changes_nothing(
    campaign: Campaign, settings: Any
) -> None:
    """Not behind the TLS proxy, X-Forwarded-For is the client's own words: ignored."""
    cache.clear()
    settings.QLOOP_SURVEY_ANSWERS_PER_HOUR = 2
    client = Client(REMOTE_ADDR="203.0.113.9")
    codes = [
        client.post(
            reverse("survey-public", args=[campaign.public_token]),
            FULL,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}",
        ).status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 429, 429]
    assert Response.objects.count() == 2


def test_behind_the_proxy_each_real_client_has_its_own_count(
    campaign: Campaign, settings: Any
) -> None:
    """Behind the proxy every request comes from the proxy: the address it saw counts, and a
    client that writes its own X-Forwarded-For in front is still counted as itself."""
    # What settings.py sets with QLOOP_BEHIND_TLS_PROXY=true and one proxy.
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0
    cache.clear()
    settings.QLOOP_SURVEY_ANSWERS_PER_HOUR = 2
    proxy = Client(REMOTE_ADDR="127.0.0.1")

    first = [
        _answers(proxy, campaign, 1, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, 203.0.113.9")[0]
        for i in range(3)
    ]
    second = _answers(proxy, campaign, 2, HTTP_X_FORWARDED_FOR="203.0.113.10")

    assert first == [200, 200, 429]
    assert second == [200, 200]
