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


def test_the_extra_field_filters_are_kept_until_a_field_changes(
    client_for: Callable[[str], Client],
) -> None:
    """With no extra filter set the register shows its extra-field filters as kept per kind and
    language (``views.kept_extra_filters``): the same markup as the template gives with a filter
    set, in the page's language, and a changed field shows on the next page."""
    from qloop.cases.models import ExtraField

    client = client_for("qe")

    def block(html: str) -> str:
        found = re.search(
            r'(<div class="col-6 col-md-2"><label[^>]*for="id_extra_.*?)\s*'
            r'<div class="col-6 col-md-2"><label[^>]*for="id_sort"',
            html,
            re.S,
        )
        assert found is not None
        return found.group(1)

    kept = block(client.get("/cases/").content.decode())
    assert 'id="id_extra_purchase_channel"' in kept and " selected" not in kept
    chosen = block(client.get("/cases/?extra.purchase_channel=直销").content.decode())
    assert chosen == kept.replace('<option value="直销">', '<option value="直销" selected>')
    client.cookies["django_language"] = "en"
    assert "Direct sale" in block(client.get("/cases/").content.decode())
    field = ExtraField.objects.get(code="purchase_channel")
    field.label_en = "Bought through"
    field.save()
    assert ">Bought through</label>" in block(client.get("/cases/").content.decode())
