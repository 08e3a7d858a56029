"""The navigation bar's entries, registered by the apps and profiles that own the pages.

Core entries (My work, the register, approvals, administration) are in the base template; each
profile adds its own here, so switching a profile off (Organisation.profiles) takes its menu
entries away with its kinds. Whether an entry shows is a courtesy: every view checks again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.http import QueryDict
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise

if TYPE_CHECKING:
    from django.http import HttpRequest

    from qloop.org.models import User


def _anyone(user: User) -> bool:
    return True


@dataclass(frozen=True)
class NavItem:
    """One entry: its words, where it goes, whom it is shown to."""

    label: str | Promise
    url_name: str
    profile: str | None = None  # None: shown whatever profiles are on
    query: str = ""  # appended to the URL, e.g. "kind=feedback"
    shown_to: Callable[[User], bool] = _anyone
    order: int = 100


NAV_ITEMS: list[NavItem] = []


def register_nav(*items: NavItem) -> None:
    for item in items:
        if item not in NAV_ITEMS:
            NAV_ITEMS.append(item)
    NAV_ITEMS.sort(key=lambda i: i.order)


def shown_items(user: User, profiles: tuple[str, ...]) -> list[tuple[str, str]]:
    """Which entries this person sees, by address: asking each entry may read the database (a
    role, a department), so the answer is kept with the badge (``qloop.freshness``)."""
    return [
        (item.url_name, item.query)
        for item in NAV_ITEMS
        if (item.profile is None or item.profile in profiles) and item.shown_to(user)
    ]


@functools.lru_cache(maxsize=256)
def _address(url_name: str, query: str, prefix: str, urlconf: Any) -> tuple[str, tuple[Any, ...]]:
    """An entry's address and its query's pairs: the same for every request of a process
    under one script prefix (issue 14: reversed for every entry on every page before)."""
    url = reverse(url_name, urlconf=urlconf)
    return (f"{url}?{query}" if query else url), tuple(QueryDict(query).items())


def nav_for(
    request: HttpRequest,
    user: User,
    profiles: tuple[str, ...],
    shown: list[tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """The entries this person sees, with their address and whether they are the current page."""
    match = request.resolver_match
    here = match.url_name if match else None
    wanted_items = set(shown_items(user, profiles) if shown is None else shown)
    out = []
    for item in NAV_ITEMS:
        if (item.url_name, item.query) not in wanted_items:
            continue
        url, wanted = _address(item.url_name, item.query, get_script_prefix(), get_urlconf())
        current = here == item.url_name and all(
            request.GET.get(key) == value for key, value in wanted
        )
        out.append({"label": item.label, "url": url, "active": current})
    return out
