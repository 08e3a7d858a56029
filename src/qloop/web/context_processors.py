from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def badge_counts(user: Any, profiles: tuple[str, ...]) -> dict[str, Any]:
    """The navigation's figures for one person, computed afresh: six counts, the
    organisation's name and which menu entries they see."""
    from qloop.cases.queues import BADGE_CASES, badge_queue_counts
    from qloop.notify.models import Notification
    from qloop.org.models import Organisation
    from qloop.web.nav import shown_items

    counts = badge_queue_counts(user)
    # The badge counts everything waiting: cases, my department's tasks, my approvals,
    # summary reports to decide or finish, my improvement actions.
    waiting = sum(counts.values())
    return {
        "approvals_count": counts["approvals"],
        "my_work_count": waiting if waiting < BADGE_CASES else f"{BADGE_CASES - 1}+",
        "unread_count": Notification.objects.filter(user=user, read_at__isnull=True).count(),
        "ORG_NAME": Organisation.current().name,
        "nav_shown": shown_items(user, profiles),
    }


def badge_key(user_pk: Any, profiles: tuple[str, ...]) -> str:
    return f"qloop:badge:{user_pk}:{','.join(profiles)}"


def kept_badge(user: Any, profiles: tuple[str, ...], ahead: Any = None) -> dict[str, Any]:
    """The badge as last computed for this person, while no write has happened since
    (``qloop.freshness``): a page pays a cache read instead of seven queries, none when it was
    read ahead with the person (``qloop.org.kept_user``)."""
    from qloop.freshness import kept

    return kept(badge_key(user.pk, profiles), lambda: badge_counts(user, profiles), ahead)


def qloop(request: HttpRequest) -> dict[str, Any]:
    """Counts shown in the navigation bar on every page."""
    user = getattr(request, "user", None)
    context: dict[str, Any] = {"QLOOP_DEBUG": settings.DEBUG}
    if user is not None and user.is_authenticated:
        from qloop.cases.kinds import registration_links
        from qloop.org.models import Organisation
        from qloop.web.nav import nav_for

        profiles = Organisation.current_profiles()
        badge = kept_badge(user, profiles, getattr(request, "qloop_read_ahead", None))
        context.update(badge)
        context["nav_items"] = nav_for(request, user, profiles, badge["nav_shown"])
        # Two pages show these buttons: the template calls it there, and nowhere else.
        context["new_case_links"] = functools.partial(registration_links, profiles)
    return context
