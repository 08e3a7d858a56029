"""qloop.web.template_speed writes what Django writes (issue 14): plain text variables, dotted
look-ups, ``{% url %}`` and numeric ``|date`` formats, each compared with Django's own."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.template import Context, Template, base, defaultfilters, defaulttags
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from qloop.web import template_speed

VALUES: list[Any] = [
    "plain",
    "",
    "<b>\"Tom\" & 'Jerry'</b>",
    "天津 & 上海",
    mark_safe("<i>safe</i>"),
    SafeString(""),
    gettext_lazy("Edit"),
    3,
    1234567,
    2.5,
    True,
    None,
    ["a", "<b>"],
    dt.datetime(2026, 12, 8, 5, 0, tzinfo=dt.UTC),
    dt.date(2026, 1, 2),
]


def test_it_is_installed() -> None:
    assert base.render_value_in_context is template_speed.render_value_in_context
    assert defaultfilters.register.filters["date"] is template_speed.date
    assert defaulttags.register.tags["url"] is template_speed.do_url


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
def test_a_variable_renders_as_django_renders_it(autoescape: bool, language: str) -> None:
    django = template_speed._DJANGO_RENDER_VALUE
    with translation.override(language):
        context = Context(autoescape=autoescape)
        for value in VALUES:
            ours = template_speed.render_value_in_context(value, context)
            theirs = django(value, context)
            assert ours == theirs, value
            assert type(ours) is type(theirs), value


def test_a_template_escapes_text_as_before() -> None:
    rendered = Template("{{ a }}|{{ b }}|{% autoescape off %}{{ a }}{% endautoescape %}").render(
        Context({"a": "<x & 'y'>", "b": mark_safe("<ok>")})
    )
    assert rendered == "&lt;x &amp; &#x27;y&#x27;&gt;|<ok>|<x & 'y'>"


FORMATS = [
    "Y-m-d H:i",
    "Y-m-d",
    "Y/m/d H:i:s",
    "H:i",
    "d.m.Y",
    "Y",
    "m-d",
    "",
    "DATE_FORMAT",
    "SHORT_DATE_FORMAT",
    "DATETIME_FORMAT",
    "N j, Y",
    "Y-m-d\\TH:i",
    "jS F Y H:i",
    "Y-m-d H:i T",
    None,
]
DATES: list[Any] = [
    dt.datetime(2026, 12, 8, 5, 7, 9),  # noqa: DTZ001 - naive values reach the filter too
    dt.datetime(2026, 1, 2, 23, 59, 59, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")),
    dt.datetime(999, 3, 4, 0, 0, 0),  # noqa: DTZ001 - as above
    dt.datetime(5, 3, 4, 1, 2, 3, tzinfo=dt.UTC),
    dt.date(2026, 2, 28),
    dt.date(12, 1, 1),
    None,
    "",
    "2026-01-01",
    3,
]


def outcome(function: Any, *args: Any) -> Any:
    """The answer, or the kind of error raised (a time format of a date is refused)."""
    try:
        return function(*args)
    except Exception as error:
        return type(error)


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
def test_the_date_filter_answers_as_djangos(language: str) -> None:
    django = template_speed._DJANGO_DATE
    with translation.override(language):
        for value in DATES:
            for format_string in FORMATS:
                ours = outcome(template_speed.date, value, format_string)
                assert ours == outcome(django, value, format_string), (value, format_string)


def test_templates_use_it_with_the_local_time() -> None:
    with translation.override("en"):
        rendered = Template('{{ t|date:"Y-m-d H:i" }}|{{ t|date:"DATE_FORMAT" }}').render(
            Context({"t": dt.datetime(2026, 12, 7, 22, 30, tzinfo=dt.UTC)})
        )
        local = dt.datetime(2026, 12, 8, 6, 30)  # noqa: DTZ001 - the local time it shows
        long_date = template_speed._DJANGO_DATE(local, "DATE_FORMAT")
    # settings.TIME_ZONE is Asia/Shanghai: the filter sees the local time, as Django's does.
    assert rendered == f"2026-12-08 06:30|{long_date}"


def test_the_csrf_middleware_accepts_a_token_of_a_rendered_form(users: Any) -> None:
    """A page's token is accepted by Django's check on the next POST, and its absence refused
    (the template replacements leave CSRF as Django makes it)."""
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["cs"])
    page = browser.get("/account/messages/")
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    refused = browser.post("/language/", {"language": "en"})
    assert refused.status_code == 403
    accepted = browser.post("/language/", {"language": "en", "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302


class Thing:
    """An object with what templates meet: attributes, a property that fails, methods."""

    number = "QC-1"
    do_not_call = staticmethod(lambda: "called")

    def __init__(self) -> None:
        self.items = ["zero", "one"]
        self.mapping = {"k": "v", "1": "string key"}

    @property
    def broken(self) -> str:
        raise AttributeError("inside the property")

    def method(self) -> str:
        return "method result"

    def needs_argument(self, value: str) -> str:
        return value

    def delete(self) -> str:
        return "deleted"

    delete.alters_data = True  # type: ignore[attr-defined]

    def raises_type_error(self) -> str:
        raise TypeError("inside")


Thing.do_not_call.do_not_call_in_templates = True  # type: ignore[attr-defined]

LOOKUPS = [
    "thing.number",
    "thing.items.1",
    "thing.items.5",
    "thing.mapping.k",
    "thing.mapping.1",
    "thing.mapping.missing",
    "thing.missing",
    "thing.broken",
    "thing.method",
    "thing.needs_argument",
    "thing.delete",
    "thing.raises_type_error",
    "thing.do_not_call",
    "missing",
    "missing.deeper",
    "dicts",
    "push",
    "text.upper",
    "text.0",
    "number.real",
    "none.anything",
    "nested.0.k",
    "case.number",
    "case.get_severity_display",
    "case.contact",
    "case.contact.name",
]


def test_a_dotted_lookup_resolves_as_djangos() -> None:
    from django.template.base import Variable

    from qloop.cases.models import Case, Contact

    assert Variable._resolve_lookup is template_speed._resolve_lookup
    values = {
        "thing": Thing(),
        "text": "abc",
        "number": 7,
        "none": None,
        "nested": [{"k": "v"}],
        "case": Case(number="QC-2", severity="major", contact=Contact(name="李")),
    }

    def resolved(function: Any, lookup: str) -> Any:
        variable = Variable(lookup)
        context = Context(values)
        context.template = Template("")
        try:
            return ("value", function(variable, context))
        except Exception as error:
            return ("error", type(error), str(error))

    for lookup in LOOKUPS:
        ours = resolved(template_speed._resolve_lookup, lookup)
        assert ours == resolved(template_speed._DJANGO_RESOLVE_LOOKUP, lookup), lookup


URL_TAGS = [
    "{% url 'case-list' %}",
    "{% url 'case-detail' number %}",
    "{% url 'case-status-slip' number %}",
    "{% url 'case-clock-pause' number clock %}",
    "{% url 'case-detail' odd %}",
    "{% url 'case-detail' slashed %}",
    "{% url 'case-detail' '' %}",
    "{% url 'case-detail' 7 %}",
    "{% url 'case-detail' number=number %}",
    "{% url 'case-detail' %}",
    "{% url 'case-detail' number clock %}",
    "{% url 'pharmacy-summary' 12 %}",
    "{% url 'pharmacy-summary' 'twelve' %}",
    "{% url 'pharmacy-summary' -1 %}",
    "{% url 'admin:index' %}",
    "{% url 'no-such-page' %}",
    "{% url name number %}",
    "{% url 'case-detail' number as link %}[{{ link }}]",
    "{% url 'no-such-page' as link %}[{{ link }}]",
    "{% autoescape off %}{% url 'case-detail' odd %}{% endautoescape %}",
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_url_tag_writes_what_django_reverses(language: str) -> None:
    """Each ``{% url %}`` gives the address (or the error) Django's own tag gives, with odd
    numbers quoted as Django quotes them and unfit ones refused as Django refuses them."""
    from django.template import engines

    engine = engines["django"].engine  # type: ignore[attr-defined]
    values = {
        "number": "QC-2026-000001",
        "odd": "QC <&> 1?x=#ü",
        "slashed": "QC/1",
        "clock": "customer_answer",
        "name": "case-detail",
    }

    def rendered(source: str) -> Any:
        try:
            return Template("{% load i18n %}" + source, engine=engine).render(Context(values))
        except Exception as error:
            return type(error)

    with translation.override(language):
        for source in URL_TAGS:
            template_speed.install()
            kept = rendered(source)
            defaulttags.register.tags["url"] = template_speed._DJANGO_URL_TAG
            try:
                theirs = rendered(source)
            finally:
                template_speed.install()
            assert kept == theirs, source
    assert any(plan for plan in template_speed._URL_PLANS.values())


def test_a_row_link_is_the_quoted_escaped_address() -> None:
    """``case_rows`` writes a plain number as it is, anything else quoted and escaped."""
    from html import escape
    from urllib.parse import quote

    from qloop.web.templatetags.qloop_tags import _case_href

    url = "/cases/NUMBER/"
    for number in ("QC-2026-000001", "a_b.c~d", "", "QC 1", "QC/1", "<&>\"'", "QC-ü", "x?y#z"):
        assert _case_href(url, number) == escape(url.replace("NUMBER", quote(number))), number
