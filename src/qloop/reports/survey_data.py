"""The survey numbers a report is drafted from, read through the surveys app's contract."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext as _


def results_snapshot(campaign_id: int) -> dict[str, Any]:
    """``campaign_results`` of one campaign (with the previous one) as plain JSON data."""
    try:
        from qloop.surveys.results import campaign_results
    except ImportError as exc:  # the surveys app is not installed
        raise ValidationError(_("Satisfaction surveys are not available.")) from exc
    try:
        results = campaign_results(campaign_id, with_previous=True)
    except (ObjectDoesNotExist, LookupError, ValueError) as exc:
        raise ValidationError({"campaign": [_("No such survey campaign.")]}) from exc
    return json_ready(dataclasses.asdict(results))


def json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def campaign_period(campaign_id: int) -> tuple[dt.date | None, dt.date | None]:
    """When the campaign ran, as the report's default period."""
    try:
        from django.utils import timezone

        from qloop.surveys.models import Campaign
    except ImportError:
        return None, None
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return None, None
    start = timezone.localdate(campaign.opens_at)
    end = timezone.localdate(campaign.closes_at) if campaign.closes_at else None
    return start, end


def campaign_choices() -> list[tuple[int, str]]:
    """Campaigns a report can be drafted from, newest first."""
    try:
        from qloop.surveys.models import Campaign
    except ImportError:
        return []
    return [(c.pk, c.title) for c in Campaign.objects.order_by("-opens_at", "-pk")[:200]]
