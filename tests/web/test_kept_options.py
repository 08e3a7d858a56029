"""The register's filter selects are rendered once per language and marked per request
(``options.kept_select_options``, issue 14): what the person chose is selected, nothing else
is, and the labels are in the page's language."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.test import Client
from django.utils.translation import gettext_lazy

from qloop.web.options import kept_select_options, select_options


def selected(html: str, name: str) -> list[str]:
    block = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert block is not None, name
    return re.findall(r'<option value="([^"]*)" selected>', block.group(1))


def test_the_chosen_filters_are_selected_in_each_language(
    client_for: Callable[[str], Client],
) -> None:
    client = client_for("qe")
    plain = client.get("/cases/").content.decode()
    chosen = client.get("/cases/?state=investigating&sort=due").content.decode()
    assert selected(plain, "state") == []
    assert selected(plain, "sort") == ["-received_at"]  # newest first unless asked otherwise
    assert selected(chosen, "state") == ["investigating"]
    assert selected(chosen, "sort") == ["due"]
    client.cookies["django_language"] = "en"
    english = client.get("/cases/?sort=due").content.decode()
    assert '<option value="due" selected>Soonest deadline</option>' in english
    assert '<option value="due">Soonest deadline</option>' in client.get("/cases/").content.decode()


def test_kept_options_are_select_options() -> None:
    labels = [("a", gettext_lazy("Newest first")), ("b&", gettext_lazy("Oldest first"))]
    for chosen in ("", "a", "b&", "zz"):
        assert kept_select_options(labels, chosen) == select_options(labels, chosen)
