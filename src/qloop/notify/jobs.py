"""The worker's side of the outbox."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from qloop.notify.outbox import deliver_due


@db_task()
def deliver_outbox() -> int:
    """Deliver what waits now; queued right after a message is committed. Several may run at
    once: each message is claimed by one of them."""
    return deliver_due().sent


@db_periodic_task(crontab(minute="*"))
def deliver_outbox_periodically() -> int:
    """The safety net: retries whose back-off has run out, quiet hours that ended, messages
    whose kick was lost."""
    return deliver_due().sent
