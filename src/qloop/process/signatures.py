"""Electronic signatures in the manner of 21 CFR Part 11: the signer enters the password again
and states the meaning; the signature records the printed name, the time and the meaning."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import TextChoices
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qloop.org import attempts

if TYPE_CHECKING:
    from qloop.org.models import User


class Meaning(TextChoices):
    REVIEWED = "reviewed", gettext_lazy("Reviewed (审核)")
    APPROVED = "approved", gettext_lazy("Approved (批准)")
    VERIFIED = "verified", gettext_lazy("Verified (验证)")
    # A refusal is signed as what it is, not as a review (R1.6: the GM refuses on-site work).
    REFUSED = "refused", gettext_lazy("Refused (驳回)")
    # A clinician's acknowledgement of a result fed back to them (R5.1, R5.5).
    RECEIVED = "received", gettext_lazy("Received (已接收)")


def sign(
    user: User, data: dict[str, Any] | None, *, meaning: str, at: dt.datetime | None = None
) -> dict[str, Any]:
    """Check a signature given as ``{"password": …, "meaning": …}``; return what is recorded.

    A wrong password is refused and changes nothing. It is counted with the login pages'
    wrong passwords, by user name and address (``qloop.org.attempts``): after
    QLOOP_LOGIN_ATTEMPTS of them the person can neither sign nor log in from that address
    until the lock-out ends. The count must outlive the refusal, so callers check the
    signature before their transaction (a refused step rolls its transaction back).
    """
    data = data or {}
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
    checked = attempts.check_password(user, password)
    if checked.locked:
        raise ValidationError({"signature": [attempts.lockout_message(checked.locked_until)]})
    if not checked.right:
        raise ValidationError(
            {"signature.password": [_("The password is wrong; nothing was signed.")]}
        )
    return {
        "signer": user.username,
        "printed_name": user.printed_name,
        "meaning": meaning,
        "at": (at or timezone.now()).isoformat(),
    }
