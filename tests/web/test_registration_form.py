"""The registration form's shared fields and kept widgets (issue 14) change nothing a person
sees: the page is the page Django renders afresh, in every language, and a refused form shows
what was sent."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import time_machine
from django.forms.renderers import get_default_renderer
from django.urls import reverse
from django.utils.safestring import mark_safe

from qloop.web import forms


def _page(client: Any, language: str, query: str = "") -> str:
    client.cookies["django_language"] = language
    html = client.get(reverse("case-create") + query, HTTP_ACCEPT_LANGUAGE=language).content
    return re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', "", html.decode())


def test_the_empty_form_from_kept_widgets_is_the_form_rendered_afresh(
    client_for: Any, monkeypatch: Any
) -> None:
    # One minute for both renderings: the form offers the time received to the minute.
    with time_machine.travel(dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC), tick=False):
        cs, sales = client_for("cs"), client_for("sales")
        kept = {
            (who, language): _page(client, language, query)
            for who, client, query in (("cs", cs, ""), ("sales", sales, "?kind=feedback"))
            for language in ("zh-hans", "zh-hant", "en")
        }
        assert forms._kept_widgets._kept, "the empty form's widgets were kept"
        # Afresh: every widget through Django's own renderer.
        monkeypatch.setattr(forms, "_kept_widgets", get_default_renderer())
        for (who, language), html in kept.items():
            client, query = (cs, "") if who == "cs" else (sales, "?kind=feedback")
            assert _page(client, language, query) == html, (who, language)


def test_kept_widgets_tell_safe_text_from_plain_text() -> None:
    renderer = forms.KeptWidgets()
    template = "django/forms/widgets/input.html"

    def context(value: Any) -> dict[str, Any]:
        widget = {"name": "x", "is_hidden": False, "required": False, "value": value}
        return {"widget": {**widget, "attrs": {}, "type": "text", "template_name": template}}

    plain = renderer.render(template, context("<b>"))
    safe = renderer.render(template, context(mark_safe("<b>")))
    assert plain == get_default_renderer().render(template, context("<b>"))
    assert "&lt;b&gt;" in plain
    assert 'value="<b>"' in safe


def test_a_refused_form_is_rendered_afresh_with_what_was_sent(client_for: Any) -> None:
    form = forms.RegistrationForm({"contact_name": "李四"})
    assert form.renderer is not forms._kept_widgets
    assert forms.RegistrationForm().renderer is forms._kept_widgets
    response = client_for("cs").post(reverse("case-create"), {"contact_name": "李四"})
    assert response.status_code == 200
    assert 'value="李四"' in response.content.decode()
