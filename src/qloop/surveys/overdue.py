"""At least one satisfaction survey a year (R2.5 c): warn Supply and Sales in time."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from qloop.notify.actions import notify, people_in
from qloop.surveys.access import survey_department
from qloop.surveys.models import Campaign, OverdueWarning
from qloop.surveys.results import last_campaign_closed_at

# Eleven months: a warning leaves a month to run the survey before the year is over.
QUIET_FOR = dt.timedelta(days=335)
# Once a month at most, however often the job runs.
WARN_EVERY = dt.timedelta(days=30)


def survey_ran_recently(now: dt.datetime) -> bool:
    """A campaign was open at some time during the last eleven months (or is open now, or is
    scheduled to open)."""
    since = now - QUIET_FOR
    return Campaign.objects.filter(Q(closes_at__isnull=True) | Q(closes_at__gt=since)).exists()


def warn_if_no_recent_survey(now: dt.datetime | None = None) -> bool:
    """Leave Supply and Sales a message when no survey ran for eleven months; True if sent.
    Safe to run any number of times: the last warning's time decides."""
    now = now or timezone.now()
    if survey_ran_recently(now):
        return False
    with transaction.atomic():
        # Two workers running at once: the lock on the newest warning lets one through.
        last = OverdueWarning.objects.select_for_update().order_by("-sent_at").first()
        if last is not None and last.sent_at > now - WARN_EVERY:
            return False
        closed = last_campaign_closed_at()
        OverdueWarning.objects.create(sent_at=now, last_closed_at=closed)
        department = survey_department()
        notify(
            people_in([department.code] if department else []),
            kind="survey_overdue",
            data={"last_closed_at": closed.isoformat() if closed else None},
            at=now,
        )
    return True
