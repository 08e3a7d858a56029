"""Periodic jobs of the API app, run by the Huey worker."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from qloop.api.idempotency import remove_expired


@db_periodic_task(crontab(minute="17"))
def remove_expired_idempotency_keys() -> int:
    """Every hour: forget ``Idempotency-Key`` answers older than 24 hours (issue 9.13)."""
    return remove_expired()
