"""The navigation bar is kept per process for the same inputs (``{% nav %}``, issue 14's floor):
a kept bar is byte for byte what rendering gives, follows every figure and name it shows on the
next request, and still carries this request's CSRF token and this page's own address."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from qloop.notify.models import Notification
from qloop.org.models import User
from qloop.web.templatetags import qloop_nav

pytestmark = pytest.mark.django_db(transaction=True)


def bar(client: Client, url: str) -> str:
    html = client.get(url).content.decode()
    return html[html.index("<nav ") : html.index("</nav>") + len("</nav>")]


def tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))


def masked(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "TOKEN", html)


@pytest.mark.parametrize("url", ["message-settings", "case-list", "my-work", "notifications"])
def test_a_kept_bar_is_what_rendering_gives(client_for: Callable[[str], Client], url: str) -> None:
    client = client_for("cs_head")
    qloop_nav._KEPT.clear()
    fresh = bar(client, reverse(url))
    assert qloop_nav._KEPT
    kept = bar(client, reverse(url))
    assert masked(kept) == masked(fresh)
    assert "TOKEN" in masked(kept) and qloop_nav._CSRF_MARK not in kept
    assert qloop_nav._PATH_MARK not in kept


def test_the_bar_follows_the_bell_and_the_name(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    client = client_for("qe")
    url = reverse("message-settings")
    before = bar(client, url)
    assert "text-bg-danger" not in before  # nothing unread
    Notification.objects.create(user=users["qe"], kind="comment", data={})
    after = bar(client, url)
    assert re.search(r'text-bg-danger">1</span>', after)
    User.objects.filter(pk=users["qe"].pk).update(display_name="<b>新名字</b>")
    renamed = bar(client, url)
    assert "&lt;b&gt;新名字&lt;/b&gt;" in renamed and "<b>新名字" not in renamed


def test_the_bar_carries_this_requests_token_and_address(
    users: dict[str, User],
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["cs"])
    first = bar(client, reverse("message-settings") + "?a=1")
    second = bar(client, reverse("message-settings") + '?b="><script>')
    assert 'name="next" value="/account/messages/?a=1"' in first
    assert "<script>" not in second
    assert 'name="next" value="/account/messages/?b=%22%3E%3Cscript%3E"' in second
    # The kept bar's logout form posts with a token the CSRF check accepts.
    (token,) = tokens(second)
    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_language_is_part_of_the_key(client_for: Callable[[str], Client]) -> None:
    client = client_for("cs")
    chinese = bar(client, reverse("message-settings"))
    client.cookies["django_language"] = "en"
    english = bar(client, reverse("message-settings"))
    assert "我的待办" in chinese and "My work" in english and "我的待办" not in english


def test_the_pages_the_bar_marks_are_the_ones_its_key_tells_apart() -> None:
    """``nav.html`` compares ``here`` with some page names; the key keeps only those apart."""
    from pathlib import Path

    import qloop

    source = (Path(qloop.__file__).parent / "templates" / "nav.html").read_text()
    assert set(re.findall(r"here == '([^']+)'", source)) == qloop_nav._CORE_PAGES
