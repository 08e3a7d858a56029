"""``{% nav %}`` and ``{% kept_static %}``: the navigation bar of every page, kept per process for the same inputs
(issue 14, the floor).

The bar took about a third of a simple page's time (thirteen URLs reversed, twenty phrases
translated, the language menu) although it is the same for one person on one page until a
figure, a name or the language changes. ``nav.html`` is rendered from a small context built
here, and only from it; that context, with the language, the script prefix and the URL
configuration, is the key under which the rendered bar is kept in this process. Whatever the
bar shows is in the key, so a kept bar is exactly what rendering would give: no expiry, no
guess. The two things that differ per request are rendered as markers and put in afterwards:
the CSRF token (a fresh mask each time, as ``{% csrf_token %}`` gives) and the page's own
address for the language menu, escaped.
"""

from __future__ import annotations

import functools
import secrets
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

# Random per process: a name, a path or a label cannot contain them by chance or on purpose.
_CSRF_MARK = f"qloopnavcsrf{secrets.token_hex(12)}"
_PATH_MARK = f"qloopnavpath{secrets.token_hex(12)}"
_KEPT: dict[tuple[Any, ...], str] = {}
# Bars kept per process (about 3.5 kB each, so at most ≈ 4 MB); all are dropped when it is
# reached. One person's bar differs by page only where an entry is marked as the current one.
_KEPT_MAX = 1024
# The pages the core entries of nav.html mark as current; any other page is the same to it.
_CORE_PAGES = frozenset({"my-work", "registered-by-me", "case-list"})


def nav_context(context: template.Context) -> dict[str, Any]:
    """What ``nav.html`` may read, from the page's context."""
    user = context.get("user")
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    authenticated = bool(user is not None and user.is_authenticated)
    return {
        "authenticated": authenticated,
        "here": url_name if (url_name := getattr(match, "url_name", None)) in _CORE_PAGES else None,
        "my_work_count": context.get("my_work_count"),
        "approvals_count": context.get("approvals_count"),
        "unread_count": context.get("unread_count"),
        "nav_items": tuple(
            (str(item["label"]), item["url"], bool(item["active"]))
            for item in context.get("nav_items") or ()
        ),
        "administers": authenticated and bool(user.administers or user.is_staff),  # type: ignore[union-attr]
        "printed_name": user.printed_name if authenticated else "",  # type: ignore[union-attr]
    }


def _render(context: template.Context, values: dict[str, Any]) -> SafeString:
    nav = context.template.engine.get_template("nav.html")  # type: ignore[union-attr]
    return nav.render(template.Context(values, autoescape=context.autoescape))


@register.simple_tag(takes_context=True)
def nav(context: template.Context) -> SafeString:
    values = nav_context(context)
    request = context.get("request")
    full_path = request.get_full_path() if request is not None else ""
    token = context.get("csrf_token")
    if not token or str(token) == "NOTPROVIDED":
        return _render(context, {**values, "csrf_token": token, "full_path": full_path})
    key = (
        get_language(),
        get_script_prefix(),
        get_urlconf(),
        context.autoescape,
        *values.values(),
    )
    try:
        html = _KEPT.get(key)
    except TypeError:  # a figure that cannot be a key: render it as it is
        return _render(context, {**values, "csrf_token": token, "full_path": full_path})
    if html is None:
        html = str(_render(context, {**values, "csrf_token": _CSRF_MARK, "full_path": _PATH_MARK}))
        if len(_KEPT) >= _KEPT_MAX:
            _KEPT.clear()
        _KEPT[key] = html
    html = html.replace(_CSRF_MARK, conditional_escape(str(token)))
    path = conditional_escape(full_path) if context.autoescape else full_path
    return mark_safe(html.replace(_PATH_MARK, path))  # noqa: S308  # escaped above


@functools.lru_cache(maxsize=64)
def _static(path: str) -> str:
    return static(path)


@register.simple_tag
def kept_static(path: str) -> str:
    """``{% static %}`` asked once per process: the address of a collected file does not change
    while a process runs (the manifest is read at start), and every page links five."""
    return _static(path)


def _forget_static(**kwargs: Any) -> None:
    _static.cache_clear()


setting_changed.connect(_forget_static, dispatch_uid="qloop-kept-static")
