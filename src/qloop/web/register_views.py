"""The named registers of document 2 as printable pages and workbooks (R2.2–R2.5, R2.11, X4)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from qloop.cases.registers import (
    COMPLAINT_RECORD,
    HANDLING_RECORD,
    MAX_ROWS,
    Period,
    PeriodError,
    RegisterSpec,
    register_count,
    register_rows,
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
    # X4: a printed register that stops at MAX_ROWS says so, and how to get every row.
    total = register_count(spec, user, period) if len(rows) >= MAX_ROWS else len(rows)
    return render(
        request,
        "reports/feedback_register.html",
        {
            "spec": spec,
            "rows": [[(c, r[c.key]) for c in spec.columns] for r in rows],
            "period": period,
            "values": {"from": period.start.isoformat(), "to": period.end.isoformat()},
            "xlsx_url": xlsx_url,
            "total": total,
            "cut": total > len(rows),
            "shown": len(rows),
            "export_code": {
                "handling": "feedback-handling",
                "complaints": "complaints-and-feedback",
            }[spec.code],
        },
    )


def _workbook(request: HttpRequest, spec: RegisterSpec, name: str) -> HttpResponse:
    """The register's workbook: every row of the period, written by the worker if large (X4)."""
    from qloop.reports.export_views import start

    return start(request, name, "xlsx")


@login_required
@require_GET
def feedback_handling_record(request: HttpRequest) -> HttpResponse:
    """《顧客反饋處理記錄表》 (R2.3, R2.8)."""
    return _page(request, HANDLING_RECORD, "feedback-handling-record-xlsx")


@login_required
@require_GET
def feedback_handling_record_xlsx(request: HttpRequest) -> HttpResponse:
    return _workbook(request, HANDLING_RECORD, "feedback-handling")


@login_required
@require_GET
def complaint_feedback_record(request: HttpRequest) -> HttpResponse:
    """《顧客投訴與反饋記錄表》 (R2.5 a, R2.11)."""
    return _page(request, COMPLAINT_RECORD, "complaint-feedback-record-xlsx")


@login_required
@require_GET
def complaint_feedback_record_xlsx(request: HttpRequest) -> HttpResponse:
    return _workbook(request, COMPLAINT_RECORD, "complaints-and-feedback")
