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

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import connections, router, transaction
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BinaryField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKey,
    IntegerField,
    Model,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SmallIntegerField,
    TextField,
)
from django.db.models.signals import post_save, pre_save

# (model, database alias) → (SQL with RETURNING, SQL with the primary key given, their fields,
# the fields when the primary key is given, SQL without RETURNING) or None where save() must
# do it.
_Plan = tuple[str, str, list[Any], list[Any], str]
_PLANS: dict[tuple[type[Model], str], _Plan | None] = {}


def _writable(model: type[Model], using: str) -> bool:
    """Whether rows of ``model`` can be written by a statement of our own with the values
    ``save()`` would send: no parents, no ordering by another model, the automatic key the only
    column read back, no generated or database-default column, no field with a placeholder of
    its own."""
    meta = model._meta
    fields: list[Any] = list(meta.local_concrete_fields)
    connection = connections[using]
    return (
        not meta.parents
        and not meta.proxy
        and not meta.order_with_respect_to
        and list(meta.db_returning_fields) == ([meta.auto_field] if meta.auto_field else [])
        and not any(
            f.generated or f.has_db_default() or _own_placeholder(f, connection) for f in fields
        )
    )


def _own_placeholder(field: Any, connection: Any) -> bool:
    """Whether a field writes its value with a placeholder other than ``%s``. A binary field
    has its own only where the database says so (PostgreSQL and SQLite take ``%s``)."""
    if not hasattr(field, "get_placeholder"):
        return False
    if isinstance(field, BinaryField):
        return bool(connection.ops.binary_placeholder_sql(None) != "%s")
    return True


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
        plan = (
            sql(without_pk, returning),
            sql(fields, ""),
            without_pk,
            fields,
            sql(without_pk, ""),
        )
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
    attributes = obj.__dict__
    stamps = _sqlite_stamps(model, using, fields)
    for field, kind in zip(fields, _plain_fields(model, using, fields), strict=True):
        # A plain value of its field's one type goes as it is (``_plain_fields``), as
        # ``send_many`` sends it: preparing the case's 30 values one by one cost more than its
        # insert.
        if kind is not None and type(value := attributes.get(field.attname)) is kind:
            values.append(value)
            continue
        if (
            field in stamps
            and type(value := attributes.get(field.attname)) is dt.datetime
            and value.utcoffset() is not None
        ):
            values.append(str(value.astimezone(connection.timezone).replace(tzinfo=None)))
            continue
        value = field.pre_save(obj, True)
        if hasattr(value, "resolve_expression"):
            return False
        values.append(field.get_db_prep_save(value, connection=connection))
    # On SQLite the new key is the row id SQLite gives back anyway: RETURNING is carried out as
    # a trigger there, and a statement with a trigger keeps a statement journal of every page
    # it changes — for the case's row (26 indexes) past the 64 KiB SQLite keeps in memory, so
    # a temporary file was made, written page by page (some 100 writes) and removed again on
    # every registration (issue 14).
    by_row_id = not pk_set and connection.vendor == "sqlite"
    if by_row_id:
        sql = plan[4]
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(sql, values)
        if not pk_set:
            key = cursor.lastrowid if by_row_id else cursor.fetchone()[0]
            setattr(obj, meta.pk.attname, key)
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


def can_insert_many(objs: list[Any]) -> bool:
    """Whether ``insert_many`` writes these rows itself (else it calls bulk_create)."""
    if not objs:
        return True
    model = type(objs[0])
    opts: Any = model._meta
    using = router.db_for_write(model)
    connection = connections[using]
    return not (
        connection.vendor not in ("sqlite", "postgresql")
        or not connection.features.can_return_rows_from_bulk_insert
        or opts.auto_field is None
        or not _writable(model, using)
        or any(type(obj) is not model or obj.pk is not None for obj in objs)
    )


def insert_many(objs: list[Any]) -> list[Any]:
    """``Model.objects.bulk_create(objs)`` for new rows of one model with an automatic key
    (see ``send_many``, which this is with its answer read at once)."""
    return send_many(objs)()


def send_many(objs: list[Any]) -> Callable[[], list[Any]]:
    """``insert_many`` in two halves: the statement is sent now, and the function returned
    reads the new keys into the rows and returns them. Inside ``qloop.together.sent_together``
    call it after the block, so that the insert waits for the server together with the
    block's other statements. Where the rows go through bulk_create (or on SQLite) they are
    written now and the function only returns them.

    ``Model.objects.bulk_create(objs)`` for new rows of one model with an automatic key,
    the same statement and values, without Django's query compiler: each value still goes
    through its field's ``pre_save`` and ``get_db_prep_save`` as bulk_create sends it, the
    keys come back by RETURNING as there, in as many statements. The compiler's own work
    (expressions, placeholders, the SQL built again for every batch) cost a tenth of the HL7
    listener's CPU for the two wide rows a result writes (its message, its entry). On
    PostgreSQL the statement is bulk_create's there, one array per column (``UNNEST``), sent
    by ``_insert_unnest``. Anything else goes through bulk_create."""
    if not objs:
        return lambda: objs
    model = type(objs[0])
    opts: Any = model._meta
    using = router.db_for_write(model)
    connection = connections[using]
    if not can_insert_many(objs):
        created = list(model._default_manager.bulk_create(objs))
        return lambda: created
    fields = [f for f in opts.concrete_fields if f is not opts.auto_field]
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    plain = _plain_fields(model, using, fields)
    rows = [
        [
            value
            if (kind := plain[n]) is not None and type(value := obj.__dict__.get(f.attname)) is kind
            else f.get_db_prep_save(f.pre_save(obj, True), connection)
            for n, f in enumerate(fields)
        ]
        for obj in objs
    ]
    if connection.vendor == "postgresql":
        keys = _insert_unnest(connection, opts, fields, rows)

        def finish() -> list[Any]:
            for obj, key in zip(objs, keys(), strict=True):
                obj.pk = key
                obj._state.adding = False
                obj._state.db = using
            return objs

        return finish
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
    return lambda: objs


# Fields whose values of one type go to the database as they are (``_plain_fields``).
_AS_IS: dict[type[Any], type[Any]] = {
    CharField: str,
    TextField: str,
    IntegerField: int,
    BigIntegerField: int,
    PositiveIntegerField: int,
    PositiveSmallIntegerField: int,
    SmallIntegerField: int,
    BooleanField: bool,
}
_PLAIN: dict[tuple[type[Model], str], list[type[Any] | None]] = {}


def _plain_fields(model: type[Model], using: str, fields: list[Any]) -> list[type[Any] | None]:
    """For each field, the one type of value that ``pre_save`` and ``get_db_prep_save`` give
    back unchanged, or None: a text field's ``str``, an integer field's or a foreign key's
    ``int`` (on PostgreSQL Django wraps it in psycopg's ``Int8`` and the like, which the
    column's cast makes the same number), a boolean's ``bool``. Exact classes only (a
    subclass may prepare its values), and only a value of exactly that type (an enum member
    of a ``TextChoices`` is prepared as usual). Preparing the some 50 values of an HL7
    result's three rows one by one cost more than the insert."""
    key = (model, using)
    found = _PLAIN.get(key)
    if found is None:
        found = []
        for field in fields:
            target = field
            if type(field) is ForeignKey:
                target = field.target_field
                kind = int if type(target) in (AutoField, BigAutoField) else None
            else:
                kind = _AS_IS.get(type(field))
            found.append(kind)
        _PLAIN[key] = found
    return found


_STAMPS: dict[tuple[type[Model], str], frozenset[Any]] = {}


def _sqlite_stamps(model: type[Model], using: str, fields: list[Any]) -> frozenset[Any]:
    """On SQLite with time zones on, the plain date-time fields (exactly ``DateTimeField``,
    neither ``auto_now`` nor ``auto_now_add``): an aware value of one is written as Django's
    chain writes it (``get_prep_value``, then ``adapt_datetimefield_value``: ``make_naive`` in
    the connection's zone, then ``str``), without the chain; a registration writes about ten."""
    from django.conf import settings

    if connections[using].vendor != "sqlite" or not settings.USE_TZ:
        return frozenset()
    key = (model, using)
    found = _STAMPS.get(key)
    if found is None:
        found = _STAMPS[key] = frozenset(
            field
            for field in fields
            if type(field) is DateTimeField and not (field.auto_now or field.auto_now_add)
        )
    return found


# (model, database alias) → bulk_create's UNNEST insert for PostgreSQL, written once.
_UNNEST: dict[tuple[type[Model], str], str] = {}
_PreparedCursor: Any = None


def _prepared_cursor_class() -> Any:
    import psycopg

    class PreparedCursor(psycopg.Cursor):  # type: ignore[type-arg]
        """A cursor whose statements the server binds and keeps prepared."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs.setdefault("prepare", True)
            return super().execute(query, params, **kwargs)

    return PreparedCursor


def _insert_unnest(
    connection: Any, opts: Any, fields: list[Any], rows: list[list[Any]]
) -> Callable[[], list[Any]]:
    """The rows inserted by the statement bulk_create sends on PostgreSQL (``INSERT … SELECT *
    FROM UNNEST(%s::type[], …) RETURNING id``: one array per column, each cast to its
    column's type without its length, as Django casts it); the function returned reads the
    new keys, in the rows' order (see ``send_many``).

    Sent with the parameters bound by the server, in binary, as a prepared statement: Django's
    cursors bind on the client, which writes every array out as quoted text (a regular
    expression over each value) and has the server parse and plan the statement anew each
    time; that cost the HL7 listener a sixth of its CPU on PostgreSQL. The statement is the
    same for any number of rows, so it is prepared once per connection. The cursor is wrapped
    as Django wraps its own: errors are Django's (an ``IntegrityError`` is one), the statement
    is logged where queries are, and ``qloop.freshness`` sees the write."""
    global _PreparedCursor
    if _PreparedCursor is None:
        _PreparedCursor = _prepared_cursor_class()
    key = (opts.model, connection.alias)
    sql = _UNNEST.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        arrays = ", ".join(f"%b::{f.db_type(connection).split('(')[0]}[]" for f in fields)
        sql = _UNNEST[key] = (
            f"INSERT INTO {quote(opts.db_table)} ({columns}) "  # noqa: S608 (the model's names)
            f"SELECT * FROM UNNEST({arrays}) RETURNING {quote(opts.auto_field.column)}"
        )
    columns_values = [list(column) for column in zip(*rows, strict=True)]
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = _PreparedCursor(connection.connection)
    cursor = connection._prepare_cursor(raw)
    try:
        cursor.execute(sql, columns_values)
    except BaseException:
        cursor.close()
        raise

    def keys() -> list[Any]:
        with cursor:
            return [pk for (pk,) in raw.fetchall()]

    return keys
