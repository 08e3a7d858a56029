"""The import of past complaints and feedback (issue 13): a thin view over
``qloop.cases.history``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from qloop.cases.history import COLUMNS, can_import, import_history, template_xlsx
from qloop.org.models import User

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_http_methods(["GET", "POST"])
def history_import(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not can_import(user):
        raise PermissionDenied
    report, error, status = None, "", 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error, status = _("Choose an .xlsx file."), 422
        else:
            try:
                report = import_history(upload.read(), actor=user)
            except ValidationError as exc:
                error, status = " ".join(exc.messages), 422
            else:
                status = 200 if report.ok else 422
    return render(
        request,
        "cases/history_import.html",
        {"report": report, "error": error, "columns": [str(h) for _f, h, _e in COLUMNS]},
        status=status,
    )


@login_required
@require_GET
def history_template(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not can_import(user):
        raise PermissionDenied
    response = HttpResponse(template_xlsx(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="qloop-history-template.xlsx"'
    return response


@login_required
@require_GET
def similar_cases(request: HttpRequest) -> HttpResponse:
    """While the problem is typed: the closest past cases and a suggested category (htmx)."""
    from qloop.cases.models import Category
    from qloop.cases.similar import similar_cases as find

    user: User = request.user  # type: ignore[assignment]
    kind = request.GET.get("kind") or "complaint"
    matches, suggested = find(
        user,
        request.GET.get("symptom", "")[:2000],
        model=request.GET.get("product_model", "")[:100],
        kind=kind if kind in {"complaint", "feedback"} else "complaint",
    )
    category = Category.objects.filter(code=suggested).first() if suggested else None
    return render(request, "cases/_similar.html", {"matches": matches, "suggested": category})
