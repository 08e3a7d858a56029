"""What a transition writes besides the state: named in the process definitions (`effect=`).

Each function gets the locked case, the cleaned inputs and the actor, inside the transition's
transaction; it returns the event data worth keeping.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from qloop.capa.models import CorrectiveAction, Disposition, Investigation
from qloop.process.effects import Effect

if TYPE_CHECKING:
    from qloop.cases.models import Case
    from qloop.org.models import User


def _investigation(case: Case) -> Investigation:
    inv, _created = Investigation.objects.get_or_create(case=case)
    return inv


def _corrective_action(case: Case) -> CorrectiveAction:
    ca, _created = CorrectiveAction.objects.get_or_create(case=case)
    return ca


def assign_handler(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    case.handler = data["handler"]


def record_analysis(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    inv = _investigation(case)
    inv.cs_analysis = data["analysis"]
    inv.departments = data.get("departments") or []
    inv.save(update_fields=["cs_analysis", "departments"])


def record_answer(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    inv = _investigation(case)
    inv.answer, inv.answer_channel = data["answer"], data["answer_channel"]
    inv.answered_at = at
    inv.save(update_fields=["answer", "answer_channel", "answered_at"])


def record_onsite_request(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    inv = _investigation(case)
    inv.onsite_reason = data["reason"]
    inv.save(update_fields=["onsite_reason"])


def record_onsite_findings(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    inv = _investigation(case)
    inv.onsite_findings = data["findings"]
    inv.save(update_fields=["onsite_findings"])


def _dispose(
    case: Case, data: dict[str, Any], actor: User, at: dt.datetime, disposition: Disposition
) -> None:
    inv = _investigation(case)
    inv.findings = data["findings"]
    inv.root_cause = data.get("root_cause", inv.root_cause)
    inv.disposition = disposition
    inv.disposed_at, inv.disposed_by = at, actor
    inv.save()


def dispose_not_ours(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    _dispose(case, data, actor, at, Disposition.NOT_OURS)


def dispose_ours(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    _dispose(case, data, actor, at, Disposition.OURS)
    ca = _corrective_action(case)
    if not ca.d4_root_cause:
        ca.d4_root_cause = data["root_cause"]
        ca.save(update_fields=["d4_root_cause"])


def submit_plan(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    ca = _corrective_action(case)
    ca.plan, ca.owner, ca.due = data["plan"], data["owner"], data["due"]
    ca.save(update_fields=["plan", "owner", "due"])


def verify_effectiveness(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    ca = _corrective_action(case)
    ca.verification_result, ca.verification_evidence = data["result"], data["evidence"]
    ca.verified_at = at
    ca.save(update_fields=["verification_result", "verification_evidence", "verified_at"])


def standardise(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    ca = _corrective_action(case)
    ca.standardised_changes = data["changes"]
    ca.save(update_fields=["standardised_changes"])


def reopen(case: Case, data: dict[str, Any], actor: User, at: dt.datetime) -> None:
    case.closed_at = None


# The complaint's steps (R1.3–R1.8); registered by CapaConfig.ready.
CAPA_EFFECTS: tuple[Effect, ...] = (
    assign_handler,
    record_analysis,
    record_answer,
    record_onsite_request,
    record_onsite_findings,
    dispose_not_ours,
    dispose_ours,
    submit_plan,
    verify_effectiveness,
    standardise,
    reopen,
)
