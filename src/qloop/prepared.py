"""Reads compiled to SQL once per process, run again with new values (issue 14).

Turning a queryset into SQL costs Django 0.2–1.2 ms of CPU (joins, selected columns,
ordering), more than SQLite takes to answer the small reads a page makes by a case's id: on the
case page, compiling was about a third of its CPU (bench/RESULTS-pages.md, section 7). A
``Prepared`` read builds its queryset once, with marker values in place of the parameters,
keeps the SQL, the parameter list and the compiler's description of the columns, and on each
call runs that SQL with the real values and builds the rows exactly as Django would (same model
instances, ``select_related`` objects, ``prefetch_related``, values lists).

The rules that keep this correct, checked where they can be:
- ``build`` depends only on its arguments (no clock, no settings, no user): anything else in
  it would be frozen at the first call;
- each argument is an ``int`` or a ``str`` used as a plain parameter (``pk=…``, ``case=…``,
  ``number=…``), or a list of ints in ``__in``; never in ``__contains`` or another lookup
  that transforms it: the marker must reach the SQL parameters unchanged, or the first call
  fails loudly;
- the result is a list, never a queryset, so nothing can chain on a frozen query.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import IntegerField, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql.compiler import SQLCompiler

T = TypeVar("T")

_MARKER_INT = -(2**61)
MAX_LIST = 100  # a list argument longer than this is refused: the caller reads it as usual
_CONVERTERS_KEPT = 4000  # per connection; more than the reads kept compiled at once


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet[Any]
    compiler: SQLCompiler
    sql: str
    params: tuple[Any, ...]
    # (position in params, argument name, index in a list argument or -1)
    slots: tuple[tuple[int, str, int], ...]


def _converters(compiled: _Compiled, compiler: SQLCompiler, connection: Any) -> Any:
    """The compiled columns' converters on this connection, worked out once: asking every
    column's field and the backend again costs more than a small read itself (about 0.1 ms
    for the case's 70 columns). Kept on the connection, which belongs to one thread, because
    a backend's converters are its operations' bound methods. None: let Django do it."""
    kept: dict[int, tuple[Any, Any]] = connection.__dict__.setdefault(
        "_qloop_prepared_converters", {}
    )
    # Keyed by the compiled read's address, checked against the read itself: reads made while
    # the program runs (``access.personal_rows``) are dropped again, and a new one may take a
    # dropped one's address; its columns are not the dropped one's.
    entry = kept.get(id(compiled))
    if entry is not None and entry[0]() is compiled:
        return entry[1]
    if len(kept) >= _CONVERTERS_KEPT:
        kept.clear()  # dropped reads' entries with the live ones, which are worked out again
    fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
    converters = None if compiler.has_composite_fields(fields) else compiler.get_converters(fields)
    kept[id(compiled)] = (weakref.ref(compiled), converters)
    return converters


def _fresh(base: QuerySet[Any]) -> QuerySet[Any]:
    """A queryset to run once, sharing ``base``'s compiled query: nothing in the read changes
    a query (its compiler answers with the kept SQL), so only the result cache and the query
    object that names the compiler are its own. Cloning the query instead cost a fifth of a
    small read (issue 14)."""
    queryset = object.__new__(type(base))
    queryset.__dict__.update(base.__dict__)
    query = object.__new__(type(base.query))
    query.__dict__.update(base.query.__dict__)
    queryset._query = query  # type: ignore[attr-defined]
    queryset._result_cache = None  # type: ignore[attr-defined]
    queryset._prefetch_done = False  # type: ignore[attr-defined]
    return queryset


def counted(qs: QuerySet[Any]) -> QuerySet[Any]:
    """``qs.count()`` said as a read that can be prepared: one row, ``COUNT(*)`` over the same
    FROM and WHERE (for a queryset that is neither distinct nor sliced, as ``count()`` says)."""
    if qs.query.distinct or qs.query.is_sliced:
        raise ValueError("counted(): a distinct or sliced queryset is counted by count()")
    return qs.order_by().values_list(RawSQL("COUNT(*)", (), output_field=IntegerField()), flat=True)


class Prepared(Generic[T]):
    """``build(**arguments)`` → a queryset; ``prepared(**values)`` → its rows as a list.

    ``Prepared(lambda case: Comment.objects.filter(case=case).select_related("author"),
    case=int)`` compiles on the first call in each process and database, then only runs.
    An argument declared ``list`` is a list of ints (``pk__in=ids``), compiled once per
    length up to ``MAX_LIST``.
    """

    def __init__(self, build: Callable[..., QuerySet[Any]], **arguments: type) -> None:
        for name, kind in arguments.items():
            if kind not in (int, str, list):
                raise TypeError(f"Prepared argument {name!r}: only int, str or list, not {kind}")
        self.build = build
        self.arguments = arguments
        self._compiled: dict[tuple[str, tuple[int, ...]], _Compiled] = {}
        self._lock = threading.Lock()

    def _markers(self, lengths: dict[str, int]) -> dict[str, Any]:
        markers: dict[str, Any] = {}
        for n, (name, kind) in enumerate(self.arguments.items()):
            if kind is str:
                markers[name] = f"\x00qloop-prepared:{name}"
            elif kind is int:
                markers[name] = _MARKER_INT - n
            else:
                base = _MARKER_INT - (n + 1) * 1000
                markers[name] = [base - i for i in range(lengths[name])]
        return markers

    def _compile(self, using: str, lengths: dict[str, int]) -> _Compiled:
        markers = self._markers(lengths)
        queryset = self.build(**markers)
        if queryset.db != using:
            queryset = queryset.using(using)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        wanted: dict[tuple[type, Any], tuple[str, int]] = {}
        for name, marker in markers.items():
            for index, value in enumerate(marker) if isinstance(marker, list) else [(-1, marker)]:
                wanted[type(value), value] = (name, index)
        slots = []
        for position, value in enumerate(params):
            found = wanted.get((type(value), value))
            if found is not None:
                slots.append((position, *found))
        missing = set(wanted.values()) - {(name, index) for _, name, index in slots}
        if missing:
            names = sorted({name for name, _ in missing})
            raise ValueError(f"Prepared read: {names} did not reach the SQL unchanged")
        return _Compiled(queryset, compiler, sql, tuple(params), tuple(slots))

    def __call__(
        self, *, using: str = "default", known: dict[str, Any] | None = None, **values: Any
    ) -> list[T]:
        """The rows for these values. ``known``: objects the rows point to that the caller
        already holds (``known={"case": case}``), set on each row as a related manager
        would, so that reading ``row.case`` costs no query."""
        if set(values) != set(self.arguments):
            raise TypeError(f"Prepared read takes {sorted(self.arguments)}, got {sorted(values)}")
        lengths: dict[str, int] = {}
        for name, kind in self.arguments.items():
            value = values[name]
            if type(value) is not kind:
                raise TypeError(f"Prepared argument {name!r} must be {kind.__name__}")
            if isinstance(value, list):
                if not 0 < len(value) <= MAX_LIST or any(type(v) is not int for v in value):
                    raise TypeError(f"Prepared argument {name!r}: 1 to {MAX_LIST} ints")
                lengths[name] = len(value)
        key = (using, tuple(lengths.values()))
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key) or self._compile(using, lengths)
                self._compiled[key] = compiled
        params = list(compiled.params)
        for position, name, index in compiled.slots:
            params[position] = values[name] if index < 0 else values[name][index]
        # A copy of the compiled compiler on this thread's connection, answering with the
        # kept SQL: its select, klass_info and converters are those of the first compile.
        compiler = copy.copy(compiled.compiler)
        connection = compiler.connection = connections[using]
        frozen = (compiled.sql, tuple(params))
        compiler.as_sql = lambda *args, **kwargs: frozen  # type: ignore[method-assign]
        converters = _converters(compiled, compiler, connection)
        if converters is not None:
            compiler.get_converters = lambda expressions: converters  # type: ignore[method-assign]
            # and, as _converters found, no composite column to regroup
            compiler.has_composite_fields = lambda expressions: False  # type: ignore[method-assign]
        queryset = _fresh(compiled.queryset)
        queryset.query.get_compiler = lambda *args, **kwargs: compiler  # type: ignore[method-assign]
        rows = list(queryset)
        for name, obj in (known or {}).items():
            for row in rows:
                row._meta.get_field(name).set_cached_value(row, obj)  # type: ignore[attr-defined]
        return rows

    def of(self, obj: Any, relation: str = "") -> list[T]:
        """The rows for ``obj``'s key, the read's one argument, each pointing at ``obj`` by
        ``relation`` (default: the argument's name) without a query: ``EVENTS.of(case)``
        rather than ``EVENTS(case=case.pk, known={"case": case})``."""
        (name,) = self.arguments
        return self(**{name: obj.pk}, known={relation or name: obj})
