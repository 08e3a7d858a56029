"""Pages for patients' opinions (with the public phone page), special test requests, the
report card's fields and the kept HL7 messages."""

from __future__ import annotations

import io
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qloop.cases.access import get_case_for_user
from qloop.cases.actions import ContactData, Registration, register_case
from qloop.clinical import hl7v2
from qloop.clinical.actions import CARD_FIELDS, update_report_card
from qloop.clinical.forms import OpinionForm, SpecialRequestForm
from qloop.clinical.models import ClinicalRegister, DiseaseReport, HL7Message
from qloop.clinical.nav import works_in_department
from qloop.clinical.processes import CLINICIANS
from qloop.org.models import User

LANGUAGES = (("zh-hans", "简体中文"), ("zh-hant", "繁體中文"), ("en", "English"))


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _put_errors(form: Any, exc: ValidationError) -> None:
    for name, msgs in exc.message_dict.items():
        key = name.removeprefix("detail.")
        for msg in msgs:
            form.add_error(key if key in form.fields else None, msg)


def _opinion_registration(
    register: ClinicalRegister, data: dict[str, Any], *, public: bool
) -> Registration:
    return Registration(
        kind="patient_opinion",
        channel="web" if public else "visit",
        contact=ContactData(name=""),
        symptom="",
        detail={
            "register": register.code,
            "opinion_type": data["opinion_type"],
            "content": data["content"],
            "patient_name": data.get("patient_name", ""),
            "phone": data.get("phone", ""),
            "from_public_page": public,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def opinion_create(request: HttpRequest) -> HttpResponse:
    """Staff type in what a patient said at the counter or on the phone (R5.4)."""
    user = _user(request)
    if not works_in_department(user):
        raise PermissionDenied
    registers = list(ClinicalRegister.objects.filter(is_active=True))
    form = OpinionForm(request.POST or None)
    chosen = request.POST.get("register") or (registers[0].code if registers else "")
    if request.method == "POST" and form.is_valid():
        register = next((r for r in registers if r.code == chosen), None)
        if register is None:
            form.add_error(None, _("Choose the laboratory or radiology."))
        else:
            try:
                case = register_case(
                    _opinion_registration(register, form.cleaned_data, public=False), actor=user
                )
            except ValidationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Registered as %(number)s.") % {"number": case.number})
                return redirect("case-detail", number=case.number)
    return render(
        request,
        "clinical/opinion_form.html",
        {"form": form, "registers": registers, "chosen": chosen},
        status=422 if request.method == "POST" else 200,
    )


def _client_address(request: HttpRequest) -> str:
    """The real client behind the trusted proxy, as the login limits see it (issue 9.16)."""
    from qloop.org.attempts import client_address

    return client_address(request) or "unknown"


def _public_allowed(request: HttpRequest) -> bool:
    limit = int(settings.QLOOP_OPINIONS_PER_HOUR)
    return int(cache.get(f"opinions:{_client_address(request)}", 0)) < limit


def _count_public(request: HttpRequest) -> None:
    key = f"opinions:{_client_address(request)}"
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=60 * 60)


@require_http_methods(["GET", "POST"])
def opinion_public(request: HttpRequest, code: str) -> HttpResponse:
    """The public phone page behind the QR code on a report or at the reception: a patient
    says what they think, without logging in; a few times an hour per address (R5.4)."""
    from django.utils import translation

    register = ClinicalRegister.objects.filter(code=code, is_active=True).first()
    if register is None:
        raise Http404
    language = request.GET.get("lang") or request.POST.get("lang") or ""
    if language not in dict(LANGUAGES):
        language = request.LANGUAGE_CODE or settings.LANGUAGE_CODE  # type: ignore[attr-defined]
    with translation.override(language):
        form = OpinionForm(request.POST or None)
        status = 200
        if request.method == "POST":
            if not _public_allowed(request):
                form.add_error(
                    None, _("Too many opinions from your network. Please try again in an hour.")
                )
                status = 429
            elif form.is_valid():
                try:
                    case = register_case(
                        _opinion_registration(register, form.cleaned_data, public=True),
                        actor=None,
                    )
                except ValidationError as exc:
                    _put_errors(form, exc)
                    status = 422
                else:
                    _count_public(request)
                    return render(
                        request,
                        "clinical/opinion_thanks.html",
                        {"register": register, "number": case.number, "language": language},
                    )
            else:
                status = 422
        response = render(
            request,
            "clinical/opinion_public.html",
            {"form": form, "register": register, "language": language, "languages": LANGUAGES},
            status=status,
        )
        response.headers["Content-Language"] = language
        return response


@login_required
@require_GET
def opinion_qr(request: HttpRequest, code: str) -> HttpResponse:
    """The QR code of the public page, to print on reports and at the reception."""
    if not works_in_department(_user(request)):
        raise PermissionDenied
    register = ClinicalRegister.objects.filter(code=code, is_active=True).first()
    if register is None:
        raise Http404
    # The site's address (SITE_URL), not the Host the staff member reached the server by: the
    # code is printed and scanned by patients elsewhere (issue 12.16, 12.20).
    link = settings.SITE_URL + reverse("clinical-opinion-public", args=[code])
    buf = io.BytesIO()
    segno.make(link, error="m").save(buf, kind="svg", scale=8, border=4)
    return HttpResponse(buf.getvalue(), content_type="image/svg+xml")


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request: HttpRequest) -> HttpResponse:
    """A clinician asks the laboratory or radiology for a special test or study (R5.7)."""
    user = _user(request)
    if not (user.has_role(*CLINICIANS) or user.administers):
        raise PermissionDenied
    registers = [(r.code, r.display_name) for r in ClinicalRegister.objects.filter(is_active=True)]
    own = next(iter(user.department_ids), None)
    form = SpecialRequestForm(request.POST or None, registers=registers)
    if request.method == "GET" and own is not None:
        from qloop.org.models import Department

        dept = Department.objects.filter(pk=own).first()
        form.initial["requesting_department"] = dept.code if dept else ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        reg = Registration(
            kind="special_request",
            channel="web",
            contact=ContactData(name=""),
            symptom="",
            detail={
                "register": d["register"],
                "requesting_department": d["requesting_department"],
                "test_or_study": d["test_or_study"],
                "clinical_reason": d["clinical_reason"],
                "needed_by": d["needed_by"],
            },
        )
        try:
            case = register_case(reg, actor=user)
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Registered as %(number)s.") % {"number": case.number})
            return redirect("case-detail", number=case.number)
    return render(
        request,
        "clinical/request_form.html",
        {"form": form},
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def report_card_edit(request: HttpRequest, number: str) -> HttpResponse:
    """Infection control completes what the register cannot know (address, occupation …)."""
    from django import forms

    user = _user(request)
    case = get_case_for_user(user, number)
    if case.kind != "disease_report":
        raise Http404
    report: DiseaseReport = case.disease_report
    card_form = forms.modelform_factory(DiseaseReport, fields=CARD_FIELDS)
    form = card_form(request.POST or None, instance=DiseaseReport.objects.get(pk=report.pk))
    if request.method == "POST":
        if form.is_valid():
            update_report_card(report, form.cleaned_data, actor=user)
            messages.success(request, _("The report card is saved."))
            return redirect("clinical-report-card", number=number)
    elif not (user.is_superuser or user.has_role("infection_control")):
        raise PermissionDenied
    for field in form.fields.values():
        field.widget.attrs.setdefault("class", "form-control form-control-sm")
    return render(
        request,
        "clinical/report_card_edit.html",
        {"form": form, "case": case},
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def hl7_messages(request: HttpRequest) -> HttpResponse:
    """The messages from hospital systems; those answered AE/AR first, to look at and replay."""
    user = _user(request)
    if not (user.is_superuser or user.administers):
        raise PermissionDenied
    status = request.GET.get("status") or ""
    qs = HL7Message.objects.defer("raw").order_by("-received_at", "-id")
    if status:
        qs = qs.filter(status=status)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "clinical/messages.html", {"page": page, "status": status})


@login_required
@require_POST
def hl7_replay(request: HttpRequest, pk: int) -> HttpResponse:
    msg = HL7Message.objects.filter(pk=pk).first()
    if msg is None:
        raise Http404
    try:
        outcome = hl7v2.replay(msg, actor=_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if outcome.code == "AA":
            messages.success(request, _("Replayed and applied."))
        else:
            messages.error(
                request, _("Replayed, still refused: %(reason)s") % {"reason": outcome.reason}
            )
    return redirect("clinical-messages")


# --- information feedback forms ------------------------------------------------------------


@login_required
@require_GET
def feedback_forms(request: HttpRequest) -> HttpResponse:
    """Sent → returned per department, the return rate and the late ones (R5.2, R5.3); a
    clinician sees their department's forms to fill in."""
    from django.utils import timezone

    from qloop.clinical.feedback import can_collect
    from qloop.clinical.models import FeedbackForm, FeedbackSchedule

    user = _user(request)
    schedules = [
        s for s in FeedbackSchedule.objects.select_related("register") if can_collect(user, s)
    ]
    qs = FeedbackForm.objects.select_related("department", "schedule__register__department")
    if schedules:
        qs = qs.filter(schedule__in=schedules)
    else:
        from qloop.clinical.nav import follows_findings

        if not follows_findings(user):
            raise PermissionDenied
        qs = qs.filter(department_id__in=user.department_ids)
    forms = list(qs.order_by("-sent_at", "department__code")[:300])
    returned = sum(1 for f in forms if f.returned_at)
    return render(
        request,
        "clinical/feedback_forms.html",
        {
            "forms": forms,
            "collector": bool(schedules),
            "rate": round(100 * returned / len(forms), 1) if forms else None,
            "returned": returned,
            "now": timezone.now(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def feedback_form(request: HttpRequest, pk: int) -> HttpResponse:
    """Fill in (the clinical department) or review item by item (the collector)."""
    from qloop.clinical import feedback
    from qloop.clinical.models import FeedbackForm
    from qloop.surveys.models import Answer

    user = _user(request)
    form = (
        FeedbackForm.objects.select_related(
            "campaign__questionnaire", "department", "schedule__register"
        )
        .filter(pk=pk)
        .first()
    )
    if form is None:
        raise Http404
    collector = feedback.can_collect(user, form.schedule)
    if not (collector or feedback.can_fill_in(user, form)):
        raise PermissionDenied
    errors: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "review":
                issues = [
                    (code[6:], bool(request.POST.get(f"important_{code[6:]}")))
                    for code in request.POST
                    if code.startswith("issue_")
                ]
                made = feedback.review_form(form, issues, actor=user)
                messages.success(
                    request,
                    _("Reviewed: %(n)s issues registered.") % {"n": len(made)},
                )
            else:
                raw = {k[2:]: request.POST.getlist(k) for k in request.POST if k.startswith("q_")}
                feedback.return_form(form, raw, actor=user)
                messages.success(request, _("Thank you: the form is returned."))
            return redirect("clinical-feedback-form", pk=form.pk)
        except ValidationError as exc:
            errors = exc.message_dict
            status = 422
    answers = (
        list(Answer.objects.filter(response=form.response).select_related("question"))
        if form.response_id
        else []
    )
    from qloop.surveys.actions import questions_of

    return render(
        request,
        "clinical/feedback_form.html",
        {
            "form": form,
            "questions": questions_of(form.campaign),
            "answers": answers,
            "collector": collector,
            "errors": errors,
            "issues": form.issues.select_related("case") if form.reviewed_at else [],
        },
        status=status,
    )
