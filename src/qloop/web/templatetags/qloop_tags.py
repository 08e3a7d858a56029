from __future__ import annotations

import contextlib
import datetime as dt
import re
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

if TYPE_CHECKING:
    from qloop.process.models import DeadlineStatus

register = template.Library()


class Phrases:
    """Translations one page asks for again and again, each looked up once: a register page's
    25 deadlines asked for the same few phrases four times a row, at several microseconds a
    look-up (issue 14). Made per page (the language is the page's)."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, int], str] = {}

    def gettext(self, message: str) -> str:
        found = self.seen.get((message, -1))
        if found is None:
            found = self.seen[message, -1] = _(message)
        return found

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self.seen.get((singular, n))
        if found is None:
            found = self.seen[singular, n] = ngettext(singular, plural, n)
        return found


def _span(seconds: float, phrases: Phrases) -> str:
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return phrases.ngettext("%(n)d day", "%(n)d days", days) % {"n": days} + (
            " " + phrases.ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
            if hours
            else ""
        )
    if hours:
        return phrases.ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours} + (
            " " + phrases.ngettext("%(n)d minute", "%(n)d minutes", mins) % {"n": mins}
            if mins
            else ""
        )
    return phrases.ngettext("%(n)d minute", "%(n)d minutes", mins) % {"n": mins}


@register.simple_tag
def deadline(subject: Any) -> SafeString | str:
    """A case's or a clock's deadline as its clock's state says (X3): red once the sweep has
    recorded a breach, grey while paused, the outcome once stopped, and a countdown only while
    running (amber near the end)."""
    return deadline_html(subject, timezone.get_current_timezone(), Phrases())


def deadline_html(subject: Any, zone: dt.tzinfo, phrases: Phrases) -> SafeString | str:
    """``{% deadline %}``'s markup, with the page's time zone and phrases."""
    status: DeadlineStatus | None = subject.deadline_status
    if status is None:
        return ""
    local = f"{status.due_at.astimezone(zone):%Y-%m-%d %H:%M}" if status.due_at else ""
    if status.kind == "late":
        text = (
            phrases.gettext("%(span)s overdue") % {"span": _span(status.seconds, phrases)}
            if status.seconds >= 60
            else phrases.gettext("Breached")
        )
        css, text = "late", f"⚠ {text}"
    elif status.kind == "paused":
        css, text = "paused", phrases.gettext("Paused")
    elif status.kind == "met":
        css, text = "met", phrases.gettext("met")
    elif status.kind == "late_stop":
        css, text = "late-stop", phrases.gettext("answered late")
    elif status.kind == "due":
        css, text = "near", phrases.gettext("time is up")
    else:
        left = phrases.gettext("%(span)s left")
        css, text = status.kind, left % {"span": _span(status.seconds, phrases)}
    # Built by hand, the text escaped as format_html would: a register page shows 25 (issue 14).
    # The class and state are this module's and DeadlineStatus's words, the time digits: none
    # has a character to escape. SafeString directly: what mark_safe makes of text.
    return SafeString(
        f'<span class="deadline {css}" title="{local}" '
        f'data-state="{status.kind}">{escape(str(text))}</span>'
    )


# A case number of these characters is its own quoted and escaped form (quote() keeps them).
_PLAIN_NUMBER = re.compile(r"[A-Za-z0-9_.~-]*")


def _case_href(url: str, number: str) -> str:
    """``escape(url with the number quoted)``; the address has no other character to escape."""
    if _PLAIN_NUMBER.fullmatch(number):
        return url.replace("NUMBER", number)
    return escape(url.replace("NUMBER", quote(number)))


def _related(case: Any, name: str) -> Any:
    """A related row as the template reads it: absent (no contact, no product) is None."""
    try:
        return getattr(case, name)
    except ObjectDoesNotExist:
        return None


@register.simple_tag
def case_rows(cases: Any) -> SafeString:
    """The register's and My work's rows in one pass (``cases/_table.html``): a template loop
    with a URL, a date, a badge and a deadline per row was most of those pages' time. The
    markup is the loop's, every value escaped (``html.escape``, which Django's ``escape``
    calls; here without its per-call wrappers). Labels are looked up once per page and
    language, not once per row (issue 14)."""
    url = reverse("case-detail", args=["NUMBER"])
    zone = timezone.get_current_timezone()
    phrases = Phrases()
    badges: dict[str, str] = {}
    states: dict[tuple[str, str], str] = {}
    rows = []
    for case in cases:
        severity = ""
        if case.severity != "minor":
            severity = badges.get(case.severity, "")
            if not severity:
                tone = "danger" if case.severity == "critical" else "warning"
                severity = badges[case.severity] = (
                    f' <span class="badge text-bg-{tone}">'
                    f"{escape(str(case.get_severity_display()))}</span>"
                )
        state = states.get((case.kind, case.state))
        if state is None:
            state = states[case.kind, case.state] = escape(case.state_label)
        contact, product, category = (_related(case, n) for n in ("contact", "product", "category"))
        muted = ' class="text-muted"' if case.is_archived else ""
        rows.append(
            f"<tr{muted}>"
            f'<td class="col-number"><a href="{_case_href(url, case.number)}"'
            f' class="fw-semibold">{escape(case.number)}</a></td>'
            f'<td class="d-mobile-none">{case.received_at.astimezone(zone):%Y-%m-%d %H:%M}</td>'
            f'<td class="title">{escape(case.title)}{severity}</td>'
            f'<td class="d-mobile-none">{escape(contact.name) if contact else ""}</td>'
            f'<td class="d-mobile-none">{escape(product.model) if product else ""}</td>'
            f'<td class="d-mobile-none">{escape(category.code) if category else ""}</td>'
            f'<td class="col-state"><span class="badge text-bg-secondary">{state}</span></td>'
            f'<td class="d-mobile-none">{escape(str(case.handler)) if case.handler else "—"}</td>'
            f'<td class="col-deadline">{deadline_html(case, zone, phrases)}</td></tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value escaped above


@register.simple_tag
def person_options(options: str, selected: Any = None) -> SafeString:
    """A person select's options (``case_page.people_options``, escaped when rendered) with
    this request's choice marked."""
    from qloop.web.options import mark_selected

    return mark_selected(options, selected or "")


@register.simple_tag(takes_context=True)
def query_with(context: Any, **kwargs: Any) -> str:
    """The current query string with some parameters replaced (for sorting and paging links)."""
    params = context["request"].GET.copy()
    for key, value in kwargs.items():
        params[key] = value
    return params.urlencode()


# The timeline's verbs, translated when shown (a table built once, not once per event).
VERB_LABELS = {
    "registered": gettext_lazy("registered the case"),
    "changed": gettext_lazy("changed"),
    "commented": gettext_lazy("commented"),
    "photos_added": gettext_lazy("added photos"),
    "archived": gettext_lazy("archived the case"),
    "imported": gettext_lazy("imported the case from history"),
    "closed": gettext_lazy("closed the case"),
    "clock_breached": gettext_lazy("deadline breached"),
    "clock_paused": gettext_lazy("deadline paused"),
    "clock_resumed": gettext_lazy("deadline running again"),
    "clock_escalated": gettext_lazy("late case escalated"),
    "transition": gettext_lazy("took a step"),
    "approval_decided": gettext_lazy("decided an approval"),
    "task_created": gettext_lazy("gave a task"),
    "task_done": gettext_lazy("completed a task"),
    "eight_d_changed": gettext_lazy("changed the 8D record"),
    "complaint_raised": gettext_lazy("raised a complaint case"),
    "raised_from": gettext_lazy("raised from feedback"),
    "contact_changed": gettext_lazy("changed the contact's details"),
}


@register.filter
def verb_label(verb: str) -> str:
    label = VERB_LABELS.get(verb)
    return str(label) if label is not None else verb


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """``mapping[key]`` in a template, or nothing."""
    if not mapping:
        return None
    return mapping.get(key)


def _department_names(context: Any) -> dict[str, str]:
    """Every department's name by code, read once per page, not once per timeline row."""
    memo = context.render_context
    if "qloop_department_names" not in memo:
        from qloop.org.models import Department

        memo["qloop_department_names"] = {d.code: d.display_name for d in Department.objects.all()}
    names: dict[str, str] = memo["qloop_department_names"]
    return names


def _person_name(context: Any, username: str) -> str:
    """A person's printed name by user name, read once per page and person."""
    memo = context.render_context
    key = f"qloop_person:{username}"
    if key not in memo:
        from qloop.org.models import User

        person = User.objects.filter(username=username).first()
        memo[key] = person.printed_name if person else username
    return str(memo[key])


@register.simple_tag(takes_context=True)
def event_title(context: Any, event: Any, case: Any) -> str:
    """A timeline line: the step's own label for process steps, else the verb's label."""
    if event.verb == "transition":
        from qloop.process.definitions import process_for, state_label

        t = process_for(case.kind, case.process_version).transition(
            event.data.get("transition", "")
        )
        label = str(t.label) if t else event.data.get("transition", "")
        return (
            f"{label}: {state_label(case.kind, event.data.get('from', ''))} → "
            f"{state_label(case.kind, event.data.get('to', ''))}"
        )
    if event.verb == "contact_changed":
        # The contact is shared by several cases: say which case the change was made through.
        return _("%(what)s (through case %(number)s)") % {
            "what": verb_label(event.verb),
            "number": event.data.get("via", ""),
        }
    if event.verb in {"task_created", "task_done"}:
        title = event.data.get("title", "")
        dept = event.data.get("department", "")
        if dept:
            dept = _department_names(context).get(dept, dept)
        return f"{verb_label(event.verb)}: {title}" + (f" ({dept})" if dept else "")
    if event.verb.startswith("clock_"):
        from qloop.process.definitions import clock_label

        name = clock_label(event.data.get("clock", ""))
        title = f"{verb_label(event.verb)}: {name}"
        if event.verb == "clock_resumed" and event.data.get("due_at"):
            due = timezone.localtime(dt.datetime.fromisoformat(event.data["due_at"]))
            title += " · " + _("now due %(due)s") % {"due": f"{due:%Y-%m-%d %H:%M}"}
        if event.verb == "clock_escalated":
            title += " · " + _("level %(level)s to %(people)s") % {
                "level": event.data.get("level", ""),
                "people": "、".join(event.data.get("to", [])),
            }
        return title
    if event.verb == "approval_decided":
        from qloop.process.models import ApprovalKind

        kind = event.data.get("kind", "")
        what = ApprovalKind(kind).label if kind in ApprovalKind.values else kind
        if event.data.get("decision") == "approve":
            return _("Approved: %(what)s") % {"what": what}
        return _("Refused: %(what)s") % {"what": what}
    if event.verb in {"complaint_raised", "raised_from"}:
        other = event.data.get("complaint") or event.data.get("feedback") or ""
        return f"{verb_label(event.verb)}: {other}"
    return verb_label(event.verb)


def _signature_parts(sig: dict[str, Any]) -> tuple[str, str]:
    """The translated meaning and the local time of an e-signature."""
    import datetime as _dt

    from qloop.process.signatures import Meaning

    meaning = sig.get("meaning", "")
    label = str(Meaning(meaning).label) if meaning in Meaning.values else meaning
    at = sig.get("at", "")
    with contextlib.suppress(TypeError, ValueError):
        at = timezone.localtime(_dt.datetime.fromisoformat(at)).strftime("%Y-%m-%d %H:%M:%S")
    return label, at


@register.filter
def signature_text(sig: dict[str, Any] | None) -> str:
    """An e-signature as printed: name, meaning, time (21 CFR Part 11)."""
    if not sig:
        return ""
    label, at = _signature_parts(sig)
    return _("Signed by %(name)s (%(meaning)s) at %(at)s") % {
        "name": sig.get("printed_name", ""),
        "meaning": label,
        "at": at,
    }


@register.filter
def signature_meaning_time(sig: dict[str, Any] | None) -> str:
    """Under a printed name in a signature box: the meaning and the time."""
    if not sig:
        return ""
    label, at = _signature_parts(sig)
    return f"{label} · {at}"


@register.filter
def join_if_list(value: Any) -> str:
    return "、".join(str(v) for v in value) if isinstance(value, list) else str(value)


@register.filter
def own_comment(event: Any) -> str:
    """An event's comment, unless the timeline already lists it as one of the step's inputs
    (a progress note is recorded both as the step's input and as its comment)."""
    inputs = (event.data.get("inputs") or {}) if event.verb == "transition" else {}
    return "" if event.comment in {str(v) for v in inputs.values()} else event.comment


@register.simple_tag(takes_context=True)
def event_inputs(context: Any, event: Any, case: Any) -> list[tuple[str, str]]:
    """The inputs of a process step as (label, value), in the order the step declares them."""
    inputs = event.data.get("inputs") or {}
    if event.verb != "transition" or not inputs:
        return []
    from qloop.process.definitions import process_for

    t = process_for(case.kind, case.process_version).transition(event.data.get("transition", ""))
    if t is None:
        return [(k, join_if_list(v)) for k, v in inputs.items() if v]
    out = []
    for spec in t.inputs:
        value = inputs.get(spec.name)
        if value in (None, "", []):
            continue
        if spec.type == "choice":
            value = str(dict(spec.choices).get(value, value))
        elif spec.type == "user":
            value = _person_name(context, str(value))
        elif spec.type == "departments":
            names = _department_names(context)
            value = [names.get(code, code) for code in value]
        out.append((str(spec.label), join_if_list(value)))
    return out


def _shown(value: Any) -> str:
    """A value as ``{{ value|default:"—" }}`` prints it: localised, escaped."""
    return str(conditional_escape(localize(value or "—")))


@register.simple_tag(takes_context=True)
def timeline(context: Any, events: list[Any], case: Any) -> SafeString:
    """The timeline's rows in one pass (a template loop ran some twenty nodes per event):
    when and who, what, the step's inputs, the signature, the changes and the comment, each
    escaped as the template escaped it."""
    system = _("System")
    rows = []
    for e in events:
        data = e.data or {}
        who = (e.actor.printed_name if e.actor else "") or system
        parts: list[str] = [
            format_html(
                '\n        <li><div class="text-muted">{} · {}</div>\n          <div>{}</div>\n          ',
                f"{timezone.localtime(e.at):%Y-%m-%d %H:%M}",  # the "Y-m-d H:i" date format
                who,
                event_title(context, e, case),
            )
        ]
        inputs = event_inputs(context, e, case)
        if inputs:
            parts.append(
                format_html(
                    '<ul class="mb-0 ps-3">{}</ul>',
                    format_html_join("", '<li><span class="text-muted">{}:</span> {}</li>', inputs),
                )
            )
        parts.append("\n          ")
        if data.get("signature"):
            parts.append(
                format_html(
                    '<div class="text-success">✍ {}</div>', signature_text(data["signature"])
                )
            )
        parts.append("\n          ")
        if e.changes:
            parts.append('<ul class="mb-0 ps-3">')
            for ch in e.changes:
                parts.append(
                    format_html(
                        '<li>{}: <del class="text-muted">{}</del> → {}</li>',
                        localize(ch.get("label", "")),
                        mark_safe(_shown(ch.get("old"))),  # noqa: S308 - escaped by _shown
                        mark_safe(_shown(ch.get("new"))),  # noqa: S308 - escaped by _shown
                    )
                )
            parts.append("</ul>")
        parts.append("\n          ")
        comment = own_comment(e)
        if comment:
            parts.append(format_html('<div class="text-body-secondary pre-wrap">{}</div>', comment))
        parts.append("\n        </li>\n        ")
        rows.append("".join(str(p) for p in parts))
    return mark_safe("".join(rows))  # noqa: S308 - every part above is escaped
