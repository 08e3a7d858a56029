"""The tamper-evident trail (issue 9.17, 21 CFR Part 11 / ALCOA+, X2): every trail entry carries
the hash of the one before it; an edit, a deletion or an insertion made with SQL behind QLoop's
back is found by ``qloop verify-trail`` and by the daily check, which alerts administrators."""

from __future__ import annotations

import io
import itertools
import threading
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction

from qloop import cli
from qloop.cases.models import Case, Event
from qloop.notify.models import Message, Notification
from qloop.org import trail
from qloop.org.jobs import verify_trail_daily
from qloop.org.models import TrailHead
from qloop.process.engine import take_transition


def run_verify(*args: str) -> tuple[int, str]:
    """``qloop manage verify_trail``: the exit code and what it printed."""
    out = io.StringIO()
    try:
        call_command("verify_trail", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, f"{out.getvalue()}{exc}"
    return 0, out.getvalue()


@pytest.fixture
def worked_case(make_case: Any, users: dict[str, Any]) -> Case:
    """A complaint with a few steps on its timeline, one of them signed."""
    case = make_case()
    case = take_transition(case, "assign", {"handler": "cs"}, actor=users["cs"])
    return case


def events() -> list[Event]:
    return list(Event.objects.order_by("seq"))


def test_every_trail_is_chained() -> None:
    """Case events (transitions, e-signatures, approvals), recurring-problem decisions, report
    steps, period summaries' steps (X5), register corrections and call attempts are the trails
    the check walks."""
    assert [m._meta.label_lower for m in trail.chained_models()] == [
        "cases.event",
        "cases.recurringgroupevent",
        "clinical.callattempt",
        "clinical.resultversion",
        "reports.periodsummaryevent",
        "reports.reportevent",
    ]


def test_each_entry_carries_the_hash_of_the_one_before(worked_case: Case) -> None:
    rows = events()
    assert len(rows) >= 2
    assert [e.seq for e in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == ""
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
        assert len(after.hash) == 64
    head = TrailHead.objects.get(chain="cases.event")
    assert (head.seq, head.hash) == (rows[-1].seq, rows[-1].hash)


def test_an_intact_trail_verifies_with_its_count(worked_case: Case) -> None:
    code, out = run_verify()
    assert code == 0
    n = Event.objects.count()
    assert f"cases.event: {n} entries, chain intact" in out
    assert f"{n} entries verified" in out


def test_an_edit_made_with_sql_is_caught(worked_case: Case) -> None:
    """Someone rewrites what a step said, directly in the database."""
    target = events()[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_event SET comment = %s WHERE id = %s", ["改过的记录", target.pk]
        )
    code, out = run_verify()
    assert code == 1
    assert f"cases.event: BROKEN at entry {target.seq} (id {target.pk})" in out
    assert "its content was changed" in out


def test_an_edit_of_who_or_when_is_caught(worked_case: Case, users: dict[str, Any]) -> None:
    target = events()[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_event SET actor_id = %s WHERE id = %s", [users["gm"].pk, target.pk]
        )
    code, out = run_verify()
    assert code == 1
    assert f"entry {target.seq} (id {target.pk})" in out


def test_an_edit_that_also_rewrites_the_hash_is_caught_at_the_next_entry(
    worked_case: Case,
) -> None:
    """A forger who recomputes the edited row's own hash breaks the link of the row after."""
    first, second = events()[:2]
    fields = trail.content_fields(Event)
    values = trail.row_values(fields, [getattr(first, f.attname) for f in fields])
    values["comment"] = "伪造"
    forged = trail.entry_hash("cases.event", first.prev_hash, values)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_event SET comment = %s, hash = %s WHERE id = %s",
            ["伪造", forged, first.pk],
        )
    code, out = run_verify()
    assert code == 1
    assert f"entry {second.seq} (id {second.pk})" in out
    assert "link to the entry before" in out


def test_a_deleted_entry_is_caught(worked_case: Case) -> None:
    rows = events()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_event WHERE id = %s", [rows[0].pk])
    code, out = run_verify()
    assert code == 1
    assert "BROKEN at entry 1" in out
    assert "entry 1 is missing" in out


def test_the_last_entry_deleted_is_caught(worked_case: Case) -> None:
    rows = events()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_event WHERE id = %s", [rows[-1].pk])
    code, out = run_verify()
    assert code == 1
    assert f"entry {rows[-1].seq} is missing" in out


def test_an_inserted_entry_is_caught(worked_case: Case, users: dict[str, Any]) -> None:
    """A row slipped in after the last one, linked to it but not written by QLoop."""
    last = events()[-1]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO cases_event (case_id, at, actor_id, verb, changes, comment, data, seq, "
            "prev_hash, hash) VALUES (%s, %s, %s, 'transition', '[]', '补录', '{}', %s, %s, %s)",
            [worked_case.pk, last.at, users["gm"].pk, last.seq + 1, last.hash, "0" * 64],
        )
    code, out = run_verify()
    assert code == 1
    assert f"entry {last.seq + 1}" in out
    assert "added outside the chain" in out


def test_a_deleted_head_is_caught(worked_case: Case) -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM org_trailhead WHERE chain = 'cases.event'")
    code, out = run_verify()
    assert code == 1
    assert "BROKEN at entry 1" in out
    assert "the trail's head is missing" in out


def test_the_cli_exits_1_naming_the_entry(worked_case: Case, capsys: Any) -> None:
    target = events()[0]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_event SET verb = 'comment' WHERE id = %s", [target.pk])
    assert cli.main(["verify-trail"]) == 1
    err = capsys.readouterr().err
    assert f"Trail broken: cases.event: BROKEN at entry 1 (id {target.pk})" in err


def test_the_cli_exits_0_when_intact(worked_case: Case, capsys: Any) -> None:
    assert cli.main(["verify-trail"]) == 0
    assert "every chain is intact" in capsys.readouterr().out


def test_the_daily_check_alerts_the_administrators_when_broken(
    worked_case: Case, users: dict[str, Any]
) -> None:
    assert verify_trail_daily.call_local() is True
    assert not Notification.objects.filter(kind="trail_broken").exists()

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_event WHERE id = %s", [events()[1].pk])
    assert verify_trail_daily.call_local() is False
    told = set(
        Notification.objects.filter(kind="trail_broken").values_list("user__username", flat=True)
    )
    assert told == {"admin"}
    mail = Message.objects.get(kind="trail_broken", user=users["admin"])
    assert mail.urgent
    assert "cases.event" in mail.body
    assert "entry 2 is missing" in mail.body


def test_bulk_inserts_are_chained(worked_case: Case) -> None:
    """The deadline sweep writes its breach events in bulk; they take their places too."""
    Event.objects.bulk_create(
        [Event(case=worked_case, verb="clock_breached", data={"clock": "x"}) for _ in range(3)]
    )
    assert run_verify()[0] == 0
    assert [e.seq for e in events()] == list(range(1, Event.objects.count() + 1))


def test_a_rolled_back_entry_leaves_no_hole(worked_case: Case) -> None:
    before = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        Event.objects.create(case=worked_case, verb="comment", comment="不要了")
        raise RuntimeError
    Event.objects.create(case=worked_case, verb="comment", comment="留下")
    assert Event.objects.count() == before + 1
    assert run_verify()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_chain(users: dict[str, Any], make_case: Any) -> None:
    """Eight writers append at once, each in its own transactions: the chain has no fork and
    no gap. On PostgreSQL the head row's lock queues them; SQLite (a file, as in production)
    queues writers at BEGIN IMMEDIATE."""
    case = make_case()
    before = Event.objects.count()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(20):
                with transaction.atomic():
                    Event.objects.create(case_id=case.pk, verb="comment", comment=f"{n}-{i}")
                    Event.objects.create(case_id=case.pk, verb="comment", comment=f"{n}-{i}b")
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []
    assert Event.objects.count() == before + 8 * 20 * 2
    assert [e.seq for e in events()] == list(range(1, before + 8 * 20 * 2 + 1))
    assert run_verify()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_the_entries_written_before_it(
    make_case: Any, users: dict[str, Any]
) -> None:
    """An installation upgraded with a history: the migration chains its rows in the order
    they were written, and the trail verifies."""
    from django.db.migrations.executor import MigrationExecutor

    case = make_case()
    take_transition(case, "assign", {"handler": "cs"}, actor=users["cs"])
    written = list(Event.objects.order_by("pk").values_list("pk", "verb"))
    before = [
        ("cases", "0009_extra_field_translated_choices"),
        ("clinical", "0001_clinical_registers_findings_reports"),
        ("reports", "0001_survey_reports_and_reviews"),
        ("org", "0003_standard_calendar"),
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_event")
        assert cursor.fetchone()[0] == len(written)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    rows = events()
    assert [(e.pk, e.verb) for e in rows] == written
    assert [e.seq for e in rows] == list(range(1, len(written) + 1))
    assert run_verify()[0] == 0
    Event.objects.create(case=case, verb="comment", comment="迁移之后")
    assert run_verify()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_a_step_holding_its_case_and_a_bulk_append_do_not_deadlock(
    users: dict[str, Any], make_case: Any
) -> None:
    """A step locks its case and then appends its event; the deadline sweep appends events on
    many cases at once, that case among them. The sweep must wait for the step before it takes
    the trail's head, not hold the head while it waits for the case (PostgreSQL finds such a
    deadlock and fails one of them)."""
    first, second = make_case(), make_case()
    locked = threading.Event()
    errors: list[BaseException] = []

    def step() -> None:
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=second.pk)
                locked.set()
                time.sleep(1.0)
                Event.objects.create(case_id=second.pk, verb="comment", comment="步骤")
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def sweep() -> None:
        try:
            locked.wait(10)
            with transaction.atomic():
                Event.objects.bulk_create(
                    [Event(case_id=pk, verb="clock_breached") for pk in (first.pk, second.pk)]
                )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=step), threading.Thread(target=sweep)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert run_verify()[0] == 0
