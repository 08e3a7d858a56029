"""Registration's rows written by ``qloop.inserts`` are the rows ``Model.save()`` writes
(issue 14): the same columns and values, the same trail, whichever path wrote them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.db.models import DateTimeField, Model

from qloop import inserts
from qloop.cases.actions import register_case
from qloop.cases.models import Case, Event, ProductProblem, SimilarDoc
from qloop.org import trail
from qloop.process.models import Clock
from tests.conftest import registration

# Columns that differ between two registrations by construction (keys, numbers, the chain).
KEYS = {"id", "case_id", "seq", "prev_hash", "hash"}


def _rows(case: Case) -> dict[str, Any]:
    """Every row registration wrote for ``case``, without its keys, its number spelt "N"."""

    # The number as it is written, searched (lower case) and indexed (its parts).
    spellings = [case.number, case.number.lower(), " ".join(case.number.lower().split("-"))]

    def plain(row: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in row.items():
            if key in KEYS:
                continue
            for spelling in spellings if isinstance(value, str) else []:
                value = value.replace(spelling, "N")
            out[key] = value
        return out

    return {
        "case": plain(Case.objects.filter(pk=case.pk).values().get()),
        "product": plain(ProductProblem.objects.filter(pk=case.pk).values().get()),
        "clocks": [plain(r) for r in Clock.objects.filter(case=case).values()],
        "text": plain(SimilarDoc.objects.filter(pk=case.pk).values().get()),
        "events": [plain(r) for r in Event.objects.filter(case=case).values()],
    }


@pytest.mark.django_db
def test_registration_writes_the_same_rows_by_either_path(
    users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []
    real_insert = inserts.insert

    def counted(obj: Model, using: str | None = None) -> bool:
        done = real_insert(obj, using)
        if done:
            written.append(type(obj).__name__)
        return done

    at = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    with time_machine.travel(at, tick=False):
        monkeypatch.setattr(inserts, "insert", counted)
        fast = register_case(registration(), actor=users["cs"])
        monkeypatch.setattr(inserts, "insert", lambda obj, using=None: False)
        orm = register_case(registration(), actor=users["cs"])

    # Every row of a registration took the short path; none fell back unnoticed.
    assert sorted(written) == ["Case", "Clock", "Event", "ProductProblem", "SimilarDoc"]
    assert _rows(fast) == _rows(orm)
    assert all(report.ok for report in trail.verify())


@pytest.mark.django_db
def test_a_failed_insert_undoes_the_callers_block(users: dict[str, Any]) -> None:
    """The same as save(): a refused row (a duplicate number here) leaves nothing behind and
    the caller's transaction usable once its block is left."""
    case = register_case(registration(), actor=users["cs"])
    events = Event.objects.count()
    copy = Case(**{f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields})
    copy.pk = None
    copy._state.adding = True
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 - either database's error
        Event.objects.create(case=case, verb="commented", comment="kept?")
        copy.save(force_insert=True)
    assert Event.objects.count() == events
    assert Case.objects.filter(number=case.number).count() == 1


@pytest.mark.django_db
def test_each_new_row_gets_its_own_key(users: dict[str, Any]) -> None:
    """The key read back after each insert (on SQLite the row id, without RETURNING) is the key
    of the row just written, not of a row written before it into another table."""
    for _ in range(2):
        case = register_case(registration(), actor=users["cs"])
        assert Case.objects.get(number=case.number).pk == case.pk
        assert ProductProblem.objects.get(case_id=case.pk).pk == case.product.pk
        text = SimilarDoc.objects.get(case_id=case.pk)
        assert text.pk == case.pk
        event = Event.objects.filter(case=case).get()
        assert event.verb == "registered"
        clock = Clock.objects.filter(case=case).get()
        assert Clock.objects.get(pk=clock.pk).case_id == case.pk


@pytest.mark.django_db
def test_sqlite_reads_the_new_key_without_returning(users: dict[str, Any]) -> None:
    """On SQLite the case's insert is sent without RETURNING (SQLite carries it out as a
    trigger, whose statement journal for a row with 26 indexes spilled to a temporary file on
    every registration); PostgreSQL reads the key back by RETURNING."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        case = register_case(registration(), actor=users["cs"])
    sent = [q["sql"] for q in queries.captured_queries if 'INTO "cases_case"' in q["sql"]]
    assert len(sent) == 1
    assert ("RETURNING" in sent[0]) == (connection.vendor != "sqlite")
    assert Case.objects.get(number=case.number).pk == case.pk


@pytest.mark.django_db
def test_date_times_are_written_as_djangos_chain_writes_them(users: dict[str, Any]) -> None:
    """The stored text of every date-time column (SQLite keeps text) is the text ``save()``
    stores, for times in other zones and with microseconds too."""
    import zoneinfo

    from django.db import connection

    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    at = dt.datetime(2026, 11, 20, 23, 30, 5, 123456, tzinfo=shanghai)
    with time_machine.travel(at, tick=False):
        fast = register_case(registration(), actor=users["cs"], registered_at=at)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(inserts, "insert", lambda obj, using=None: False)
            orm = register_case(registration(), actor=users["cs"], registered_at=at)
    columns = [f.column for f in Case._meta.concrete_fields if isinstance(f, DateTimeField)]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        stored = []
        for case in (fast, orm):
            cursor.execute(f"SELECT {quoted} FROM cases_case WHERE id = %s", [case.pk])  # noqa: S608
            stored.append(cursor.fetchone())
    assert stored[0] == stored[1]
    assert any(value is not None for value in stored[0])
