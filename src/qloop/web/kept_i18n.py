"""``{% translate "constant" %}`` kept per language.

``install()`` (at start, ``qloop.web.apps``) puts this module's ``translate``/``trans`` into
Django's own ``i18n`` library, so templates keep saying ``{% load i18n %}`` and every other tag
and filter is Django's. (Loading a library of our own under the name ``i18n`` would do the
same, but Django's checks warn about two libraries with one name, templates.W003.)

Django's ``{% translate %}`` builds a lazy translation, looks up the active language through
asgiref's context-local storage and escapes the result on every render: about 10 µs a tag, and
a case page renders 120 of them (bench/RESULTS-pages.md, section 10). For a constant message
the answer depends only on the language, the message context and whether the template escapes,
so the node keeps it under those. Anything else (a variable, filters, a context from a
variable, ``as``) renders as Django renders it. The kept answers are dropped when a test changes the
languages or the catalogues' paths, as Django drops its own catalogues then.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Node
from django.template.base import FilterExpression, Parser, Token
from django.templatetags import i18n as django_i18n
from django.utils.translation import get_language

_generation = 0


@receiver(setting_changed)
def _forget(*, setting: str, **kwargs: Any) -> None:
    global _generation
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS"}:
        _generation += 1


def _constant(expression: FilterExpression | None) -> bool:
    return expression is None or (
        not expression.is_var and not expression.filters  # type: ignore[attr-defined]
    )


# The language a template is being rendered in, noted in its render context (one per template
# rendered: an include asks again) by the first kept node that asks.
_LANGUAGE = object()


def rendering_language(context: Any) -> str | None:
    """The active language, asked once per template render instead of once per tag: asking
    goes through asgiref's context-local storage, about 2 µs, and a case page has 50 of these
    tags. ``{% language %}`` (``KeptLanguageNode``) forgets the noted language on the way in
    and out; a tag that switched the language for the rest of the page would not be seen
    (``translation.override`` puts it back before the next tag renders)."""
    noted = context.render_context.dicts[-1]
    language = noted.get(_LANGUAGE, _LANGUAGE)
    if language is _LANGUAGE:
        language = noted[_LANGUAGE] = get_language()
    return language  # type: ignore[no-any-return]


class KeptLanguageNode(django_i18n.LanguageNode):
    """``{% language %}``, which also makes the kept nodes inside it ask for the language
    anew, and those after it too."""

    def render(self, context: Any) -> str:
        noted = context.render_context.dicts[-1]
        noted.pop(_LANGUAGE, None)
        try:
            return super().render(context)  # type: ignore[no-any-return]
        finally:
            noted.pop(_LANGUAGE, None)


class KeptTranslateNode(django_i18n.TranslateNode):
    """A ``TranslateNode`` whose message is a constant: its output is kept per language."""

    def __init__(self, node: django_i18n.TranslateNode) -> None:
        self.__dict__.update(node.__dict__)
        self.kept: dict[tuple[int, str | None, bool], str] = {}

    def render(self, context: Any) -> str:
        key = (_generation, rendering_language(context), context.autoescape)
        value = self.kept.get(key)
        if value is None:
            value = self.kept[key] = super().render(context)
        return value


def do_translate(parser: Parser, token: Token) -> Node:
    node = django_i18n.do_translate(parser, token)
    var = node.filter_expression.var
    if (
        not node.noop
        and not node.asvar
        and getattr(var, "literal", None) is not None
        and not node.filter_expression.filters
        and _constant(node.message_context)
    ):
        return KeptTranslateNode(node)
    return node


def do_language(parser: Parser, token: Token) -> Node:
    node = django_i18n.language(parser, token)
    return KeptLanguageNode(node.nodelist, node.language)  # type: ignore[attr-defined]


def install() -> None:
    """``{% translate %}`` and ``{% trans %}`` of ``{% load i18n %}`` compile to kept nodes where
    they can, and ``{% language %}`` to one that tells them, from now on (templates already
    compiled keep Django's nodes)."""
    django_i18n.register.tags["translate"] = django_i18n.register.tags["trans"] = do_translate
    django_i18n.register.tags["language"] = do_language
