"""Web pages: thin views that check permission, call an action, and render."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from qloop.cases import access, actions
from qloop.cases.choices import Channel
from qloop.cases.extra import active_fields, display_value
from qloop.cases.filters import CaseFilter, FilterError, Page, paginate, rows_by_id
from qloop.cases.kinds import KINDS, enabled_kinds, is_enabled
from qloop.cases.models import Attachment, Case, Category, Comment, Contact, Event
from qloop.cases.queues import my_work_count, my_work_ids, my_work_lists
from qloop.cases.status import contact_kinds
from qloop.freshness import PEOPLE_VERSION_KEY, kept, kept_register_count
from qloop.org import actions as org_actions
from qloop.org import holidays, refdata
from qloop.org.kept_user import person
from qloop.org.models import ApiToken, Department, Organisation, User
from qloop.prepared import Prepared
from qloop.process.definitions import all_states
from qloop.process.models import Clock
from qloop.web.forms import (
    ArchiveForm,
    CommentForm,
    EditCaseForm,
    PhotoForm,
    RegistrationForm,
    TokenForm,
)
from qloop.web.options import active_people, kept_select_options, mark_selected, select_options

LIST_RELATED = ("category", "department", "handler", "contact", "product")
# What a row of the register's table (cases/_table.html) reads, and no more: turning the other
# columns of 25–50 cases and their joined rows into values was a fifth of the list's time.
TABLE_RELATED = ("category", "handler", "contact", "product")
TABLE_COLUMNS = (
    "number",
    "kind",
    "title",
    "received_at",
    "severity",
    "state",
    "archived_at",
    "deadline_state",
    "next_due_at",
    "category__code",
    "contact__name",
    "product__model",
    "handler__username",
    "handler__display_name",
    "handler__first_name",
    "handler__last_name",
)


def _form_errors_from(form: Any, exc: ValidationError) -> None:
    """Put an action's errors (keyed by field path) on the matching form fields."""
    mapping = {
        "contact.name": "contact_name",
        "contact.phone": "contact_phone",
        "product.quantity": "product_quantity",
        "product.symptom": "symptom",
    }
    for key, msgs in exc.message_dict.items():
        name = mapping.get(key, key.replace("extra.", "extra__").replace(".", "_"))
        for msg in msgs:
            form.add_error(name if name in form.fields else None, msg)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The first page: the person's own dashboard when their role has one (the general
    manager, Quality, CS, heads of departments, a profile's board), My work otherwise
    (issue 13). The board says how much waits in My work; the menu keeps both."""
    from qloop.org.models import Organisation
    from qloop.reports.dashboard_views import render_board
    from qloop.reports.dashboards import home_board

    user: User = request.user  # type: ignore[assignment]
    profiles = Organisation.current_profiles()
    code = home_board(user, profiles)
    if code is None:
        return redirect("my-work")
    return render_board(request, code, profiles)


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    """Everything waiting for this person: approvals, summary reports to decide or finish,
    tasks, improvement actions, a survey that is due, and the cases whose next step is theirs."""
    from qloop.surveys.access import can_manage_surveys
    from qloop.surveys.overdue import survey_ran_recently

    user: User = request.user  # type: ignore[assignment]
    # The count and the page's ids are kept until something is written (qloop.freshness):
    # the ids are the soonest deadlines among the open cases.
    # The queue's filter is built only when they are counted afresh (it reads the plans the
    # person owns), and compiled once per person (``my_work_ids``); the rows are read by id
    # with the table's joins.
    profiles = Organisation.current_profiles()
    number, size = max(_page(request), 1), 50
    # Counted in full here only: the navigation's badge stops at 99+ (``BADGE_CASES``).
    count = kept(f"qloop:my-work-count:{user.pk}:{','.join(profiles)}", lambda: my_work_count(user))
    ids = kept(
        f"qloop:my-work-ids:{user.pk}:{','.join(profiles)}:{number}",
        lambda: my_work_ids(user, number, size),
    )
    table = Case.objects.select_related(*TABLE_RELATED).only(*TABLE_COLUMNS)
    page = Page(rows_by_id(table, ids), number, size, count, False)
    now = timezone.now()
    return render(
        request,
        "cases/my_work.html",
        {
            "page": page,
            "now": now,
            # approvals (the general manager's come first on the first page after login),
            # reports, tasks, improvement_actions, follow_up: each compiled once per person.
            **my_work_lists(user),
            "today": timezone.localdate(),
            # R2.5 c: at least one survey a year; the job's warning, also where work is found.
            "survey_due": can_manage_surveys(user) and not survey_ran_recently(now),
            # X3: from 1 November, next year's statutory holidays must be known (12.23).
            "holidays_unknown": holidays.unknown_next_year() if user.administers else None,
        },
    )


@login_required
def registered_by_me(request: HttpRequest) -> HttpResponse:
    """The cases this person registered, in any state, and the tasks they completed: for
    anyone outside Customer Service who passes information on (R1.1) and wants to follow it."""
    from qloop.process.models import Task

    user: User = request.user  # type: ignore[assignment]
    qs = (
        Case.objects.for_user(user)
        .filter(registered_by=user)
        .select_related(*LIST_RELATED)
        .order_by("-received_at", "-id")
    )
    return render(
        request,
        "cases/registered_by_me.html",
        {
            "page": paginate(qs, _page(request), 25),
            "tasks_done": Task.objects.filter(done_by=user, case__in=Case.objects.for_user(user))
            .select_related("case", "department")
            .order_by("-done_at", "-id")[:50],
        },
    )


SORT_CHOICES = [
    ("-received_at", gettext_lazy("Newest first")),
    ("received_at", gettext_lazy("Oldest first")),
    ("due", gettext_lazy("Soonest deadline")),
    ("-updated_at", gettext_lazy("Recently changed")),
    ("number", gettext_lazy("Number")),
]


def register_options() -> dict[str, str]:
    """The register filter's handler, department and category options (about 330), rendered
    once per language and kept until people, departments (``qloop.freshness``'s people) or the
    reference data (the categories) change: kept until any write, the first register after
    every registration rendered them again (issue 14)."""

    def render_them() -> dict[str, str]:
        return {
            "department": str(
                select_options(
                    ((d.code, d.display_name) for d in Department.active()),
                    "",
                )
            ),
            "handler": str(select_options(active_people(), "")),
            "category": str(
                select_options(
                    (
                        (c.code, f"{c.code} {c.display_name}")
                        for c in Category.objects.filter(is_active=True, parent__isnull=False)
                    ),
                    "",
                )
            ),
        }

    return kept(
        f"qloop:register-options:{translation.get_language()}:{refdata.current_token()}",
        render_them,
        version_key=PEOPLE_VERSION_KEY,
    )


def kept_extra_filters(kind: str) -> SafeString:
    """The register's extra-field filters with none set, rendered once per kind and language
    and kept with the reference data they are made of (``refdata``): a template loop over
    each field's choices cost every register page about 0.2 ms (issue 14)."""
    language = translation.get_language()

    def render() -> SafeString:
        return render_to_string(  # type: ignore[return-value]
            "cases/_extra_filters.html", {"extra_defs": active_fields(kind), "extra_values": {}}
        )

    return refdata.cached(("register-extra-filters", kind, language), render)


def selected_options(rendered: dict[str, str], **selected: str) -> dict[str, SafeString]:
    """The kept options with this request's choice marked: ``<name>_options`` for the
    template."""
    return {
        f"{name}_options": mark_selected(html, selected.get(name, ""))
        for name, html in rendered.items()
    }


def _page(request: HttpRequest) -> int:
    try:
        return int(request.GET.get("page", 1))
    except ValueError:
        return 1


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    try:
        flt = CaseFilter.from_query(request.GET)
        qs = flt.apply(Case.objects.select_related(*TABLE_RELATED).only(*TABLE_COLUMNS), user)
        page = paginate(
            qs,
            _page(request),
            25,
            flt.count_limit,
            counted=lambda count: kept_register_count(user, flt, count),
        )
        error = None
    except FilterError as exc:
        flt, page, error = CaseFilter(), paginate(Case.objects.none(), 1, 25), exc.message
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "page": page,
        "filter": flt,
        "filter_error": error,
        "query": params.urlencode(),
        # Every <select> of the filter is rendered in one go, not option by option (issue 14).
        "state_options": kept_select_options(all_states().items(), flt.state),
        "kind_options": kept_select_options(
            ((spec.kind, spec.label) for spec in enabled_kinds()), flt.kind
        ),
        "now": timezone.now(),
        **selected_options(
            register_options(),
            department=flt.department,
            handler=flt.handler,
            category=flt.category,
        ),
        "extra_defs": active_fields(flt.kind or "complaint"),
        "extra_values": flt.extra,
        # With no extra filter set, the same markup for every request of a kind and language.
        "extra_filters": "" if flt.extra else kept_extra_filters(flt.kind or "complaint"),
        "sort_options": kept_select_options(SORT_CHOICES, flt.sort),
    }
    if request.htmx:  # type: ignore[attr-defined]
        # The export buttons come along out of band, with the new filters in their URL.
        return render(request, "cases/_table.html", {**context, "oob": True})
    return render(request, "cases/list.html", context)


@login_required
@require_GET
def case_export(request: HttpRequest) -> HttpResponse:
    """The register with the list's filters (X4); a large one is written by the worker."""
    from qloop.reports.export_views import start

    return start(request, "cases", "xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def case_create(request: HttpRequest) -> HttpResponse:
    """Anyone logged in may register (R1.1); the case lands in the intake department's queue.

    ``?kind=feedback`` registers customer feedback (R2.4, R2.5) for Supply and Sales."""
    kind = request.GET.get("kind") or "complaint"
    if not is_enabled(kind):
        raise Http404
    spec = KINDS[kind]
    if not spec.product_problem:
        # Kinds of other profiles have forms of their own.
        if spec.registration_url:
            return redirect(spec.registration_url)
        raise Http404
    if request.method == "POST":
        form = RegistrationForm(request.POST, request.FILES, kind=kind)
        if form.is_valid():
            d = form.cleaned_data
            reg = actions.Registration(
                kind=kind,
                channel=d["channel"],
                received_at=d["received_at"],
                contact=actions.ContactData(
                    name=d["contact_name"],
                    gender=d["contact_gender"],
                    phone=d["contact_phone"],
                    email=d["contact_email"],
                    qq=d["contact_qq"],
                    organisation=d["contact_organisation"],
                ),
                product=actions.ProductData(
                    specification=d["product_specification"],
                    model=d["product_model"],
                    quantity=d["product_quantity"],
                    serial_number=d["product_serial_number"],
                ),
                symptom=d["symptom"],
                current_status=d["current_status"],
                severity=d["severity"],
                category_code=d["category"],
                extra=form.extra_values(),
                feedback_type=d.get("feedback_type", ""),
            )
            try:
                case = actions.register_case(reg, actor=person(request), photos=d["photos"])
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                messages.success(request, _("Registered as %(number)s.") % {"number": case.number})
                return redirect("case-detail", number=case.number)
    else:
        now = timezone.localtime().replace(second=0, microsecond=0)
        form = RegistrationForm(kind=kind, initial={"received_at": now, "channel": Channel.PHONE})
    return render(request, "cases/form.html", {"form": form, "kind": kind})


@login_required
@require_GET
def contact_lookup(request: HttpRequest) -> HttpResponse:
    """A returning contact, found by phone or e-mail while the clerk types: only among the
    contacts this person may see in full (issue 9.1). Choosing one fills in the fields; the
    server matches the contact again when the form is sent, whatever the page posts."""
    phone = request.GET.get("contact_phone", "").strip()
    email = request.GET.get("contact_email", "").strip()
    contacts: list[Contact] = []
    cond = Q()
    if len(phone) >= 4:
        cond |= Q(phone__startswith=phone)
    if len(email) >= 3:
        cond |= Q(email__istartswith=email)
    user: User = request.user  # type: ignore[assignment]
    if cond:
        contacts = list(access.contacts_for(user).filter(cond).order_by("-created_at")[:5])
    return render(request, "cases/_contact_matches.html", {"contacts": contacts})


# What the case page reads by the case's id, each compiled once per process (qloop.prepared):
# compiling them cost more CPU than SQLite took to answer them (issue 14).
_EVENTS: Prepared[Event] = Prepared(
    lambda case: Event.objects.filter(case=case).select_related("actor").order_by("-at", "-id"),
    case=int,
)
_RAISED: Prepared[Case] = Prepared(
    lambda case: Case.objects.filter(source_case=case).order_by("number"), case=int
)
_PHOTOS: Prepared[Attachment] = Prepared(
    lambda case: Attachment.objects.filter(case=case, archived_at__isnull=True), case=int
)
_CLOCKS: Prepared[Clock] = Prepared(lambda case: Clock.objects.filter(case=case), case=int)
_COMMENTS: Prepared[Comment] = Prepared(
    lambda case: Comment.objects.filter(case=case).select_related("author"), case=int
)


def _timeline(case: Case, user: User) -> list[Any]:
    events = _EVENTS.of(case)
    for event in events:
        event.changes = access.event_changes(user, case, event.changes)
    return events


@login_required
def case_detail(request: HttpRequest, number: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return render_case_page(request, access.get_case_for_user(user, number))


def render_case_page(
    request: HttpRequest, case: Case, *, status: int = 200, **extra_context: Any
) -> HttpResponse:
    """The case page; a refused step re-renders it with the person's input and the errors."""
    from qloop.web.case_page import process_context

    user: User = request.user  # type: ignore[assignment]
    extra = [(d, display_value(d, case.extra.get(d.code))) for d in active_fields(case.kind)]
    reach = access.contact_details(user, case)
    context = {
        "case": case,
        "contact_phone": reach["phone"],
        "contact_email": reach["email"],
        "contact_qq": reach["qq"],
        "extra": extra,
        "photos": _PHOTOS.of(case),
        "clocks": _CLOCKS.of(case),
        "comments": _COMMENTS.of(case),
        "events": _timeline(case, user),
        "feedback": getattr(case, "feedback", None) if case.kind == "feedback" else None,
        "raised_cases": _RAISED.of(case, "source_case"),
        "can_edit": access.can_edit(user, case),
        "can_archive": access.can_archive(user, case),
        # The printable slip with the public status page's QR code (issue 12.22).
        "status_slip": case.kind in contact_kinds(),
        "now": timezone.now(),
        **process_context(case, user),
        **extra_context,
    }
    return render(request, "cases/detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, number: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = access.get_case_for_user(user, number, write=True)
    product, contact = case.product, case.contact
    initial = {
        "title": case.title,
        "received_at": timezone.localtime(case.received_at),
        "channel": case.channel,
        "severity": case.severity,
        "category": case.category.code if case.category else "",
        "product_specification": product.specification,
        "product_model": product.model,
        "product_quantity": product.quantity,
        "product_serial_number": product.serial_number,
        "symptom": product.symptom,
        "current_status": product.current_status,
    }
    if contact:
        initial.update(
            {f"contact_{k}": getattr(contact, k) for k in actions.EDITABLE_CONTACT_FIELDS}
        )
    if request.method == "POST":
        form = EditCaseForm(request.POST, kind=case.kind, extra=case.extra, initial=initial)
        if form.is_valid():
            d = form.cleaned_data
            changes: dict[str, Any] = {
                k: d[k] for k in ("title", "received_at", "channel", "severity")
            }
            # The form shows minutes only: the same minute is no change, keep the seconds.
            if d["received_at"] == case.received_at.replace(second=0, microsecond=0):
                changes["received_at"] = case.received_at
            changes["category"] = (
                Category.objects.filter(code=d["category"]).first() if d["category"] else None
            )
            for k in actions.EDITABLE_PRODUCT_FIELDS:
                changes[f"product.{k}"] = d[
                    k if k in ("symptom", "current_status") else f"product_{k}"
                ]
            for k in actions.EDITABLE_CONTACT_FIELDS:
                changes[f"contact.{k}"] = d[f"contact_{k}"]
            changes["extra"] = form.extra_values()
            try:
                actions.update_case(case, changes, actor=user, reason=d["reason"])
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("case-detail", number=case.number)
    else:
        form = EditCaseForm(kind=case.kind, extra=case.extra, initial=initial)
    return render(request, "cases/edit.html", {"form": form, "case": case})


@login_required
@require_POST
def case_comment(request: HttpRequest, number: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = access.get_case_for_user(user, number)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            actions.add_comment(case, form.cleaned_data["body"], actor=user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Comment added."))
    else:
        messages.error(request, form.refusal(_("Write a comment first.")))
    return redirect(reverse("case-detail", args=[case.number]) + "#comments")


@login_required
@require_POST
def case_photos(request: HttpRequest, number: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = access.get_case_for_user(user, number, write=True)
    form = PhotoForm(request.POST, request.FILES)
    if form.is_valid() and form.cleaned_data["photos"]:
        try:
            actions.add_photos(case, form.cleaned_data["photos"], actor=user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Photos added."))
    else:
        messages.error(request, _("Choose one or more photos."))
    return redirect("case-detail", number=case.number)


@login_required
@require_POST
def case_archive(request: HttpRequest, number: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    case = access.get_case_for_user(user, number)
    if not access.can_archive(user, case):
        raise PermissionDenied
    form = ArchiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.refusal(_("Give a reason for archiving.")))
        return redirect("case-detail", number=case.number)
    actions.archive_case(case, form.cleaned_data["reason"], actor=user)
    messages.success(request, _("Archived. The case stays in the register."))
    return redirect("case-detail", number=case.number)


def _attachment(request: HttpRequest, token: str) -> Attachment:
    att = Attachment.objects.select_related("case").filter(token=token).first()
    if att is None:
        raise Http404
    access.get_case_for_user(request.user, att.case.number)  # type: ignore[arg-type]
    return att


@login_required
@require_GET
def attachment(request: HttpRequest, token: str) -> FileResponse:
    att = _attachment(request, token)
    response = FileResponse(
        default_storage.open(att.file.name, "rb"), content_type=att.content_type
    )
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_GET
def attachment_thumbnail(request: HttpRequest, token: str) -> FileResponse:
    att = _attachment(request, token)
    name = att.thumbnail.name or att.file.name
    response = FileResponse(
        default_storage.open(name, "rb"),
        content_type="image/jpeg" if att.thumbnail else att.content_type,
    )
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """Personal API tokens: shown once when created, stored hashed, revocable."""
    user: User = request.user  # type: ignore[assignment]
    new_token = None
    form = TokenForm()
    status = 200
    if request.method == "POST":
        if "revoke" in request.POST:
            try:
                org_actions.revoke_token(request.POST["revoke"], actor=user)
            except ValidationError as exc:
                # Not a number: 400; not one of the person's tokens: 404 (issue 9); the page
                # says why and nothing changed.
                codes = {e.code for e in exc.error_dict["revoke"]}
                status = 400 if "invalid" in codes else 404
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Token revoked."))
                return redirect("tokens")
        form = TokenForm(request.POST)
        if form.is_valid():
            _token, new_token = ApiToken.issue(user, form.cleaned_data["name"])
            form = TokenForm()
    return render(
        request,
        "account/tokens.html",
        {
            "tokens": user.api_tokens.order_by("-created_at"),
            "form": form,
            "new_token": new_token,
        },
        status=status,
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language and remember it for the person (and in a cookie)."""
    lang = request.POST.get("language", "")
    if lang not in {code for code, _name in settings.LANGUAGES}:
        lang = "zh-hans"
    user = request.user
    if user.is_authenticated:
        User.objects.filter(pk=user.pk).update(language=lang)
    nxt = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        nxt = "/"
    translation.activate(lang)
    response = redirect(nxt)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        lang,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


FAVICON = Path(__file__).resolve().parent.parent / "static" / "qloop" / "favicon.ico"


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on every page, public survey pages included, whatever the
    page's own icon link says; a 404 there fills the log (issue 12.21)."""
    response = HttpResponse(FAVICON.read_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=604800"
    return response


def healthz(request: HttpRequest) -> JsonResponse:
    Case.objects.exists()
    return JsonResponse({"ok": True, "time": dt.datetime.now(dt.UTC).isoformat()})
