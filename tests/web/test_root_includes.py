"""``qloop.urls.RootInclude`` resolves every address as Django's own include does (issue 14):
the same view, arguments, route and tried patterns, and the same refusals."""

from __future__ import annotations

from typing import Any

from django.urls import Resolver404, URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

from qloop.urls import RootInclude


def plain_resolver() -> URLResolver:
    """The root resolver with Django's own includes in place of RootInclude."""
    patterns = [
        URLResolver(p.pattern, p.urlconf_name, p.default_kwargs, p.app_name, p.namespace)
        if isinstance(p, RootInclude)
        else p
        for p in get_resolver().url_patterns
    ]
    return URLResolver(RegexPattern(r"^/"), patterns)


def outcome(resolver: URLResolver, path: str) -> Any:
    def shown(tried: Any) -> Any:
        return [[str(p.pattern) for p in entry] for entry in tried or []]

    try:
        m = resolver.resolve(path)
    except Resolver404 as refused:
        return ("404", refused.args[0].get("path"), shown(refused.args[0].get("tried")))
    return (m.func, m.args, m.kwargs, m.url_name, m.route, m.namespaces, shown(m.tried))


def addresses() -> list[str]:
    """Every pattern's route filled with a sample value, and addresses that match nothing."""
    found = ["/", "/nothing/", "/cases/", "/cases/QC-2026-000001/", "/healthz", "/p/x", ""]

    def walk(patterns: Any, prefix: str) -> None:
        for p in patterns:
            route = str(p.pattern).lstrip("^").rstrip("$")
            for sample in ("1", "QC-1", "x/y"):
                filled = route
                while "<" in filled:
                    start, end = filled.index("<"), filled.index(">")
                    filled = filled[:start] + sample + filled[end + 1 :]
                if isinstance(p, URLPattern):
                    found.append(prefix + filled)
                    found.append(prefix + filled + "extra/")
                else:
                    walk(p.url_patterns, prefix + filled)

    walk(get_resolver().url_patterns, "/")
    return found


def test_every_address_resolves_as_with_djangos_includes() -> None:
    ours, theirs = get_resolver(), plain_resolver()
    assert any(isinstance(p, RootInclude) for p in ours.url_patterns)
    checked = 0
    for path in addresses():
        assert outcome(ours, path) == outcome(theirs, path), path
        checked += 1
    assert checked > 500


def test_an_include_refuses_at_once_what_none_of_its_patterns_begins_with() -> None:
    surveys = next(p for p in get_resolver().url_patterns if isinstance(p, RootInclude))
    assert surveys.beginnings()
    try:
        surveys.resolve("cases/QC-1/")
    except Resolver404 as refused:
        assert refused.args[0]["tried"] == [[p] for p in surveys.url_patterns]
    else:
        raise AssertionError("resolved")
