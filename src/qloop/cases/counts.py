"""Daily counts of live cases per kind, category and product model (``CaseDayCount``), kept as
cases change, for the dashboards' groupings (issue 13: "summaries kept as cases change").

``Case.save`` and ``ProductProblem.save`` call ``case_saved`` / ``product_saved`` inside the
same transaction as the change: the row the case was counted in loses one, the row it now
belongs to gains one (an ``INSERT … ON CONFLICT DO UPDATE``, atomic on SQLite and
PostgreSQL). A case counts while it is live (not archived), on the local day it was received.
Bulk writes that bypass ``save()`` (the benchmark generator, a restore) are followed by
``rebuild()`` (``qloop manage rebuild_case_counts``). Changing ``TIME_ZONE`` needs a rebuild.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

if TYPE_CHECKING:
    from qloop.cases.models import Case, ProductProblem

# (day, kind, category_id, live) of a case, as counted.
CaseKey = tuple[dt.date, str, int | None, bool]
Row = tuple[str, str, dt.date, str]  # dimension, value, day, kind

KEY_FIELDS = ("received_at", "kind", "category_id", "archived_at")
# The names a save's ``update_fields`` may give for them.
KEY_NAMES = frozenset({*KEY_FIELDS, "category"})


def _key(received_at: dt.datetime, kind: str, category_id: int | None, archived_at: Any) -> CaseKey:
    """(local day received, kind, category, live)."""
    return (timezone.localdate(received_at), kind, category_id, archived_at is None)


def _key_in_db(pk: int) -> CaseKey | None:
    """The case's key as its row holds it."""
    from qloop.cases.models import Case

    row = Case.objects.filter(pk=pk).values_list(*KEY_FIELDS).first()
    return _key(*row) if row is not None else None


def _case_rows(key: CaseKey | None) -> list[Row]:
    if key is None or not key[3]:
        return []
    day, kind, category_id, _live = key
    rows: list[Row] = [("kind", "", day, kind)]
    if category_id is not None:
        rows.append(("category", str(category_id), day, kind))
    return rows


def _model_rows(key: CaseKey | None, model: str) -> list[Row]:
    model = (model or "").strip()[:100]
    if key is None or not key[3] or not model:
        return []
    return [("model", model, key[0], key[1])]


_held = threading.local()


@contextmanager
def together() -> Iterator[None]:
    """The count changes of the saves inside written in one statement when the block ends
    (registration: the case's and its product's); nothing if it raises (its transaction is
    rolled back)."""
    if getattr(_held, "rows", None) is not None:
        yield
        return
    _held.rows = ([], [])
    try:
        yield
        before, after = _held.rows
    finally:
        _held.rows = None
    _apply(before, after)


def _apply(before: list[Row], after: list[Row]) -> None:
    held = getattr(_held, "rows", None)
    if held is not None:
        held[0].extend(before)
        held[1].extend(after)
        return
    delta: Counter[Row] = Counter(after)
    delta.subtract(Counter(before))
    # In one order for every writer, so two transactions never wait on each other's rows.
    changes = sorted((*row, n) for row, n in delta.items() if n)
    if not changes:
        return
    from qloop.cases.models import CaseDayCount

    table = connection.ops.quote_name(CaseDayCount._meta.db_table)
    with connection.cursor() as cursor:
        # The table's name comes from the model; every value is a parameter.
        sql = (
            f"INSERT INTO {table} (dimension, value, day, kind, n) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (dimension, day, kind, value) DO UPDATE SET n = "
            f"{table}.n + excluded.n"
        )
        cursor.executemany(sql, changes)


def before_case_save(case: Case) -> CaseKey | None:
    """What the case was counted as before this save (None for a new case), read from its row:
    not remembered from when the instance was loaded, since another save may have come in
    between (one primary-key read per save)."""
    if case._state.adding or case.pk is None:
        return None
    return _key_in_db(case.pk)


def case_saved(case: Case, before: CaseKey | None, *, inserted: bool = False) -> None:
    """Move the case's counts from its old key to its new one (same transaction)."""
    # A row just inserted holds what the instance holds; otherwise read back from the row:
    # with ``update_fields`` the instance's other fields may be stale.
    after = key_of(case) if inserted else _key_in_db(case.pk)
    if after == before:
        return
    rows_before, rows_after = _case_rows(before), _case_rows(after)
    # A new case has no product yet (``product_saved`` counts its model); a case that moved
    # day, kind or liveness moves its model's count with it.
    if before is not None and (after is None or (before[:2], before[3]) != (after[:2], after[3])):
        from qloop.cases.models import ProductProblem

        model = (
            ProductProblem.objects.filter(case_id=case.pk).values_list("model", flat=True).first()
        )
        if model:
            rows_before += _model_rows(before, model)
            rows_after += _model_rows(after, model)
    _apply(rows_before, rows_after)


def key_of(case: Case) -> CaseKey:
    """The key of a case as this instance holds it (one just inserted: as its row holds it)."""
    return _key(case.received_at, case.kind, case.category_id, case.archived_at)


def product_saved(
    product: ProductProblem, before_model: str | None, case_key: CaseKey | None = None
) -> None:
    """A product model set or changed: move the case's model count. ``case_key``: the case's
    key when the caller knows it (registration, which inserted the case a moment ago)."""
    after_model = product.model or ""
    if before_model == after_model:
        return
    key = case_key or _key_in_db(product.case_id)
    _apply(_model_rows(key, before_model or ""), _model_rows(key, after_model))


def rebuild(apps: Any = None) -> int:
    """Recount every row from the cases (after a bulk load); returns the rows written.
    ``apps``: a migration's historical models."""
    if apps is None:
        from django.apps import apps
    Case = apps.get_model("cases", "Case")
    CaseDayCount = apps.get_model("cases", "CaseDayCount")
    live = Case.objects.filter(archived_at__isnull=True).annotate(
        d=TruncDate("received_at", tzinfo=timezone.get_current_timezone())
    )
    rows: list[Any] = []
    for d, kind, n in live.values_list("d", "kind").annotate(n=Count("id")).order_by():
        rows.append(CaseDayCount(dimension="kind", value="", day=d, kind=kind, n=n))
    for d, kind, cat, n in (
        live.filter(category__isnull=False)
        .values_list("d", "kind", "category_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        rows.append(CaseDayCount(dimension="category", value=str(cat), day=d, kind=kind, n=n))
    for d, kind, model, n in (
        live.exclude(product__model="")
        .filter(product__isnull=False)
        .values_list("d", "kind", "product__model")
        .annotate(n=Count("id"))
        .order_by()
    ):
        model = (model or "").strip()[:100]
        if model:
            rows.append(CaseDayCount(dimension="model", value=model, day=d, kind=kind, n=n))
    merged: dict[tuple[str, str, Any, str], Any] = {}
    for row in rows:
        k = (row.dimension, row.value, row.day, row.kind)
        if k in merged:
            merged[k].n += row.n
        else:
            merged[k] = row
    with transaction.atomic():
        CaseDayCount.objects.all().delete()
        CaseDayCount.objects.bulk_create(merged.values(), batch_size=2000)
    return len(merged)
