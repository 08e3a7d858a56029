"""Exports of every list (X4): small ones at once, large ones by the worker with progress."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from qloop.org.models import User
from qloop.reports.exports import (
    EXPORTS,
    FORMATS,
    ExportError,
    Inline,
    Pending,
    filename,
    job_for,
    request_export,
)
from qloop.reports.models import ExportJob, ExportState


def start(request: HttpRequest, code: str, fmt: str | None = None) -> HttpResponse:
    """The list's filters come in the URL as they are on its page (a bad one is a 422 naming
    it). A small export is written at once, whatever the method: reading it changes nothing.
    A large one is queued only by a POST (the list's button, CSRF-checked); a GET shows how
    many rows it has and the button to start it."""
    user: User = request.user  # type: ignore[assignment]
    if code not in EXPORTS:
        raise Http404
    fmt = request.POST.get("format") or fmt or request.GET.get("format") or "xlsx"
    try:
        result = request_export(user, code, request.GET, fmt, start_job=request.method == "POST")
    except ExportError as exc:
        return HttpResponse(f"{exc.field}: {exc.message}", status=422, content_type="text/plain")
    if isinstance(result, Pending):
        query = urlencode(result.params)
        action = reverse("export-start", args=[code]) + (f"?{query}" if query else "")
        return render(request, "reports/export_start.html", {"pending": result, "action": action})
    if isinstance(result, Inline):
        # At most QLOOP_EXPORT_INLINE_ROWS rows: small enough to answer in one piece.
        with result.content as content:
            response = HttpResponse(content.read(), content_type=result.content_type)
        response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
        return response
    return redirect("export-job", job=result.token)


@login_required
@require_http_methods(["GET", "POST"])
def export_start(request: HttpRequest, code: str) -> HttpResponse:
    return start(request, code)


def _job(request: HttpRequest, job: str) -> ExportJob:
    return job_for(request.user, job)  # type: ignore[arg-type]


@login_required
@require_GET
def export_job(request: HttpRequest, job: str) -> HttpResponse:
    found = _job(request, job)
    spec = EXPORTS.get(found.list_code)
    template = "reports/_export_progress.html" if request.htmx else "reports/export_job.html"  # type: ignore[attr-defined]
    return render(request, template, {"job": found, "spec": spec})


@login_required
@require_GET
def export_download(request: HttpRequest, job: str) -> FileResponse:
    found = _job(request, job)
    if found.state != ExportState.DONE or not found.file_name:
        raise Http404
    return FileResponse(
        default_storage.open(found.file_name, "rb"),
        as_attachment=True,
        filename=filename(found.list_code, found.file_format),
        content_type=FORMATS[found.file_format],
    )


@login_required
@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    jobs = [
        (job, EXPORTS[job.list_code].title if job.list_code in EXPORTS else job.list_code)
        for job in ExportJob.objects.filter(requested_by=user)[:50]
    ]
    return render(request, "reports/export_list.html", {"jobs": jobs})
