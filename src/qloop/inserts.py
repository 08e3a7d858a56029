"""One new row written by a statement built once per model (issue 14).

``Model.save()`` builds its ``INSERT`` afresh for every row: an insert query, its compiler,
each value checked for being an expression. Registration writes five rows (the case, its
product, its clock, its similar-case text and its event), and building those statements cost
more CPU than running them. ``insert`` writes the same row with the same values: the
statement is built once per model and database, each value is prepared by its field exactly
as ``save()`` prepares it (``pre_save`` then ``get_db_prep_save``), the related rows' keys are
checked and taken over as ``save()`` does, and the new primary key is read back the same way.

Anything this does not cover takes ``save(force_insert=True)`` instead, unchanged: a model
with ``pre_save``/``post_save`` receivers, parents (multi-table inheritance), ordering with
respect to another model, generated or database-default columns, or fields with their own
placeholders; and a value that is an expression.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, router, transaction
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

# (model, database alias) → (SQL with RETURNING, SQL with the primary key given, their fields,
# the fields when the primary key is given) or None where save() must do it.
_Plan = tuple[str, str, list[Any], list[Any]]
_PLANS: dict[tuple[type[Model], str], _Plan | None] = {}


def _writable(model: type[Model], using: str) -> bool:
    """Whether rows of ``model`` can be written by a statement of our own with the values
    ``save()`` would send: no parents, no ordering by another model, the automatic key the only
    column read back, no generated or database-default column, no field with a placeholder of
    its own."""
    meta = model._meta
    fields: list[Any] = list(meta.local_concrete_fields)
    return (
        not meta.parents
        and not meta.proxy
        and not meta.order_with_respect_to
        and list(meta.db_returning_fields) == ([meta.auto_field] if meta.auto_field else [])
        and not any(
            f.generated or f.has_db_default() or hasattr(f, "get_placeholder") for f in fields
        )
    )


def _plan(model: type[Model], using: str) -> _Plan | None:
    key = (model, using)
    if key in _PLANS:
        return _PLANS[key]
    meta = model._meta
    connection = connections[using]
    fields: list[Any] = list(meta.local_concrete_fields)
    plan: _Plan | None = None
    if _writable(model, using) and connection.features.can_return_columns_from_insert:
        quote = connection.ops.quote_name
        table = quote(meta.db_table)

        def sql(columns: list[Any], returning: str) -> str:
            names = ", ".join(quote(f.column) for f in columns)
            marks = ", ".join(["%s"] * len(columns))
            return f"INSERT INTO {table} ({names}) VALUES ({marks}){returning}"  # noqa: S608

        returning = ""
        if meta.db_returning_fields:
            returning_sql, _params = connection.ops.return_insert_columns(meta.db_returning_fields)
            returning = f" {returning_sql}"
        without_pk = [f for f in fields if f is not meta.auto_field]
        plan = (sql(without_pk, returning), sql(fields, ""), without_pk, fields)
    _PLANS[key] = plan
    return plan


def insert(obj: Model, using: str | None = None) -> bool:
    """Insert ``obj`` as ``Model.save(obj, force_insert=True)`` would (see the module's
    docstring); False, having written nothing, where the caller must call that instead."""
    model = type(obj)
    using = using or router.db_for_write(model, instance=obj)
    plan = _plan(model, using)
    if (
        plan is None
        or not obj._state.adding
        or pre_save.has_listeners(model)
        or post_save.has_listeners(model)
    ):
        return False
    meta: Any = model._meta
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    pk_set = obj._is_pk_set(meta)  # type: ignore[attr-defined]
    if not pk_set and meta.auto_field is None:
        return False  # a key made on save (a UUID, say): save() knows how
    sql, fields = (plan[1], plan[3]) if pk_set else (plan[0], plan[2])
    connection = connections[using]
    values = []
    for field in fields:
        value = field.pre_save(obj, True)
        if hasattr(value, "resolve_expression"):
            return False
        values.append(field.get_db_prep_save(value, connection=connection))
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(sql, values)
        if not pk_set:
            setattr(obj, meta.pk.attname, cursor.fetchone()[0])
    obj._state.adding = False
    obj._state.db = using
    return True


def save_new(obj: Model) -> None:
    """``obj.save(force_insert=True)`` for a model without a ``save`` of its own, by
    ``insert`` where it can."""
    if not insert(obj):
        obj.save(force_insert=True)


def inserted_for_save(obj: Model, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """For a model's own ``save(*args, **kwargs)``: the row written by ``insert`` when the call
    is a forced insert of a new row (``Model.objects.create`` makes such calls), True; False,
    having written nothing, where the caller must go on to ``super().save``."""
    plain = (
        not args
        and obj._state.adding
        and kwargs.get("force_insert") is True
        and set(kwargs) <= {"force_insert", "using"}
    )
    return plain and insert(obj, kwargs.get("using"))


def insert_many(objs: list[Any]) -> list[Any]:
    """``Model.objects.bulk_create(objs)`` for new rows of one model with an automatic key,
    the same statement and values, without Django's query compiler: each value still goes
    through its field's ``pre_save`` and ``get_db_prep_save`` as bulk_create sends it, the
    keys come back by RETURNING as there, in as many statements. The compiler's own work
    (expressions, placeholders, the SQL built again for every batch) cost a tenth of the HL7
    listener's CPU for the two wide rows a result writes (its message, its entry). SQLite
    only: on PostgreSQL Django sends one array per column (UNNEST), which the server plans
    faster than rows of values. Anything else goes through bulk_create."""
    if not objs:
        return objs
    model = type(objs[0])
    opts: Any = model._meta
    using = router.db_for_write(model)
    connection = connections[using]
    if (
        connection.vendor != "sqlite"
        or not connection.features.can_return_rows_from_bulk_insert
        or opts.auto_field is None
        or not _writable(model, using)
        or any(type(obj) is not model or obj.pk is not None for obj in objs)
    ):
        return list(model._default_manager.bulk_create(objs))
    fields = [f for f in opts.concrete_fields if f is not opts.auto_field]
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    rows = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    head = f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES "  # noqa: S608 (the model's names)
    one = f"({', '.join(['%s'] * len(fields))})"
    tail = f" RETURNING {quote(opts.auto_field.column)}"
    size = max(connection.ops.bulk_batch_size(fields, objs), 1)
    with connection.cursor() as cursor:
        for at in range(0, len(objs), size):
            chunk = rows[at : at + size]
            cursor.execute(
                head + ", ".join([one] * len(chunk)) + tail, [v for row in chunk for v in row]
            )
            keys = cursor.fetchall()
            for obj, (key,) in zip(objs[at : at + size], keys, strict=True):
                obj.pk = key
                obj._state.adding = False
                obj._state.db = using
    return objs
