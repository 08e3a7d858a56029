"""Limits every request keeps before a view runs, for the pages and the API alike.

- A body larger than QLoop accepts is refused with 413 before it is read: form fields and JSON
  up to ``QLOOP_MAX_BODY_MB``; a form with photos up to ``QLOOP_MAX_PHOTOS`` ×
  ``QLOOP_MAX_UPLOAD_MB`` more. The API answers JSON with a ``detail``, a page says it plainly.
- A control character in the address is a 404 (no record is named with one); in a query
  parameter, or NUL in a posted form field, a 422 naming it (the API) or a 400 page naming it.
  PostgreSQL cannot compare or store NUL, so without this a search, a filter or a look-up by
  name fails with a server error. Other control characters in posted text reach the form or
  the action, which refuses them at their field with the message of ``qloop.inputs``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _

from qloop.inputs import control_character, control_character_message

MB = 1024 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def body_limit(request: HttpRequest) -> int:
    """How many bytes this request's body may have."""
    fields: int = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if request.content_type == "multipart/form-data":
        return fields + settings.QLOOP_MAX_PHOTOS * settings.QLOOP_MAX_UPLOAD_MB * MB
    return fields


def body_too_large_message() -> str:
    return _(
        "The request is larger than QLoop accepts: at most %(text)s MB of text, and at most "
        "%(photos)s photos of %(photo)s MB each. Send less at once."
    ) % {
        "text": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // MB,
        "photos": settings.QLOOP_MAX_PHOTOS,
        "photo": settings.QLOOP_MAX_UPLOAD_MB,
    }


class RequestLimitsMiddleware:
    """Refuses an over-large body and control characters in the address, the query string and
    posted form fields (see the module's docstring); everything else passes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.refusal(request) or self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads such a body as empty
        if length > body_limit(request):
            return self._respond(request, 413, "", body_too_large_message())
        if control_character(request.path_info):
            return self._respond(request, 404, "", _("Not found."))
        for name, values in request.GET.lists():
            found = control_character([name, *values])
            if found:
                return self._respond(request, 422, name, control_character_message(found))
        if request.method == "POST" and request.content_type in FORM_TYPES:
            try:
                posted = list(request.POST.lists())
            except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
                return self._respond(request, 413, "", body_too_large_message())
            except MultiPartParserError:
                return self._respond(request, 400, "", _("The form could not be read."))
            for name, values in posted:
                if any("\x00" in v for v in [name, *values]):
                    return self._respond(request, 422, name, control_character_message("U+0000"))
        return None

    def _respond(self, request: HttpRequest, status: int, field: str, message: str) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            detail = f"{field}: {message}" if field else message
            errors = [{"field": field, "message": message}] if field else []
            return JsonResponse(
                {"detail": detail, "errors": errors},
                status=status,
                json_dumps_params={"ensure_ascii": False},
            )
        if status == 404:
            return render(request, "404.html", status=404)
        if status == 422:
            status = 400  # a page answers "bad request"; the API names the field with a 422
        return render(
            request,
            "refused.html",
            {"status": status, "field": field, "message": message},
            status=status,
        )
