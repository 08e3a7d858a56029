"""Telling people: one call per message, written in the same transaction as its cause (X6).

``notify`` decides, for each person, where a message goes: the bell in the app, e-mail, or
both, by their preferences for that kind; and it copies the message once to the group robot
of every department the people belong to. Quiet hours hold back what is not urgent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from qloop.notify.models import Message, MessagePreference, Notification, Robot
from qloop.notify.outbox import kick_after_commit
from qloop.notify.texts import KINDS, render_message

if TYPE_CHECKING:
    from qloop.cases.models import Case
    from qloop.org.models import User


def people_in(department_codes: Iterable[str], roles: Iterable[str] = ()) -> list[User]:
    from qloop.org.models import User

    cond = Q(memberships__department__code__in=list(department_codes))
    roles = list(roles)
    if roles:
        cond &= Q(memberships__role__code__in=roles)
    return list(User.objects.filter(cond, is_active=True).distinct())


def people_with_role(*roles: str) -> list[User]:
    from qloop.org.models import User

    return list(User.objects.filter(memberships__role__code__in=roles, is_active=True).distinct())


def default_channels(kind: str) -> tuple[str, ...]:
    spec = KINDS.get(kind)
    return spec.channels if spec else ("app",)


def channels_for(pref: MessagePreference | None, kind: str) -> tuple[str, ...]:
    if pref is not None and kind in pref.channels:
        return tuple(pref.channels[kind])
    return default_channels(kind)


def quiet_until(
    quiet_from: dt.time | None, quiet_to: dt.time | None, at: dt.datetime
) -> dt.datetime | None:
    """The end of the quiet hours ``at`` falls in, or None when it is not quiet then.

    Quiet hours may run over midnight (22:00–07:30).
    """
    if quiet_from is None or quiet_to is None or quiet_from == quiet_to:
        return None
    local = timezone.localtime(at)
    now = local.time()
    if quiet_from < quiet_to:
        inside = quiet_from <= now < quiet_to
        end_day = local.date()
    else:
        inside = now >= quiet_from or now < quiet_to
        end_day = local.date() + dt.timedelta(days=1) if now >= quiet_from else local.date()
    if not inside:
        return None
    return local.replace(
        year=end_day.year,
        month=end_day.month,
        day=end_day.day,
        hour=quiet_to.hour,
        minute=quiet_to.minute,
        second=0,
        microsecond=0,
    )


def case_link(case: Case | None) -> str:
    if case is None:
        return ""
    return settings.SITE_URL + reverse("case-detail", args=[case.number])


def notify(
    users: Iterable[User],
    *,
    kind: str,
    case: Case | None = None,
    data: dict[str, Any] | None = None,
    urgent: bool = False,
    exclude: User | None = None,
    at: dt.datetime | None = None,
    robots: bool = True,
    memo: dict[Any, Any] | None = None,
) -> int:
    """Leave a message for each person once (never for the one who caused it).

    Returns the number of people told. A ``memo`` shared across calls (the sweep's) keeps
    preferences, memberships and robots read once.
    """
    at = at or timezone.now()
    data = dict(data or {})
    if case is not None:
        data.setdefault("number", case.number)
        # A task's message has the task's own title; the case's goes beside it.
        data.setdefault("case_title" if kind.startswith("task") else "title", case.title)
    people: dict[int, User] = {}
    for user in users:
        if user.pk in people or (exclude is not None and user.pk == exclude.pk):
            continue
        people[user.pk] = user
    if not people:
        return 0
    prefs = _preferences(list(people), memo)
    link = case_link(case)
    bell: list[Notification] = []
    outbox: list[Message] = []
    texts: dict[str, tuple[str, str]] = {}

    def rendered(language: str) -> tuple[str, str]:
        """Subject and text, rendered once per language for everyone this call tells."""
        if language not in texts:
            texts[language] = render_message(kind, data, language=language, link=link)
        return texts[language]

    for pk, user in people.items():
        pref = prefs.get(pk)
        chosen = channels_for(pref, kind)
        if "app" in chosen:
            bell.append(
                Notification(
                    user_id=pk, case=case, kind=kind, data=data, urgent=urgent, created_at=at
                )
            )
        if "email" in chosen and user.email:
            language = user.language or settings.LANGUAGE_CODE
            subject, body = rendered(language)
            held = (
                None if urgent or pref is None else quiet_until(pref.quiet_from, pref.quiet_to, at)
            )
            outbox.append(
                Message(
                    channel="email",
                    kind=kind,
                    user_id=pk,
                    address=user.email,
                    case=case,
                    language=language,
                    subject=subject[:300],
                    body=body,
                    link=link,
                    data=data,
                    urgent=urgent,
                    created_at=at,
                    due_at=held or at,
                )
            )
    if robots:
        for robot in _robots_of(list(people), memo):
            if not robot.wants(kind):
                continue
            subject, body = rendered(settings.LANGUAGE_CODE)
            held = None if urgent else quiet_until(robot.quiet_from, robot.quiet_to, at)
            outbox.append(
                Message(
                    channel=robot.channel,
                    kind=kind,
                    robot=robot,
                    case=case,
                    language=settings.LANGUAGE_CODE,
                    subject=subject[:300],
                    body=body,
                    link=link,
                    data=data,
                    urgent=urgent,
                    created_at=at,
                    due_at=held or at,
                )
            )
    deferred = memo.get(_DEFERRED) if memo is not None else None
    if deferred is not None:
        deferred[0].extend(bell)
        deferred[1].extend(outbox)
    else:
        _write(bell, outbox)
    return len(people)


# A memo key: rows that ``notify`` leaves for ``write_deferred`` instead of writing at once.
_DEFERRED = "deferred_rows"


def defer_writes(memo: dict[Any, Any]) -> None:
    """Make ``notify`` calls with this memo collect their rows; ``write_deferred`` writes them
    (a sweep writes a batch of clocks' messages in two INSERTs instead of two per clock)."""
    memo[_DEFERRED] = ([], [])


def write_deferred(memo: dict[Any, Any]) -> None:
    """Write the rows collected since ``defer_writes``, in the caller's transaction."""
    bell, outbox = memo.get(_DEFERRED) or ([], [])
    _write(bell, outbox)
    bell.clear()
    outbox.clear()


def _write(bell: list[Notification], outbox: list[Message]) -> None:
    if bell:
        Notification.objects.bulk_create(bell, batch_size=1000)
    if outbox:
        Message.objects.bulk_create(outbox, batch_size=1000)
        kick_after_commit()


def _preferences(user_ids: list[int], memo: dict[Any, Any] | None) -> dict[int, Any]:
    known: dict[int, Any] = memo.setdefault("prefs", {}) if memo is not None else {}
    missing = [pk for pk in user_ids if pk not in known]
    if missing:
        found = {p.user_id: p for p in MessagePreference.objects.filter(user_id__in=missing)}
        known.update({pk: found.get(pk) for pk in missing})
    return {pk: known[pk] for pk in user_ids if known.get(pk) is not None}


def _robots_of(user_ids: list[int], memo: dict[Any, Any] | None) -> list[Robot]:
    """The robots of every department these people belong to, each once."""
    from qloop.org.models import Membership

    if memo is None:
        departments = set(
            Membership.objects.filter(user_id__in=user_ids).values_list("department_id", flat=True)
        )
        return list(Robot.objects.filter(department_id__in=departments, active=True))
    if "robots" not in memo:
        memo["robots"] = list(Robot.objects.filter(active=True, department__isnull=False))
        memo["departments_of"] = {}
    if not memo["robots"]:
        return []
    of: dict[int, set[int]] = memo["departments_of"]
    missing = [pk for pk in user_ids if pk not in of]
    if missing:
        for pk in missing:
            of[pk] = set()
        for user_id, department_id in Membership.objects.filter(user_id__in=missing).values_list(
            "user_id", "department_id"
        ):
            of[user_id].add(department_id)
    departments = set().union(*(of[pk] for pk in user_ids))
    return [r for r in memo["robots"] if r.department_id in departments]


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
