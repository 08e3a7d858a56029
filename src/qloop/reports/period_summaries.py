"""Period summaries (X5): monthly, quarterly and yearly figures for each recipient set of a
profile, built by the worker, signed off by whoever the set names, then kept unchanged — the
figures frozen with their SHA-256, and the summary kept as PDF and .xlsx by the worker — with
the record of when, how and to whom they went.

A recipient set is registered (``register_recipients``) with its profile, its periods, the
function that counts its figures and who may read and sign it; the manufacturer registers the
general manager's summary and the management review's inputs (ISO 9001 9.3) below, the
pharmacy profile the drug regulator's and the Pharmacy and Therapeutics Committee's (R3.2,
``qloop.pharmacy.summaries``). Every
figure is an aggregate computed by the database (``COUNT``/``AVG`` grouped by kind, category
or clock), never a loop over cases in Python. Each period stands beside the period before and
the same period a year earlier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from qloop import inputs
from qloop.process.errors import Conflict
from qloop.process.signatures import sign
from qloop.reports.models import (
    PeriodSummary,
    PeriodSummaryEvent,
    PeriodSummaryState,
    SummaryPeriod,
    SummarySending,
)

if TYPE_CHECKING:
    from qloop.org.models import User

TOP_CATEGORIES = 15
LISTED_ACTIONS = 50


# --- periods ---------------------------------------------------------------------------------


def period_bounds(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The month, quarter or year holding ``day``: (first day, first day of the next)."""
    if kind == SummaryPeriod.YEAR:
        return dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1)
    months = 1 if kind == SummaryPeriod.MONTH else 3
    first = day.month if months == 1 else 3 * ((day.month - 1) // 3) + 1
    start = dt.date(day.year, first, 1)
    index = day.year * 12 + first - 1 + months
    return start, dt.date(index // 12, index % 12 + 1, 1)


def previous_period(kind: str, start: dt.date) -> tuple[dt.date, dt.date]:
    return period_bounds(kind, start - dt.timedelta(days=1))


def same_period_last_year(kind: str, start: dt.date) -> tuple[dt.date, dt.date]:
    return period_bounds(kind, start.replace(year=start.year - 1))


def local_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


# --- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecipientSet:
    """Who a summary is for, what it counts, who reads and who signs it off."""

    code: str
    title: str | Promise
    sent_to: str | Promise  # whom it usually goes to, offered on the sending form
    profile: str
    periods: tuple[str, ...]
    compute: Callable[[dt.date, dt.date], dict[str, Any]]
    readers: Callable[[User], bool]
    signers: Callable[[User], bool]
    order: int = 100
    # The rows of the page, the print and the .xlsx from the kept figures (a profile whose
    # figures differ brings its own): (summary, language) -> rows.
    rows: Callable[[PeriodSummary, str], list[dict[str, Any]]] | None = None
    # Who is told that a new summary waits to be signed off.
    told: Callable[[], list[User]] | None = None
    # Whether the worker makes this set's summaries now, and of which periods (a profile's
    # setting, e.g. the pharmacy's recipient and its monthly/quarterly choice). Summaries made
    # before a setting changed stay readable.
    applies: Callable[[], bool] | None = None
    wanted: Callable[[str], bool] | None = None
    # Who records a sending (the signers when not given) and the ways offered.
    senders: Callable[[User], bool] | None = None
    channels: Callable[[], list[tuple[str, Any]]] | None = None
    # The title on the paper and the kept PDF.
    paper_title: str | Promise | None = None
    # Draw each group of rows as bars (this period, the period before thin and grey).
    charted: bool = False


RECIPIENT_SETS: dict[str, RecipientSet] = {}


def register_recipients(*sets: RecipientSet) -> None:
    for item in sets:
        RECIPIENT_SETS[item.code] = item


def active_sets() -> list[RecipientSet]:
    from qloop.org.models import Organisation

    profiles = Organisation.current_profiles()
    return sorted(
        (s for s in RECIPIENT_SETS.values() if s.profile in profiles), key=lambda s: s.order
    )


def recipient_set(summary: PeriodSummary) -> RecipientSet:
    return RECIPIENT_SETS[summary.recipients]


def can_read(user: User, summary: PeriodSummary) -> bool:
    item = RECIPIENT_SETS.get(summary.recipients)
    return bool(user.is_authenticated and user.is_active and item and item.readers(user))


def can_sign(user: User, summary: PeriodSummary) -> bool:
    item = RECIPIENT_SETS.get(summary.recipients)
    return bool(user.is_authenticated and user.is_active and item and item.signers(user))


def can_record_sending(user: User, summary: PeriodSummary) -> bool:
    item = RECIPIENT_SETS.get(summary.recipients)
    if not (user.is_authenticated and user.is_active and item):
        return False
    return (item.senders or item.signers)(user)


def channels(item: RecipientSet) -> list[tuple[str, Any]]:
    return item.channels() if item.channels else list(Channel.CHOICES)


def readable_sets(user: User) -> list[RecipientSet]:
    if not user.is_authenticated or not user.is_active:
        return []
    return [s for s in active_sets() if s.readers(user)]


def get_summary_for_user(user: User, pk: int) -> PeriodSummary:
    """The summary, or 404 when it does not exist or the person may not read it."""
    from django.http import Http404

    summary = PeriodSummary.objects.select_related("signed_by").filter(pk=pk).first()
    if summary is None or not can_read(user, summary):
        raise Http404
    return summary


# --- producing -------------------------------------------------------------------------------


def count_figures(item: RecipientSet, kind: str, start: dt.date) -> dict[str, Any]:
    """The period, the one before and the same one last year, each counted by the database."""
    _s, end = period_bounds(kind, start)
    before = previous_period(kind, start)
    last_year = same_period_last_year(kind, start)
    return {
        "periods": {
            "current": [start.isoformat(), (end - dt.timedelta(days=1)).isoformat()],
            "previous": [before[0].isoformat(), (before[1] - dt.timedelta(days=1)).isoformat()],
            "last_year": [
                last_year[0].isoformat(),
                (last_year[1] - dt.timedelta(days=1)).isoformat(),
            ],
        },
        "current": item.compute(start, end),
        "previous": item.compute(*before),
        "last_year": item.compute(*last_year),
    }


def produce(code: str, kind: str, start: dt.date) -> PeriodSummary:
    """The summary of one period for one recipient set, made once: running again returns the
    one already made and changes nothing."""
    found = PeriodSummary.objects.filter(recipients=code, period=kind, start=start).first()
    if found is not None:
        return found
    item = RECIPIENT_SETS[code]
    start, end = period_bounds(kind, start)
    figures = count_figures(item, kind, start)
    now = timezone.now()
    try:
        with transaction.atomic():
            summary = PeriodSummary.objects.create(
                recipients=code,
                period=kind,
                start=start,
                end=end - dt.timedelta(days=1),
                figures=figures,
                produced_at=now,
                counted_at=now,
            )
            PeriodSummaryEvent.objects.create(
                summary=summary, at=now, verb="produced", data={"sha256": fingerprint(figures)}
            )
            _tell(item, summary)
            return summary
    except IntegrityError:  # two workers at once: the other one made it
        return PeriodSummary.objects.get(recipients=code, period=kind, start=start)


def _tell(item: RecipientSet, summary: PeriodSummary) -> None:
    """Those who sign it off get a message (written to the outbox with the summary)."""
    if item.told is None:
        return
    from qloop.notify.actions import notify

    notify(
        item.told(),
        kind="period_summary_ready",
        data={
            "period": str(summary.get_period_display()),
            "recipients": str(item.title),
            "start": summary.start.isoformat(),
            "url": f"{settings.SITE_URL}/reports/summaries/{summary.pk}/",
        },
    )


def produce_due(today: dt.date | None = None) -> list[PeriodSummary]:
    """For the worker: each active recipient set's summaries of the periods just ended."""
    today = today or timezone.localdate()
    made = []
    for item in active_sets():
        if item.applies is not None and not item.applies():
            continue
        for kind in item.periods:
            if item.wanted is not None and not item.wanted(kind):
                continue
            current_start, _end = period_bounds(kind, today)
            start, _e = previous_period(kind, current_start)
            made.append(produce(item.code, kind, start))
    return made


def recount(summary: PeriodSummary, *, actor: User) -> PeriodSummary:
    """Count a draft's figures again (cases entered late); a signed-off summary never changes."""
    if not can_sign(actor, summary):
        raise PermissionDenied
    figures = count_figures(recipient_set(summary), summary.period, summary.start)
    with transaction.atomic():
        locked = PeriodSummary.objects.select_for_update().get(pk=summary.pk)
        if locked.is_signed:
            raise Conflict(_("This summary is signed off; its figures no longer change."))
        # The figures counted before are kept in the event: nothing shown is lost.
        PeriodSummaryEvent.objects.create(
            summary=locked,
            actor=actor,
            verb="recounted",
            data={"before": locked.figures, "sha256": fingerprint(figures)},
        )
        locked.figures, locked.counted_at = figures, timezone.now()
        locked.save(update_fields=["figures", "counted_at"])
    return locked


def fingerprint(figures: dict[str, Any]) -> str:
    """SHA-256 of the figures as signed: the signature says exactly what was signed."""
    text = json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def sign_off(
    summary: PeriodSummary, *, actor: User, signature: dict[str, Any] | None
) -> PeriodSummary:
    """The set's signer (the general manager or the quality head; the head of pharmacy) signs
    the summary off (meaning "approved"): from then on its figures are frozen, and the worker
    is asked to keep it as PDF and .xlsx once the sign-off is committed."""
    if not can_sign(actor, summary):
        raise PermissionDenied
    if summary.is_signed:
        raise Conflict(_("This summary is already signed off."))
    # Checked before the transaction: a wrong password is counted even though nothing changes.
    signed = sign(actor, signature, meaning="approved")
    with transaction.atomic():
        locked = PeriodSummary.objects.select_for_update().get(pk=summary.pk)
        if locked.is_signed:
            raise Conflict(_("This summary is already signed off."))
        locked.signature = {**signed, "figures_sha256": fingerprint(locked.figures)}
        locked.state = PeriodSummaryState.SIGNED
        locked.signed_by = actor
        locked.signed_at = timezone.now()
        locked.save(update_fields=["signature", "state", "signed_by", "signed_at"])
        PeriodSummaryEvent.objects.create(
            summary=locked,
            actor=actor,
            at=locked.signed_at,
            verb="signed_off",
            changes=[{"field": "state", "old": PeriodSummaryState.DRAFT, "new": locked.state}],
            data={"signature": locked.signature},
        )
        language = translation.get_language() or settings.LANGUAGE_CODE
        transaction.on_commit(partial(_queue_files, locked.pk, language))
    return locked


def _queue_files(summary_id: int, language: str) -> None:
    from qloop.reports.jobs import keep_period_summary_files

    keep_period_summary_files(summary_id, language)


class Channel:
    """How a summary went out."""

    CHOICES = (
        ("email", gettext_lazy("E-mail")),
        ("im", gettext_lazy("QQ or other instant messaging")),
        ("meeting", gettext_lazy("Handed out at the meeting")),
        ("letter", gettext_lazy("Letter")),
        ("hand", gettext_lazy("By hand")),
    )

    @classmethod
    def label(cls, code: str) -> str:
        return str(dict(cls.CHOICES).get(code, code))


def record_sending(
    summary: PeriodSummary,
    *,
    actor: User,
    sent_to: str,
    channel: str,
    note: str = "",
    reference: str = "",
    sent_at: dt.datetime | None = None,
) -> SummarySending:
    """Record that a signed-off summary went to someone (when, how, to whom, the reference the
    recipient gave back); one per sending."""
    if not can_record_sending(actor, summary):
        raise PermissionDenied
    inputs.check_texts({"sent_to": sent_to, "note": note, "reference": reference})
    offered = channels(recipient_set(summary))
    errors: dict[str, list[str]] = {}
    sent_to = sent_to.strip()
    if not sent_to:
        errors["sent_to"] = [_("Say to whom it went.")]
    elif len(sent_to) > 200:
        errors["sent_to"] = [_("At most %(n)s characters.") % {"n": 200}]
    if channel not in dict(offered):
        errors["channel"] = [
            _("Choose one of: %(choices)s.")
            % {"choices": ", ".join(str(label) for _c, label in offered)}
        ]
    if len(reference.strip()) > 80:
        errors["reference"] = [_("At most %(n)s characters.") % {"n": 80}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = PeriodSummary.objects.select_for_update().get(pk=summary.pk)
        if not locked.is_signed:
            raise Conflict(_("Sign the summary off before sending it."))
        sending = SummarySending.objects.create(
            summary=locked,
            sent_at=sent_at or timezone.now(),
            sent_to=sent_to,
            channel=channel,
            note=note.strip()[:200],
            reference=reference.strip(),
            recorded_by=actor,
        )
        PeriodSummaryEvent.objects.create(
            summary=locked,
            actor=actor,
            verb="sent",
            data={
                "sending": sending.pk,
                "sent_to": sending.sent_to,
                "channel": channel,
                "reference": sending.reference,
                "sent_at": sending.sent_at.isoformat(),
            },
        )
        return sending


# --- the manufacturer's figures --------------------------------------------------------------


def _names(obj: Any) -> dict[str, str]:
    return {"zh-hans": obj.name, "en": obj.name_en or obj.name, "zh-hant": obj.name_zh_hant}


def manufacturer_figures(start: dt.date, end: dt.date) -> dict[str, Any]:
    """Complaints and feedback by kind and category, clock breaches, time to close, open
    corrective actions and satisfaction, for the days from ``start`` to before ``end``."""
    from qloop.capa.models import CorrectiveAction
    from qloop.cases.models import Case, Category
    from qloop.org.models import Profile
    from qloop.process.models import Clock
    from qloop.reports.analysis import _days_to_close

    since, until = local_start(start), local_start(end)
    live = Case.objects.live().filter(profile=Profile.MANUFACTURER)
    received = live.filter(received_at__gte=since, received_at__lt=until)
    by_kind = {
        row["kind"]: row["n"] for row in received.values("kind").annotate(n=Count("id")).order_by()
    }
    by_category_rows = list(
        received.values("category_id").annotate(n=Count("id")).order_by("-n", "category_id")
    )
    categories = {
        c.pk: c
        for c in Category.objects.filter(
            pk__in=[r["category_id"] for r in by_category_rows if r["category_id"]]
        )
    }
    by_category = [
        {
            "code": categories[r["category_id"]].code if r["category_id"] else "",
            "names": _names(categories[r["category_id"]]) if r["category_id"] else {},
            "n": r["n"],
        }
        for r in by_category_rows[:TOP_CATEGORIES]
    ]
    breaches = {
        row["name"]: row["n"]
        # Driven from the clocks' breach-time index, the cases joined by primary key.
        for row in Clock.objects.filter(
            breached_at__gte=since,
            breached_at__lt=until,
            case__archived_at__isnull=True,
            case__profile=Profile.MANUFACTURER,
        )
        .values("name")
        .annotate(n=Count("id"))
        .order_by()
    }
    closing = (
        live.filter(closed_at__gte=since, closed_at__lt=until)
        .annotate(days=_days_to_close())
        .aggregate(
            closed=Count("id"),
            mean_days=Avg("days"),
            within_2_days=Count("id", filter=Q(days__lte=2)),
        )
    )
    # Open at the period's end: the case had come in and had not been closed by then.
    # Driven from the (few) corrective actions, the cases joined by primary key.
    open_actions = CorrectiveAction.objects.filter(
        Q(case__closed_at__isnull=True) | Q(case__closed_at__gte=until),
        case__archived_at__isnull=True,
        case__profile=Profile.MANUFACTURER,
        case__received_at__lt=until,
    )
    actions = open_actions.aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due__lt=end)))
    return {
        "received": sum(by_kind.values()),
        "by_kind": by_kind,
        "by_category": by_category,
        "categories_counted": len(by_category_rows),
        "breaches": breaches,
        "breaches_total": sum(breaches.values()),
        "closed": closing["closed"] or 0,
        "mean_days_to_close": (
            round(closing["mean_days"], 1) if closing["mean_days"] is not None else None
        ),
        "closed_within_2_days": closing["within_2_days"] or 0,
        "corrective_open": actions["open"] or 0,
        "corrective_overdue": actions["overdue"] or 0,
        "corrective_list": [
            {
                "number": number,
                "title": title,
                "owner": owner or "",
                "due": due.isoformat() if due else None,
            }
            for number, title, owner, due in open_actions.order_by(
                "due", "case__number"
            ).values_list("case__number", "case__title", "owner__display_name", "due")[
                :LISTED_ACTIONS
            ]
        ],
        "satisfaction": satisfaction(since, until),
    }


def satisfaction(since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    """Survey answers submitted in the period: CSAT (ratings 4–5 of 1–5) and NPS (9–10 less
    0–6 of 0–10), as the survey summary report counts them (R2.7)."""
    from qloop.surveys.models import Answer, QuestionType, Response

    responses = Response.objects.filter(submitted_at__gte=since, submitted_at__lt=until)
    answers = Answer.objects.filter(
        response__in=responses.values("pk"), value__isnull=False
    ).aggregate(
        ratings=Count("pk", filter=Q(question__type=QuestionType.RATING)),
        satisfied=Count("pk", filter=Q(question__type=QuestionType.RATING, value__gte=4)),
        recommendations=Count("pk", filter=Q(question__type=QuestionType.RECOMMENDATION)),
        promoters=Count("pk", filter=Q(question__type=QuestionType.RECOMMENDATION, value__gte=9)),
        detractors=Count("pk", filter=Q(question__type=QuestionType.RECOMMENDATION, value__lte=6)),
    )
    ratings, recs = answers["ratings"] or 0, answers["recommendations"] or 0
    return {
        "responses": responses.count(),
        "csat": round(100.0 * answers["satisfied"] / ratings, 1) if ratings else None,
        "nps": (
            round(100.0 * (answers["promoters"] - answers["detractors"]) / recs, 1)
            if recs
            else None
        ),
    }


def _manufacturer_readers(user: User) -> bool:
    """The management's summaries: the general manager, Quality (the management
    representative's department), Supply and Sales (satisfaction, R2.7) and administrators."""
    from qloop.reports import access

    return (
        user.is_superuser
        or user.administers
        or access.can_decide(user)
        or access.can_draft(user)
        or user.has_role(*access.quality_head_roles(), "quality_engineer")
    )


def _manufacturer_signers(user: User) -> bool:
    """The general manager or the quality head."""
    from qloop.reports import access

    return user.is_superuser or user.has_role(*access.decider_roles(), *access.quality_head_roles())


def _manufacturer_told() -> list[User]:
    from qloop.notify.actions import people_with_role
    from qloop.reports import access

    return list(people_with_role(*access.decider_roles(), *access.quality_head_roles()))


register_recipients(
    RecipientSet(
        "general_manager",
        gettext_lazy("General manager"),
        gettext_lazy("General Manager"),
        "manufacturer",
        (SummaryPeriod.MONTH, SummaryPeriod.QUARTER, SummaryPeriod.YEAR),
        manufacturer_figures,
        _manufacturer_readers,
        _manufacturer_signers,
        order=10,
        told=_manufacturer_told,
    ),
    RecipientSet(
        "management_review",
        gettext_lazy("Management review (ISO 9001 9.3 inputs)"),
        gettext_lazy("Management review meeting"),
        "manufacturer",
        (SummaryPeriod.QUARTER, SummaryPeriod.YEAR),
        manufacturer_figures,
        _manufacturer_readers,
        _manufacturer_signers,
        order=20,
        told=_manufacturer_told,
    ),
)


# --- presenting ------------------------------------------------------------------------------


def _name(names: dict[str, str], language: str) -> str:
    return names.get(language) or names.get("zh-hans") or ""


def table(summary: PeriodSummary, language: str) -> list[dict[str, Any]]:
    """The summary's rows as its recipient set presents them."""
    present = recipient_set(summary).rows or manufacturer_rows
    return present(summary, language)


def chart_groups(summary: PeriodSummary, language: str) -> list[tuple[str, list[Any]]]:
    """The table's groups as (heading, [(label, this period, period before)]), for the bar
    charts; a group counted as nothing in both periods is left out."""
    groups: list[tuple[str, list[Any]]] = []
    for r in table(summary, language):
        if "heading" in r:
            groups.append((str(r["heading"]), []))
        elif groups and r["label"] != "—":
            groups[-1][1].append((str(r["label"]), r["values"][0], r["values"][1]))
    return [(h, bars) for h, bars in groups if any((c or 0) or (p or 0) for _l, c, p in bars)]


NICE_TOPS = (4, 8, 20, 40, 100, 200, 400, 1000, 2000, 4000, 10_000, 20_000, 40_000, 100_000)


def nice_top(peak: float) -> float:
    """The axis' end, four whole steps from zero (4, 8, 20, 40, 100…) at or above ``peak``."""
    return float(next((s for s in NICE_TOPS if s >= peak), peak))


def charts_svg(summary: PeriodSummary, language: str) -> list[str]:
    """The charts as inline SVG for the page and the print (texts escaped in charts.py)."""
    from qloop.reports.charts import Bar, comparison_bars

    out = []
    for heading, bars in chart_groups(summary, language):
        peak = max(max(c or 0, p or 0) for _l, c, p in bars)
        out.append(
            comparison_bars(
                [Bar(label, c, p) for label, c, p in bars[:12]],
                lo=0,
                hi=nice_top(peak),
                title=heading,
                current_label=_("This period"),
                previous_label=_("Period before"),
                width=520,
            )
        )
    return out


def period_text(span: list[str] | None) -> str:
    """ "2026-07-01 – 2026-09-30"; "—" when the period was not counted (copied summaries)."""
    return f"{span[0]} – {span[1]}" if span and span[0] else "—"


def column_titles(summary: PeriodSummary) -> list[str]:
    periods = summary.figures["periods"]
    return [
        _("This period") + " " + period_text(periods.get("current")),
        _("Period before") + " " + period_text(periods.get("previous")),
        _("Same period last year") + " " + period_text(periods.get("last_year")),
    ]


def _pick(key: str, item: str) -> Callable[[dict[str, Any]], Any]:
    return lambda d: d[key].get(item, 0)


def _category_count(code: str) -> Callable[[dict[str, Any]], Any]:
    return lambda d: next((x["n"] for x in d["by_category"] if x["code"] == code), 0)


def manufacturer_rows(summary: PeriodSummary, language: str) -> list[dict[str, Any]]:
    """The rows, each with this period, the period before and last year's."""
    from qloop.cases.kinds import kind_label
    from qloop.process.models import Clock

    f = summary.figures
    cur, prev, ly = f["current"], f["previous"], f["last_year"]
    rows: list[dict[str, Any]] = []

    def row(label: str, key: Callable[[dict[str, Any]], Any], section: str = "") -> None:
        rows.append({"label": label, "section": section, "values": [key(cur), key(prev), key(ly)]})

    rows.append({"heading": _("Complaints and feedback received")})
    row(_("Received"), lambda d: d["received"])
    kinds = sorted({*cur["by_kind"], *prev["by_kind"], *ly["by_kind"]})
    for kind in kinds:
        row(str(kind_label(kind)), _pick("by_kind", kind))
    rows.append({"heading": _("By category (R2.10)")})
    names = {c["code"]: c["names"] for d in (ly, prev, cur) for c in d["by_category"]}
    for entry in cur["by_category"]:
        code = entry["code"]
        label = _name(names.get(code, {}), language) if code else _("No category")
        row(label, _category_count(code))
    rows.append({"heading": _("Deadlines missed")})
    row(_("All clocks"), lambda d: d["breaches_total"])
    labels = dict(Clock._meta.get_field("name").flatchoices)
    # The answer (R2.3) and investigation (R1.4) clocks always have their row, even at 0.
    shown = {"customer_answer", "investigation", *cur["breaches"], *prev["breaches"]}
    for clock in sorted({*shown, *ly["breaches"]}):
        row(str(labels.get(clock, clock)), _pick("breaches", clock))
    rows.append({"heading": _("Time to close")})
    row(_("Closed"), lambda d: d["closed"])
    row(_("Mean days to close"), lambda d: d["mean_days_to_close"])
    row(_("Closed within 2 days"), lambda d: d["closed_within_2_days"])
    rows.append({"heading": _("Corrective actions open at the end of the period")})
    row(_("Open"), lambda d: d["corrective_open"])
    row(_("Past their due date"), lambda d: d["corrective_overdue"])
    rows.append({"heading": _("Customer satisfaction")})
    row(_("Survey answers"), lambda d: d["satisfaction"]["responses"])
    row(_("Satisfaction (CSAT)"), lambda d: d["satisfaction"]["csat"])
    row(_("Net promoter score (NPS)"), lambda d: d["satisfaction"]["nps"])
    return rows


def workbook(summary: PeriodSummary, language: str) -> bytes:
    """The summary as .xlsx, written from the kept figures (the same however often)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Summary")[:31])
    item = recipient_set(summary)
    ws.append([str(item.title), summary.get_period_display()])
    ws.append(["", *column_titles(summary)])
    for r in table(summary, language):
        if "heading" in r:
            ws.append([r["heading"]])
        else:
            ws.append([r["label"], *r["values"]])
    if "corrective_list" in summary.figures["current"]:
        actions = wb.create_sheet(_("Open corrective actions")[:31])
        actions.append([_("No."), _("Title"), _("Owner"), _("Due")])
        for a in summary.figures["current"]["corrective_list"]:
            actions.append([a["number"], a["title"], a["owner"], a["due"] or ""])
    sign_sheet = wb.create_sheet(_("Sign-off")[:31])
    if summary.is_signed:
        sig = summary.signature
        sign_sheet.append([_("Signed off by"), sig.get("printed_name", "")])
        sign_sheet.append([_("Signed off"), sig.get("at", "")])
        sign_sheet.append(["SHA-256", sig.get("figures_sha256", "")])
    else:
        sign_sheet.append([_("Not signed off yet: the figures may still be counted again.")])
    ways = {code: str(label) for code, label in channels(item)}
    for s in summary.sendings.select_related("recorded_by"):
        sign_sheet.append(
            [
                _("Sent"),
                f"{timezone.localtime(s.sent_at):%Y-%m-%d %H:%M}",
                s.sent_to,
                ways.get(s.channel, s.channel),
                s.reference,
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- the files kept at sign-off --------------------------------------------------------------

FILE_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def kept_file_name(summary: PeriodSummary, fmt: str) -> str:
    """The name a downloaded file gets: what, which period, which format."""
    return f"summary-{summary.recipients}-{summary.period}-{summary.start:%Y-%m}.{fmt}"


def keep_files(summary_id: int, language: str | None = None) -> PeriodSummary | None:
    """The worker's half of sign-off: the summary rendered once as PDF and .xlsx, both kept in
    the file storage with their SHA-256 in the record and its trail. Kept once: a summary whose
    files are kept (or one not signed off) is left alone, so the job may run twice."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from qloop.reports.summary_pdf import render_pdf

    summary = PeriodSummary.objects.filter(pk=summary_id).first()
    if summary is None or not summary.is_signed or summary.files_kept:
        return summary
    language = language or settings.LANGUAGE_CODE
    with translation.override(language):
        made = {"pdf": render_pdf(summary, language), "xlsx": workbook(summary, language)}
    with transaction.atomic():
        locked = PeriodSummary.objects.select_for_update().get(pk=summary_id)
        if locked.files_kept:
            return locked
        kept: dict[str, dict[str, Any]] = {}
        for fmt, data in made.items():
            name = default_storage.save(
                f"period-summaries/{locked.pk}/{kept_file_name(locked, fmt)}", ContentFile(data)
            )
            kept[fmt] = {
                "name": name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
            }
        locked.pdf_file, locked.pdf_sha256 = kept["pdf"]["name"], kept["pdf"]["sha256"]
        locked.xlsx_file, locked.xlsx_sha256 = kept["xlsx"]["name"], kept["xlsx"]["sha256"]
        locked.files_kept_at = timezone.now()
        locked.save(
            update_fields=["pdf_file", "pdf_sha256", "xlsx_file", "xlsx_sha256", "files_kept_at"]
        )
        PeriodSummaryEvent.objects.create(
            summary=locked,
            at=locked.files_kept_at,
            verb="files_kept",
            data={**kept, "language": language},
        )
    return locked


def keep_missing_files() -> int:
    """Signed-off summaries whose files are not kept yet (the worker was down at sign-off, or
    the summary was copied from the pharmacy's older mechanism): keep them now."""
    done = 0
    waiting = PeriodSummary.objects.filter(state=PeriodSummaryState.SIGNED, files_kept_at=None)
    for pk in waiting.values_list("pk", flat=True)[:100]:
        found = keep_files(pk)
        done += bool(found and found.files_kept)
    return done


class KeptFileChanged(Exception):
    """The stored file no longer has the SHA-256 recorded when it was kept."""


def read_kept_file(summary: PeriodSummary, fmt: str) -> bytes:
    """The kept file's bytes, checked against the SHA-256 recorded when it was kept; a file
    changed behind QLoop's back is refused rather than handed out as the signed summary."""
    from django.core.files.storage import default_storage
    from django.http import Http404

    name = {"pdf": summary.pdf_file, "xlsx": summary.xlsx_file}.get(fmt, "")
    recorded = {"pdf": summary.pdf_sha256, "xlsx": summary.xlsx_sha256}.get(fmt, "")
    if not name:
        raise Http404
    with default_storage.open(name, "rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != recorded:
        raise KeptFileChanged(name)
    return data
