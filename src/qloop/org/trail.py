"""The tamper-evident trail (issue 9.17; 21 CFR Part 11 §11.10(e), ALCOA+ "original" and
"enduring").

Every trail row (case events, report events, register versions, call attempts) carries the
SHA-256 of its own content and of the row before it in its trail. An edit made in the
database behind QLoop's back changes a row's content, so its hash no longer matches; a deleted
row leaves a gap in the numbering and a broken link; an inserted row has no place in the chain
(or a hash that does not fit). ``verify`` walks each trail in order, streaming, and names the
first entry that does not fit.

Appending locks the trail's one head row (``TrailHead``) in the writer's transaction, so two
writers never chain onto the same entry; the lock is held until the writer commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import connections, models, router, transaction
from django.utils import timezone

if TYPE_CHECKING:
    from qloop.org.models import Chained

# What the hash of the first entry of a trail links to.
GENESIS = ""
# Fields that are the chain itself, not the content it protects.
_CHAIN_FIELDS = {"prev_hash", "hash"}


def chained_models() -> list[type[Chained]]:
    """Every trail of the installation, in a fixed order."""
    from qloop.org.models import Chained

    found = [
        m
        for m in apps.get_models()
        if issubclass(m, Chained) and not m._meta.abstract and not m._meta.proxy
    ]
    return sorted(found, key=lambda m: m._meta.label_lower)


def content_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The fields a row's hash covers: all stored ones but the primary key and the chain."""
    return [
        f for f in model._meta.concrete_fields if not f.primary_key and f.name not in _CHAIN_FIELDS
    ]


def _plain(field: models.Field[Any, Any], value: Any) -> Any:
    """A value as it reads back from either database, so the hash made at insert is the hash
    made when verifying."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.loads(json.dumps(value, cls=field.encoder))
    return _stored(field, field.get_prep_value(value))


def _stored(field: models.Field[Any, Any], value: Any) -> Any:
    """A value as read from the database, made plain (the verifying side's fast path)."""
    if value is None or isinstance(value, str | int) or isinstance(field, models.JSONField):
        return value
    if isinstance(value, Decimal):
        return f"{value:.{getattr(field, 'decimal_places', 0) or 0}f}"
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def entry_hash(chain: str, prev_hash: str, values: dict[str, Any]) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the row's content."""
    canonical = json.dumps(
        {"chain": chain, "prev": prev_hash, "row": values},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def row_values(
    fields: list[models.Field[Any, Any]], values: Iterable[Any], *, stored: bool = False
) -> dict[str, Any]:
    """The content a hash covers, by field. ``stored``: values as read back from the database
    (already plain), rather than as set on an unsaved row."""
    plain = _stored if stored else _plain
    return {f.attname: plain(f, v) for f, v in zip(fields, values, strict=True)}


def link(
    model: type[models.Model], rows: list[Any], *, using: str = "default", fresh: bool = False
) -> None:
    """Give unsaved rows their places in the model's trail (caller's transaction; the head stays
    locked until it commits). ``fresh``: every row the new rows refer to was made in the
    caller's transaction (no other can see it, let alone lock it), so no key-share lock is
    taken first (the HL7 listener's result versions: one wait for the server fewer a batch)."""
    from qloop.org.models import TrailHead

    if not fresh:
        _hold_references(content_fields(model), rows, using)
    head = _locked_head(TrailHead, model._meta.label_lower, using)
    _chain(model, rows, head, using)


def _chain(
    model: type[models.Model], rows: list[Any], head: tuple[int, int, str], using: str
) -> None:
    """Number and hash ``rows`` after the locked ``head`` (id, seq, hash) and send the head's
    update (its answer is not read: inside ``sent_together`` it waits with the block)."""
    chain = model._meta.label_lower
    fields = content_fields(model)
    head_id, seq, prev = head
    for row in rows:
        if row.pk is not None:
            raise TypeError(f"{model.__name__} rows are append-only")
        seq += 1
        row.seq = seq
        row.prev_hash = prev
        row.hash = entry_hash(
            chain, prev, row_values(fields, (f.pre_save(row, True) for f in fields))
        )
        prev = row.hash
    with connections[using].cursor() as cursor:
        cursor.execute(_head_sql(using)[1], [seq, prev, head_id])


def send_head(
    model: type[models.Model], *, using: str = "default"
) -> Callable[[], tuple[int, int, str]]:
    """The trail head's locking read, sent now; the function returned reads it (id, seq,
    hash), making the head first if the trail has none. For ``send_append``; inside
    ``qloop.together.sent_together`` call it after the block."""
    from qloop.org.models import TrailHead

    chain = model._meta.label_lower
    cursor = connections[using].cursor()
    try:
        cursor.execute(_head_sql(using)[0], [chain])
    except BaseException:
        cursor.close()
        raise

    def head() -> tuple[int, int, str]:
        with cursor:
            row = cursor.fetchone()
        if row is None:
            return _locked_head(TrailHead, chain, using)
        return int(row[0]), int(row[1]), str(row[2])

    return head


def send_append(
    model: type[models.Model],
    rows: list[Any],
    head: tuple[int, int, str],
    *,
    using: str = "default",
) -> Callable[[], list[Any]]:
    """``model.objects.bulk_create(rows, fresh=True)`` in halves, for a head already locked by
    ``send_head`` in the caller's transaction: the rows are chained after it and the head's
    update and the rows' insert are sent now; the function returned reads the new keys
    (inside ``sent_together``: after the block). Every row the new rows refer to must have
    been made in the caller's transaction (as ``link``'s ``fresh``)."""
    from qloop import inserts

    _chain(model, rows, head, using)
    if using == router.db_for_write(model) and inserts.can_insert_many(rows):
        return inserts.send_many(rows)
    # The trail's own bulk_create would chain the rows again: the plain one writes them.
    created = models.QuerySet.bulk_create(model._default_manager.using(using).all(), rows)
    return lambda: list(created)


def _hold_references(fields: list[models.Field[Any, Any]], rows: list[Any], using: str) -> None:
    """Take, before the head, the key-share locks the insert's foreign-key checks would take
    after it (PostgreSQL). A step holds its case and then appends its event; a bulk append (the
    deadline sweep's) that held the head while it waited for that case would deadlock with it."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    for field in fields:
        if not field.many_to_one:
            continue
        ids = sorted({getattr(row, field.attname) for row in rows} - {None})
        if not ids:
            continue
        table = field.related_model._meta.db_table  # type: ignore[union-attr]
        column = field.target_field.column  # type: ignore[attr-defined]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {quote(table)} WHERE {quote(column)} = ANY(%s) "  # noqa: S608
                f"ORDER BY {quote(column)} FOR KEY SHARE",
                [ids],
            )


def _locked_head(head_model: type[Any], chain: str, using: str) -> tuple[int, int, str]:
    """(id, seq, hash) of the trail's head, locked until the caller's transaction ends
    (PostgreSQL: ``FOR UPDATE``; SQLite: the writer holds the database's write lock)."""
    select = _head_sql(using)[0]
    with connections[using].cursor() as cursor:
        cursor.execute(select, [chain])
        row = cursor.fetchone()
        if row is None:
            head_model.objects.using(using).get_or_create(chain=chain)
            cursor.execute(select, [chain])
            row = cursor.fetchone()
    return int(row[0]), int(row[1]), str(row[2])


_HEAD_SQL: dict[str, tuple[str, str]] = {}


def _head_sql(using: str) -> tuple[str, str]:
    """The head's locking read and its update, written once per database: every event runs
    both, and building them through the ORM cost more than running them (issue 14)."""
    found = _HEAD_SQL.get(using)
    if found is None:
        from qloop.org.models import TrailHead

        connection = connections[using]
        quote, meta = connection.ops.quote_name, TrailHead._meta
        table = quote(meta.db_table)
        pk, chain, seq, hsh = (
            quote(str(meta.get_field(name).column))  # type: ignore[union-attr]
            for name in ("id", "chain", "seq", "hash")
        )
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        found = _HEAD_SQL[using] = (
            f"SELECT {pk}, {seq}, {hsh} FROM {table} WHERE {chain} = %s{lock}",  # noqa: S608
            f"UPDATE {table} SET {seq} = %s, {hsh} = %s WHERE {pk} = %s",  # noqa: S608
        )
    return found


@dataclass
class ChainReport:
    """What verifying one trail found."""

    chain: str
    entries: int
    head_hash: str
    broken: str = ""
    broken_id: int | None = None
    broken_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.broken


def verify(*, chunk_size: int = 5000, using: str = "default") -> list[ChainReport]:
    """Check every trail; one report per trail. Reads in one consistent snapshot and streams
    rows in order of the chain (constant memory, whatever the size)."""
    return [verify_chain(m, chunk_size=chunk_size, using=using) for m in chained_models()]


def verify_chain(
    model: type[models.Model], *, chunk_size: int = 5000, using: str = "default"
) -> ChainReport:
    from qloop.org.models import TrailHead

    chain = model._meta.label_lower
    connection = connections[using]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql" and outermost:
            # The head and the rows from one snapshot: appends made meanwhile are not "extra".
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        head = TrailHead.objects.using(using).filter(chain=chain).first()
        head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
        report = ChainReport(chain, 0, head_hash)
        fields = content_fields(model)
        names = ["pk", "prev_hash", "hash", *(f.attname for f in fields)]
        rows: Iterator[tuple[Any, ...]] = (
            model._default_manager.using(using)
            .filter(seq__lte=head_seq)
            .order_by("seq")
            .values_list(*names)
            .iterator(chunk_size=chunk_size)
        )
        seq_at = names.index("seq")
        expected_seq, prev = 1, GENESIS
        for row in rows:
            pk, prev_hash, stored, *values = row
            seq = row[seq_at]
            if seq != expected_seq:
                return _broken(report, pk, expected_seq, f"entry {expected_seq} is missing")
            if prev_hash != prev:
                return _broken(report, pk, seq, "its link to the entry before does not match")
            if entry_hash(chain, prev, row_values(fields, values, stored=True)) != stored:
                return _broken(report, pk, seq, "its content was changed")
            prev = stored
            expected_seq += 1
            report.entries += 1
        if report.entries != head_seq:
            return _broken(report, None, expected_seq, f"entry {expected_seq} is missing")
        if prev != head_hash:
            return _broken(report, None, head_seq, "the last entry does not match the head")
        stray = (
            model._default_manager.using(using)
            .filter(models.Q(seq__gt=head_seq) | models.Q(seq__isnull=True))
            .order_by("pk")
            .values_list("pk", "seq")
            .first()
        )
        if stray is not None:
            why = (
                "the trail's head is missing" if head is None else "it was added outside the chain"
            )
            return _broken(report, stray[0], stray[1], why)
    return report


def _broken(report: ChainReport, pk: int | None, seq: int | None, why: str) -> ChainReport:
    report.broken = why
    report.broken_id = pk
    report.broken_seq = seq
    return report


def describe(report: ChainReport) -> str:
    """One line for people: the trail, the first entry that does not fit, and why."""
    if report.ok:
        return (
            f"{report.chain}: {report.entries} entries, chain intact (head {report.head_hash[:16]})"
        )
    where = f"entry {report.broken_seq}" if report.broken_seq is not None else "an entry"
    if report.broken_id is not None:
        where += f" (id {report.broken_id})"
    return f"{report.chain}: BROKEN at {where}: {report.broken}"


def chain_existing(model: type[models.Model], head_model: type[Any], *, batch: int = 2000) -> int:
    """Chain the rows a trail held before it was chained, in the order they were written
    (their ids); for the data migrations. Returns the number chained."""
    chain = model._meta.label_lower
    head, _created = head_model.objects.get_or_create(chain=chain)
    fields = content_fields(model)
    seq, prev = head.seq, head.hash
    pending = model._default_manager.filter(seq__isnull=True).order_by("pk")
    done = 0
    while True:
        rows: list[Any] = list(pending[:batch])
        if not rows:
            break
        for row in rows:
            seq += 1
            row.seq = seq
            row.prev_hash = prev
            row.hash = entry_hash(
                chain, prev, row_values(fields, (getattr(row, f.attname) for f in fields))
            )
            prev = row.hash
        model._default_manager.bulk_update(rows, ["seq", "prev_hash", "hash"])
        done += len(rows)
    head_model.objects.filter(pk=head.pk).update(seq=seq, hash=prev)
    return done


def administrators() -> list[Any]:
    """Those who run the installation: superusers and members of a role that administers."""
    from django.db.models import Q

    from qloop.org.models import User

    return list(
        User.objects.filter(
            Q(is_superuser=True) | Q(memberships__role__administers=True), is_active=True
        )
        .distinct()
        .order_by("pk")
    )


def check_and_alert(*, chunk_size: int = 5000) -> list[ChainReport]:
    """Verify every trail; when one is broken, tell the administrators at once (bell and
    e-mail, urgent), naming the first entry that does not fit. Safe to run at any time: it
    reads, and a broken trail is reported again on every run until it is looked into."""
    from qloop.notify.actions import notify

    reports = verify(chunk_size=chunk_size)
    broken = [r for r in reports if not r.ok]
    if broken:
        with transaction.atomic():
            notify(
                administrators(),
                kind="trail_broken",
                data={
                    "trails": ", ".join(r.chain for r in broken),
                    "first": describe(broken[0]),
                },
                urgent=True,
            )
    return reports
