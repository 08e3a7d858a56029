"""The clinical pages: thin views that check permission, call an action and render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qloop.cases.access import get_case_for_user
from qloop.cases.models import Case
from qloop.clinical import actions, timeliness
from qloop.clinical.access import mask_id, mask_name
from qloop.clinical.forms import CorrectionForm, ImportForm, ResultForm
from qloop.clinical.models import (
    CaseClassification,
    ClinicalRegister,
    Finding,
    FindingKind,
    ResultEntry,
)
from qloop.clinical.nav import follows_findings, reads_timeliness
from qloop.org.models import User


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def hospital_name(department: Any) -> str:
    """The top of a department's tree (the hospital), for the heading of printed forms."""
    if isinstance(department, str) or department is None:
        return department or ""
    seen = 0
    while department.parent_id is not None and seen < 10:
        department = department.parent
        seen += 1
    return str(department.display_name)


def _put_errors(form: Any, exc: ValidationError) -> None:
    for name, msgs in exc.message_dict.items():
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)


def readable_registers(user: User) -> list[ClinicalRegister]:
    """The registers this person may open: their own department's (patients' data)."""
    qs = ClinicalRegister.objects.filter(is_active=True).select_related("department")
    return [r for r in qs if actions.can_write_register(user, r)]


def get_register_for_user(user: User, code: str) -> ClinicalRegister:
    register = ClinicalRegister.objects.filter(code=code, is_active=True).first()
    if register is None:
        raise Http404
    if not actions.can_write_register(user, register):
        raise PermissionDenied
    return register


def get_entry_for_user(user: User, number: str) -> ResultEntry:
    entry = (
        ResultEntry.objects.select_related("register", "ordering_department", "ward", "reported_by")
        .filter(number=number)
        .first()
    )
    if entry is None:
        raise Http404
    if not actions.can_write_register(user, entry.register):
        raise PermissionDenied
    return entry


@login_required
@require_GET
def registers(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    found = list(readable_registers(user))
    if not found:
        raise PermissionDenied
    if len(found) == 1:
        return redirect("clinical-register", code=found[0].code)
    return render(request, "clinical/registers.html", {"registers": found})


def _period(request: HttpRequest, default_days: int = 30) -> tuple[dt.datetime, dt.datetime, str]:
    """The period asked for (?from=&to= as dates, to inclusive), or the last days."""
    today = timezone.localdate()
    error = ""
    try:
        start_day = (
            dt.date.fromisoformat(request.GET.get("from") or "")
            if request.GET.get("from")
            else today - dt.timedelta(days=default_days - 1)
        )
        end_day = (
            dt.date.fromisoformat(request.GET.get("to") or "") if request.GET.get("to") else today
        )
    except ValueError:
        start_day, end_day = today - dt.timedelta(days=default_days - 1), today
        error = _("Enter dates as YYYY-MM-DD.")
    if end_day < start_day:
        start_day, end_day = end_day, start_day
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(start_day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end, error


@login_required
@require_GET
def register_detail(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    register = get_register_for_user(user, code)
    qs = ResultEntry.objects.filter(register=register).select_related("ordering_department", "ward")
    start, end, error = _period(request, 7)
    qs = qs.filter(reported_at__gte=start, reported_at__lt=end)
    q = (request.GET.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(patient_name__icontains=q)
            | Q(patient_id=q)
            | Q(number=q)
            | Q(accession=q)
            | Q(test_name__icontains=q)
        )
    if request.GET.get("abnormal"):
        qs = qs.exclude(abnormal_flag="")
    page = Paginator(qs.order_by("-reported_at", "-id"), 50).get_page(request.GET.get("page"))
    entries = list(page.object_list)
    with_findings = set(
        Finding.objects.filter(entry__in=entries).values_list("entry_id", flat=True)
    )
    return render(
        request,
        "clinical/register.html",
        {
            "register": register,
            "page": page,
            "entries": [(e, e.pk in with_findings) for e in entries],
            "q": q,
            "start": start.date(),
            "end": (end - dt.timedelta(days=1)).date(),
            "error": error,
            "print": bool(request.GET.get("print")),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def entry_create(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    register = get_register_for_user(user, code)
    form = ResultForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            entry, opened = actions.register_result(
                form.result_data(), register=register, actor=user
            )
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Registered as %(number)s.") % {"number": entry.number})
            for case in opened:
                messages.warning(
                    request,
                    _("Finding %(number)s opened: the clinician must acknowledge it.")
                    % {"number": case.number},
                )
            return redirect("clinical-entry", number=entry.number)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "clinical/entry_form.html", {"form": form, "register": register}, status=status
    )


@login_required
@require_GET
def entry_detail(request: HttpRequest, number: str) -> HttpResponse:
    user = _user(request)
    entry = get_entry_for_user(user, number)
    return _entry_page(request, entry, CorrectionForm(initial=_initial(entry)))


def _initial(entry: ResultEntry) -> dict[str, Any]:
    out = {name: getattr(entry, name) for name in actions.entry_fields()}
    out["ordering_department"] = entry.ordering_department.code if entry.ordering_department else ""
    out["ward"] = entry.ward.code if entry.ward else ""
    out["accession"] = entry.accession
    for name in ("collected_at", "received_at", "reported_at"):
        if out[name]:
            out[name] = timezone.localtime(out[name]).strftime("%Y-%m-%dT%H:%M")
    return out


def _entry_page(
    request: HttpRequest, entry: ResultEntry, form: CorrectionForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "clinical/entry.html",
        {
            "entry": entry,
            "versions": list(entry.versions.select_related("changed_by").order_by("-version")),
            "findings": list(entry.findings.select_related("case")),
            "form": form,
        },
        status=status,
    )


@login_required
@require_POST
def entry_correct(request: HttpRequest, number: str) -> HttpResponse:
    user = _user(request)
    entry = get_entry_for_user(user, number)
    form = CorrectionForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            entry, opened = actions.correct_result(
                entry, form.result_data(), reason=reason, actor=user
            )
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Corrected: version %(v)s.") % {"v": entry.version})
            for case in opened:
                messages.warning(
                    request,
                    _("Finding %(number)s opened: the clinician must acknowledge it.")
                    % {"number": case.number},
                )
            return redirect("clinical-entry", number=entry.number)
    return _entry_page(request, entry, form, status=422)


@login_required
@require_GET
def import_template(request: HttpRequest, code: str) -> HttpResponse:
    from qloop.clinical.imports import template_workbook

    get_register_for_user(_user(request), code)
    response = HttpResponse(
        template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="register-{code}-template.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_results(request: HttpRequest, code: str) -> HttpResponse:
    from qloop.clinical.imports import ImportReport, import_workbook

    user = _user(request)
    register = get_register_for_user(user, code)
    form = ImportForm(request.POST or None, request.FILES or None)
    report: ImportReport | None = None
    status = 200
    if request.method == "POST" and form.is_valid():
        report = import_workbook(form.cleaned_data["file"], register=register, actor=user)
        status = 200 if report.ok else 422
    return render(
        request,
        "clinical/import.html",
        {"form": form, "register": register, "report": report},
        status=status,
    )


# --- findings --------------------------------------------------------------------------------


def _finding_rows(user: User, qs: QuerySet[Case]) -> list[dict[str, Any]]:
    from qloop.cases.access import can_see_personal_data

    rows = []
    for case in qs:
        f = case.finding
        e = f.entry
        full = can_see_personal_data(user, case)
        rows.append(
            {
                "case": case,
                "f": f,
                "e": e,
                "patient_name": e.patient_name if full else mask_name(e.patient_name),
                "patient_id": e.patient_id if full else mask_id(e.patient_id),
                "late": f.on_time is False,
                "overdue": f.acknowledged_at is None and f.due_at < timezone.now(),
                "calls": list(f.calls.all()),
            }
        )
    return rows


@login_required
@require_GET
def findings(request: HttpRequest) -> HttpResponse:
    """The finding register: every finding a person may see, with its feedback record; the
    drill-down of the timeliness figures (R5.1, R5.5)."""
    user = _user(request)
    if not follows_findings(user):
        raise PermissionDenied
    start, end, error = _period(request, 30)
    qs = (
        Case.objects.for_user(user)
        .filter(kind="finding", finding__reported_at__gte=start, finding__reported_at__lt=end)
        .select_related(
            "finding__entry__ordering_department",
            "finding__entry__ward",
            "finding__register",
            "finding__recipient_user",
            "department",
        )
        .prefetch_related("finding__calls")
        .order_by("-finding__reported_at")
    )
    filters = {
        key: (request.GET.get(key) or "").strip()
        for key in ("register", "test", "ordering_department", "kind", "status")
    }
    if filters["register"]:
        qs = qs.filter(finding__register__code=filters["register"])
    if filters["test"]:
        qs = qs.filter(finding__test_code=filters["test"])
    if filters["ordering_department"]:
        qs = qs.filter(finding__ordering_department__code=filters["ordering_department"])
    if filters["kind"] in FindingKind.values:
        qs = qs.filter(finding__kind=filters["kind"])
    if filters["status"] == "unacknowledged":
        qs = qs.filter(finding__acknowledged_at__isnull=True)
    elif filters["status"] == "late":
        qs = qs.filter(finding__ack_seconds__isnull=False).exclude(
            finding__ack_seconds__lte=F("finding__limit_minutes") * 60
        )
    printing = bool(request.GET.get("print"))
    page = Paginator(qs, 500 if printing else 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "rows": _finding_rows(user, page.object_list),  # type: ignore[arg-type]
        "start": start.date(),
        "end": (end - dt.timedelta(days=1)).date(),
        "error": error,
        "filters": filters,
        "query": request.GET.urlencode(),
        "hospital": hospital_name(
            ClinicalRegister.objects.select_related("department__parent")
            .values_list("department__parent__name", flat=True)
            .first()
        ),
    }
    template = "clinical/findings_print.html" if printing else "clinical/findings.html"
    return render(request, template, context)


@login_required
@require_GET
def timeliness_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not reads_timeliness(user):
        raise PermissionDenied
    start, end, error = _period(request, 30)
    group = request.GET.get("group") or "register"
    if group not in timeliness.GROUPS:
        group = "register"
    kind = request.GET.get("kind") or ""
    if kind not in FindingKind.values:
        kind = ""
    rows = timeliness.figures(start, end, group=group, kind=kind)
    return render(
        request,
        "clinical/timeliness.html",
        {
            "rows": rows,
            "sum": timeliness.total(rows),
            "group": group,
            "kind": kind,
            "start": start.date(),
            "end": (end - dt.timedelta(days=1)).date(),
            "error": error,
            "groups": [
                ("register", _("Department")),
                ("test", _("Test")),
                ("ordering_department", _("Ordering department")),
            ],
            "filter_key": {"register": "register", "test": "test"}.get(
                group, "ordering_department"
            ),
        },
    )


@login_required
@require_GET
def report_card(request: HttpRequest, number: str) -> HttpResponse:
    """The 传染病报告卡 as the national paper form, to print (X4)."""
    case = get_case_for_user(_user(request), number)
    if case.kind != "disease_report":
        raise Http404
    from qloop.cases.access import can_see_personal_data

    return render(
        request,
        "clinical/report_card.html",
        {
            "case": case,
            "r": case.disease_report,
            "full": can_see_personal_data(_user(request), case),
            "classifications": CaseClassification.choices,
            "hospital": hospital_name(case.department),
        },
    )
