"""A measured speed-up of Django's ORM, the same result computed more cheaply (issue 14).

Django compares column expressions by their ``identity``: a tuple built generically for every
expression by binding its constructor arguments with ``inspect.Signature.bind_partial``. When a
query is ordered, the compiler hashes every selected column to find the ordering among them
(``SQLCompiler._order_by_pairs``), so a query that selects a case with its contact, category,
handler and department builds a hundred such tuples, each through ``inspect``, on every
request. On the case page that was 1.5–2.5 ms of 18–20 ms of CPU (bench/RESULTS-pages.md,
section 7).

``Col`` has a fixed constructor, ``Col(alias, target, output_field=None)``, so its identity can
be built directly. The tuple is exactly the one Django builds (tests/test_orm_speed.py compares
the two for every column of every model), so equality and hashing are unchanged; only the
``inspect`` work is gone. Django's own proposal of the same change (ticket #34631) was closed
as a micro-optimisation; remove this module if Django adopts it.
"""

from __future__ import annotations

from typing import Any

from django.db.models.expressions import Col, Expression
from django.utils.functional import cached_property

_ARGUMENTS = ("alias", "target", "output_field")


def col_identity(col: Col) -> tuple[Any, ...]:
    """What ``Expression.identity`` gives for this column, without ``inspect``."""
    args, kwargs = col._constructor_args  # type: ignore[attr-defined]
    if len(args) > len(_ARGUMENTS) or set(kwargs) - set(_ARGUMENTS):
        return Expression.identity.func(col)  # type: ignore[attr-defined,no-any-return]
    values = dict(zip(_ARGUMENTS, args, strict=False))
    values.update(kwargs)
    of = Expression._identity  # type: ignore[attr-defined]
    return (Col, *((name, of(values.get(name))) for name in _ARGUMENTS))


def _identity(self: Col) -> tuple[Any, ...]:
    # A subclass may take other arguments: it keeps Django's generic identity.
    if type(self) is not Col:
        return Expression.identity.func(self)  # type: ignore[attr-defined,no-any-return]
    return col_identity(self)


def install() -> None:
    """Give ``Col`` its direct identity (once; idempotent)."""
    if getattr(Col.__dict__.get("identity"), "func", None) is _identity:
        return
    prop = cached_property(_identity)
    prop.__set_name__(Col, "identity")
    Col.identity = prop  # type: ignore[method-assign,assignment]
