"""Pages of the period summaries (X5): the archive, one summary, its sign-off and sending
record, its printed A4 page and its .xlsx. Thin: each view fetches with a permission check and
calls one action of ``qloop.reports.period_summaries``."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qloop.org.models import User
from qloop.process.errors import Conflict
from qloop.reports import period_summaries as ps
from qloop.reports.models import PeriodSummary

logger = logging.getLogger(__name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
@require_GET
def summary_archive(request: HttpRequest) -> HttpResponse:
    """Every period summary of the recipient sets this person may read, newest first."""
    sets = ps.readable_sets(_user(request))
    if not sets:
        raise PermissionDenied
    codes = [s.code for s in sets]
    chosen = request.GET.get("for", "")
    if chosen in codes:
        codes = [chosen]
    summaries = list(
        PeriodSummary.objects.filter(recipients__in=codes)
        .select_related("signed_by")
        .prefetch_related("sendings")[:300]
    )
    titles = {s.code: s.title for s in sets}
    return render(
        request,
        "reports/period_summaries.html",
        {
            "rows": [(s, titles[s.recipients]) for s in summaries],
            "sets": sets,
            "chosen": chosen,
        },
    )


def _context(request: HttpRequest, summary: PeriodSummary) -> dict[str, object]:
    user = _user(request)
    item = ps.recipient_set(summary)
    language = translation.get_language() or "zh-hans"
    return {
        "summary": summary,
        "recipient_set": item,
        "rows": ps.table(summary, language),
        "periods": summary.figures["periods"],
        "actions": summary.figures["current"].get("corrective_list", []),
        "lists_actions": "corrective_list" in summary.figures["current"],
        "sendings": list(summary.sendings.select_related("recorded_by")),
        "may_sign": ps.can_sign(user, summary),
        "may_send": ps.can_record_sending(user, summary),
        "channels": ps.channels(item),
        "paper_title": item.paper_title or _("Quality information period summary"),
        "charts": [
            mark_safe(svg)  # noqa: S308 - every text in the chart is escaped in charts.py
            for svg in (ps.charts_svg(summary, language) if item.charted else [])
        ],
    }


@login_required
@require_GET
def summary_detail(request: HttpRequest, summary_id: int) -> HttpResponse:
    summary = ps.get_summary_for_user(_user(request), summary_id)
    return render(request, "reports/period_summary.html", _context(request, summary))


@login_required
@require_GET
def summary_print(request: HttpRequest, summary_id: int) -> HttpResponse:
    """The summary as an A4 page (print or save as PDF from the browser)."""
    summary = ps.get_summary_for_user(_user(request), summary_id)
    return render(request, "reports/period_summary_print.html", _context(request, summary))


@login_required
@require_GET
def summary_xlsx(request: HttpRequest, summary_id: int) -> HttpResponse:
    summary = ps.get_summary_for_user(_user(request), summary_id)
    data = ps.workbook(summary, translation.get_language() or "zh-hans")
    response = HttpResponse(data, content_type=XLSX)
    name = f"summary-{summary.recipients}-{summary.period}-{summary.start:%Y-%m}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def summary_kept_file(request: HttpRequest, summary_id: int, fmt: str) -> HttpResponse:
    """The PDF or .xlsx kept at sign-off, byte for byte as kept (checked against its SHA-256)."""
    summary = ps.get_summary_for_user(_user(request), summary_id)
    if fmt not in ps.FILE_TYPES:
        raise Http404
    try:
        data = ps.read_kept_file(summary, fmt)
    except ps.KeptFileChanged:
        logger.error("period summary %s: kept %s file does not match its SHA-256", summary.pk, fmt)
        return HttpResponse(
            _("The kept file no longer matches the SHA-256 recorded when it was kept."),
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(data, content_type=ps.FILE_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{ps.kept_file_name(summary, fmt)}"'
    return response


def _step(request: HttpRequest, summary_id: int, step: str) -> HttpResponse:
    user = _user(request)
    summary = ps.get_summary_for_user(user, summary_id)
    allowed = ps.can_record_sending if step == "send" else ps.can_sign
    if not allowed(user, summary):
        raise PermissionDenied
    try:
        if step == "sign":
            ps.sign_off(
                summary,
                actor=user,
                signature={"password": request.POST.get("password", ""), "meaning": "approved"},
            )
            done = _("Signed off: the figures are now kept unchanged.")
        elif step == "recount":
            ps.recount(summary, actor=user)
            done = _("The figures were counted again.")
        else:
            ps.record_sending(
                summary,
                actor=user,
                sent_to=request.POST.get("sent_to", ""),
                channel=request.POST.get("channel", ""),
                note=request.POST.get("note", ""),
                reference=request.POST.get("reference", ""),
            )
            done = _("The sending was recorded.")
    except ValidationError as exc:
        for msg in exc.messages:
            messages.error(request, msg)
        context = _context(request, summary)
        return render(request, "reports/period_summary.html", context, status=422)
    except Conflict as exc:
        messages.error(request, exc.message)
        return render(
            request, "reports/period_summary.html", _context(request, summary), status=409
        )
    messages.success(request, done)
    return redirect("period-summary", summary_id=summary.pk)


@login_required
@require_POST
def summary_sign(request: HttpRequest, summary_id: int) -> HttpResponse:
    return _step(request, summary_id, "sign")


@login_required
@require_POST
def summary_recount(request: HttpRequest, summary_id: int) -> HttpResponse:
    return _step(request, summary_id, "recount")


@login_required
@require_POST
def summary_send(request: HttpRequest, summary_id: int) -> HttpResponse:
    return _step(request, summary_id, "send")
