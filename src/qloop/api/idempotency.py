"""``Idempotency-Key`` on ``POST /api/v1/cases`` (issue 9.13): a client that retries after a
lost answer gets the first answer again, not a second case.

The key is stored per person, with a fingerprint of the request and the answer, in the same
transaction as the registration: a retry racing the first request waits on the key's unique
index until the first commits, then replays its answer (or, if the first failed, registers
itself). A key is kept 24 hours; the worker removes older ones every hour.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop.api.models import IdempotencyKey
from qloop.inputs import control_character

if TYPE_CHECKING:
    from qloop.org.models import User

HEADER = "Idempotency-Key"
WINDOW = dt.timedelta(hours=24)
MAX_LENGTH = 255


def fingerprint(request_data: Any) -> str:
    """The same request, however its JSON was spaced or ordered, has the same fingerprint."""
    canonical = json.dumps(request_data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> None:
    if not key or len(key) > MAX_LENGTH or not key.isprintable() or control_character(key):
        raise ValidationError(
            {HEADER: [_("Send a key of 1 to %(n)d printable characters.") % {"n": MAX_LENGTH}]}
        )


def once(
    user: User,
    key: str,
    request_fingerprint: str,
    run: Callable[[], tuple[int, dict[str, Any], Any]],
) -> tuple[int, dict[str, Any], bool]:
    """Answer ``run()`` (status, JSON body, the case) once per person and key; within 24 hours
    the same request with the same key gets the stored answer (the last value says it was
    replayed), and another request with it a 422. A failed ``run`` keeps no key."""
    check_key(key)
    now = timezone.now()
    with transaction.atomic():
        record = _claim(user, key, request_fingerprint, now)
        if record.status is not None:
            return record.status, record.response, True
        status, body, case = run()
        record.status, record.response, record.case = status, body, case
        record.save(update_fields=["status", "response", "case"])
    return status, body, False


def _claim(user: User, key: str, request_fingerprint: str, now: dt.datetime) -> IdempotencyKey:
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                user=user, key=key, fingerprint=request_fingerprint, created_at=now
            )
    except IntegrityError:
        pass  # the key is known, or another request with it just committed
    record = IdempotencyKey.objects.select_for_update().get(user=user, key=key)
    if record.created_at <= now - WINDOW:
        # Past 24 hours a key is free again: its earlier answer is forgotten.
        record.fingerprint, record.created_at = request_fingerprint, now
        record.status, record.response, record.case = None, {}, None
        record.save()
        return record
    if record.fingerprint != request_fingerprint:
        raise ValidationError(
            {
                HEADER: [
                    _(
                        "This key was used in the last 24 hours for a different request. Use a "
                        "new key for a new registration."
                    )
                ]
            }
        )
    return record


def remove_expired(now: dt.datetime | None = None) -> int:
    """Forget the keys older than 24 hours; safe to run at any time, and twice."""
    cutoff = (now or timezone.now()) - WINDOW
    deleted, _kinds = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted
