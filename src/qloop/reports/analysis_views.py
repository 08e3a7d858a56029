"""The analysis page (issue 13): a thin view over ``qloop.reports.analysis``."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from qloop.cases.kinds import enabled_kinds
from qloop.inputs import clamp_date
from qloop.org.models import User
from qloop.reports.analysis import DIMENSIONS, analyse


def _date(raw: str) -> dt.date | None:
    if not raw:
        return None
    return clamp_date(dt.date.fromisoformat(raw))


@login_required
@require_GET
def analysis(request: HttpRequest) -> HttpResponse:
    """For the roles that see every case (managers, Quality, CS): others would analyse a part
    and read it as the whole."""
    user: User = request.user  # type: ignore[assignment]
    if not user.sees_all_cases:
        raise PermissionDenied
    today = timezone.localdate()
    default_start = (today.replace(day=1) - dt.timedelta(days=330)).replace(day=1)
    errors: dict[str, str] = {}
    try:
        start = _date(request.GET.get("from", "")) or default_start
    except ValueError:
        errors["from"], start = _("Enter a date as YYYY-MM-DD."), default_start
    try:
        end = _date(request.GET.get("to", "")) or today
    except ValueError:
        errors["to"], end = _("Enter a date as YYYY-MM-DD."), today
    if end < start:
        errors["to"], end = _("The end of the period is before its start."), today
    dimension = request.GET.get("by") or "category"
    if dimension not in DIMENSIONS:
        dimension = "category"
    kinds = [(spec.kind, spec.label) for spec in enabled_kinds()]
    kind = request.GET.get("kind") or ""
    if kind not in {k for k, _label in kinds}:
        kind = ""
    result = analyse(user, start, end, dimension=dimension, kind=kind)
    return render(
        request,
        "reports/analysis.html",
        {
            "a": result,
            "start": start,
            "end": end,
            "dimension": dimension,
            "dimensions": list(DIMENSIONS.items()),
            "kind": kind,
            "kinds": kinds,
            "errors": errors,
        },
        status=422 if errors else 200,
    )
