"""Taking transitions: the one action through which a case moves (web, API, tests alike)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop import inputs
from qloop.cases import access
from qloop.cases.models import Case, Event
from qloop.notify.actions import notify
from qloop.org.models import Department, User
from qloop.process import clocks
from qloop.process.audience import resolve_all
from qloop.process.definitions import process_for
from qloop.process.effects import EFFECTS
from qloop.process.errors import Conflict
from qloop.process.models import Approval, ApprovalState
from qloop.process.signatures import Meaning, sign
from qloop.process.spec import Input, Process, Transition

MAX_TEXT = 10_000
# The meaning an approval's decider signs with: approving is approving, refusing is refusing.
DECISION_MEANING = {"approve": Meaning.APPROVED.value, "refuse": Meaning.REFUSED.value}


def process_of(case: Case) -> Process:
    return process_for(case.kind, case.process_version)


def available_transitions(case: Case, user: User) -> list[Transition]:
    """The transitions this person may take on this case now."""
    if case.is_archived:
        return []
    return [
        t
        for t in process_of(case).transitions
        if case.state in t.sources and t.who.allows(user, case)
    ]


def _clean_input(spec: Input, raw: Any) -> Any:
    # Before any lookup: a user or department named with NUL is a server error on PostgreSQL.
    inputs.validate_text(raw)
    if raw is None or raw == "" or raw == []:
        if spec.required:
            raise ValidationError(_("This field is required."), code="required")
        return [] if spec.type == "departments" else None
    if spec.type == "text":
        if not isinstance(raw, str):
            raise ValidationError(_("This value has the wrong type."), code="invalid")
        value = raw.strip()
        if not value and spec.required:
            raise ValidationError(_("This field is required."), code="required")
        if len(value) > MAX_TEXT:
            raise ValidationError(
                _("At most %(n)s characters.") % {"n": MAX_TEXT}, code="max_length"
            )
        return value
    if spec.type == "user":
        user = User.objects.filter(username=str(raw), is_active=True).first()
        if user is None:
            raise ValidationError(
                _("There is no active person with this user name."), code="invalid"
            )
        return user
    if spec.type == "departments":
        codes = [raw] if isinstance(raw, str) else list(raw)
        known = set(
            Department.objects.filter(code__in=codes, is_active=True).values_list("code", flat=True)
        )
        unknown = [str(c) for c in codes if c not in known]
        if unknown:
            raise ValidationError(
                _("Unknown department: %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        return list(dict.fromkeys(codes))
    if spec.type == "date":
        try:
            day = raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
        except ValueError as exc:
            raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid") from exc
        inputs.validate_date(day)
        return day
    if spec.type == "choice":
        allowed = [value for value, _label in spec.choices]
        if raw not in allowed:
            raise ValidationError(
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)}
            )
        return raw
    raise ValidationError(_("Enter a valid value."))  # pragma: no cover - spec types are closed


def clean_inputs(t: Transition, data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[Any]] = {}
    cleaned: dict[str, Any] = {}
    known = {spec.name for spec in t.inputs}
    for name in data:
        if name not in known:
            errors[name] = [_("This step takes no such field.")]
    for spec in t.inputs:
        try:
            cleaned[spec.name] = _clean_input(spec, data.get(spec.name))
        except ValidationError as exc:
            errors[spec.name] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def _recordable(value: Any) -> Any:
    if isinstance(value, User):
        return value.username
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _check_approval(case: Case, t: Transition, approvals: Sequence[Approval] | None = None) -> None:
    """Refuse a step whose approval is missing, pending or refused, or that would ask for a
    second pending one. ``approvals``: every approval of the case, already read (the case page
    asks for each step it shows; taking a step reads them here, inside its transaction)."""
    if t.requires_approval:
        if approvals is None:
            latest = (
                case.approvals.filter(kind=t.requires_approval)
                .order_by("-requested_at", "-id")
                .first()
            )
        else:
            latest = max(
                (a for a in approvals if a.kind == t.requires_approval),
                key=lambda a: (a.requested_at, a.pk),
                default=None,
            )
        if latest is None:
            raise Conflict(_("This step needs an approval that has not been asked for."))
        if latest.state == ApprovalState.PENDING:
            raise Conflict(_("This step waits for a pending approval."))
        if latest.state == ApprovalState.REFUSED:
            raise Conflict(_("The approval this step needs was refused."))
    if t.requests_approval:
        kind, _role = t.requests_approval
        if approvals is None:
            pending = case.approvals.filter(kind=kind, state=ApprovalState.PENDING).exists()
        else:
            pending = any(a.kind == kind and a.state == ApprovalState.PENDING for a in approvals)
        if pending:
            raise Conflict(_("An approval of this kind is already pending."))


def _signature(
    actor: User,
    given: dict[str, Any] | None,
    meaning: str | None,
    at: dt.datetime,
    *,
    historical: bool,
) -> dict[str, Any] | None:
    """Check the signature a step needs. A step from history (``at`` given: demo data, imports
    of old records) may carry the signature already made on paper, marked as imported."""
    if meaning is None:
        return None
    if historical and given and given.get("imported"):
        if given.get("meaning") != meaning:
            raise ValidationError({"signature.meaning": [_("Wrong meaning.")]})
        return {
            "signer": actor.username,
            "printed_name": actor.printed_name,
            "meaning": meaning,
            "at": at.isoformat(),
            "imported": True,
        }
    return sign(actor, given, meaning=meaning, at=at)


def _check_step(
    case: Case, t: Transition, actor: User, data: dict[str, Any] | None
) -> dict[str, Any]:
    """Who, when and with what inputs; the cleaned inputs. The signature is checked apart."""
    if not t.who.allows(actor, case):
        raise PermissionDenied
    if case.is_archived:
        raise Conflict(_("The case is archived."))
    if case.state not in t.sources:
        raise Conflict(
            _("“%(step)s” is not possible while the case is “%(state)s”.")
            % {"step": t.label, "state": case.state_label}
        )
    cleaned = clean_inputs(t, data or {})
    _check_approval(case, t)
    return cleaned


def take_transition(
    case: Case,
    name: str,
    data: dict[str, Any] | None,
    *,
    actor: User,
    signature: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Case:
    """Move a case along its process, enforcing everything the definition requires.

    Raises Http404 for an unknown step, PermissionDenied when this person may not take it,
    Conflict when the state or a pending approval does not allow it now, ValidationError
    (keyed by field) for missing or invalid inputs or a wrong signature. Nothing is changed
    by a refused step. ``at`` records a step taken earlier (demo data, imports of history).
    """
    # Whoever calls, a case the person may not see is not there (issue 9.4).
    access.check_can_see(actor, case)
    process = process_of(case)
    t = process.transition(name)
    if t is None:
        raise Http404
    now = at or timezone.now()
    signed = None
    if t.signature:
        # The password is checked only for a step this person could take now, and before the
        # transaction: a wrong one must stay counted (attempt limits) though the step is
        # refused. Everything is checked again under the lock below.
        _check_step(Case.objects.select_related("handler").get(pk=case.pk), t, actor, data)
        signed = _signature(actor, signature, t.signature, now, historical=at is not None)
    with transaction.atomic():
        # of=self: PostgreSQL cannot lock the nullable side of the handler outer join.
        case = (
            Case.objects.select_for_update(of=("self",)).select_related("handler").get(pk=case.pk)
        )
        cleaned = _check_step(case, t, actor, data)
        source = case.state
        if t.effect:
            EFFECTS[t.effect](case, cleaned, actor, now)
        # After the effect: an effect may settle a branching input the server decides (a
        # read-back that does not match is not "confirmed", whatever the form said).
        target = t.target_for(cleaned, source)
        if t.requests_approval:
            kind, role = t.requests_approval
            Approval.objects.create(
                case=case,
                kind=kind,
                role=role,
                reason=cleaned.get("reason", ""),
                requested_by=actor,
                requested_at=now,
            )
        case.state = target
        if target in process.terminal:
            case.closed_at = now
        case.updated_at = now
        case.save()
        for clock in t.stops:
            clocks.stop_clock(case, clock, now=now)
        for clock in t.starts:
            clocks.start_clock(case, clock, started_at=now)
        Event.objects.create(
            case=case,
            actor=actor,
            verb="transition",
            at=now,
            comment=str(cleaned.get("note") or ""),
            data={
                "transition": t.name,
                "from": source,
                "to": target,
                "inputs": {k: _recordable(v) for k, v in cleaned.items()},
                **({"signature": signed} if signed else {}),
            },
        )
        audience = resolve_all(t.notify, case, cleaned)
        message = {
            "number": case.number,
            "kind": case.kind,
            "version": case.process_version,
            "transition": t.name,
            "actor": actor.printed_name,
        }
        kind = "approval_requested" if t.requests_approval else "transition"
        notify(audience, kind=kind, case=case, data=message, exclude=actor, at=now)
    return case


def _check_decision(approval: Approval, actor: User) -> None:
    if not (actor.is_superuser or actor.has_role(approval.role)):
        raise PermissionDenied
    if approval.state != ApprovalState.PENDING:
        raise Conflict(_("This approval has already been decided."))


def decide_approval(
    approval: Approval,
    decision: str,
    *,
    actor: User,
    comment: str = "",
    signature: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Approval:
    """The deciding role approves or refuses, with an e-signature."""
    if decision not in {"approve", "refuse"}:
        raise ValidationError({"decision": [_("Choose approve or refuse.")]})
    inputs.check_texts({"comment": comment})
    meaning = DECISION_MEANING[decision]
    now = at or timezone.now()
    access.check_can_see(actor, approval.case)
    # As in take_transition: the password only for a decision this person may make now, and
    # outside the transaction, so a wrong one stays counted.
    _check_decision(Approval.objects.get(pk=approval.pk), actor)
    signed = sign(actor, signature, meaning=meaning, at=now)
    with transaction.atomic():
        approval = Approval.objects.select_for_update().select_related("case").get(pk=approval.pk)
        _check_decision(approval, actor)
        approval.state = ApprovalState.APPROVED if decision == "approve" else ApprovalState.REFUSED
        approval.decided_by, approval.decided_at = actor, now
        approval.comment, approval.signature = comment.strip(), signed
        approval.save()
        Event.objects.create(
            case=approval.case,
            actor=actor,
            verb="approval_decided",
            at=now,
            comment=approval.comment,
            data={
                "approval": approval.pk,
                "kind": approval.kind,
                "decision": decision,
                "signature": signed,
            },
        )
        notify(
            [approval.requested_by],
            kind="approval_decided",
            case=approval.case,
            data={
                "number": approval.case.number,
                "decision": decision,
                "actor": actor.printed_name,
            },
            exclude=actor,
            at=now,
        )
    return approval


def approvals_for(user: User) -> Any:
    """Pending approvals this person may decide, on cases they can open (the case page's rule)."""
    qs = (
        Approval.objects.filter(state=ApprovalState.PENDING)
        .filter(case__in=Case.objects.for_user(user))
        .select_related("case", "requested_by")
    )
    if user.is_superuser:
        return qs
    return qs.filter(role__in=user.role_codes)


def blocked_reason(
    case: Case, t: Transition, approvals: Sequence[Approval] | None = None
) -> str | None:
    """Why an otherwise available step cannot be taken yet (a missing or pending approval)."""
    try:
        _check_approval(case, t, approvals)
    except Conflict as exc:
        return exc.message
    return None


def describe_transition(
    case: Case, t: Transition, approvals: Sequence[Approval] | None = None
) -> dict[str, Any]:
    """What a step requires, for the API and for the forms on the case page (which passes the
    case's approvals it has read, so that each step does not read them again)."""
    return {
        "name": t.name,
        "label": str(t.label),
        "target": case.state if t.same_state else t.target,
        "inputs": [
            {
                "name": i.name,
                "label": str(i.label),
                "type": i.type,
                "required": i.required,
                "choices": [{"value": v, "label": str(label)} for v, label in i.choices],
            }
            for i in t.inputs
        ],
        "signature": t.signature,
        "requires_approval": t.requires_approval,
        "requests_approval": t.requests_approval[0] if t.requests_approval else None,
        "blocked": blocked_reason(case, t, approvals),
    }
