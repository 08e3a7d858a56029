"""Electronic signatures in the manner of 21 CFR Part 11: the signer enters the password again
and states the meaning; the signature records the printed name, the time and the meaning."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import TextChoices
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from qloop.org.models import User

MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60


class Meaning(TextChoices):
    REVIEWED = "reviewed", gettext_lazy("Reviewed (审核)")
    APPROVED = "approved", gettext_lazy("Approved (批准)")
    VERIFIED = "verified", gettext_lazy("Verified (验证)")
    # A refusal is signed as what it is, not as a review (R1.6: the GM refuses on-site work).
    REFUSED = "refused", gettext_lazy("Refused (驳回)")
    # A clinician's acknowledgement of a result fed back to them (R5.1, R5.5).
    RECEIVED = "received", gettext_lazy("Received (已接收)")


def _key(user: User) -> str:
    return f"esign-fail:{user.pk}"


def sign(
    user: User, data: dict[str, Any] | None, *, meaning: str, at: dt.datetime | None = None
) -> dict[str, Any]:
    """Check a signature given as ``{"password": …, "meaning": …}``; return what is recorded.

    A wrong password is refused, counted toward lock-out, and changes nothing; after
    MAX_FAILURES wrong passwords the person cannot sign for LOCK_SECONDS.
    """
    data = data or {}
    if cache.get(_key(user), 0) >= MAX_FAILURES:
        raise ValidationError(
            {"signature": [_("Too many wrong passwords: signing is locked for 15 minutes.")]}
        )
    if data.get("meaning") != meaning:
        raise ValidationError(
            {
                "signature.meaning": [
                    _("This step must be signed with the meaning “%(meaning)s”.")
                    % {"meaning": Meaning(meaning).label}
                ]
            }
        )
    password = data.get("password") or ""
    if not password:
        raise ValidationError({"signature.password": [_("Enter your password to sign.")]})
    if not user.check_password(password):
        try:
            failures = cache.incr(_key(user))
        except ValueError:
            failures = 1
            cache.set(_key(user), 1, timeout=LOCK_SECONDS)
        if failures >= MAX_FAILURES:
            # The lock runs from the wrong password that caused it, not from the first one.
            cache.set(_key(user), failures, timeout=LOCK_SECONDS)
        raise ValidationError(
            {"signature.password": [_("The password is wrong; nothing was signed.")]}
        )
    cache.delete(_key(user))
    return {
        "signer": user.username,
        "printed_name": user.printed_name,
        "meaning": meaning,
        "at": (at or timezone.now()).isoformat(),
    }
