"""What each kind of message says, in the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from qloop.notify.models import Notification


def render(n: Notification) -> str:
    from qloop.process.definitions import process_for

    d = n.data
    number = d.get("number", "")
    if n.kind == "transition":
        process = process_for(d.get("kind", "complaint"), d.get("version"))
        t = process.transition(d.get("transition", ""))
        label = t.label if t else d.get("transition", "")
        return _("%(number)s: %(step)s by %(actor)s.") % {
            "number": number,
            "step": label,
            "actor": d.get("actor", ""),
        }
    if n.kind == "clock_breached":
        return _("%(number)s: the deadline “%(clock)s” has passed.") % {
            "number": number,
            "clock": _clock_label(d.get("clock", "")),
        }
    if n.kind == "approval_requested":
        return _("%(number)s: %(actor)s asks for your approval of an on-site investigation.") % {
            "number": number,
            "actor": d.get("actor", ""),
        }
    if n.kind == "approval_decided":
        decision = _("approved") if d.get("decision") == "approve" else _("refused")
        return _("%(number)s: %(actor)s %(decision)s the on-site investigation.") % {
            "number": number,
            "actor": d.get("actor", ""),
            "decision": decision,
        }
    if n.kind == "task_assigned":
        return _("%(number)s: new task for your department: %(title)s") % {
            "number": number,
            "title": d.get("title", ""),
        }
    if n.kind == "task_done":
        return _("%(number)s: task done: %(title)s") % {
            "number": number,
            "title": d.get("title", ""),
        }
    return f"{number} {n.kind}"


def _clock_label(name: str) -> str:
    from qloop.process.models import ClockName

    try:
        return str(ClockName(name).label)
    except ValueError:
        return name
