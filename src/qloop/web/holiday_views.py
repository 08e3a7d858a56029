"""Entering next year's statutory holidays from the State Council's notice (issue 12.23, X3).

One form: the year, the notice as the source, holiday ranges and swapped working days. "Preview"
checks it and shows the year as a calendar; only "Apply" records it. Administrators only.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods

from qloop.org import holidays
from qloop.org.models import User

FIELDS = ("year", "source", "holidays", "workdays")


@login_required
@require_http_methods(["GET", "POST"])
def statutory_holidays(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    if not user.administers:
        raise PermissionDenied
    today = timezone.localdate()
    values = {name: request.POST.get(name, "") for name in FIELDS}
    if request.method == "GET":
        values["year"] = request.GET.get("year") or str(
            holidays.unknown_next_year(today) or today.year + 1
        )
    errors: dict[str, list[str]] = {}
    months = None
    status = 200
    if request.method == "POST":
        try:
            data = holidays.parse_notice(
                values["year"], values["source"], values["holidays"], values["workdays"]
            )
        except ValidationError as exc:
            errors = exc.message_dict
            status = 422
        else:
            if request.POST.get("apply"):
                holidays.enter_notice(data, actor=user)
                messages.success(
                    request,
                    _("The statutory holidays of %(year)d apply from now on.")
                    % {"year": data.year},
                )
                return redirect("statutory-holidays")
            months = holidays.preview(data)
    first, last = holidays.package_years()
    notices = [
        (notice, holidays.package_knows(notice.year))
        for notice in holidays.current_notices().values()
    ]
    return render(
        request,
        "org/statutory_holidays.html",
        {
            "values": values,
            "errors": errors,
            "months": months,
            "package_first": first,
            "package_last": last,
            "notices": sorted(notices, key=lambda pair: -pair[0].year),
            "unknown_year": holidays.unknown_next_year(today),
            "weekdays": [
                pgettext("weekday, short", "Mon"),
                pgettext("weekday, short", "Tue"),
                pgettext("weekday, short", "Wed"),
                pgettext("weekday, short", "Thu"),
                pgettext("weekday, short", "Fri"),
                pgettext("weekday, short", "Sat"),
                pgettext("weekday, short", "Sun"),
            ],
        },
        status=status,
    )
