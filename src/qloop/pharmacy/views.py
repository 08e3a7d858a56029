"""The pharmacy profile's pages: the drug catalogue and its import, the registration forms,
the public drug quality feedback page, the printed forms and the E2B download."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from qloop.cases.access import can_see_personal_data, get_case_for_user
from qloop.cases.actions import ContactData, Registration, register_case
from qloop.org.attempts import client_address
from qloop.org.models import Organisation, User
from qloop.pharmacy import catalogue
from qloop.pharmacy.access import in_pharmacy, may_report_adr
from qloop.pharmacy.actions import update_adr
from qloop.pharmacy.forms import AdrForm, CounterfeitForm, FeedbackForm, PublicFeedbackForm
from qloop.pharmacy.models import (
    AdrDrug,
    Criterion,
    Drug,
    FeedbackSource,
    PharmacySettings,
)

LANGUAGES = (("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English"))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _put_errors(form: Any, exc: ValidationError) -> None:
    for name, msgs in exc.message_dict.items():
        key = name.removeprefix("detail.")
        if key.startswith("drugs.0."):
            key = key.removeprefix("drugs.0.")
        for msg in msgs:
            form.add_error(key if key in form.fields else None, msg)


def _pharmacy_only(request: HttpRequest) -> User:
    user = _user(request)
    if not (in_pharmacy(user) or user.administers):
        raise PermissionDenied
    return user


@login_required
@require_GET
def drugs(request: HttpRequest) -> HttpResponse:
    """The catalogue, searchable by name, approval number, manufacturer and batch."""
    _pharmacy_only(request)
    query = request.GET.get("q", "").strip()[:100]
    qs = Drug.objects.annotate(batch_count=Count("batches"))
    if query:
        qs = qs.filter(
            Q(generic_name__icontains=query)
            | Q(brand_name__icontains=query)
            | Q(approval_number__icontains=query)
            | Q(manufacturer__icontains=query)
            | Q(batches__batch_number=query)
        ).distinct()
    page = Paginator(qs.order_by("generic_name", "pk"), 50).get_page(request.GET.get("page"))
    return render(request, "pharmacy/drugs.html", {"page": page, "q": query})


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    _pharmacy_only(request)
    response = HttpResponse(catalogue.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="drug-catalogue-template.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def import_drugs(request: HttpRequest) -> HttpResponse:
    """Upload the filled-in template: a report row by row; nothing imported while a row is
    wrong unless the person ticks "import the good rows"."""
    user = _pharmacy_only(request)
    report = None
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            report = catalogue.ImportReport(file_error=_("Choose the .xlsx file to import."))
        else:
            report = catalogue.import_catalogue(
                upload, actor=user, good_rows=bool(request.POST.get("good_rows"))
            )
        status = 200 if report.ok else 422
    return render(request, "pharmacy/import.html", {"report": report}, status=status)


def _staff_registration(
    request: HttpRequest,
    form: Any,
    *,
    kind: str,
    detail: Callable[[], dict[str, Any]],
    template: str,
    title: Any,
    photos: bool = False,
) -> HttpResponse:
    """The staff forms' one way to register a case: the kind's detail from the valid form, the
    action's refusals put back on the form (422, nothing stored), the case page once done."""
    if request.method == "POST" and form.is_valid():
        try:
            case = register_case(
                Registration(
                    kind=kind,
                    channel="visit",
                    contact=ContactData(name=""),
                    symptom="",
                    detail=detail(),
                ),
                actor=_user(request),
                photos=request.FILES.getlist("photos") if photos else (),
            )
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Registered as %(number)s.") % {"number": case.number})
            return redirect("case-detail", number=case.number)
    context = {"form": form, "title": title, "photos": photos}
    return render(request, template, context, status=422 if request.method == "POST" else 200)


@login_required
@require_http_methods(["GET", "POST"])
def feedback_create(request: HttpRequest) -> HttpResponse:
    """Staff record drug quality feedback they collected or solicited (R3.3)."""
    _pharmacy_only(request)
    form = FeedbackForm(request.POST or None, initial={"source": FeedbackSource.COLLECTED})

    def detail() -> dict[str, Any]:
        return {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}

    return _staff_registration(
        request,
        form,
        kind="drug_feedback",
        detail=detail,
        template="pharmacy/case_form.html",
        title=_("New drug quality feedback"),
        photos=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
def counterfeit_create(request: HttpRequest) -> HttpResponse:
    """立案: drug and batch, where and how found, the law's criteria, the stock put on hold."""
    _pharmacy_only(request)
    form = CounterfeitForm(request.POST or None)

    def detail() -> dict[str, Any]:
        data = dict(form.cleaned_data)
        hold = {
            "store": data.pop("store"),
            "quantity": data.pop("quantity"),
            "unit": data.pop("unit") or "盒",
        }
        return {**data, "holds": [hold]}

    return _staff_registration(
        request,
        form,
        kind="counterfeit",
        detail=detail,
        template="pharmacy/case_form.html",
        title=_("Open a counterfeit or substandard drug case"),
        photos=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
def adr_create(request: HttpRequest) -> HttpResponse:
    """A pharmacist, physician or nurse reports a suspected ADR (R3.6)."""
    user = _user(request)
    if not may_report_adr(user):
        raise PermissionDenied
    form = AdrForm(
        request.POST or None,
        initial={
            "reporter_name": user.printed_name,
            "reporter_email": user.email,
            "reporting_unit": Organisation.current().name,
        },
    )
    return _staff_registration(
        request,
        form,
        kind="adr",
        detail=form.detail,
        template="pharmacy/adr_form.html",
        title=_("New ADR report"),
    )


def _adr_initial(case: Any) -> dict[str, Any]:
    r = case.adr
    initial = {f.name: getattr(r, f.name) for f in r._meta.fields if f.name in AdrForm.base_fields}
    initial["follow_up_of"] = r.follow_up_of.number if r.follow_up_of else ""
    suspect: AdrDrug | None = r.drugs.filter(role="suspect").first()
    if suspect is not None:
        for name in AdrForm.DRUG_FIELDS:
            initial[name] = getattr(suspect, name, "")
        initial["drug_id"] = suspect.drug_id or ""
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def adr_edit(request: HttpRequest, number: str) -> HttpResponse:
    """Complete or correct a report (until it is closed); every change is an event."""
    user = _user(request)
    case = get_case_for_user(user, number)
    if case.kind != "adr":
        raise Http404
    form = AdrForm(request.POST or None, initial=_adr_initial(case))
    if request.method == "POST" and form.is_valid():
        try:
            update_adr(case, form.detail(), actor=user)
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("case-detail", number=case.number)
    return render(
        request,
        "pharmacy/adr_form.html",
        {"form": form, "title": _("Edit the ADR report"), "case": case},
        status=422 if request.method == "POST" else 200,
    )


PRINT_TEMPLATES = {
    ("drug_feedback", ""): "pharmacy/print_feedback.html",
    ("drug_feedback", "report"): "pharmacy/print_feedback_report.html",
    ("adr", ""): "pharmacy/print_adr.html",
    ("adr_group", ""): "pharmacy/print_group.html",
    ("counterfeit", ""): "pharmacy/print_counterfeit.html",
}


@login_required
@require_GET
def print_form(request: HttpRequest, number: str) -> HttpResponse:
    """The named forms on A4: 《药品质量信息反馈表》 (the patient's), 《药品质量信息反馈报告表》
    (to the regulator; ``?form=report`` with ``&also=`` more case numbers), the ADR form and
    the group event form."""
    user = _user(request)
    case = get_case_for_user(user, number)
    which = request.GET.get("form", "")
    template = PRINT_TEMPLATES.get((case.kind, which))
    if template is None:
        raise Http404
    cases = [case]
    for other in request.GET.getlist("also")[:50]:
        extra = get_case_for_user(user, other)
        if extra.kind == case.kind and extra not in cases:
            cases.append(extra)
    return render(
        request,
        template,
        {
            "case": case,
            "cases": cases,
            "full": can_see_personal_data(user, case),
            "criteria": Criterion.choices,
            "settings": PharmacySettings.current(),
        },
    )


@login_required
@require_GET
def e2b_download(request: HttpRequest, number: str) -> HttpResponse:
    from qloop.pharmacy.e2b import e2b_document

    case = get_case_for_user(_user(request), number)
    if case.kind != "adr":
        raise Http404
    response = HttpResponse(e2b_document([case]), content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{case.number}-e2b.xml"'
    return response


@login_required
@require_GET
def feedback_qr(request: HttpRequest) -> HttpResponse:
    """The QR code of the public page, to print for the dispensing counter."""
    _pharmacy_only(request)
    link = request.build_absolute_uri(reverse("pharmacy-feedback-public"))
    buf = io.BytesIO()
    segno.make(link, error="m").save(buf, kind="svg", scale=8, border=4)
    return HttpResponse(buf.getvalue(), content_type="image/svg+xml")


def _limit_key(request: HttpRequest) -> str:
    return f"drug-feedback:{client_address(request) or 'unknown'}"


def _public_allowed(request: HttpRequest) -> bool:
    limit = settings.QLOOP_DRUG_FEEDBACK_PER_HOUR
    return int(cache.get(_limit_key(request), 0)) < limit


def _count_public(request: HttpRequest) -> None:
    key = _limit_key(request)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=60 * 60)


@require_http_methods(["GET", "POST"])
def feedback_public(request: HttpRequest) -> HttpResponse:
    """The public phone page behind the QR code at the dispensing counter: a patient tells
    what is wrong with a drug, without logging in; a few times an hour per address (R3.1)."""
    language = request.GET.get("lang") or request.POST.get("lang") or ""
    if language not in dict(LANGUAGES):
        language = request.LANGUAGE_CODE or settings.LANGUAGE_CODE  # type: ignore[attr-defined]
    with translation.override(language):
        form = PublicFeedbackForm(request.POST or None)
        status = 200
        if request.method == "POST":
            if not _public_allowed(request):
                form.add_error(
                    None, _("Too many reports from your network. Please try again in an hour.")
                )
                status = 429
            elif form.is_valid():
                detail = dict(form.cleaned_data)
                detail["source"] = FeedbackSource.PATIENT
                try:
                    case = register_case(
                        Registration(
                            kind="drug_feedback",
                            channel="web",
                            contact=ContactData(name=""),
                            symptom="",
                            detail=detail,
                        ),
                        actor=None,
                        photos=request.FILES.getlist("photos"),
                    )
                except ValidationError as exc:
                    _put_errors(form, exc)
                    status = 422
                else:
                    _count_public(request)
                    return render(
                        request,
                        "pharmacy/public_thanks.html",
                        {"number": case.number, "language": language, "languages": LANGUAGES},
                    )
            else:
                status = 422
        response = render(
            request,
            "pharmacy/public_feedback.html",
            {"form": form, "language": language, "languages": LANGUAGES},
            status=status,
        )
        response.headers["Content-Language"] = language
        return response


@login_required
@require_http_methods(["GET", "POST"])
def signals(request: HttpRequest) -> HttpResponse:
    """Drug–reaction pairs with PRR and ROR; those over the threshold wait for review."""
    from qloop.pharmacy.signals import close_signal, signal_table

    user = _pharmacy_only(request)
    status = 200
    if request.method == "POST":
        try:
            close_signal(
                request.POST.get("generic_name", ""),
                request.POST.get("reaction", ""),
                request.POST.get("reason", ""),
                actor=user,
            )
        except ValidationError as exc:
            for msgs in exc.message_dict.values():
                for msg in msgs:
                    messages.error(request, msg)
            status = 422
        else:
            messages.success(request, _("The signal was closed."))
            return redirect("pharmacy-signals")
    pairs = signal_table()
    return render(
        request,
        "pharmacy/signals.html",
        {"pairs": pairs, "open": [p for p in pairs if p.over_threshold and p.review is None]},
        status=status,
    )


@login_required
@require_GET
def summaries(request: HttpRequest) -> HttpResponse:
    """The periodic summaries (R3.2) live in the period-summary archive (X5) now."""
    _pharmacy_only(request)
    return redirect("period-summary-list")


@login_required
@require_GET
def summary_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A summary of the older mechanism: its copy in the period-summary archive (migration
    pharmacy 0006 copied each one; the old row is kept)."""
    from qloop.reports.models import PeriodSummary

    _pharmacy_only(request)
    copy = (
        PeriodSummary.objects.filter(
            recipients__startswith="pharmacy_", figures__copied_from__id=pk
        )
        .values_list("pk", flat=True)
        .first()
    )
    if copy is None:
        raise Http404
    return redirect("period-summary", summary_id=copy)


@login_required
@require_GET
def adr_export(request: HttpRequest) -> HttpResponse:
    """The ADR reports this person may see, received from ``start`` to ``end`` (dates), as
    .xlsx in the national form's order."""
    import datetime as dt

    from qloop.cases.models import Case
    from qloop.pharmacy.export import adr_workbook

    user = _pharmacy_only(request)
    qs = Case.objects.for_user(user).filter(kind="adr", archived_at__isnull=True)
    try:
        start = (
            dt.date.fromisoformat(request.GET.get("start", ""))
            if request.GET.get("start")
            else None
        )
        end = dt.date.fromisoformat(request.GET.get("end", "")) if request.GET.get("end") else None
    except ValueError as exc:
        raise Http404 from exc
    if start:
        qs = qs.filter(received_at__date__gte=start)
    if end:
        qs = qs.filter(received_at__date__lte=end)
    response = HttpResponse(adr_workbook(qs[:10_000]), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="adr-reports.xlsx"'
    return response
