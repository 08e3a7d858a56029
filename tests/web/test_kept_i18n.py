"""``{% translate "constant" %}`` is kept per language (``qloop.web.kept_i18n``,
issue 14): what a person reads follows their language on every render, in every thread, and
whatever is not a plain constant is translated afresh each time."""

from __future__ import annotations

import threading

from django.template import engines
from django.utils import translation

from qloop.web.kept_i18n import KeptTranslateNode

TEMPLATE = (
    '{% load i18n %}<b>{% translate "Archived" %}</b>'
    '<i>{% translate "Handling" context "feedback record" %}</i>'
    '<u>{% translate word %}</u><s>{% translate "Archived" as w %}{{ w }}</s>'
)


def render(language: str, **context: object) -> str:
    template = engines["django"].from_string(TEMPLATE)
    with translation.override(language):
        return template.render({"word": "Archived", **context})


def test_a_constant_follows_the_language_of_each_render() -> None:
    template = engines["django"].from_string(TEMPLATE)
    seen = []
    for language in ("zh-hans", "en", "zh-hant", "zh-hans"):
        with translation.override(language):
            seen.append(template.render({"word": "Archived"}))
    assert seen[0].startswith("<b>已存档</b>")
    assert seen[1].startswith("<b>Archived</b>")
    assert seen[2].startswith("<b>已存檔</b>")
    assert seen[3] == seen[0]
    # the variable and the "as" form give what the constant gives, in each language
    for html, word in zip(seen, ("已存档", "Archived", "已存檔", "已存档"), strict=True):
        assert f"<u>{word}</u><s>{word}</s>" in html


def test_only_plain_constants_are_kept() -> None:
    template = engines["django"].from_string(TEMPLATE)
    nodes = template.template.nodelist  # type: ignore[attr-defined]
    kept = [n for n in nodes if isinstance(n, KeptTranslateNode)]
    # "Archived", and "Handling" with a constant context; not the variable nor the "as" form
    assert [n.filter_expression.var.literal for n in kept] == ["Archived", "Handling"]


def test_a_message_context_and_escaping_are_honoured() -> None:
    # the same message with and without its context reads differently, each kept apart
    contexted = engines["django"].from_string(
        '{% load i18n %}{% translate "Handling" context "feedback record" %}|'
        '{% translate "Handling" %}'
    )
    with translation.override("zh-hans"):
        assert contexted.render({}) == "处理情况|处理中"
    with translation.override("en"):
        assert contexted.render({}) == "Handling|Handling"
    with_quote = engines["django"].from_string(
        '{% load i18n %}{% autoescape off %}{% translate "a < b" %}{% endautoescape %}'
        '|{% translate "a < b" %}'
    )
    # as Django renders it: a constant is the template's own text, marked safe either way
    assert with_quote.render({}) == "a < b|a < b"


def test_threads_in_different_languages_each_get_their_own() -> None:
    results: dict[str, set[str]] = {"zh-hans": set(), "en": set()}

    def work(language: str) -> None:
        for _ in range(200):
            results[language].add(render(language).split("</b>")[0])

    threads = [threading.Thread(target=work, args=(lang,)) for lang in results for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"zh-hans": {"<b>已存档"}, "en": {"<b>Archived"}}


def test_the_language_tag_switches_kept_constants_and_back() -> None:
    """The language is noted once per template render; ``{% language %}`` makes the tags inside
    it and after it ask again, in the template and in what it includes."""
    from django.template import Context, Engine

    engine = engines["django"].engine  # type: ignore[attr-defined]
    inner = '{% load i18n %}[{% translate "Archived" %}]'
    local = Engine(
        loaders=[("django.template.loaders.locmem.Loader", {"inner.html": inner})],
        builtins=engine.builtins,
        libraries=engine.libraries,
    )
    template = local.from_string(
        '{% load i18n %}{% translate "Archived" %}'
        '{% language "en" %}{% translate "Archived" %}{% include "inner.html" %}{% endlanguage %}'
        '{% translate "Archived" %}{% include "inner.html" %}'
        '{% language "zh-hant" %}{% translate "Archived" %}{% endlanguage %}'
    )
    for _ in range(2):  # the second time from what the first kept
        with translation.override("zh-hans"):
            assert template.render(Context()) == "已存档Archived[Archived]已存档[已存档]已存檔"
        with translation.override("en"):
            assert (
                template.render(Context()) == "ArchivedArchived[Archived]Archived[Archived]已存檔"
            )
    # the same page, its inner language from a variable
    chosen = local.from_string(
        '{% load i18n %}{% translate "Archived" %}|'
        '{% language inner %}{% translate "Archived" %}{% endlanguage %}|{% translate "Archived" %}'
    )
    with translation.override("zh-hans"):
        for inner, word in (("en", "Archived"), ("zh-hant", "已存檔"), ("zh-hans", "已存档")):
            assert chosen.render(Context({"inner": inner})) == f"已存档|{word}|已存档"
