"""Measured speed-ups of what every HTML page pays in Django's template engine: the same
output computed more cheaply (issue 14, bench/RESULTS-pages.md section 16).

``install()`` (at start, ``qloop.web.apps``) puts four replacements in place, each giving
exactly what Django's own gives and handing anything else to Django's:

- **``{{ value }}`` of plain text.** Django's ``render_value_in_context`` asks whether the value
  is a date to convert and a number to localise, then escapes it through ``conditional_escape``
  and ``escape``, whose ``keep_lazy`` wrappers look for lazy arguments on every call: about
  2 µs a variable, 40-80 variables a page. Text (``str``) is escaped by ``html.escape`` as
  ``escape`` does; safe text (``SafeString``) is returned as ``conditional_escape`` returns
  it. Every other type goes through Django's function.
- **``{{ case.contact.name }}``.** Django's ``Variable._resolve_lookup`` tries every dot as
  a dictionary key first and, for a value that has no ``__getitem__`` (a model instance),
  raises a ``TypeError`` and catches it before reading the attribute: about 1 µs a dot. The
  copy here reads the attribute at once in that case and is otherwise Django 5.2's, line for
  line (installed only on Django 5.2).
- **``|date:"Y-m-d H:i"``.** A format that is not a setting's name is looked for in every
  locale format module on every call (``get_format`` keeps only the names it finds), then
  ``DateFormat`` splits it with a regular expression: 25-30 µs a date, against 3 µs for
  the same digits put together directly. Only formats made of ``Y m d H i s`` and the
  separators ``- : / . `` and space are put together here, exactly as ``DateFormat`` writes
  them (zero-padded numbers); anything else is Django's filter.

Django's CSRF middleware is left as it is: masking a page's token costs about 50 µs, and
its randomness is not worth a copy to review.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from typing import Any
from urllib.parse import quote

import django
from django.template import base, defaultfilters, defaulttags
from django.template.context import BaseContext
from django.template.defaulttags import URLNode
from django.urls import get_resolver, get_script_prefix, get_urlconf
from django.utils.formats import FORMAT_SETTINGS
from django.utils.html import conditional_escape
from django.utils.http import RFC3986_SUBDELIMS, escape_leading_slashes
from django.utils.inspect import signature  # type: ignore[attr-defined]
from django.utils.safestring import SafeString

from qloop.web.kept_i18n import rendering_language

# --- {{ value }} ---------------------------------------------------------------------------

_DJANGO_RENDER_VALUE: Any = None


def render_value_in_context(value: Any, context: Any) -> Any:
    """What ``django.template.base.render_value_in_context`` returns."""
    kind = type(value)
    if kind is str:
        # template_localtime and localize return text as it is; escape() is
        # SafeString(html.escape(str(text))).
        return SafeString(html.escape(value)) if context.autoescape else value
    if kind is SafeString:
        # conditional_escape returns its __html__(), itself; str() of it is itself too.
        return value
    return _DJANGO_RENDER_VALUE(value, context)


# --- {{ a.b.c }} ---------------------------------------------------------------------------

_DJANGO_RESOLVE_LOOKUP: Any = None
_logger = logging.getLogger("django.template")  # Django's own
_LOOKUP_ERRORS = (TypeError, AttributeError, KeyError, ValueError, IndexError)


def _resolve_lookup(self: Any, context: Any) -> Any:
    """``Variable._resolve_lookup`` of Django 5.2, step for step, but for one thing: a value
    whose type has no ``__getitem__`` (a model instance, most of a template's dots) goes
    straight to the attribute, where Django raises a ``TypeError`` and catches it first."""
    current = context
    bit = None
    try:  # catch-all for silent variable failures
        for bit in self.lookups:
            found = False
            if hasattr(type(current), "__getitem__"):
                try:  # dictionary lookup
                    current = current[bit]
                    found = True
                except _LOOKUP_ERRORS:
                    pass
            if not found:
                try:  # attribute lookup
                    # Don't return class attributes if the class is the context:
                    if isinstance(current, BaseContext) and getattr(type(current), bit):
                        raise AttributeError
                    current = getattr(current, bit)
                except (TypeError, AttributeError):
                    # Reraise if the exception was raised by a @property
                    if not isinstance(current, BaseContext) and bit in dir(current):
                        raise
                    try:  # list-index lookup
                        current = current[int(bit)]
                    except (IndexError, ValueError, KeyError, TypeError):
                        raise base.VariableDoesNotExist(
                            "Failed lookup for key [%s] in %r",
                            (bit, current),  # type: ignore[arg-type]
                        ) from None
            if callable(current):
                if getattr(current, "do_not_call_in_templates", False):
                    pass
                elif getattr(current, "alters_data", False):
                    current = context.template.engine.string_if_invalid
                else:
                    try:  # method call (assuming no args required)
                        current = current()
                    except TypeError:
                        try:
                            current_signature = signature(current)
                        except ValueError:  # No signature found.
                            current = context.template.engine.string_if_invalid
                        else:
                            try:
                                current_signature.bind()
                            except TypeError:  # Arguments *were* required.
                                # Invalid method call.
                                current = context.template.engine.string_if_invalid
                            else:
                                raise
    except Exception as e:
        template_name = getattr(context, "template_name", None) or "unknown"
        _logger.debug(
            "Exception while resolving variable '%s' in template '%s'.",
            bit,
            template_name,
            exc_info=True,
        )
        if getattr(e, "silent_variable_failure", False):
            current = context.template.engine.string_if_invalid
        else:
            raise
    return current


# --- {% url %} ----------------------------------------------------------------------------

# (resolver, script prefix, language, URL name, number of arguments) → how to write the address,
# or None where Django's reverse() must answer.
_URL_PLANS: dict[tuple[Any, ...], tuple[str, Any, tuple[tuple[str, Any], ...]] | None] = {}
_WHERE = object()  # the resolver and script prefix a template render reverses against
_DJANGO_URL_TAG: Any = None


def _url_plan(
    resolver: Any, prefix: str, language: str | None, name: str, count: int
) -> tuple[str, Any, tuple[tuple[str, Any], ...]] | None:
    """The one pattern Django's ``_reverse_with_prefix`` would try for ``name`` with ``count``
    positional arguments: its text with ``%(param)s`` holes, the regular expression the filled
    text must match, and each parameter's converter. None where there is more than one
    pattern to try, or parameters without converters (``re_path``): Django answers those."""
    key = (resolver, prefix, language, name, count)
    if key in _URL_PLANS:
        return _URL_PLANS[key]
    plan = None
    possibilities = resolver.reverse_dict.getlist(name)  # as of the active language
    if len(possibilities) == 1:
        possibility, pattern, _defaults, converters = possibilities[0]
        if len(possibility) == 1:
            result, params = possibility[0]
            if len(params) == count and all(p in converters for p in params):
                plan = (
                    prefix.replace("%", "%%") + result,
                    re.compile("^%s%s" % (re.escape(prefix), pattern)),  # noqa: UP031 - Django's
                    tuple((p, converters[p]) for p in params),
                )
    if len(_URL_PLANS) >= 1024:
        _URL_PLANS.clear()
    _URL_PLANS[key] = plan
    return plan


class KeptURLNode(URLNode):
    """``{% url "name" arg … %}``: the address Django's ``reverse()`` gives, written from the
    name's one pattern found once per resolver, script prefix and language. Each argument is
    still converted by its converter and the whole address checked against the pattern, as
    Django checks it; a namespaced name, keyword arguments, several candidate patterns, or
    anything that does not fit go to Django's ``reverse()`` (with its errors)."""

    def render(self, context: Any) -> Any:
        if self.kwargs:
            return super().render(context)
        view_name = self.view_name.resolve(context)
        if type(view_name) is not str or ":" in view_name:
            return super().render(context)
        noted = context.render_context.dicts[-1]
        where = noted.get(_WHERE)
        if where is None:
            where = noted[_WHERE] = (get_resolver(get_urlconf()), get_script_prefix())
        plan = _url_plan(where[0], where[1], rendering_language(context), view_name, len(self.args))
        if plan is None:
            return super().render(context)
        text, pattern, params = plan
        filled = {}
        for (param, converter), arg in zip(params, self.args, strict=True):
            try:
                filled[param] = converter.to_url(arg.resolve(context))
            except ValueError:
                return super().render(context)
        url = text % filled
        if not pattern.search(url):
            return super().render(context)
        url = escape_leading_slashes(quote(url, safe=RFC3986_SUBDELIMS + "/~:@"))
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


def do_url(parser: Any, token: Any) -> Any:
    node = _DJANGO_URL_TAG(parser, token)
    return KeptURLNode(node.view_name, node.args, node.kwargs, node.asvar)


# --- |date ---------------------------------------------------------------------------------

_DJANGO_DATE: Any = None
_FORMAT_PARTS = re.compile(r"[YmdHis]|[-:/. ]+")
_FIELDS = {
    "Y": ("year", 4),
    "m": ("month", 2),
    "d": ("day", 2),
    "H": ("hour", 2),
    "i": ("minute", 2),
    "s": ("second", 2),
}
# format → (its pieces, whether it shows a time), or None where Django's filter must answer.
_FORMATS: dict[str, tuple[tuple[tuple[str, int] | str, ...], bool] | None] = {}


def _pieces(format_string: str) -> tuple[tuple[tuple[str, int] | str, ...], bool] | None:
    """The format as attribute names and literal separators, if it is one this module writes."""
    if format_string in _FORMATS:
        return _FORMATS[format_string]
    pieces: list[tuple[str, int] | str] | None = []
    position = 0
    for match in _FORMAT_PARTS.finditer(format_string):
        if match.start() != position:
            pieces = None
            break
        position = match.end()
        part = match.group()
        pieces.append(_FIELDS.get(part, part))  # type: ignore[union-attr]
    if position != len(format_string) or not format_string or format_string in FORMAT_SETTINGS:
        pieces = None
    found = None
    if pieces is not None:
        found = (tuple(pieces), any(p in format_string for p in "His"))
    if len(_FORMATS) < 256:
        _FORMATS[format_string] = found
    return found


def date(value: Any, arg: Any = None) -> Any:
    """Django's ``date`` filter; plain numeric formats of dates and times written directly."""
    if type(arg) is str and isinstance(value, dt.date):
        found = _pieces(arg)
        if found is not None and (isinstance(value, dt.datetime) or not found[1]):
            return "".join(
                piece if type(piece) is str else f"{getattr(value, piece[0]):0{piece[1]}d}"
                for piece in found[0]
            )
    return _DJANGO_DATE(value, arg)


def install() -> None:
    """Put them in place (once; idempotent); templates compiled before keep Django's
    ``date`` filter."""
    global _DJANGO_RENDER_VALUE, _DJANGO_DATE, _DJANGO_RESOLVE_LOOKUP, _DJANGO_URL_TAG
    if base.render_value_in_context is not render_value_in_context:
        _DJANGO_RENDER_VALUE = base.render_value_in_context
        base.render_value_in_context = render_value_in_context
    # A copy of Django 5.2's lookup: another Django keeps its own until this is compared again.
    variable: Any = base.Variable
    if django.VERSION[:2] == (5, 2) and variable._resolve_lookup is not _resolve_lookup:
        _DJANGO_RESOLVE_LOOKUP = variable._resolve_lookup
        variable._resolve_lookup = _resolve_lookup
    if defaulttags.register.tags["url"] is not do_url:
        _DJANGO_URL_TAG = defaulttags.register.tags["url"]
        defaulttags.register.tags["url"] = do_url
    if defaultfilters.register.filters["date"] is not date:
        _DJANGO_DATE = defaultfilters.register.filters["date"]
        defaultfilters.register.filter("date", date, expects_localtime=True, is_safe=False)
