"""Reference data kept in each process's memory, exactly as fresh as the database (issue 14).

Categories, extra fields, clock definitions with their ladders and the organisation's
profiles change rarely but are read by every registration. Each process keeps what it has
read under the token of ``ReferenceVersion``; every change to those models replaces the
token in the same transaction (``bump``, called from their ``post_save``/``post_delete``
signals, so the admin and every edit path are covered), and the next request of any process
reads the new token and loads afresh. The token is read once per request (once per call
outside a request: the worker, the shell, tests) — one primary-key read instead of the
several look-ups it replaces.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.signals import request_finished, request_started
from django.db import models

T = TypeVar("T")

_local = threading.local()
# (token, {key: value}): what this process has read under that token.
_cache: tuple[str, dict[Any, Any]] = ("", {})
_lock = threading.Lock()


def _request_began(**_kwargs: Any) -> None:
    _local.in_request, _local.token = True, None


def _request_ended(**_kwargs: Any) -> None:
    _local.in_request, _local.token = False, None


request_started.connect(_request_began, dispatch_uid="qloop.refdata.start")
request_finished.connect(_request_ended, dispatch_uid="qloop.refdata.end")


def current_token() -> str:
    """The version of the reference data this request reads (read once per request)."""
    token = getattr(_local, "token", None)
    if token is not None:
        return str(token)
    token = _read_token()
    if getattr(_local, "in_request", False):
        _local.token = token
    return token


def _read_token() -> str:
    """The stored token, by a statement written once per database: every request runs it, and
    building it through the ORM (or even running a compiled read, ``qloop.prepared``: a copy
    of its compiler, a queryset, an iterable of rows) cost more than running it (issue 14)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_token_sql(connection.alias), [1])
        row = cursor.fetchone()
    return str(row[0]) if row and row[0] else ""


@functools.cache
def _token_sql(using: str) -> str:
    """``ReferenceVersion.objects.filter(pk=1).values_list("token")``, as SQL (made on first use:
    the models import this module)."""
    from django.db import connections

    from qloop.org.models import ReferenceVersion

    quote, meta = connections[using].ops.quote_name, ReferenceVersion._meta
    token, pk = (
        quote(str(meta.get_field(name).column))  # type: ignore[union-attr]
        for name in ("token", "id")
    )
    return f"SELECT {token} FROM {quote(meta.db_table)} WHERE {pk} = %s"  # noqa: S608


def cached(key: Any, load: Callable[[], T]) -> T:
    """``load()``'s value for ``key`` as of the current token, read once per token and
    process. The value is shared: callers must not change it."""
    global _cache
    token = current_token()
    held_token, values = _cache
    if held_token == token and key in values:
        return values[key]  # type: ignore[no-any-return]
    value = load()
    with _lock:
        if _cache[0] != token:
            _cache = (token, {})
        _cache[1][key] = value
    return value


def bump(**_kwargs: Any) -> None:
    """Reference data changed: a new token, written in the caller's transaction. Connected to
    the signals of every model whose rows ``cached`` holds."""
    from qloop.org.models import ReferenceVersion

    token = uuid.uuid4().hex
    if not ReferenceVersion.objects.filter(pk=1).update(token=token):
        # The row is made by the migration; a database emptied by hand gets it back.
        ReferenceVersion.objects.update_or_create(pk=1, defaults={"token": token})
    # This request reads the new token from now on (and its own changes with it).
    _local.token = None
    _local.in_request = False


class WatchedQuerySet(models.QuerySet[Any]):
    """The manager of a model kept in memory: writes that send no signal (``update()``,
    ``bulk_create()``, ``bulk_update()``) replace the token too (``delete()`` sends
    ``post_delete`` per row)."""

    def update(self, **kwargs: Any) -> int:
        rows = super().update(**kwargs)
        bump()
        return rows

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[Any]:
        made = super().bulk_create(*args, **kwargs)
        bump()
        return made

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        rows = super().bulk_update(*args, **kwargs)
        bump()
        return rows


def watch(*watched: type[Any]) -> None:
    """Bump the token whenever a row of these models is saved or deleted."""
    from django.db.models.signals import post_delete, post_save

    for model in watched:
        label = model._meta.label_lower
        post_save.connect(bump, sender=model, dispatch_uid=f"qloop.refdata.save.{label}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"qloop.refdata.delete.{label}")


def forget() -> None:
    """Drop this process's copies (tests that write rows without signals)."""
    global _cache
    with _lock:
        _cache = ("", {})
    _local.token = None
