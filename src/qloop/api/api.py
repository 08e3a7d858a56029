"""REST API under /api/v1: the same actions as the web pages, as JSON."""

from __future__ import annotations

from typing import Annotated, Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Header, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile

from qloop.api import idempotency
from qloop.api.auth import api_auth
from qloop.api.schemas import (
    ERROR_RESPONSES,
    ApprovalOut,
    CaseIn,
    CaseOut,
    CasePageOut,
    CategoryOut,
    ClockActionIn,
    DecisionIn,
    OneOf,
    TaskDoneIn,
    TaskIn,
    TaskOut,
    TransitionIn,
    all_states,
    text_field,
)
from qloop.cases import access, actions
from qloop.cases.filters import SORTS, CaseFilter, FilterError, paginate
from qloop.cases.kinds import KINDS
from qloop.cases.models import Case, Category
from qloop.freshness import kept_register_count
from qloop.org.models import User
from qloop.process import clocks, engine, tasks
from qloop.process.errors import Conflict
from qloop.process.models import Approval, ApprovalState, ClockUnit, Task
from qloop.surveys.api import router as surveys_router
from qloop.web.middleware import body_too_large_message

api = NinjaAPI(
    title="QLoop API",
    version="1",
    description="质量信息反馈系统 — the register of quality information.",
    auth=api_auth,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

api.add_router("/surveys/", surveys_router)

ERRORS = ERROR_RESPONSES


def _error(
    request: HttpRequest, status: int, detail: str, errors: list[dict[str, str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = [{"field": f, "message": str(m)} for f, ms in exc.message_dict.items() for m in ms]
    else:
        errors = [{"field": "", "message": str(m)} for m in exc.messages]
    detail = "; ".join(
        f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
    )
    return _error(request, 422, detail, errors)


@api.exception_handler(NinjaValidationError)
def _schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        loc = [
            str(p)
            for p in err.get("loc", [])
            if p not in ("body", "payload", "query", "form", "file", "path")
        ]
        errors.append({"field": ".".join(loc), "message": _schema_message(err)})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return _error(request, 422, detail, errors)


def _schema_message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind in {"control_character", "qq"}:
        return str(ctx["message"])
    if kind == "choice":
        return _("Choose one of: %(choices)s.") % {"choices": ctx["choices"]}
    if kind == "extra_forbidden":
        return _("This field is not known here.")
    if kind in {"missing", "string_too_short"}:
        return _("This field is required.")
    if kind == "string_too_long":
        return _("At most %(n)s characters.") % {"n": ctx.get("max_length")}
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("Enter a whole number.")
    if kind in {"greater_than_equal", "less_than_equal"}:
        return _("The number is out of range.")
    if kind.startswith("datetime"):
        return _("Enter a date and time such as 2026-11-25T09:30:00+08:00.")
    if kind.startswith("date"):
        return _("Enter a date as YYYY-MM-DD.")
    if kind in {"string_type", "dict_type", "model_type", "json_invalid"}:
        return _("This value has the wrong type.")
    return str(err.get("msg", _("Enter a valid value.")))


@api.exception_handler(FilterError)
def _filter_error(request: HttpRequest, exc: FilterError) -> HttpResponse:
    return _error(
        request, 422, f"{exc.field}: {exc.message}", [{"field": exc.field, "message": exc.message}]
    )


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return _error(request, 409, exc.message)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, _("You may not do this."))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, _("Not found."))


@api.exception_handler(AuthenticationError)
def _unauthorised(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request, 401, _("Log in, or send a valid token as “Authorization: Bearer TOKEN”.")
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:  # ninja's own wording, in English only
        return _error(request, 400, _("The body of the request is not valid JSON."))
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # Mostly answered by the limits middleware before the body is read; this is for a body
    # sent without a Content-Length.
    return _error(request, 413, body_too_large_message())


# Serialisation ---------------------------------------------------------------------------------


def case_summary(case: Case) -> dict[str, Any]:
    product = getattr(case, "product", None)
    return {
        "number": case.number,
        "kind": case.kind,
        "state": case.state,
        "state_label": case.state_label,
        "title": case.title,
        "received_at": case.received_at,
        "channel": case.channel,
        "severity": case.severity,
        "category": case.category.code if case.category else None,
        "department": case.department.code,
        "handler": case.handler.username if case.handler else None,
        "contact_name": case.contact.name if case.contact else "",
        "product_model": product.model if product else "",
        "next_due_at": case.next_due_at,
        "overdue": case.is_overdue,
        "archived": case.is_archived,
    }


def case_detail(case: Case, user: Any) -> dict[str, Any]:
    data = case_summary(case)
    product = getattr(case, "product", None)
    contact = case.contact
    contact_out = None
    if contact is not None:
        contact_out = {
            "name": contact.name,
            "gender": contact.gender,
            **access.contact_details(user, case),
            "organisation": contact.organisation,
        }
    data.update(
        {
            "contact": contact_out,
            "product": {
                "specification": product.specification,
                "model": product.model,
                "quantity": product.quantity,
                "serial_number": product.serial_number,
            }
            if product
            else None,
            "symptom": product.symptom if product else "",
            "current_status": product.current_status if product else "",
            "extra": case.extra,
            "feedback_type": _feedback_type(case),
            "source_case": case.source_case.number if case.source_case else None,
            "raised_cases": list(case.raised_cases.values_list("number", flat=True)),
            "registered_by": case.registered_by.username if case.registered_by else None,
            "created_at": case.created_at,
            "updated_at": case.updated_at,
            "archive_reason": case.archive_reason,
            "clocks": [
                {
                    "name": c.name,
                    "started_at": c.started_at,
                    "due_at": c.due_at,
                    "stopped_at": c.stopped_at,
                    "breached_at": c.breached_at,
                    "paused_at": c.paused_at,
                    "state": c.state,
                    # Clocks from before units were recorded ran in calendar hours.
                    "unit": c.unit or ClockUnit.HOURS,
                }
                for c in case.clocks.all()
            ],
            "photos": [
                {
                    "name": a.original_name,
                    "content_type": a.content_type,
                    "size": a.size,
                    "url": reverse("attachment", args=[a.token]),
                    "thumbnail_url": reverse("attachment-thumbnail", args=[a.token]),
                }
                for a in case.attachments.filter(archived_at__isnull=True)
            ],
            "events": [
                {
                    "at": e.at,
                    "actor": e.actor.username if e.actor else None,
                    "verb": e.verb,
                    "changes": access.event_changes(user, case, e.changes),
                    "comment": e.comment,
                    "data": e.data,
                }
                for e in case.events.select_related("actor")
            ],
            "process_version": case.process_version,
            "transitions": [
                engine.describe_transition(case, t)
                for t in engine.available_transitions(case, user)
            ],
            "detail": _detail_out(case, user),
            "tasks": [task_out(t) for t in case.tasks.select_related("department", "assignee")],
            "approvals": [
                approval_out(a)
                for a in case.approvals.select_related("case", "requested_by", "decided_by")
            ],
        }
    )
    return data


def _detail_out(case: Case, user: Any) -> dict[str, Any] | None:
    spec = KINDS.get(case.kind)
    if spec is None or spec.detail_out is None:
        return None
    return spec.detail_out(case, user)


def _feedback_type(case: Case) -> str | None:
    detail = getattr(case, "feedback", None) if case.kind == "feedback" else None
    return detail.feedback_type if detail is not None else None


def task_out(t: Task) -> dict[str, Any]:
    return {
        "id": t.pk,
        "department": t.department.code,
        "assignee": t.assignee.username if t.assignee else None,
        "title": t.title,
        "due": t.due,
        "done_at": t.done_at,
        "result": t.result,
    }


def approval_out(a: Approval) -> dict[str, Any]:
    return {
        "id": a.pk,
        "case": a.case.number,
        "kind": a.kind,
        "role": a.role,
        "reason": a.reason,
        "requested_by": a.requested_by.username,
        "requested_at": a.requested_at,
        "state": a.state,
        "decided_by": a.decided_by.username if a.decided_by else None,
        "decided_at": a.decided_at,
        "comment": a.comment,
        "signature": a.signature,
    }


# Endpoints -----------------------------------------------------------------------------------


@api.post("/cases", response={201: CaseOut, **ERRORS}, tags=["cases"])
def create_case(
    request: HttpRequest,
    payload: CaseIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(
        None,
        alias=idempotency.HEADER,
        description="Any unique string (a UUID): a retry with the same key within 24 hours "
        "gets the first answer instead of registering again.",
        max_length=idempotency.MAX_LENGTH,
    ),
) -> Status[dict[str, Any]]:
    """Register a case (R1.1, R1.2). It lands in the intake department's queue.

    With an ``Idempotency-Key``, a retry of the same request within 24 hours answers what the
    first one did (with ``Idempotent-Replayed: true``); the key with another request is a 422.
    """
    user: User = request.user  # type: ignore[assignment]

    def register() -> tuple[int, dict[str, Any], Case]:
        reg = actions.Registration(
            kind=payload.kind,
            channel=payload.channel,
            received_at=payload.received_at,
            contact=actions.ContactData(**payload.contact.dict()),
            product=actions.ProductData(**payload.product.dict()),
            symptom=payload.symptom,
            current_status=payload.current_status,
            title=payload.title,
            severity=payload.severity,
            category_code=payload.category,
            extra=payload.extra,
            feedback_type=payload.feedback_type,
            detail=payload.detail,
        )
        case = actions.register_case(reg, actor=user)
        case = access.get_case_for_user(user, case.number)
        body = CaseOut.model_validate(case_detail(case, user)).model_dump(mode="json")
        return 201, body, case

    if idempotency_key is None:
        status, body, _case = register()
        return Status(status, body)
    status, body, replayed = idempotency.once(
        user, idempotency_key, idempotency.fingerprint(payload.model_dump(mode="json")), register
    )
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return Status(status, body)


@api.get("/categories", response={200: list[CategoryOut], **ERRORS}, tags=["cases"])
def list_categories(request: HttpRequest) -> list[dict[str, Any]]:
    """The taxonomy (R2.10) as a tree: each node's code, its name in the request's language,
    its names in all three, and its children."""
    nodes = list(Category.objects.filter(is_active=True).order_by("order", "code"))
    children: dict[int | None, list[Category]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)

    def out(node: Category) -> dict[str, Any]:
        return {
            "code": node.code,
            "name": node.display_name,
            "names": {"zh-hans": node.name, "zh-hant": node.name_zh_hant, "en": node.name_en},
            "children": [out(c) for c in children.get(node.pk, [])],
        }

    return [out(root) for root in children.get(None, [])]


class ListParams(Schema):
    kind: Annotated[str, OneOf(lambda: ["", *KINDS])] = ""
    state: Annotated[str, OneOf(lambda: ["", *all_states()])] = ""
    department: str = text_field(max_length=30)
    handler: str = text_field(max_length=150, description="A user name, `me` or `none`.")
    category: str = text_field(max_length=20)
    model: str = text_field(max_length=100)
    received_from: str = text_field(max_length=10, description="YYYY-MM-DD")
    received_to: str = text_field(max_length=10, description="YYYY-MM-DD")
    overdue: bool = False
    archived: bool = False
    q: str = text_field(max_length=200)
    sort: Annotated[str, OneOf(SORTS)] = "-received_at"
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(25, ge=1, le=200)


@api.get("/cases", response={200: CasePageOut, **ERRORS}, tags=["cases"])
def list_cases(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    """The register, with the list page's filters. ``extra.CODE=value`` filters extra fields."""
    query = {k: v for k, v in params.dict().items() if k not in {"page", "page_size"}}
    query.update({k: v for k, v in request.GET.items() if k.startswith("extra.")})
    query["overdue"] = "1" if params.overdue else ""
    query["archived"] = "1" if params.archived else ""
    flt = CaseFilter.from_query(query)
    qs = flt.apply(
        Case.objects.select_related("category", "department", "handler", "contact", "product"),
        request.user,  # type: ignore[arg-type]
    )
    page = paginate(
        qs,
        params.page,
        params.page_size,
        flt.count_limit,
        counted=lambda count: kept_register_count(request.user, flt, count),  # type: ignore[arg-type]
    )
    return {
        "count": page.count,
        "count_is_capped": page.count_is_capped,
        "page": page.number,
        "page_size": page.size,
        "results": [case_summary(c) for c in page.items],
    }


@api.get("/cases/{number}", response={200: CaseOut, **ERRORS}, tags=["cases"])
def get_case(request: HttpRequest, number: str) -> dict[str, Any]:
    case = access.get_case_for_user(request.user, number)  # type: ignore[arg-type]
    return case_detail(case, request.user)


@api.post("/cases/{number}/photos", response={200: CaseOut, **ERRORS}, tags=["cases"])
def add_photos(
    request: HttpRequest, number: str, photos: File[list[UploadedFile]]
) -> dict[str, Any]:
    """Attach photos (JPEG, PNG, GIF or WebP) as multipart field ``photos``."""
    case = access.get_case_for_user(request.user, number, write=True)  # type: ignore[arg-type]
    actions.add_photos(case, photos, actor=request.user)  # type: ignore[arg-type]
    return case_detail(access.get_case_for_user(request.user, number), request.user)  # type: ignore[arg-type]


@api.post("/cases/{number}/transitions/{name}", response={200: CaseOut, **ERRORS}, tags=["process"])
def take_transition(
    request: HttpRequest, number: str, name: str, payload: TransitionIn
) -> dict[str, Any]:
    """Take one step of the case's process; the body holds the step's inputs by name.

    403 when this person may not take it, 409 when the case's state or a pending approval does
    not allow it now, 422 with the field named when an input or the signature is wrong.
    """
    user: User = request.user  # type: ignore[assignment]
    case = access.get_case_for_user(user, number)
    data = payload.model_dump()
    signature = data.pop("signature", None)
    engine.take_transition(case, name, data, actor=user, signature=signature)
    return case_detail(access.get_case_for_user(user, number), user)


@api.post(
    "/cases/{number}/clocks/{name}/pause", response={200: CaseOut, **ERRORS}, tags=["process"]
)
def pause_clock(request: HttpRequest, number: str, name: str, payload: ClockActionIn) -> Any:
    """Pause a running deadline (waiting for the customer, a part); ``reason`` is required.

    409 when the deadline is not running or has already passed.
    """
    user: User = request.user  # type: ignore[assignment]
    case = access.get_case_for_user(user, number, write=True)
    clocks.pause_clock(case, name, reason=payload.reason, actor=user)
    return case_detail(access.get_case_for_user(user, number), user)


@api.post(
    "/cases/{number}/clocks/{name}/resume", response={200: CaseOut, **ERRORS}, tags=["process"]
)
def resume_clock(request: HttpRequest, number: str, name: str, payload: ClockActionIn) -> Any:
    """Run a paused deadline again; its due time moves by the working time spent paused."""
    user: User = request.user  # type: ignore[assignment]
    case = access.get_case_for_user(user, number, write=True)
    clocks.resume_clock(case, name, reason=payload.reason, actor=user)
    return case_detail(access.get_case_for_user(user, number), user)


@api.get("/approvals", response={200: list[ApprovalOut], **ERRORS}, tags=["process"])
def list_approvals(
    request: HttpRequest, state: Annotated[str, OneOf(ApprovalState.values)] = "pending"
) -> list[dict[str, Any]]:
    """Approvals the caller may decide (``state=pending``), or has asked for or decided."""
    user: User = request.user  # type: ignore[assignment]
    if state == ApprovalState.PENDING:
        qs = engine.approvals_for(user)
    else:  # the schema allows only the approval states
        visible = Case.objects.for_user(user).values("pk")
        qs = Approval.objects.filter(state=state, case__in=visible).select_related(
            "case", "requested_by", "decided_by"
        )
    return [approval_out(a) for a in qs[:200]]


@api.post(
    "/approvals/{approval_id}/decide", response={200: ApprovalOut, **ERRORS}, tags=["process"]
)
def decide_approval(request: HttpRequest, approval_id: int, payload: DecisionIn) -> dict[str, Any]:
    """Approve or refuse, with an e-signature (meaning "approved" to approve, "refused" to
    refuse)."""
    user: User = request.user  # type: ignore[assignment]
    approval = Approval.objects.select_related("case").filter(pk=approval_id).first()
    if approval is None:
        raise Http404
    access.get_case_for_user(user, approval.case.number)
    signature = payload.signature.dict() if payload.signature else None
    approval = engine.decide_approval(
        approval, payload.decision, actor=user, comment=payload.comment, signature=signature
    )
    return approval_out(approval)


@api.post("/cases/{number}/tasks", response={201: TaskOut, **ERRORS}, tags=["process"])
def create_task(request: HttpRequest, number: str, payload: TaskIn) -> Status[dict[str, Any]]:
    """Give a task to a department (R1.8)."""
    user: User = request.user  # type: ignore[assignment]
    case = access.get_case_for_user(user, number)
    task = tasks.create_task(
        case,
        department=payload.department,
        title=payload.title,
        due=payload.due,
        assignee=payload.assignee or "",
        actor=user,
    )
    return Status(201, task_out(task))


@api.post("/tasks/{task_id}/done", response={200: TaskOut, **ERRORS}, tags=["process"])
def complete_task(request: HttpRequest, task_id: int, payload: TaskDoneIn) -> dict[str, Any]:
    """Mark a task done with its result."""
    user: User = request.user  # type: ignore[assignment]
    task = Task.objects.select_related("case", "department").filter(pk=task_id).first()
    if task is None:
        raise Http404
    access.get_case_for_user(user, task.case.number)
    return task_out(tasks.complete_task(task, payload.result, actor=user))
