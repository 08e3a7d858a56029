"""The public status page: a customer or patient sees where his case stands (issue 12.22).

No login. Every lookup counts against the client's real address (the same address the log-in
limits use), and a refused lookup says the same thing however it was wrong.
"""

from __future__ import annotations

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from qloop.cases import access
from qloop.cases.status import contact_kinds, look_up, normalise_number, status_of
from qloop.org.attempts import client_address
from qloop.org.models import User

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)


def status_link(number: str = "") -> str:
    """The status page's address for a case, on the site's address (SITE_URL)."""
    link = settings.SITE_URL + reverse("case-status")
    return f"{link}?number={number}" if number else link


def _take_lookup(request: HttpRequest) -> bool:
    """Count this lookup against the address and say whether it is within the hour's limit;
    one atomic increment, so lookups sent at once cannot all pass one check."""
    limit: int = settings.QLOOP_STATUS_LOOKUPS_PER_HOUR
    cache.add(_key(request), 0, timeout=60 * 60)
    try:
        return int(cache.incr(_key(request))) <= limit
    except ValueError:  # expired between add and incr
        cache.set(_key(request), 1, timeout=60 * 60)
        return limit >= 1


def _key(request: HttpRequest) -> str:
    return f"case-status:{client_address(request) or 'unknown'}"


@require_http_methods(["GET", "POST"])
def case_status(request: HttpRequest) -> HttpResponse:
    chosen = request.GET.get("lang") or request.POST.get("lang") or ""
    language = chosen if chosen in LANGUAGE_CODES else translation.get_language()
    with translation.override(language):
        number = normalise_number(request.POST.get("number") or request.GET.get("number") or "")
        context: dict[str, object] = {
            "language": language,
            "languages": settings.LANGUAGES,
            "number": number[:30],
            "status": None,
            "error": "",
        }
        status = 200
        if request.method == "POST":
            if not _take_lookup(request):
                context["error"] = _("Too many lookups from this address. Try again in an hour.")
                status = 429
            else:
                found = look_up(number, request.POST.get("phone", "")[:20])
                if found is None:
                    context["error"] = _(
                        "No case matches this number and these digits. Check both, as written "
                        "on what you were given."
                    )
                context["status"] = found
        return render(request, "cases/status.html", context, status=status)


@login_required
@require_GET
def case_status_slip(request: HttpRequest, number: str) -> HttpResponse:
    """A slip to hand, post or attach to the answer: the case number and the QR code of the
    status page (with the number filled in; the phone digits are the customer's to give)."""
    user = request.user
    assert isinstance(user, User)
    case = access.get_case_for_user(user, number)
    if case.kind not in contact_kinds():
        raise Http404
    found = status_of(case)
    return render(
        request,
        "cases/status_slip.html",
        {
            "case": case,
            "status": found,
            "qr_svg": status_qr_svg(case.number),
            "link": status_link(case.number),
        },
    )


def status_qr_svg(number: str) -> str:
    """The QR code as inline SVG (scales to its box; quiet zone kept)."""
    return segno.make(status_link(number), error="m").svg_inline(
        border=4, omitsize=True, light="#fff", svgclass="qr-code", title=_("QR code")
    )
