"""Periodic jobs of the clinical profile, run by the Huey worker."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from qloop.clinical.feedback import remind_late_forms, send_due_forms


@db_periodic_task(crontab(minute="7", hour="8"))
def clinical_feedback_forms() -> tuple[int, int]:
    """Send the information feedback forms that are due and remind the late ones (R5.2, R5.3)."""
    return send_due_forms(), remind_late_forms()
