"""What each kind of message says, in the reader's language.

Every kind has built-in words (translated through the catalogues); an administrator may
replace them per language with a ``MessageTemplate``. Both are Django templates over the same
variables, so a replacement can say anything the built-in text says.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.template import Context, Engine, Template
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from qloop.notify.models import Notification

# Plain text: nothing is HTML-escaped here; the bell's page and the e-mail's HTML part escape
# it once, where it becomes HTML.
_ENGINE = Engine(autoescape=False)
_TEMPLATES_CACHE_KEY = "notify:templates:v1"


@dataclass(frozen=True)
class Kind:
    """One kind of message: its name for people, its built-in words, who gets it where."""

    code: str
    label: str | Promise
    subject: str | Promise
    body: str | Promise
    # Channels a person gets it on until they choose otherwise.
    channels: tuple[str, ...] = ("app",)
    # Shown on the personal preferences page (messages to outsiders are not).
    personal: bool = True
    # Values for the administrators' preview; also documents the variables.
    sample: dict[str, Any] = field(default_factory=dict)


_CASE_SAMPLE = {"number": "QC-2026-000123", "title": "洗衣机脱水时漏水", "actor": "周建华"}
# A task's data as notify writes it: its own title, the case's beside it (see ``context``).
_TASK_SAMPLE = {**_CASE_SAMPLE, "title": "提供同批次生产记录", "case_title": "洗衣机脱水时漏水"}

KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind (other apps call this for theirs, e.g. survey invitations)."""
    KINDS[kind.code] = kind
    return kind


register(
    Kind(
        "transition",
        gettext_lazy("A step was taken on a case"),
        gettext_lazy("{{ number }}: {{ step }} by {{ actor }}."),
        gettext_lazy("{{ number }} {{ title }}\n{{ step }} by {{ actor }}.\n{{ link }}"),
        sample={**_CASE_SAMPLE, "step": "转质量部调查"},
    )
)
register(
    Kind(
        "approval_requested",
        gettext_lazy("An approval is asked of me"),
        gettext_lazy(
            "{{ number }}: {{ actor }} asks for your approval of an on-site investigation."
        ),
        gettext_lazy(
            "{{ number }} {{ title }}\n{{ actor }} asks for your approval of an on-site "
            "investigation.\n{{ link }}"
        ),
        channels=("app", "email"),
        sample=_CASE_SAMPLE,
    )
)
register(
    Kind(
        "approval_decided",
        gettext_lazy("An approval I asked for was decided"),
        gettext_lazy("{{ number }}: {{ actor }} {{ decision }} the on-site investigation."),
        gettext_lazy(
            "{{ number }} {{ title }}\n{{ actor }} {{ decision }} the on-site investigation.\n"
            "{{ link }}"
        ),
        sample={**_CASE_SAMPLE, "decision": "approve"},
    )
)
register(
    Kind(
        "task_assigned",
        gettext_lazy("A task for my department"),
        gettext_lazy("{{ number }}: new task for your department: {{ task }}"),
        gettext_lazy(
            "{{ number }} {{ title }}\nNew task for your department: {{ task }}\n{{ link }}"
        ),
        channels=("app", "email"),
        sample=_TASK_SAMPLE,
    )
)
register(
    Kind(
        "task_done",
        gettext_lazy("A task was done"),
        gettext_lazy("{{ number }}: task done: {{ task }}"),
        gettext_lazy("{{ number }} {{ title }}\nTask done: {{ task }}\n{{ link }}"),
        sample=_TASK_SAMPLE,
    )
)
register(
    Kind(
        "clock_reminder",
        gettext_lazy("A deadline is near"),
        gettext_lazy("{{ number }}: “{{ clock }}” is due {{ due }}."),
        gettext_lazy(
            "{{ number }} {{ title }}\nThe deadline “{{ clock }}” is due {{ due }} "
            "({{ left }} left).\n{{ link }}"
        ),
        channels=("app", "email"),
        sample={**_CASE_SAMPLE, "clock": "customer_answer", "due_at": "2026-12-03T09:30:00+08:00"},
    )
)
register(
    Kind(
        "clock_breached",
        gettext_lazy("A deadline has passed"),
        gettext_lazy("{{ number }}: the deadline “{{ clock }}” has passed."),
        gettext_lazy(
            "{{ number }} {{ title }}\nThe deadline “{{ clock }}” passed at {{ due }}.\n{{ link }}"
        ),
        channels=("app", "email"),
        sample={**_CASE_SAMPLE, "clock": "investigation", "due_at": "2026-12-01T09:30:00+08:00"},
    )
)
register(
    Kind(
        "clock_escalated",
        gettext_lazy("A late case is escalated to me"),
        gettext_lazy("{{ number }}: “{{ clock }}” is late; escalated to you (level {{ level }})."),
        gettext_lazy(
            "{{ number }} {{ title }}\nThe deadline “{{ clock }}” passed at {{ due }} and the "
            "case is still open. It is escalated to you (level {{ level }}).\n{{ link }}"
        ),
        channels=("app", "email"),
        sample={
            **_CASE_SAMPLE,
            "clock": "customer_answer",
            "due_at": "2026-12-01T09:30:00+08:00",
            "level": 2,
        },
    )
)


def kind_label(code: str) -> str:
    kind = KINDS.get(code)
    return str(kind.label) if kind else code


def _clock_label(name: str) -> str:
    from qloop.process.definitions import clock_label

    return str(clock_label(name))


def _when(value: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value or ""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def context(kind: str, data: dict[str, Any], *, link: str = "") -> dict[str, Any]:
    """The variables a message can use, with names and times already in the reader's words."""
    from qloop.process.definitions import process_for

    ctx: dict[str, Any] = {"number": "", "title": "", "actor": "", "link": link, **data}
    if "transition" in data:
        process = process_for(data.get("kind", "complaint"), data.get("version"))
        t = process.transition(data["transition"])
        ctx["step"] = str(t.label) if t else data["transition"]
    if "clock" in data:
        ctx["clock"] = _clock_label(data["clock"])
    if data.get("last_closed_at"):
        ctx["last_closed"] = _when(data["last_closed_at"])
    if "due_at" in data:
        ctx["due"] = _when(data["due_at"])
        try:
            left = dt.datetime.fromisoformat(data["due_at"]) - timezone.now()
            hours = max(0, round(left.total_seconds() / 3600))
            ctx["left"] = _("%(hours)s h") % {"hours": hours}
        except (TypeError, ValueError):
            ctx["left"] = ""
    if "decision" in data:
        ctx["decision"] = _("approved") if data["decision"] == "approve" else _("refused")
    if "title" in data and kind.startswith("task"):
        ctx["task"] = data["title"]
        ctx["title"] = data.get("case_title", "")
    return ctx


def _overrides() -> dict[tuple[str, str], tuple[str, str]]:
    """Administrators' templates, shared by every process through the cache."""
    found = cache.get(_TEMPLATES_CACHE_KEY)
    if found is None:
        from qloop.notify.models import MessageTemplate

        found = {
            (t.kind, t.language): (t.subject, t.body)
            for t in MessageTemplate.objects.filter(active=True)
        }
        cache.set(_TEMPLATES_CACHE_KEY, found, 300)
    return dict(found)


def forget_templates() -> None:
    cache.delete(_TEMPLATES_CACHE_KEY)


@functools.lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    """Templates compiled once per process (a sweep renders the same few thousands of times)."""
    return _ENGINE.from_string(source)


def render_template(source: str, ctx: dict[str, Any]) -> str:
    """Plain text. The engine's ``autoescape=False`` covers only its own ``render_to_string``; a
    ``Context`` escapes by default, so it is told not to here (a title ``"><script>`` would
    otherwise be stored as ``&quot;&gt;…`` and escaped again wherever it is shown)."""
    return _compiled(source).render(Context(ctx, autoescape=False)).strip()


def render_message(
    kind: str, data: dict[str, Any], *, language: str | None = None, link: str = ""
) -> tuple[str, str]:
    """Subject and text of a message in ``language`` (default: the active one)."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        spec = KINDS.get(kind)
        custom = _overrides().get((kind, language))
        if custom:
            subject_src, body_src = custom
        elif spec:
            subject_src, body_src = str(spec.subject), str(spec.body)
        else:
            subject_src, body_src = "{{ number }} " + kind, "{{ number }} " + kind
        ctx = context(kind, data, link=link)
        return render_template(subject_src, ctx), render_template(body_src, ctx)


def render(n: Notification) -> str:
    """The bell's one line: the subject, in the reader's (active) language."""
    return render_message(n.kind, n.data)[0]
