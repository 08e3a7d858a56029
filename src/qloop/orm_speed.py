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

``get_FOO_display()`` builds a dictionary of the field's choices on every call, hashing each
label on the way; a lazily translated label is translated to be hashed, so showing one value of
a field with twenty choices translated twenty labels (the kind of case cost 0.17 ms, the case
page showed eight such values). ``display_value`` returns exactly what Django's
``_get_FIELD_display`` returns, with only the shown label translated, and fixed choices kept
per field (choices from a callable are asked afresh, as Django asks them).

On SQLite, Django turns every statement's ``%s`` placeholders into ``?`` with a regular
expression before running it: 4 % of the case page's CPU, for statements that are the same
text request after request. ``qmark`` keeps the last thousand conversions.
"""

from __future__ import annotations

from functools import lru_cache, partialmethod
from typing import Any

from django.apps import apps
from django.db.models import Field, Model
from django.db.models.base import ModelState
from django.db.models.expressions import Col, Expression
from django.db.models.fields.files import FileDescriptor
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.utils.choices import CallableChoiceIterator
from django.utils.encoding import force_str
from django.utils.functional import Promise, cached_property
from django.utils.hashable import make_hashable

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


def _labels(field: Field[Any, Any]) -> dict[Any, Any]:
    """The field's choices as Django's ``dict(make_hashable(field.flatchoices))``, labels left
    untranslated: a label that is text or a lazy text is already hashable as it is."""
    kept: dict[Any, Any] | None = field.__dict__.get("_qloop_labels")
    if kept is not None:
        return kept
    labels = {
        make_hashable(value): label if isinstance(label, str | Promise) else make_hashable(label)
        for value, label in field.flatchoices
    }
    if not isinstance(field.choices, CallableChoiceIterator):
        field.__dict__["_qloop_labels"] = labels
    return labels


def _asked_label(choices: CallableChoiceIterator, value: str) -> Any:
    """The label of ``value`` among choices from a callable, asked afresh as Django asks them,
    or ``value`` itself; ``_NOT_PLAIN`` when the answer is not a plain list of
    ``(text, label)`` pairs (groups, enumerations), which Django's path reads instead.

    For such a list Django's ``flatchoices`` are the pairs themselves, and its dictionary
    keeps the last label of a repeated value: so does this scan from the end. It hashes and
    normalises nothing: the kind of case cost 40-50 µs a ``get_kind_display()`` with a
    dictionary of every kind built to find one (issue 14)."""
    asked = choices.func()
    if type(asked) is not list:
        return _NOT_PLAIN
    for pair in asked:
        if type(pair) is not tuple or len(pair) != 2 or type(pair[0]) is not str:
            return _NOT_PLAIN
        if not isinstance(pair[1], str | Promise):
            return _NOT_PLAIN
    for choice, label in reversed(asked):
        if choice == value:
            return label
    return value


_NOT_PLAIN = object()


def display_value(instance: Model, field: Field[Any, Any]) -> Any:
    """What ``Model._get_FIELD_display(instance, field)`` returns."""
    value = getattr(instance, field.attname)
    choices = field.choices
    if type(value) is str and isinstance(choices, CallableChoiceIterator):
        label = _asked_label(choices, value)
        if label is not _NOT_PLAIN:
            return force_str(label, strings_only=True)
    return force_str(_labels(field).get(make_hashable(value), value), strings_only=True)


# Attribute descriptors whose ``__set__`` (if any) does no more, on an instance being made,
# than put the value in its ``__dict__``: the plain column, the foreign key's id (it drops a
# cached related object, which a new instance has none of) and the file (stored as it is).
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute, FileDescriptor)
# model → its concrete fields' attribute names, or () where Django's ``from_db`` must answer.
_FROM_DB_PLANS: dict[type[Model], tuple[str, ...]] = {}
_DJANGO_FROM_DB: Any = None


def _from_db_plan(cls: type[Model]) -> tuple[str, ...]:
    plan = _FROM_DB_PLANS.get(cls)
    if plan is None:
        attnames = tuple(f.attname for f in cls._meta.concrete_fields)
        plain = (
            cls.__init__ is Model.__init__
            and not cls._meta.abstract
            and all(type(cls.__dict__.get(a)) in _PLAIN_DESCRIPTORS for a in attnames)
        )
        plan = _FROM_DB_PLANS[cls] = attnames if plain and attnames else ()
    return plan


def from_db(cls: type[Model], db: str | None, field_names: Any, values: Any) -> Model:
    """What ``Model.from_db`` makes of a row: ``cls(*values)`` with the deferred columns left
    out, then ``_state`` marked as read from ``db``. ``Model.__init__`` walks every field with
    ``setattr`` and sends ``pre_init`` and ``post_init``; where nobody listens to those and
    every column's attribute is a plain one, the same ``__dict__`` is filled directly: a
    register page makes some 125 instances (issue 14)."""
    attnames = _from_db_plan(cls)
    if not attnames or pre_init.receivers or post_init.receivers:
        return _DJANGO_FROM_DB(cls, db, field_names, values)  # type: ignore[no-any-return]
    new = cls.__new__(cls)
    state = ModelState()
    state.adding = False
    state.db = db
    kept = new.__dict__
    kept["_state"] = state
    if len(values) == len(attnames):
        kept.update(zip(attnames, values, strict=True))
    else:
        read = iter(values)
        for attname in attnames:
            if attname in field_names:
                kept[attname] = next(read)
    return new


@lru_cache(maxsize=1024)
def qmark(query: str) -> str:
    """What Django's SQLite cursor makes of a ``format``-style statement."""
    from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

    return FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


def _convert_query(self: Any, query: str, *, param_names: list[str] | None = None) -> str:
    if param_names is None and len(query) < 20_000:
        return qmark(query)
    return _DJANGO_CONVERT_QUERY(self, query, param_names=param_names)  # type: ignore[no-any-return]


_DJANGO_CONVERT_QUERY: Any = None


def install() -> None:
    """Give ``Col`` its direct identity and every model's ``get_FOO_display`` the cheaper
    look-up (once; idempotent). Runs when the apps are ready: the models exist by then."""
    if getattr(Col.__dict__.get("identity"), "func", None) is not _identity:
        prop = cached_property(_identity)
        prop.__set_name__(Col, "identity")
        Col.identity = prop  # type: ignore[method-assign,assignment]
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.local_fields:
            name = f"get_{field.name}_display"
            method = model.__dict__.get(name)
            # Only Django's own: a model that writes its own get_FOO_display keeps it.
            if isinstance(method, partialmethod) and method.func is Model._get_FIELD_display:  # type: ignore[attr-defined]
                setattr(model, name, partialmethod(display_value, field=field))
    global _DJANGO_CONVERT_QUERY, _DJANGO_FROM_DB
    if getattr(Model.from_db, "__func__", None) is not from_db:
        _DJANGO_FROM_DB = Model.from_db.__func__  # type: ignore[attr-defined]
        Model.from_db = classmethod(from_db)  # type: ignore[method-assign,assignment]
    from django.db.backends.sqlite3 import base as sqlite

    wrapper: Any = sqlite.SQLiteCursorWrapper
    if wrapper.convert_query is not _convert_query:
        _DJANGO_CONVERT_QUERY = wrapper.convert_query
        wrapper.convert_query = _convert_query
