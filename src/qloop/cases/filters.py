"""The register's filters, sorting and paging: one implementation for the list page, the
export and the API."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from qloop.cases.choices import FieldType
from qloop.cases.extra import active_fields, clean_value
from qloop.cases.models import CaseQuerySet
from qloop.inputs import clamp_date
from qloop.org.models import User
from qloop.prepared import MAX_LIST, Prepared

SORTS: dict[str, list[Any]] = {
    "-received_at": ["-received_at", "-id"],
    "received_at": ["received_at", "id"],
    "due": [F("next_due_at").asc(nulls_last=True), "-id"],
    "number": ["number"],
    "-number": ["-number"],
    "-updated_at": ["-updated_at", "-id"],
}


class FilterError(ValueError):
    """A filter value that cannot be understood; carries the parameter name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _date(name: str, raw: str) -> dt.date | None:
    """A date filter; one outside the range any case can have is moved to its edge (9999-12-31
    reads "until the end"), so the search that follows never overflows."""
    if not raw:
        return None
    try:
        return clamp_date(dt.date.fromisoformat(raw))
    except ValueError as exc:
        raise FilterError(name, _("Enter a date as YYYY-MM-DD.")) from exc


def _int(name: str, raw: str) -> int | None:
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise FilterError(name, _("Enter a whole number.")) from exc


CLOCK_STATES = ("open", "running", "paused", "stopped", "breached")
TASK_STATES = ("open", "late")


def _choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    if raw and raw not in choices:
        raise FilterError(name, _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)})
    return raw


@dataclass
class CaseFilter:
    kind: str = ""
    state: str = ""
    department: str = ""
    handler: str = ""
    category: str = ""
    model: str = ""
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    overdue: bool = False
    archived: bool = False
    q: str = ""
    sort: str = "-received_at"
    extra: dict[str, str] = field(default_factory=dict)
    # The dashboards' drill-downs (issue 13): a clock by name and state, breaches in a period,
    # a corrective action's verification, the tasks of the viewer's departments.
    clock: str = ""
    clock_state: str = ""
    breached_from: dt.date | None = None
    breached_to: dt.date | None = None
    verification: str = ""
    task: str = ""
    open: bool = False
    organisation: str = ""

    @classmethod
    def from_query(cls, params: QueryDict | dict[str, str]) -> CaseFilter:
        get = params.get
        sort = str(get("sort") or "-received_at")
        if sort not in SORTS:
            raise FilterError(
                "sort", _("Sort by one of: %(choices)s.") % {"choices": ", ".join(SORTS)}
            )
        extra = {k[6:]: str(v) for k, v in params.items() if k.startswith("extra.") and v}
        return cls(
            kind=str(get("kind") or ""),
            state=str(get("state") or ""),
            department=str(get("department") or ""),
            handler=str(get("handler") or ""),
            category=str(get("category") or ""),
            model=str(get("model") or "").strip(),
            received_from=_date("received_from", str(get("received_from") or "")),
            received_to=_date("received_to", str(get("received_to") or "")),
            overdue=str(get("overdue") or "").lower() in {"1", "true", "on", "yes"},
            archived=str(get("archived") or "").lower() in {"1", "true", "on", "yes"},
            q=str(get("q") or "").strip()[:200],
            sort=sort,
            extra=extra,
            clock=str(get("clock") or ""),
            clock_state=_choice("clock_state", str(get("clock_state") or ""), CLOCK_STATES),
            breached_from=_date("breached_from", str(get("breached_from") or "")),
            breached_to=_date("breached_to", str(get("breached_to") or "")),
            verification=str(get("verification") or ""),
            task=_choice("task", str(get("task") or ""), TASK_STATES),
            open=str(get("open") or "").lower() in {"1", "true", "on", "yes"},
            organisation=str(get("organisation") or "").strip()[:200],
        )

    def cache_key(self) -> str:
        """Every field of the filter, for keeping its count (``qloop.freshness``); the day
        is part of it, since "late tasks" compares with today."""
        digest = hashlib.sha1(repr(astuple(self)).encode(), usedforsecurity=False)
        return f"{digest.hexdigest()}:{timezone.localdate().isoformat()}:{self.count_limit}"

    @property
    def count_limit(self) -> int:
        """How far the list counts; a full-text search stops earlier, since counting reads a
        row per match (QLOOP_SEARCH_COUNT_LIMIT)."""
        limit: int = settings.QLOOP_LIST_COUNT_LIMIT
        if self.q:
            limit = min(limit, settings.QLOOP_SEARCH_COUNT_LIMIT)
        return limit

    def apply(self, qs: CaseQuerySet, user: User) -> CaseQuerySet:
        qs = qs.for_user(user)
        qs = qs.filter(archived_at__isnull=False) if self.archived else qs.live()
        if self.kind:
            qs = qs.filter(kind=self.kind)
        if self.state:
            qs = qs.filter(state=self.state)
        if self.department:
            qs = qs.filter(department__code=self.department)
        if self.handler == "none":
            qs = qs.filter(handler__isnull=True)
        elif self.handler == "me":
            qs = qs.filter(handler=user)
        elif self.handler:
            qs = qs.filter(handler__username=self.handler)
        if self.category:
            # A parent category finds its children too ("1" finds 1A … 1F).
            qs = qs.filter(
                Q(category__code=self.category) | Q(category__parent__code=self.category)
            )
        if self.model:
            qs = qs.filter(product__model__iexact=self.model)
        tz = timezone.get_current_timezone()
        if self.received_from:
            start = dt.datetime.combine(self.received_from, dt.time.min, tzinfo=tz)
            qs = qs.filter(received_at__gte=start)
        if self.received_to:
            end = dt.datetime.combine(
                self.received_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz
            )
            qs = qs.filter(received_at__lt=end)
        if self.overdue:
            qs = qs.overdue()
        if self.extra:
            fields = {f.code: f for f in active_fields(self.kind or "complaint")}
            for code, raw in self.extra.items():
                if code not in fields:
                    raise FilterError(f"extra.{code}", _("There is no such field."))
                try:
                    value = clean_value(fields[code], raw)
                except Exception as exc:
                    raise FilterError(
                        f"extra.{code}", " ".join(getattr(exc, "messages", [str(exc)]))
                    ) from exc
                if fields[code].field_type == FieldType.TEXT:
                    qs = qs.filter(**{f"extra__{code}__icontains": value})
                else:
                    qs = qs.filter(**{f"extra__{code}": value})
        qs = self._drill_down(qs, user)
        if self.q:
            qs = qs.search(self.q)
        return qs.order_by(*SORTS[self.sort])

    def _drill_down(self, qs: CaseQuerySet, user: User) -> CaseQuerySet:
        """Filters by the rows around a case (clocks, corrective action, tasks), each one
        ``EXISTS`` over an indexed foreign key, so a dashboard's figure and its register agree."""
        from qloop.process.models import Clock, Task

        tz = timezone.get_current_timezone()
        if self.clock or self.clock_state or self.breached_from or self.breached_to:
            clocks = Clock.objects.filter(case=OuterRef("pk"))
            if self.clock:
                clocks = clocks.filter(name=self.clock)
            if self.clock_state == "open":
                clocks = clocks.filter(state__in=["running", "paused", "breached"])
            elif self.clock_state:
                clocks = clocks.filter(state=self.clock_state)
            if self.breached_from:
                start = dt.datetime.combine(self.breached_from, dt.time.min, tzinfo=tz)
                clocks = clocks.filter(breached_at__gte=start)
            if self.breached_to:
                end = dt.datetime.combine(
                    self.breached_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz
                )
                clocks = clocks.filter(breached_at__lt=end)
            if self.breached_from or self.breached_to:
                clocks = clocks.filter(breached_at__isnull=False)
            qs = qs.filter(Exists(clocks))
        if self.open:
            qs = qs.open()
        if self.organisation:
            qs = qs.filter(contact__organisation=self.organisation)
        if self.verification:
            qs = qs.filter(corrective_action__verification_result=self.verification)
        if self.task:
            tasks = Task.objects.filter(
                case=OuterRef("pk"), department_id__in=user.department_ids, done_at__isnull=True
            )
            if self.task == "late":
                tasks = tasks.filter(due__lt=timezone.localdate())
            qs = qs.filter(Exists(tasks))
        return qs


@dataclass
class Page:
    """One page of a list; the total is counted only up to a limit, so big registers stay fast."""

    items: list[Any]
    number: int
    size: int
    count: int
    count_is_capped: bool

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.count

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))


def paginate(
    qs: Any,
    page: int | None,
    size: int | None,
    limit: int | None = None,
    *,
    counted: Callable[[Callable[[], tuple[int, bool]]], tuple[int, bool]] | None = None,
) -> Page:
    """One page of ``qs`` and its total, counted up to ``limit``; ``counted`` may hand back a
    total kept from an earlier request instead of counting (``qloop.freshness``)."""
    size = min(max(size or 25, 1), 200)
    page = max(page or 1, 1)
    limit = settings.QLOOP_LIST_COUNT_LIMIT if limit is None else limit
    count, capped = (counted or _now)(lambda: capped_count(qs, limit))
    return Page(rows_by_id(qs, page_ids(qs, page, size)), page, size, count, capped)


def _now(compute: Callable[[], tuple[int, bool]]) -> tuple[int, bool]:
    return compute()


def capped_count(qs: Any, limit: int) -> tuple[int, bool]:
    """How many rows ``qs`` has, reading no more than ``limit + 1`` of them; and whether
    there were more."""
    count = qs.order_by()[: limit + 1].count()
    return min(count, limit), count > limit


def page_ids(qs: Any, page: int, size: int) -> list[Any]:
    """The page's ids first, then its rows: the ids often come from an index alone, and the
    joined rows are fetched for one page only, whatever the planner guesses about the filter."""
    return list(qs.values_list("pk", flat=True)[(page - 1) * size : page * size])


def rows_by_id(qs: Any, ids: list[Any]) -> list[Any]:
    """The rows of ``ids`` in that order, with the joins and prefetches of ``qs`` but not its
    filter: the ids already passed it, and filtering again let the planner pick a plan for the
    whole filter (50 ms for My work at 100,000 cases) instead of 25 primary-key lookups."""
    if not ids:
        return []
    if qs.query.annotations or qs.query.extra:
        return list(qs.filter(pk__in=ids))  # rows that carry computed columns
    model, related, lookups = qs.model, qs.query.select_related, qs._prefetch_related_lookups
    deferred = qs.query.deferred_loading

    def build(ids: list[Any]) -> Any:
        rows = model._default_manager.filter(pk__in=ids)
        rows.query.select_related = related
        rows.query.deferred_loading = deferred
        return rows.prefetch_related(*lookups)

    read: list[Any]
    if (
        len(ids) <= MAX_LIST
        and all(type(i) is int for i in ids)
        and all(isinstance(lookup, str) for lookup in lookups)
    ):
        # The same joins for every page of a register: compiled once per page length
        # (qloop.prepared), which cost more than the 25 look-ups (issue 14).
        shape = (model, repr(related), frozenset(deferred[0]), deferred[1], lookups)
        prepared = _PAGE_ROWS.get(shape)
        if prepared is None:
            prepared = _PAGE_ROWS.setdefault(shape, Prepared(build, ids=list))
        read = prepared(ids=list(ids), using=qs.db)
    else:
        read = list(build(ids))
    by_id = {row.pk: row for row in read}
    return [by_id[i] for i in ids if i in by_id]


# A page's rows read by id, one compiled read per model, joins, deferred fields and prefetches.
_PAGE_ROWS: dict[tuple[Any, ...], Prepared[Any]] = {}
