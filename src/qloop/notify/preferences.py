"""A person's choice of where each kind of message reaches them, and when not to disturb."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from qloop.notify.actions import channels_for
from qloop.notify.models import PERSONAL_CHANNELS, MessagePreference
from qloop.notify.texts import KINDS

if TYPE_CHECKING:
    from qloop.org.models import User


def personal_kinds() -> list[str]:
    return [code for code, kind in KINDS.items() if kind.personal]


def current(user: User) -> tuple[dict[str, tuple[str, ...]], MessagePreference | None]:
    pref = MessagePreference.objects.filter(user=user).first()
    return {kind: channels_for(pref, kind) for kind in personal_kinds()}, pref


def _time(raw: str, field: str, errors: dict[str, list[str]]) -> dt.time | None:
    if not raw:
        return None
    try:
        return dt.time.fromisoformat(raw)
    except ValueError:
        errors.setdefault(field, []).append(_("Enter a time as HH:MM."))
        return None


def save(
    user: User,
    *,
    chosen: dict[str, list[str]],
    quiet_from: str,
    quiet_to: str,
    email: str,
) -> MessagePreference:
    """Store the choice; ValidationError (nothing saved) on a bad time or address."""
    errors: dict[str, list[str]] = {}
    start = _time(quiet_from.strip(), "quiet_from", errors)
    end = _time(quiet_to.strip(), "quiet_to", errors)
    if (start is None) != (end is None) and "quiet_from" not in errors and "quiet_to" not in errors:
        errors.setdefault("quiet_to", []).append(
            _("Give both ends of the quiet hours, or neither.")
        )
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.setdefault("email", []).append(_("Enter a valid e-mail address."))
    channels = {}
    for kind in personal_kinds():
        picked = [c for c in chosen.get(kind, []) if c in PERSONAL_CHANNELS]
        channels[kind] = sorted(set(picked))
    if not email and any("email" in picked for picked in channels.values()):
        # Said once, however many kinds ask for e-mail.
        errors.setdefault("email", []).append(
            _("Give an e-mail address to receive messages by e-mail.")
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if user.email != email:
            user.email = email
            user.save(update_fields=["email"])
        pref, _created = MessagePreference.objects.update_or_create(
            user=user,
            defaults={"channels": channels, "quiet_from": start, "quiet_to": end},
        )
    return pref
