"""Figures kept in Django's cache until the data under them changes (issue 14).

The navigation badge, the register's count and My work's count are read on nearly every page
and cost a count over the open cases each. They are kept per person under one *data version*:
a random token in the cache that changes after every committed write to any table that could
move them. A kept figure carries the token it was computed under and is used only while that
token is still the current one, so it is exact, not a guess that expires.

Writes are seen where they happen: a wrapper on every database connection looks at each
statement (``INSERT``/``UPDATE``/``DELETE`` and schema changes), so model saves, the sweep's
bulk ``update()``, ``bulk_create`` and raw SQL all count, in web processes, the worker and
management commands alike. The token changes when the transaction commits (and at once in
autocommit). Until then the writing connection computes its figures afresh: it sees its own
uncommitted rows, which no kept figure does.

A second token, the *people version*, moves only after a write to the tables the logged-in
person is kept from (``PEOPLE_TABLES``: people, their memberships, roles and departments) or a
statement whose table cannot be read: the person kept by ``qloop.org.kept_user`` survives a
registration or an edit of a case, which move the data version and nothing of the person.

Only writes made through Django move the token; rows changed by hand in the database need
``qloop manage shell -c "from qloop.freshness import changed; changed()"`` (or a cache
clear).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

import qloop

T = TypeVar("T")

VERSION_KEY = "qloop:data-version"
PEOPLE_VERSION_KEY = "qloop:people-version"
# Part of every key, with the release: raise it when what a kept value holds changes shape.
KEPT_FORMAT = 1
# Kept figures go after a day untouched; the token itself never expires on its own.
KEPT_SECONDS = 24 * 3600

# Tables whose rows move none of the kept figures: sessions, login attempts, numbering, the
# statistics and indexes registration keeps beside a case, delivery attempts, export jobs.
# Every other table counts, so a new model is safe by default.
QUIET_TABLES = frozenset(
    {
        "django_session",
        "django_admin_log",
        "axes_accessattempt",
        "axes_accessattemptexpiration",
        "axes_accessfailurelog",
        "axes_accesslog",
        "api_idempotencykey",
        "cases_casedaycount",
        "cases_similardoc",
        "cases_similargram",
        "notify_deliveryattempt",
        "org_sequence",
        "reports_exportjob",
    }
)

# The tables ``qloop.org.kept_user`` reads a person from (``User._role_flags``: memberships with
# their roles and departments). A write to one of them, or a statement whose table cannot be
# read, moves the people version as well as the data version.
PEOPLE_TABLES = frozenset({"org_user", "org_membership", "org_role", "org_department"})

_READS = ("SELECT", "SAVEPO", "RELEAS", "BEGIN", "COMMIT", "ROLLBA", "PRAGMA", "SET ", "SHOW ")
_TABLE = re.compile(
    r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z0-9_]+)"?',
    re.IGNORECASE,
)


# Changes this process has made (``changed()``): a value read ahead is used only while none
# has happened since it was read (``ReadAhead``).
_changes = 0


def changed() -> None:
    """Every kept figure is out of date from now on (the kept people too)."""
    global _changes
    _changes += 1
    cache.set_many({VERSION_KEY: uuid.uuid4().hex, PEOPLE_VERSION_KEY: uuid.uuid4().hex}, None)


def _after_commit() -> None:
    """Every kept figure but the kept people is out of date from now on."""
    global _changes
    _changes += 1
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)


def _after_people_commit() -> None:
    """The kept people are out of date from now on (run after ``_after_commit``)."""
    global _changes
    _changes += 1
    cache.set(PEOPLE_VERSION_KEY, uuid.uuid4().hex, None)


# Statements on counted tables that still move nothing kept: a login's time stamp.
QUIET_STATEMENTS = ('UPDATE "org_user" SET "last_login" = %s WHERE "org_user"."id" = %s',)


# ``_moves``'s answers by statement: the same few statements come back on every request (the
# compiled reads and the inserts written once are the same strings, whose hash Python keeps).
# Emptied when full, as raw SQL with its values written in could fill it.
_MOVES_KEPT = 4096
_moves_by_sql: dict[str, tuple[bool, bool]] = {}


def _moves(sql: str) -> tuple[bool, bool]:
    """Whether ``sql`` moves the data version, and whether it moves the people version."""
    found = _moves_by_sql.get(sql)
    if found is None:
        if len(_moves_by_sql) >= _MOVES_KEPT:
            _moves_by_sql.clear()
        found = _moves_by_sql[sql] = _read_moves(sql)
    return found


def _read_moves(sql: str) -> tuple[bool, bool]:
    """``_moves``, read from the statement itself."""
    head = sql[:40].lstrip()[:6].upper()
    if head.startswith(_READS) or sql in QUIET_STATEMENTS:
        return False, False
    match = _TABLE.match(sql)
    # A statement we cannot read (schema changes, raw SQL of another shape) counts as a write,
    # to every table.
    if match is None:
        return True, True
    table = match.group(1).lower()
    return table not in QUIET_TABLES, table in PEOPLE_TABLES


def _pending(connection: BaseDatabaseWrapper, hook: Callable[[], None] = _after_commit) -> bool:
    # Entries are (savepoint ids, function, robust).
    return any(entry[1] is hook for entry in connection.run_on_commit)


def _watch(execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: Any) -> Any:
    result = execute(sql, params, many, context)
    # SQL that is not a plain string (a composed psycopg statement) counts as a write.
    figures, people = _moves(sql) if isinstance(sql, str) else (True, True)
    if figures or people:
        connection = context["connection"]
        # Outside a transaction these run at once; inside one, after its commit, and never if
        # it rolls back. The data version's first: a people table is never quiet.
        if figures and not _pending(connection):
            connection.on_commit(_after_commit, robust=True)
        if people and not _pending(connection, _after_people_commit):
            connection.on_commit(_after_people_commit, robust=True)
    return result


def watch_connection(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def install() -> None:
    connection_created.connect(watch_connection, dispatch_uid="qloop-freshness")


def _full_key(key: str) -> str:
    return f"{key}:{qloop.__version__}:{KEPT_FORMAT}"


class ReadAhead:
    """Kept values read in one round trip with the data version, for ``kept`` to use later in
    the same request: the person's entry and the badge's (``qloop.org.kept_user``) cost one
    cache read instead of two. Used only while this process has changed nothing since (a
    request that commits a write in between reads afresh); a write by another process in
    between is seen on the next request, as if both had been read at the start of this one."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = frozenset(_full_key(key) for key in keys)
        self.changes = _changes
        self.found = cache.get_many([VERSION_KEY, PEOPLE_VERSION_KEY, *self.keys])

    def get(self, key: str, version_key: str = VERSION_KEY) -> dict[str, Any] | None:
        """What ``cache.get_many`` would give for the version and ``key``, if still usable."""
        if key not in self.keys or self.changes != _changes:
            return None
        return {k: v for k, v in self.found.items() if k in (version_key, key)}

    def remember(self, key: str, version_key: str, version: str, value: Any) -> None:
        """A value ``kept`` has just computed and stored: a later use in the same request
        takes it instead of the out-of-date entry read at the start (My work counted the
        badge twice after every write, once in the view and once for the navigation)."""
        if key in self.keys and self.changes == _changes:
            self.found[version_key] = version  # the data's or the people's, as it was kept
            self.found[key] = (version, value)


def kept(
    key: str,
    compute: Callable[[], T],
    ahead: ReadAhead | None = None,
    *,
    version_key: str = VERSION_KEY,
) -> T:
    """``compute()``, or the value kept under ``key`` if nothing has changed since: nothing at
    all, or with ``version_key=PEOPLE_VERSION_KEY`` nothing of ``PEOPLE_TABLES``."""
    from django.db import connection

    if connection.in_atomic_block and (
        _pending(connection) or _pending(connection, _after_people_commit)
    ):
        return compute()  # this transaction has written: only a fresh figure sees it
    key = _full_key(key)
    found = ahead.get(key, version_key) if ahead is not None else None
    if found is None:
        found = cache.get_many([version_key, key])
    version = found.get(version_key)
    if version is None:
        cache.add(version_key, uuid.uuid4().hex, None)
        version = cache.get(version_key)
    entry = found.get(key)
    if entry is not None and entry[0] == version:
        return entry[1]  # type: ignore[no-any-return]
    value = compute()
    if version is not None:
        cache.set(key, (version, value), KEPT_SECONDS)
        if ahead is not None:
            ahead.remember(key, version_key, version, value)
    return value


def kept_register_count(user: Any, flt: Any, compute: Callable[[], T]) -> T:
    """The register's count for this person and filter (the list page and the API share it)."""
    from qloop.org.models import Organisation

    profiles = ",".join(Organisation.current_profiles())
    return kept(f"qloop:register-count:{user.pk}:{profiles}:{flt.cache_key()}", compute)
