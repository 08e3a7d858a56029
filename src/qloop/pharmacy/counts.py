"""Pre-counted reports for the signal table (issue 10): how many first reports of suspected
ADRs name each suspect drug (generic name) with each reaction, and how many name each reaction,
per month of awareness. The signal table reads these few rows instead of every report.

A report counts when it is a first report, has a reaction and its case is not archived; it
counts once per distinct suspect generic name. The domain code that changes any of that —
registering a report (``create_adr``), editing it (``update_adr``: reaction, awareness, report
type, drugs added) and archiving its case (the kind's ``on_archive``) — moves the counts in the
same transaction, by the difference between what the report counted for before and after.
``rebuild`` recounts everything from the reports (after an import, or to repair); the
``rebuild_signal_counts`` command runs it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.apps.registry import Apps
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from qloop.pharmacy.models import (
    AdrDrug,
    AdrReport,
    DrugRole,
    ReportType,
    SignalPairMonth,
    SignalReactionMonth,
)


@dataclass(frozen=True)
class Counted:
    """What one report adds to the counts."""

    reaction: str
    aware_at: dt.datetime
    generics: frozenset[str]

    @property
    def month(self) -> dt.date:
        return month_of(self.aware_at)


def month_of(moment: dt.datetime) -> dt.date:
    """The first day of the local month (TIME_ZONE) holding ``moment``."""
    return timezone.localtime(moment).date().replace(day=1)


def counted(report_id: int, *, archived_too: bool = False) -> Counted | None:
    """What the report counts for now, from the database (None: it does not count)."""
    reports = AdrReport.objects.filter(pk=report_id, report_type=ReportType.FIRST).exclude(
        reaction=""
    )
    if not archived_too:
        reports = reports.filter(case__archived_at__isnull=True)
    row = reports.values_list("reaction", "aware_at").first()
    if row is None:
        return None
    generics = AdrDrug.objects.filter(report_id=report_id, role=DrugRole.SUSPECT).values_list(
        "generic_name", flat=True
    )
    return Counted(reaction=row[0], aware_at=row[1], generics=frozenset(generics))


def move(before: Counted | None, after: Counted | None) -> None:
    """Take ``before`` out of the counts and put ``after`` in (either may be None)."""
    if before == after:
        return
    with transaction.atomic():
        if before is not None:
            _remove(before)
        if after is not None:
            _add(after)


def report_added(report_id: int) -> None:
    move(None, counted(report_id))


def report_archived(report_id: int) -> None:
    """Called in the archiving transaction, the case already marked archived."""
    move(counted(report_id, archived_too=True), None)


def _upsert(table: str, keys: dict[str, object], at: dt.datetime | None) -> None:
    """Add one report to a row (made if missing) in one statement, safe against another
    transaction doing the same."""
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    cols = [*keys, "reports"]
    values: list[Any] = [*keys.values(), 1]
    sets = [f"reports = {table}.reports + 1"]
    if at is not None:
        cols += ["first_at", "last_at"]
        values += [at, at]
        sets += [
            f"first_at = {least}({table}.first_at, excluded.first_at)",
            f"last_at = {greatest}({table}.last_at, excluded.last_at)",
        ]
    # Table and column names are this module's constants; the values are parameters.
    sql = (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "  # noqa: S608
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(sets)}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, values)


def _add(c: Counted) -> None:
    month = c.month
    _upsert(SignalReactionMonth._meta.db_table, {"reaction": c.reaction, "month": month}, None)
    for generic in sorted(c.generics):  # one order for every writer: no deadlock
        _upsert(
            SignalPairMonth._meta.db_table,
            {"generic_name": generic, "reaction": c.reaction, "month": month},
            c.aware_at,
        )


def _remove(c: Counted) -> None:
    month = c.month
    # A missing row (counts not rebuilt after an import) is left missing: the
    # rebuild_signal_counts command repairs the counts.
    row = (
        SignalReactionMonth.objects.select_for_update()
        .filter(reaction=c.reaction, month=month)
        .first()
    )
    if row is not None and row.reports <= 1:
        row.delete()
    elif row is not None:
        SignalReactionMonth.objects.filter(pk=row.pk).update(reports=row.reports - 1)
    for generic in sorted(c.generics):
        pair = (
            SignalPairMonth.objects.select_for_update()
            .filter(generic_name=generic, reaction=c.reaction, month=month)
            .first()
        )
        if pair is None:
            continue
        if pair.reports <= 1:
            pair.delete()
            continue
        pair.reports -= 1
        if c.aware_at in (pair.first_at, pair.last_at):
            # The report held an end of the month's range: read the range again from the
            # month's other reports (the one being removed no longer counts).
            pair.first_at, pair.last_at = _range(generic, c.reaction, month)
        pair.save(update_fields=["reports", "first_at", "last_at"])


def _counting_suspects(drugs: Any = AdrDrug) -> QuerySet[Any]:
    return drugs.objects.filter(
        role=DrugRole.SUSPECT,
        report__report_type=ReportType.FIRST,
        report__case__archived_at__isnull=True,
    ).exclude(report__reaction="")


def _range(
    generic: str, reaction: str, month: dt.date
) -> tuple[dt.datetime | None, dt.datetime | None]:
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(month, dt.time(), tzinfo=tz)
    nxt = (month + dt.timedelta(days=32)).replace(day=1)
    until = dt.datetime.combine(nxt, dt.time(), tzinfo=tz)
    moments = (
        _counting_suspects()
        .filter(
            generic_name=generic,
            report__reaction=reaction,
            report__aware_at__gte=since,
            report__aware_at__lt=until,
        )
        .values_list("report__aware_at", flat=True)
    )
    found = sorted(moments)
    return (found[0], found[-1]) if found else (None, None)


def rebuild(apps: Apps | None = None) -> tuple[int, int]:
    """Recount every month from the reports; returns (pair rows, reaction rows). ``apps``:
    the models of a migration (the migration that adds the tables fills them with this).

    On PostgreSQL the count tables are locked first, so a report registered meanwhile waits
    and then adds itself to the new counts (none is lost or counted twice)."""
    get = apps.get_model if apps is not None else None
    reports_model: Any = get("pharmacy", "AdrReport") if get else AdrReport
    drugs_model: Any = get("pharmacy", "AdrDrug") if get else AdrDrug
    pair_model: Any = get("pharmacy", "SignalPairMonth") if get else SignalPairMonth
    reaction_model: Any = get("pharmacy", "SignalReactionMonth") if get else SignalReactionMonth
    pairs: dict[tuple[str, str, dt.date], list[object]] = {}
    reactions: dict[tuple[str, dt.date], int] = {}
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute(
                    f"LOCK TABLE {pair_model._meta.db_table}, "
                    f"{reaction_model._meta.db_table} IN EXCLUSIVE MODE"
                )
        reports = (
            reports_model.objects.filter(
                report_type=ReportType.FIRST, case__archived_at__isnull=True
            )
            .exclude(reaction="")
            .values_list("reaction", "aware_at")
        )
        for reaction, at in reports.iterator(chunk_size=20_000):
            key = (reaction, month_of(at))
            reactions[key] = reactions.get(key, 0) + 1
        seen = (
            _counting_suspects(drugs_model)
            .values_list("report_id", "generic_name", "report__reaction", "report__aware_at")
            .order_by()
            .distinct()
        )
        for _report, generic, reaction, at in seen.iterator(chunk_size=20_000):
            pkey = (generic, reaction, month_of(at))
            row = pairs.get(pkey)
            if row is None:
                pairs[pkey] = [1, at, at]
            else:
                row[0] = int(row[0]) + 1  # type: ignore[call-overload]
                row[1] = min(row[1], at)  # type: ignore[type-var]
                row[2] = max(row[2], at)  # type: ignore[type-var]
        pair_model.objects.all().delete()
        reaction_model.objects.all().delete()
        reaction_model.objects.bulk_create(
            (reaction_model(reaction=r, month=m, reports=n) for (r, m), n in reactions.items()),
            batch_size=5000,
        )
        pair_model.objects.bulk_create(
            (
                pair_model(
                    generic_name=g,
                    reaction=r,
                    month=m,
                    reports=v[0],
                    first_at=v[1],
                    last_at=v[2],
                )
                for (g, r, m), v in pairs.items()
            ),
            batch_size=5000,
        )
    return len(pairs), len(reactions)


def pair_months(generic_name: str, reaction: str) -> list[tuple[dt.date, int]]:
    """The pair's reports over time: (first day of the month, reports), oldest first, months
    without reports left out."""
    return list(
        SignalPairMonth.objects.filter(generic_name=generic_name, reaction=reaction)
        .order_by("month")
        .values_list("month", "reports")
    )
