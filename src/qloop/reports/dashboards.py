"""The first page of each role: figures computed by the database, each a link to the register
filtered to the cases it counts (issue 13, R3.2, X5).

A dashboard is a list of cards from a registry, as the menu is (``qloop.web.nav``): the core
registers the manufacturer's cards here; a profile registers its own in ``AppConfig.ready()``
with ``register_card(Card(...))``, and they show only while the profile is on.

Every figure is a ``COUNT`` over indexed columns (state, received_at, the clocks' state and
breach time, the tasks' department), driven from the small side (``pk IN (clocks …)``), never
a loop over cases in Python; its link carries the same filter to the register (``CaseFilter``),
so the figure and the list it opens agree.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qloop.cases.models import Case, CaseQuerySet

if TYPE_CHECKING:
    from qloop.org.models import User


# --- the registry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One number on a card and the register it opens."""

    label: str
    value: int
    url: str
    tone: str = ""  # "danger" for breaches and late work


@dataclass
class CardOut:
    figures: list[Figure] = field(default_factory=list)
    chart: dict[str, Any] | None = None  # an ECharts option; data items may carry a "url"
    note: str = ""


@dataclass(frozen=True)
class Board:
    """A dashboard: whose first page it is and who else may open it."""

    code: str
    title: str | Promise
    shown_to: Callable[[User], bool]
    order: int = 100
    profile: str | None = None  # None: whatever profiles are on


@dataclass(frozen=True)
class Card:
    """A card on one or more boards; ``compute(user, when)`` returns its figures."""

    code: str
    title: str | Promise
    boards: frozenset[str]
    compute: Callable[[User, When], CardOut]
    profile: str | None = None  # None: whatever profiles are on
    order: int = 100
    shown_to: Callable[[User], bool] = lambda user: True


BOARDS: dict[str, Board] = {}
CARDS: list[Card] = []


def register_board(*boards: Board) -> None:
    for board in boards:
        BOARDS[board.code] = board


def register_card(*cards: Card) -> None:
    for card in cards:
        if all(c.code != card.code for c in CARDS):
            CARDS.append(card)
    CARDS.sort(key=lambda c: c.order)


@dataclass(frozen=True)
class When:
    """The moments the figures are counted against, in local time."""

    now: dt.datetime
    today: dt.date
    month_start: dt.date
    last_month_start: dt.date

    @classmethod
    def at(cls, now: dt.datetime | None = None) -> When:
        now = now or timezone.now()
        today = timezone.localdate(now)
        month_start = today.replace(day=1)
        last_month_start = (month_start - dt.timedelta(days=1)).replace(day=1)
        return cls(now, today, month_start, last_month_start)

    def months_back(self, n: int) -> list[dt.date]:
        """The first day of each of the last ``n`` months, oldest first, this one last."""
        out = [self.month_start]
        for _i in range(n - 1):
            out.append((out[-1] - dt.timedelta(days=1)).replace(day=1))
        return out[::-1]


def local_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def register_url(**params: Any) -> str:
    """The register filtered as a figure counts."""
    clean = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in params.items() if v}
    return f"{reverse('case-list')}?{urlencode(clean)}"


def visible_cases(user: User) -> CaseQuerySet:
    return Case.objects.for_user(user).live()


def kinds_seen(user: User) -> tuple[set[str], set[str]]:
    """The kinds (of those switched on) of which this person sees every case, and those of
    which they see a part (a department's share, the ADR reports they made); kinds they see
    nothing of are in neither.

    The daily counts (``CaseDayCount``) hold every live case, so they answer only for the
    kinds seen whole; the rest is counted over the person's own cases: per-user visibility
    stays exact."""
    from qloop.cases.kinds import enabled_kinds
    from qloop.cases.models import general_visibility

    whole: set[str] = set()
    part: set[str] = set()
    if not user.is_authenticated or not user.is_active:
        return whole, part
    general = general_visibility(user)
    for spec in enabled_kinds():
        rule = spec.visibility(user) if spec.visibility is not None else general
        if not rule:
            whole.add(spec.kind)
        elif rule != NOBODY:
            part.add(spec.kind)
    return whole, part


NOBODY = Q(pk__in=[])


def _day_counts(
    dimension: str, since: dt.date, kinds: set[str], until: dt.date | None = None
) -> QuerySet[Any]:
    from qloop.cases.models import CaseDayCount

    rows = CaseDayCount.objects.filter(dimension=dimension, day__gte=since, kind__in=sorted(kinds))
    if until is not None:
        rows = rows.filter(day__lt=until)
    return rows


# The core's boards that are a role's first page, in the order a person holding several roles
# gets them: the general manager's, Quality's, Customer Service's.
ROLE_BOARDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("management", ("general_manager",)),
    ("quality", ("quality_engineer", "quality_head")),
    ("cs", ("cs_clerk", "cs_head")),
)


def home_board(user: User, profiles: tuple[str, ...] | None = None) -> str | None:
    """The board that is this person's first page (``/``), or None for My work.

    The general manager, Quality, CS, then a profile's board (the pharmacy's, the clinical
    departments') when its profile is on and the person follows its work, then the heads of
    departments (a role that manages cases there); everyone else — a clerk of a department
    with no board of their own — lands on My work, where their work is."""
    if profiles is None:
        from qloop.org.models import Organisation

        profiles = Organisation.current_profiles()
    if user.is_superuser:
        return "management"
    for code, roles in ROLE_BOARDS:
        if user.has_role(*roles) and code in BOARDS:
            return code
    core = {code for code, _roles in ROLE_BOARDS} | {"department"}
    for board in sorted(BOARDS.values(), key=lambda b: b.order):
        if board.code in core or (board.profile is not None and board.profile not in profiles):
            continue
        if board.shown_to(user):
            return board.code
    if user.manages_cases and user.department_ids:
        return "department"
    return None


def board_for(user: User, profiles: tuple[str, ...] | None = None) -> str:
    """The board ``/dashboard/`` opens: the person's first page, or their department's."""
    return home_board(user, profiles) or "department"


def boards_for(user: User, profiles: tuple[str, ...] | None = None) -> list[Board]:
    if profiles is None:
        from qloop.org.models import Organisation

        profiles = Organisation.current_profiles()
    return [
        b
        for b in sorted(BOARDS.values(), key=lambda b: b.order)
        if (b.profile is None or b.profile in profiles) and b.shown_to(user)
    ]


def cards_for(user: User, board: str, profiles: tuple[str, ...]) -> list[tuple[Card, CardOut]]:
    when = When.at()
    out = []
    for card in CARDS:
        if board not in card.boards:
            continue
        if card.profile is not None and card.profile not in profiles:
            continue
        if not card.shown_to(user):
            continue
        out.append((card, card.compute(user, when)))
    return out


# --- the core's figures ----------------------------------------------------------------------


def _with_clock(
    user: User,
    *,
    name: str = "",
    states: tuple[str, ...] = (),
    breached: tuple[dt.date, dt.date] | None = None,
) -> QuerySet[Case]:
    """Visible live cases with a clock as described; the clocks are selected first (indexed
    by state, or by breach time) and the cases found by primary key."""
    from qloop.process.models import Clock

    clocks = Clock.objects.all()
    if name:
        clocks = clocks.filter(name=name)
    if states:
        clocks = clocks_in_states(clocks, states)
    if breached:
        start, end = breached
        clocks = clocks.filter(
            breached_at__gte=local_start(start), breached_at__lt=local_start(end)
        )
    return visible_cases(user).filter(pk__in=clocks.values("case_id"))


# The condition of the open clocks' partial index (``clock_open_name_state``), written as in
# its definition and as literals (``qloop.cases.lookups``): SQLite uses a partial index only
# when the query repeats its condition, and cannot see through bound parameters.
OPEN_CLOCK_STATES = ["running", "paused", "breached"]


def clocks_in_states(clocks: QuerySet[Any], states: tuple[str, ...]) -> QuerySet[Any]:
    """Clocks in these states, read from the open clocks' index when they are open states (one
    state alone, ``state = 'paused'``, would otherwise scan every clock on SQLite)."""
    if set(states) <= set(OPEN_CLOCK_STATES):
        clocks = clocks.filter(state__literal_in=OPEN_CLOCK_STATES)
        if set(states) != set(OPEN_CLOCK_STATES):
            clocks = clocks.filter(state__literal_in=list(states))
        return clocks
    return clocks.filter(state__in=list(states))


def _month_after(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _breach_figures(user: User, when: When, clock: str = "") -> list[Figure]:
    this = (when.month_start, when.today + dt.timedelta(days=1))
    last = (when.last_month_start, when.month_start)
    figures = []
    for label, (start, end) in ((_("Breaches this month"), this), (_("Last month"), last)):
        figures.append(
            Figure(
                label,
                _with_clock(user, name=clock, breached=(start, end)).count(),
                register_url(
                    clock=clock,
                    breached_from=start,
                    breached_to=end - dt.timedelta(days=1),
                ),
                "danger" if start == when.month_start else "",
            )
        )
    return figures


def cs_today(user: User, when: When) -> CardOut:
    """CS: new cases, those waiting for an answer, answers late this month (R2.3, R2.8)."""
    new = visible_cases(user).filter(state="new").count()
    waiting = _with_clock(
        user, name="customer_answer", states=("running", "paused", "breached")
    ).count()
    figures = [
        Figure(_("New"), new, register_url(state="new")),
        Figure(
            _("Waiting for an answer"),
            waiting,
            register_url(clock="customer_answer", clock_state="open"),
        ),
        *_breach_figures(user, when, "customer_answer"),
    ]
    return CardOut(figures)


def investigations(user: User, when: When) -> CardOut:
    """Quality: the 48-hour investigations by the state of their clock (R1.4)."""
    from qloop.process.models import ClockState

    figures = []
    for state in (ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED):
        n = _with_clock(user, name="investigation", states=(state.value,)).count()
        figures.append(
            Figure(
                str(state.label),
                n,
                register_url(clock="investigation", clock_state=state.value),
                "danger" if state == ClockState.BREACHED else "",
            )
        )
    return CardOut(figures, chart=_bar_chart(figures))


def corrective_steps(user: User, when: When) -> CardOut:
    """Quality: corrective actions by step (R1.5), and those whose verification failed."""
    from qloop.process.definitions import CORRECTIVE, state_label

    order = ["corrective_action", "implementing", "standardising", "ready_to_close"]
    counts = dict(
        visible_cases(user)
        .filter(kind="complaint", state__in=sorted(CORRECTIVE))
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    figures = [
        Figure(
            str(state_label("complaint", s)),
            counts.get(s, 0),
            register_url(kind="complaint", state=s),
        )
        for s in order
    ]
    from qloop.capa.models import CorrectiveAction

    # Driven from the few corrective actions, not from every case.
    ineffective = CorrectiveAction.objects.filter(verification_result="ineffective")
    failed = visible_cases(user).filter(pk__in=ineffective.values("case_id"))
    figures.append(
        Figure(
            _("Effectiveness failed"),
            failed.count(),
            register_url(verification="ineffective"),
            "danger",
        )
    )
    return CardOut(figures, chart=_bar_chart(figures[:-1]))


REPEAT_DAYS = 90


def repeat_problems(user: User, when: When) -> CardOut:
    """Quality: product models complained about twice or more in the last 90 days: from the
    daily counts per model (90 days × the models) for the kinds the person sees whole, from
    their cases for the rest."""
    since = when.today - dt.timedelta(days=REPEAT_DAYS)
    whole, part = kinds_seen(user)
    totals: Counter[str] = Counter()
    if "complaint" in whole:
        for value, n in (
            _day_counts("model", since, {"complaint"})
            .values("value")
            .annotate(total=Sum("n"))
            .values_list("value", "total")
        ):
            totals[value] += n
    elif "complaint" in part:
        for value, n in (
            visible_cases(user)
            .filter(kind="complaint", received_at__gte=local_start(since))
            .exclude(product__model="")
            .values("product__model")
            .annotate(n=Count("id"))
            .values_list("product__model", "n")
        ):
            totals[value] += n
    top = sorted(((m, n) for m, n in totals.items() if n >= 2), key=lambda r: (-r[1], r[0]))[:8]
    figures = [
        Figure(m, n, register_url(kind="complaint", model=m, received_from=since)) for m, n in top
    ]
    return CardOut(
        figures,
        note=_("Models with two or more complaints in the last %(days)s days.")
        % {"days": REPEAT_DAYS},
    )


def recurring_problems(user: User, when: When) -> CardOut:
    """Quality: groups of alike cases raised as possible systemic problems (issue 13)."""
    from qloop.cases.models import RecurringGroup, RecurringState
    from qloop.cases.recurring import groups_for

    url = reverse("recurring-list")
    shown = RecurringGroup.objects.filter(pk__in=groups_for(user).values("pk"))
    counts = dict(shown.values("state").annotate(n=Count("id")).values_list("state", "n"))
    return CardOut(
        [
            Figure(
                _("Raised to Quality"),
                counts.get(RecurringState.OPEN, 0),
                f"{url}?show=open",
                "danger",
            ),
            Figure(
                _("Linked to a corrective action"),
                counts.get(RecurringState.LINKED, 0),
                f"{url}?show=linked",
            ),
            Figure(
                _("Dismissed"), counts.get(RecurringState.DISMISSED, 0), f"{url}?show=dismissed"
            ),
        ]
    )


def _open_of_departments(department_ids: set[int]) -> Any:
    """The open live cases of these departments, read from the open-department index (its
    condition written as the index's), before the visibility rule is applied by primary key."""
    return (
        Case.objects.filter(archived_at__isnull=True, department_id__in=department_ids)
        .exclude(state__literal_in=["closed"])
        .values("pk")
    )


def _open_count(user: User, department_ids: set[int]) -> int:
    """The open cases of these departments this person may see: for a person who sees every
    kind whole, one index-only count (``case_open_work`` holds state, kind and department);
    else the visibility rule is applied to each by primary key."""
    whole, part = kinds_seen(user)
    if not part:
        return int(_open_of_departments(department_ids).filter(kind__in=sorted(whole)).count())
    return visible_cases(user).filter(pk__in=_open_of_departments(department_ids)).count()


def department_tasks(user: User, when: When) -> CardOut:
    """A department head: the tasks given to their departments (R1.8), and the late ones."""
    from qloop.process.models import Task

    tasks = Task.objects.filter(department_id__in=user.department_ids, done_at__isnull=True)
    late = tasks.filter(due__lt=when.today)
    cases = visible_cases(user)
    codes = sorted(user._role_flags()["department_codes"])
    return CardOut(
        [
            Figure(
                _("Cases with open tasks"),
                cases.filter(pk__in=tasks.values("case_id")).count(),
                register_url(task="open"),
            ),
            Figure(
                _("With late tasks"),
                cases.filter(pk__in=late.values("case_id")).count(),
                register_url(task="late"),
                "danger",
            ),
            Figure(
                _("Open cases of my departments"),
                _open_count(user, user.department_ids),
                register_url(department=codes[0], open=1)
                if len(codes) == 1
                else reverse("my-work"),
            ),
        ]
    )


def waiting_for_management(user: User, when: When) -> CardOut:
    """The general manager: approvals and decisions waiting for them (R1.6, R2.7)."""
    from qloop.process import engine
    from qloop.reports.queues import reports_waiting_for

    return CardOut(
        [
            Figure(
                _("Approvals waiting"),
                len(engine.approvals_for(user)),
                reverse("approvals"),
                "danger",
            ),
            Figure(
                _("Summary reports to decide"),
                len(reports_waiting_for(user)),
                reverse("survey-report-list"),
            ),
        ]
    )


def breaches(user: User, when: When) -> CardOut:
    """The general manager: every deadline missed this month against last month (X3)."""
    figures = _breach_figures(user, when)
    return CardOut(figures, chart=_bar_chart(figures))


TOP_DAYS = 90


def top_problems(user: User, when: When) -> CardOut:
    """The categories most complained about in the last 90 days (R2.10)."""
    from qloop.cases.models import Category

    since = when.today - dt.timedelta(days=TOP_DAYS)
    whole, part = kinds_seen(user)
    totals: Counter[int] = Counter()
    if whole:
        # From the daily counts per category (90 days × the categories), not the cases.
        for value, n in (
            _day_counts("category", since, whole)
            .values("value")
            .annotate(total=Sum("n"))
            .values_list("value", "total")
        ):
            totals[int(value)] += n
    if part:
        for category_id, n in (
            visible_cases(user)
            .filter(
                kind__in=sorted(part), received_at__gte=local_start(since), category__isnull=False
            )
            .values("category_id")
            .annotate(n=Count("id"))
            .values_list("category_id", "n")
        ):
            totals[category_id] += n
    rows = [
        {"category_id": c, "n": n}
        for c, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        if n > 0
    ][:5]
    names = {c.pk: c for c in Category.objects.filter(pk__in=[r["category_id"] for r in rows])}
    figures = [
        Figure(
            str(names[r["category_id"]]),
            r["n"],
            register_url(category=names[r["category_id"]].code, received_from=since),
        )
        for r in rows
    ]
    return CardOut(
        figures,
        chart=_bar_chart(figures, horizontal=True),
        note=_("Last %(days)s days.") % {"days": TOP_DAYS},
    )


def trend(user: User, when: When) -> CardOut:
    """Complaints and feedback received per month over the last twelve months, from the daily
    counts (or one range count per month on the received-at index, for a kind seen in part)."""
    months = when.months_back(12)
    complaints: list[dict[str, Any]] = []
    feedback: list[dict[str, Any]] = []
    labels: list[str] = []
    bounds = [(start, _month_after(start)) for start in months]
    row: dict[str, int] = {}
    whole, part = kinds_seen(user)
    for i in range(len(bounds)):
        row[f"c{i}"] = row[f"f{i}"] = 0
    # From the daily counts per kind for the kinds seen whole (at most 366 × 2 rows, summed
    # per month here); one range count per month over the person's cases for the rest.
    index = {start: i for i, (start, _end) in enumerate(bounds)}
    for day, kind, n in _day_counts(
        "kind", months[0], whole & {"complaint", "feedback"}, until=bounds[-1][1]
    ).values_list("day", "kind", "n"):
        row[f"{'c' if kind == 'complaint' else 'f'}{index[day.replace(day=1)]}"] += n
    counted_kinds = sorted(part & {"complaint", "feedback"})
    bounds_to_count = bounds if counted_kinds else []
    for i, (start, end) in enumerate(bounds_to_count):
        per_kind = dict(
            visible_cases(user)
            .filter(
                kind__in=counted_kinds,
                received_at__gte=local_start(start),
                received_at__lt=local_start(end),
            )
            .values_list("kind")
            .annotate(n=Count("id"))
            .values_list("kind", "n")
        )
        row[f"c{i}"] += per_kind.get("complaint", 0)
        row[f"f{i}"] += per_kind.get("feedback", 0)
    for i, (start, end) in enumerate(bounds):
        labels.append(f"{start:%Y-%m}")
        last_day = end - dt.timedelta(days=1)
        complaints.append(
            {
                "value": row[f"c{i}"],
                "url": register_url(kind="complaint", received_from=start, received_to=last_day),
            }
        )
        feedback.append(
            {
                "value": row[f"f{i}"],
                "url": register_url(kind="feedback", received_from=start, received_to=last_day),
            }
        )
    # The kinds' own names (顾客反馈, not the word "feedback" of other screens).
    complaints_name, feedback_name = str(_("Complaints")), str(_("Customer feedback"))
    chart = {
        "tooltip": {"trigger": "axis", "renderMode": "richText"},
        "legend": {"top": 0, "data": [complaints_name, feedback_name]},
        "grid": {"left": 40, "right": 16, "top": 36, "bottom": 28},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {"name": complaints_name, "type": "line", "data": complaints},
            {"name": feedback_name, "type": "line", "data": feedback},
        ],
    }
    this = complaints[-1]["value"]
    figures = [
        Figure(_("Complaints this month"), int(this), str(complaints[-1]["url"])),
        Figure(_("Feedback this month"), int(feedback[-1]["value"]), str(feedback[-1]["url"])),
    ]
    return CardOut(figures, chart=chart)


def satisfaction(user: User, when: When) -> CardOut:
    """Customer satisfaction of the last surveys (R2.5, R2.7), from their stored results."""
    from qloop.reports.models import SurveyReport

    # Eight reports at most: each keeps its campaign's results as they were when written.
    reports = [
        r
        for r in SurveyReport.objects.order_by("-period_end", "-id").only(
            "pk", "title", "period_end", "results"
        )[:8]
        if isinstance(r.results, dict) and r.results.get("csat") is not None
    ][::-1]
    if not reports:
        return CardOut(note=_("No survey summary yet."))
    chart = {
        "tooltip": {"trigger": "axis", "renderMode": "richText"},
        "grid": {"left": 40, "right": 16, "top": 16, "bottom": 28},
        "xAxis": {"type": "category", "data": [r.title for r in reports]},
        "yAxis": {"type": "value", "max": 100},
        "series": [
            {
                "name": str(_("Satisfaction")),
                "type": "line",
                "data": [
                    {
                        "value": round(float(r.results["csat"]), 1),
                        "url": reverse("survey-report-detail", args=[r.pk]),
                    }
                    for r in reports
                ],
            }
        ],
    }
    return CardOut(chart=chart)


def _bar_chart(figures: list[Figure], *, horizontal: bool = False) -> dict[str, Any]:
    """A bar per figure; a click opens the figure's register (charts.js)."""
    labels = [f.label for f in figures]
    data = [
        {"value": f.value, "url": f.url, **({"itemStyle": {"color": "#b02a37"}} if f.tone else {})}
        for f in figures
    ]
    category: dict[str, Any] = {"type": "category", "data": labels[::-1] if horizontal else labels}
    if not horizontal:
        # Every bar keeps its label: ECharts hides every other one when they would touch
        # (English step names in a narrow card); charts.js wraps them to the bar's width.
        category["axisLabel"] = {"interval": 0, "overflow": "break"}
    value = {"type": "value", "minInterval": 1}
    return {
        "tooltip": {"trigger": "item", "renderMode": "richText"},
        "grid": {"left": 8, "right": 16, "top": 12, "bottom": 8, "containLabel": True},
        "xAxis": value if horizontal else category,
        "yAxis": category if horizontal else value,
        "series": [{"type": "bar", "data": data[::-1] if horizontal else data}],
    }


def _sees_cs(user: User) -> bool:
    return user.sees_all_cases or user.has_role("cs_clerk", "cs_head")


def _sees_quality(user: User) -> bool:
    return user.sees_all_cases or user.has_role("quality_engineer", "quality_head")


def _sees_management(user: User) -> bool:
    return user.is_superuser or user.has_role("general_manager") or user.administers


def _anyone(user: User) -> bool:
    return True


register_board(
    Board("management", gettext_lazy("General manager"), _sees_management, 10),
    Board("quality", gettext_lazy("Quality"), _sees_quality, 20),
    Board("cs", gettext_lazy("Customer Service"), _sees_cs, 30),
    Board("department", gettext_lazy("My department"), _anyone, 90),
)

MANUFACTURER = "manufacturer"
register_card(
    Card(
        "waiting",
        gettext_lazy("Waiting for you"),
        frozenset({"management"}),
        waiting_for_management,
        order=10,
    ),
    Card(
        "breaches",
        gettext_lazy("Deadlines missed"),
        frozenset({"management"}),
        breaches,
        order=20,
    ),
    Card(
        "trend",
        gettext_lazy("Complaints and feedback per month"),
        frozenset({"management", "quality"}),
        trend,
        MANUFACTURER,
        order=30,
    ),
    Card(
        "top-problems",
        gettext_lazy("Top problems"),
        frozenset({"management", "quality"}),
        top_problems,
        order=40,
    ),
    Card(
        "satisfaction",
        gettext_lazy("Customer satisfaction"),
        frozenset({"management"}),
        satisfaction,
        MANUFACTURER,
        order=50,
    ),
    Card(
        "cs-today",
        gettext_lazy("Customer Service"),
        frozenset({"cs", "management"}),
        cs_today,
        MANUFACTURER,
        order=15,
    ),
    Card(
        "investigations",
        gettext_lazy("Investigations by clock"),
        frozenset({"quality"}),
        investigations,
        MANUFACTURER,
        order=10,
    ),
    Card(
        "corrective",
        gettext_lazy("Corrective actions by step"),
        frozenset({"quality", "management"}),
        corrective_steps,
        MANUFACTURER,
        order=20,
    ),
    Card(
        "repeats",
        gettext_lazy("Repeat problems"),
        frozenset({"quality"}),
        repeat_problems,
        MANUFACTURER,
        order=25,
    ),
    Card(
        "recurring",
        gettext_lazy("Recurring problems"),
        frozenset({"quality"}),
        recurring_problems,
        order=27,
    ),
    Card(
        "tasks",
        gettext_lazy("Tasks of my departments"),
        frozenset({"department", "quality", "cs", "pharmacy", "clinical"}),
        department_tasks,
        order=60,
    ),
)
