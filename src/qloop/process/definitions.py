"""Process definitions: the one place the workflow lives.

The foundation declares the states of each kind of case; the complaint-loop work adds the
transitions, approvals and signatures on top of these same definitions.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

COMPLAINT_STATES: dict[str, str | Promise] = {
    "new": _("New"),
    "cs_review": _("CS review"),
    "investigating": _("Investigating"),
    "cs_handling": _("Handled by CS"),
    "corrective_action": _("Corrective action"),
    "implementing": _("Implementing"),
    "standardising": _("Standardising"),
    "ready_to_close": _("Ready to close"),
    "closed": _("Closed"),
}

STATES: dict[str, dict[str, str | Promise]] = {
    "complaint": COMPLAINT_STATES,
    "feedback": {"new": _("New"), "handling": _("Handling"), "closed": _("Closed")},
}

CLOSED_STATES: frozenset[str] = frozenset({"closed"})
INITIAL_STATE = "new"


def state_label(kind: str, state: str) -> str | Promise:
    return STATES.get(kind, {}).get(state, state)


def all_states() -> dict[str, str | Promise]:
    """Every state of every kind, for filters that span kinds."""
    merged: dict[str, str | Promise] = {}
    for states in STATES.values():
        for code, label in states.items():
            merged.setdefault(code, label)
    return merged
