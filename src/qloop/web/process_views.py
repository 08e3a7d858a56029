"""Pages for the complaint process: steps, tasks, approvals, 8D, the report, the diagram."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qloop.capa.actions import update_eight_d
from qloop.capa.models import EIGHT_D_FIELDS, CorrectiveAction, Investigation
from qloop.cases import access
from qloop.notify.actions import mark_read
from qloop.notify.models import Notification
from qloop.org.models import Department, User
from qloop.process import clocks, engine, tasks
from qloop.process.definitions import (
    ANSWER_CHANNELS,
    INVESTIGATION_STEPS,
    PROCESSES,
    process_for,
)
from qloop.process.diagram import render_svg
from qloop.process.errors import Conflict
from qloop.process.models import Approval, Task
from qloop.web.views import render_case_page


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _act(request: HttpRequest, action: Callable[[], object], done: str) -> None:
    """Run an action and tell the person how it went; a refused action changed nothing."""
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    return {"": [str(m) for m in exc.messages]}


@login_required
@require_POST
def case_transition(request: HttpRequest, number: str, name: str) -> HttpResponse:
    """Take one step from the case page; a refused step keeps what the person typed."""
    user = _user(request)
    case = access.get_case_for_user(user, number)
    t = engine.process_of(case).transition(name)
    if t is None:
        raise Http404
    data: dict[str, Any] = {}
    for spec in t.inputs:
        data[spec.name] = (
            request.POST.getlist(spec.name)
            if spec.type == "departments"
            else request.POST.get(spec.name, "")
        )
    signature = None
    if t.signature:
        signature = {
            "password": request.POST.get("signature_password", ""),
            "meaning": request.POST.get("signature_meaning", ""),
        }
    try:
        engine.take_transition(case, name, data, actor=user, signature=signature)
    except ValidationError as exc:
        return render_case_page(
            request, case, status=422, open_step=name, step_values=data, step_errors=_messages(exc)
        )
    except Conflict as exc:
        return render_case_page(
            request,
            case,
            status=409,
            open_step=name,
            step_values=data,
            step_errors={"": [exc.message]},
        )
    messages.success(request, _("Done: %(step)s.") % {"step": t.label})
    return redirect("case-detail", number=case.number)


@login_required
@require_POST
def case_task_create(request: HttpRequest, number: str) -> HttpResponse:
    """Give a task from the case page; refused input is shown on the form, as the API's 422
    names the field (issue 9.4), and nothing is given."""
    user = _user(request)
    case = access.get_case_for_user(user, number)
    values = {k: request.POST.get(k, "") for k in ("department", "title", "due", "assignee")}
    try:
        try:
            due = dt.date.fromisoformat(values["due"]) if values["due"] else None
        except ValueError:
            raise ValidationError({"due": [_("Enter a date as YYYY-MM-DD.")]}) from None
        tasks.create_task(
            case,
            department=values["department"],
            title=values["title"],
            due=due,
            assignee=values["assignee"],
            actor=user,
        )
    except ValidationError as exc:
        return render_case_page(
            request, case, status=422, task_values=values, task_errors=_messages(exc)
        )
    except Conflict as exc:
        return render_case_page(
            request, case, status=409, task_values=values, task_errors={"": [exc.message]}
        )
    messages.success(request, _("Task given."))
    return redirect(f"/cases/{case.number}/#tasks")


@login_required
@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _user(request)
    task = Task.objects.select_related("case").filter(pk=task_id).first()
    if task is None:
        raise Http404
    access.get_case_for_user(user, task.case.number)
    _act(
        request,
        lambda: tasks.complete_task(task, request.POST.get("result", ""), actor=user),
        _("Task done."),
    )
    return redirect(
        "/my-work/"
        if request.POST.get("next") == "/my-work/"
        else f"/cases/{task.case.number}/#tasks"
    )


@login_required
@require_POST
def approval_decide(request: HttpRequest, approval_id: int) -> HttpResponse:
    user = _user(request)
    approval = Approval.objects.select_related("case").filter(pk=approval_id).first()
    if approval is None:
        raise Http404
    access.get_case_for_user(user, approval.case.number)
    decision = request.POST.get("decision", "")
    signature = {
        "password": request.POST.get("signature_password", ""),
        "meaning": engine.DECISION_MEANING.get(decision, ""),
    }
    _act(
        request,
        lambda: engine.decide_approval(
            approval,
            decision,
            actor=user,
            comment=request.POST.get("comment", ""),
            signature=signature,
        ),
        _("Decision recorded."),
    )
    back = request.POST.get("next", "")
    return redirect(
        back if back in {"/approvals/", "/my-work/"} else f"/cases/{approval.case.number}/"
    )


@login_required
@require_GET
def approvals(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request, "process/approvals.html", {"approvals": engine.approvals_for(user)[:200]}
    )


@login_required
@require_POST
def case_eight_d(request: HttpRequest, number: str) -> HttpResponse:
    user = _user(request)
    case = access.get_case_for_user(user, number)
    values = {name: request.POST.get(name, "") for name in EIGHT_D_FIELDS if name in request.POST}
    _act(
        request,
        lambda: update_eight_d(case, values, actor=user),
        _("8D record saved."),
    )
    return redirect(f"/cases/{case.number}/#eight-d")


@login_required
@require_GET
def case_report(request: HttpRequest, number: str) -> HttpResponse:
    """《市场质量投诉调查报告单》 as an A4 page that prints like the paper form (X4)."""
    user = _user(request)
    case = access.get_case_for_user(user, number)
    reach = access.contact_details(user, case)
    events = list(
        case.events.filter(verb__in=["transition", "approval_decided", "task_created"])
        .select_related("actor")
        .order_by("at", "id")
    )

    investigation = Investigation.objects.filter(case=case).first()

    def step(name: str) -> Any:
        found = [e for e in events if e.verb == "transition" and e.data.get("transition") == name]
        return found[-1] if found else None

    disposed = step("dispose_not_ours") or step("dispose_ours")
    # Who investigated: the last to take an investigation step or give a task before the
    # disposition (the engineer), else whoever disposed it (a head who did it all himself).
    investigating = [
        e
        for e in events
        if (disposed is None or (e.at, e.pk) < (disposed.at, disposed.pk))
        and (
            e.verb == "task_created"
            or (e.verb == "transition" and e.data.get("transition") in INVESTIGATION_STEPS)
        )
    ]
    investigated = investigating[-1] if investigating else disposed
    onsite = (
        case.approvals.filter(kind="onsite", decided_at__isnull=False)
        .select_related("decided_by")
        .first()
    )

    return render(
        request,
        "reports/investigation_report.html",
        {
            "case": case,
            "contact_phone": reach["phone"],
            "contact_email": reach["email"],
            "contact_qq": reach["qq"],
            "investigation": investigation,
            "departments": [
                d.display_name
                for d in Department.objects.filter(
                    code__in=investigation.departments if investigation else []
                )
            ],
            "corrective": CorrectiveAction.objects.filter(case=case)
            .select_related("owner")
            .first(),
            "forwarded": step("forward_to_quality"),
            "disposed": disposed,
            "investigated": investigated,
            "verified": step("verify_effectiveness"),
            "closed": step("close") or step("resolve_directly"),
            "onsite": onsite,
            "answer_channel": dict(ANSWER_CHANNELS).get(
                investigation.answer_channel if investigation else "", ""
            ),
        },
    )


@login_required
@require_GET
def process_diagram(request: HttpRequest, kind: str) -> HttpResponse:
    """Each process drawn from its definition (R2.12)."""
    try:
        process = process_for(kind)
    except KeyError as exc:
        raise Http404 from exc
    versions = sorted(v for (k, v) in PROCESSES if k == kind)
    return render(
        request,
        "process/diagram.html",
        {
            "process": process,
            "anywhere": [t for t in process.transitions if t.same_state],
            "versions": versions,
            "diagram": mark_safe(render_svg(process)),  # noqa: S308 - built with escape()
        },
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        mark_read(user)
        return redirect("notifications")
    items = Notification.objects.filter(user=user).select_related("case")[:100]
    return render(request, "notify/list.html", {"items": items})


@login_required
@require_POST
def case_clock_pause(request: HttpRequest, number: str, name: str) -> HttpResponse:
    """Pause a deadline while the case waits on the customer or a part (X3)."""
    user = _user(request)
    case = access.get_case_for_user(user, number, write=True)
    _act(
        request,
        lambda: clocks.pause_clock(case, name, reason=request.POST.get("reason", ""), actor=user),
        _("Deadline paused."),
    )
    return redirect("case-detail", number=case.number)


@login_required
@require_POST
def case_clock_resume(request: HttpRequest, number: str, name: str) -> HttpResponse:
    """Run a paused deadline again; its due time moves by the working time spent waiting."""
    user = _user(request)
    case = access.get_case_for_user(user, number, write=True)
    _act(
        request,
        lambda: clocks.resume_clock(case, name, reason=request.POST.get("reason", ""), actor=user),
        _("Deadline running again."),
    )
    return redirect("case-detail", number=case.number)
