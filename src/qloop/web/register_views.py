"""The named registers of document 2 as printable pages and workbooks (R2.2–R2.5, R2.11, X4)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from qloop.cases.registers import (
    COMPLAINT_RECORD,
    HANDLING_RECORD,
    Period,
    PeriodError,
    RegisterSpec,
    register_rows,
    register_xlsx,
)
from qloop.org.models import User

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(request: HttpRequest, spec: RegisterSpec, xlsx_url: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        period = Period.from_query(request.GET)
    except PeriodError as exc:
        # Nothing is listed for a period that cannot be read; the form says what is wrong.
        return render(
            request,
            "reports/feedback_register.html",
            {
                "spec": spec,
                "rows": [],
                "error": exc.message,
                "values": request.GET,
                "xlsx_url": xlsx_url,
            },
            status=422,
        )
    rows = register_rows(spec, user, period)
    return render(
        request,
        "reports/feedback_register.html",
        {
            "spec": spec,
            "rows": [[(c, r[c.key]) for c in spec.columns] for r in rows],
            "period": period,
            "values": {"from": period.start.isoformat(), "to": period.end.isoformat()},
            "xlsx_url": xlsx_url,
        },
    )


def _workbook(request: HttpRequest, spec: RegisterSpec, name: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        period = Period.from_query(request.GET)
    except PeriodError as exc:
        return HttpResponse(f"{exc.field}: {exc.message}", status=422, content_type="text/plain")
    response = HttpResponse(register_xlsx(spec, user, period), content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = (
        f'attachment; filename="{name}-{period.start:%Y%m%d}-{period.end:%Y%m%d}-{stamp}.xlsx"'
    )
    return response


@login_required
@require_GET
def feedback_handling_record(request: HttpRequest) -> HttpResponse:
    """《顧客反饋處理記錄表》 (R2.3, R2.8)."""
    return _page(request, HANDLING_RECORD, "feedback-handling-record-xlsx")


@login_required
@require_GET
def feedback_handling_record_xlsx(request: HttpRequest) -> HttpResponse:
    return _workbook(request, HANDLING_RECORD, "feedback-handling-record")


@login_required
@require_GET
def complaint_feedback_record(request: HttpRequest) -> HttpResponse:
    """《顧客投訴與反饋記錄表》 (R2.5 a, R2.11)."""
    return _page(request, COMPLAINT_RECORD, "complaint-feedback-record-xlsx")


@login_required
@require_GET
def complaint_feedback_record_xlsx(request: HttpRequest) -> HttpResponse:
    return _workbook(request, COMPLAINT_RECORD, "complaint-feedback-record")
