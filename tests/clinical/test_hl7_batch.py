"""HL7 v2 group commit (R5.8, issue 11): the listener applies every message waiting on its
connections in one transaction and answers after the commit. Each message keeps the answer it
would get alone: a bad one is kept and changes nothing, the good ones around it are stored,
the same message twice is applied once, a correction in the same batch is a new version; the
trail of result versions stays whole. A SIGKILL of the listener loses nothing and doubles
nothing. The timeliness figures on PostgreSQL are those ``percentile_disc`` gives."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hl7
import pytest

from qloop.clinical import hl7v2
from qloop.clinical.management.commands.hl7_listen import serve
from qloop.clinical.models import Finding, HL7Message, ResultEntry, ResultVersion
from tests.clinical.hl7samples import variant
from tests.standards import skip_without_standards

skip_without_standards()

ROOT = Path(__file__).resolve().parents[2]


def _potassium(control: str, value: str = "4.2", flag: str = "N", accession: str = "") -> bytes:
    return variant(
        1,
        control_id=control,
        charset="UNICODE UTF-8",
        name=("王", "建华"),
        patient_id="880123",
        pv1="PV1|1|I|IM1^^12||||||||IM",
        orc_doctor="doctor^郑^国华",
        accession=accession or f"A{control}",
        obx={3: "K^血钾^L", 5: value, 6: "mmol/L", 7: "3.5-5.3", 8: flag},
    ).encode("utf-8")


def _msa(ack: bytes) -> tuple[str, str]:
    msa = hl7.parse(ack.decode("utf-8", errors="replace")).segment("MSA")
    return str(msa.extract_field(1, 1)), str(msa.extract_field(1, 2))


@pytest.mark.django_db
def test_a_batch_gives_each_message_the_answer_it_would_get_alone(
    hospital: dict[str, Any],
) -> None:
    """R5.8: AA/AE/AR per message in order; duplicates once; corrections as versions."""
    from qloop.org import trail

    first = _potassium("B-1", accession="SPEC-1")
    batch = [
        first,
        b"garbage",
        _potassium("B-CRIT", "2.3", "LL"),
        variant(1, control_id="B-AE", obx={5: ""}).encode(),
        first,  # the same message again, in the same batch
        _potassium("B-1C", "4.5", accession="SPEC-1"),  # corrects B-1's result
        _potassium("B-2"),
        variant(1, control_id="B-ADT", message_type="ADT^A01^ADT_A01").encode(),
    ]
    acks = hl7v2.receive_many(batch, transport="mllp")
    assert [_msa(a)[0] for a in acks] == ["AA", "AR", "AA", "AE", "AA", "AA", "AA", "AR"]
    assert _msa(acks[0])[1] == _msa(acks[4])[1] == "B-1"
    corrected = ResultEntry.objects.get(accession="SPEC-1")
    assert (corrected.version, corrected.result_value) == (2, "4.5")
    assert ResultEntry.objects.count() == 3  # SPEC-1, the critical one, B-2
    assert Finding.objects.get().entry.result_value == "2.3"
    applied = HL7Message.objects.filter(status="applied")
    assert sorted(applied.values_list("control_id", flat=True)) == [
        "B-1",
        "B-1C",
        "B-2",
        "B-CRIT",
    ]
    kept = HL7Message.objects.exclude(status="applied")
    assert sorted(kept.values_list("ack_code", flat=True)) == ["AE", "AR", "AR"]
    assert ResultVersion.objects.count() == 4
    assert all(report.ok for report in trail.verify())
    # Sent again later, one by one: nothing is applied twice.
    again = [hl7v2.receive(raw, transport="mllp") for raw in (first, batch[5], batch[6])]
    assert [_msa(a)[0] for a in again] == ["AA", "AA", "AA"]
    assert ResultEntry.objects.count() == 3 and ResultVersion.objects.count() == 4


@pytest.mark.django_db
def test_findings_opened_in_a_batch_are_those_opened_one_by_one(
    hospital: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 11: the results of a batch are stored in bulk and the findings they open are
    opened after them, message by message: the cases, findings, clocks, events,
    notifications and outbox messages are those the same messages open one by one, and the
    numbers follow the messages' order."""
    from qloop.cases.models import Case, Event
    from qloop.notify.models import Message, Notification
    from qloop.org import trail
    from qloop.process.models import Clock

    def sent(prefix: str) -> list[bytes]:
        return [
            _potassium(f"{prefix}-1"),
            _potassium(f"{prefix}-2", "2.3", "LL"),
            _potassium(f"{prefix}-3"),
            _potassium(f"{prefix}-4", "6.9", "HH"),
            _potassium(f"{prefix}-5", "7.1", "HH"),
            _potassium(f"{prefix}-6"),
        ]

    def picture(prefix: str) -> list[Any]:
        out = []
        for n in range(1, 7):
            msg = HL7Message.objects.get(control_id=f"{prefix}-{n}")
            entries = list(ResultEntry.objects.filter(message=msg))
            seen: list[Any] = [(msg.status, msg.ack_code, msg.entries, len(entries))]
            for entry in entries:
                seen.append((entry.values(), entry.version, entry.versions.count()))
                for finding in Finding.objects.filter(entry=entry).order_by("pk"):
                    case = Case.objects.get(pk=finding.case_id)
                    seen.append(
                        (
                            finding.kind,
                            finding.reason,
                            finding.sent_result,
                            finding.recipient_user_id,
                            finding.recipient_ward_id,
                            finding.limit_minutes,
                            case.kind,
                            case.title,
                            case.severity,
                            case.state,
                            case.department_id,
                            case.deadline_state,
                            list(Event.objects.filter(case=case).values_list("verb", "actor")),
                            list(
                                Clock.objects.filter(case=case).values_list(
                                    "name", "state", "due_at"
                                )
                            ),
                            sorted(
                                Notification.objects.filter(case=case).values_list(
                                    "user_id", "kind", "urgent"
                                )
                            ),
                            sorted(
                                Message.objects.filter(case=case).values_list(
                                    "user_id", "channel", "kind", "state"
                                )
                            ),
                        )
                    )
            out.append(seen)
        return out

    acks = hl7v2.receive_many(sent("FB"), transport="mllp")
    assert [_msa(a)[0] for a in acks] == ["AA"] * 6
    assert "one by one" not in caplog.text  # opened in bulk, not by the fallback
    for raw in sent("FA"):
        assert _msa(hl7v2.receive(raw, transport="mllp"))[0] == "AA"
    batched, alone = picture("FB"), picture("FA")
    assert batched == alone
    assert sum(len(seen) - 2 for seen in batched) == 3  # three findings, each with a case
    numbers = [
        Finding.objects.get(entry__message__control_id=f"FB-{n}").case.number for n in (2, 4, 5)
    ]
    assert numbers == sorted(numbers)
    entries = [ResultEntry.objects.get(message__control_id=f"FB-{n}").number for n in range(1, 7)]
    assert entries == sorted(entries)
    assert all(report.ok for report in trail.verify())


@pytest.mark.django_db
def test_a_bad_message_in_a_batch_is_not_half_applied_and_the_rest_are_stored(
    hospital: dict[str, Any],
) -> None:
    """R5.8: never half-applied; a bad message does not take the good ones down."""
    good = _potassium("G-1")
    half = _potassium("H-1").rstrip(b"\r") + b"\rOBX|2|NM|NA^Sodium^L||||\r"  # no OBX-5
    acks = hl7v2.receive_many([good, half, _potassium("G-2")], transport="mllp")
    assert [_msa(a)[0] for a in acks] == ["AA", "AE", "AA"]
    assert b"OBX-5" in acks[1] or b"OBX 2" in acks[1]
    assert sorted(ResultEntry.objects.values_list("accession", flat=True)) == ["AG-1", "AG-2"]
    kept = HL7Message.objects.get(control_id="H-1")
    assert kept.status == "error" and bytes(kept.raw) == half and kept.entries == 0


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch the listener's writer stores."""
    sizes: list[int] = []
    real = hl7v2.receive_many

    def recording(raws: list[bytes], *, transport: str) -> list[bytes]:
        sizes.append(len(raws))
        return real(raws, transport=transport)

    monkeypatch.setattr(hl7v2, "receive_many", recording)
    return sizes


@pytest.fixture
def listener(transactional_db: Any, hospital: dict[str, Any]) -> Iterator[tuple[str, int]]:
    server = serve("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[:2]
    server.shutdown()
    server.server_close()


def _pipeline(address: tuple[str, int], controls: list[str], acks: dict[str, bytes]) -> None:
    """A sender that writes all its messages at once and then reads the ACKs in order."""
    with socket.create_connection(address) as sock:
        sock.settimeout(60)
        sock.sendall(b"".join(hl7v2.frame(_potassium(c)) for c in controls))
        buffer = bytearray()
        got: list[bytes] = []
        while len(got) < len(controls):
            chunk = sock.recv(65536)
            assert chunk, "the listener closed the connection"
            buffer.extend(chunk)
            got += hl7v2.frames(buffer)
        for control, ack in zip(controls, got, strict=True):
            acks[control] = ack


def test_the_listener_commits_the_messages_of_several_connections_together(
    listener: tuple[str, int], batches: list[int]
) -> None:
    """Issue 11: group commit; every ACK answers its own message, in order per connection."""
    acks: dict[str, bytes] = {}
    shares = [[f"P{k}-{i}" for i in range(15)] for k in range(3)]
    threads = [threading.Thread(target=_pipeline, args=(listener, s, acks)) for s in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(acks) == 45
    assert all(_msa(ack) == ("AA", control) for control, ack in acks.items())
    assert ResultEntry.objects.count() == 45
    assert HL7Message.objects.filter(status="applied").count() == 45
    assert sum(batches) == 45 and max(batches) > 1  # fewer commits than messages


def test_an_ack_comes_only_after_its_message_is_committed(
    listener: tuple[str, int], batches: list[int]
) -> None:
    """R5.8: what was acknowledged is in the database for anyone else to read."""
    with socket.create_connection(listener) as sock:
        sock.settimeout(60)
        for i in range(5):
            control = f"C-{i}"
            sock.sendall(hl7v2.frame(_potassium(control)))
            buffer = bytearray()
            while not (got := hl7v2.frames(buffer)):
                buffer.extend(sock.recv(65536))
            assert _msa(got[0]) == ("AA", control)
            # This thread's own connection, not the listener's: the row is committed.
            assert HL7Message.objects.filter(control_id=control, status="applied").exists()


def _kill_bench(
    database_url: str, messages: int, kill_at: int, folder: Path, env: dict[str, str]
) -> None:
    """``bench/clinical_bench.py kill``: kill -9 of the listener mid-stream, a restart, and a
    resend of what had no ACK; it must report every message stored once."""
    extra = ["--recreate-database"] if database_url else []
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "clinical_bench.py"),
            "kill",
            "--database-url",
            database_url,
            *extra,
            "--messages",
            str(messages),
            "--kill-at",
            str(kill_at),
            "--window",
            "8",
            "--data-dir",
            str(folder),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(killed)" in done.stdout and "**0 lost, 0 doubled**" in done.stdout


def test_sigkill_of_the_listener_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    """Issue 11: kill -9 mid-stream, restart, resend what had no ACK: each stored once."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    _kill_bench("", 90, 30, tmp_path / "kill", env)


def test_sigkill_of_a_listener_of_two_processes_loses_nothing_and_leaves_no_copy(
    tmp_path: Path,
) -> None:
    """Issue 11, ``--processes`` (PostgreSQL): two processes share the port; kill -9 of the
    listener stops both (the bench fails if anything still answers on the port), and after
    the restart and resend each message is stored once."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one listener process")
    url = os.environ["DATABASE_URL"]
    base = url.rsplit("/", 1)[1].split("?", 1)[0]
    name = f"{base}_hl7kill_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    own = url.rsplit("/", 1)[0] + "/" + name
    _kill_bench(own, 120, 40, tmp_path / "kill", {**os.environ, "QLOOP_HL7_PROCESSES": "2"})


def test_a_listener_process_leaves_a_new_connection_to_a_less_busy_one() -> None:
    """``--processes``: a copy holding more connections than another waits a moment before it
    takes a new one; SQLite always runs one process."""
    from django.db import connection

    from qloop.clinical.management.commands.hl7_listen import Peers, processes_wanted

    peers = Peers(2)
    assert not peers.should_wait()
    peers.add(1)
    assert peers.should_wait()
    peers.slots[1] = 1
    assert not peers.should_wait()
    peers.add(-1)
    assert not peers.should_wait()
    if connection.vendor == "sqlite":
        assert processes_wanted(4) == 1
    else:
        assert processes_wanted(3) == 3
        assert processes_wanted() >= 1


@pytest.mark.django_db(transaction=True)
def test_the_same_message_in_two_concurrent_batches_is_applied_once(
    hospital: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11, two writers (PostgreSQL): both batches find the message new, both insert it;
    the unique constraint makes the second wait for the first commit and fail, and that batch,
    taken again message by message, answers it as a repeat: one row, two AA with its MSH-10."""
    from django.db import connection

    from qloop.org import trail

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer: two batches never run at once")
    both_checked = threading.Barrier(2, timeout=30)
    real = hl7v2._Batch._already_applied

    def checked(self: Any, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str], Any]:
        found = real(self, keys)
        both_checked.wait()  # neither has written yet: each sees the message as new
        return found

    monkeypatch.setattr(hl7v2._Batch, "_already_applied", checked)
    same = _potassium("RACE-1")
    acks: list[bytes] = []

    def writer(other: str) -> None:
        try:
            acks.extend(hl7v2.receive_many([same, _potassium(other)], transport="mllp"))
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(f"RACE-{n}",)) for n in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(_msa(a) for a in acks) == [
        ("AA", "RACE-1"),
        ("AA", "RACE-1"),
        ("AA", "RACE-2"),
        ("AA", "RACE-3"),
    ]
    applied = HL7Message.objects.filter(status="applied")
    assert sorted(applied.values_list("control_id", flat=True)) == ["RACE-1", "RACE-2", "RACE-3"]
    assert ResultEntry.objects.count() == 3 and ResultVersion.objects.count() == 3
    assert all(report.ok for report in trail.verify())


def test_two_writers_answer_every_connection_in_order_and_apply_repeats_once(
    transactional_db: Any, hospital: dict[str, Any], batches: list[int]
) -> None:
    """Issue 11: with two writer threads (PostgreSQL; SQLite keeps one), each connection
    gets its ACKs in the order it sent, and the same messages sent on four connections at once
    are stored once each."""
    from qloop.org import trail

    server = serve("127.0.0.1", 0, writers=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        controls = [f"W-{i}" for i in range(30)]
        results: list[dict[str, bytes]] = [{} for _ in range(4)]
        orders = [controls, controls[::-1], controls[10:] + controls[:10], controls[::2]]
        threads = [
            threading.Thread(target=_pipeline, args=(server.server_address[:2], o, r))
            for o, r in zip(orders, results, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    for order, got in zip(orders, results, strict=True):
        assert len(got) == len(order)
        assert all(_msa(ack) == ("AA", control) for control, ack in got.items())
    applied = HL7Message.objects.filter(status="applied")
    assert sorted(applied.values_list("control_id", flat=True)) == sorted(controls)
    assert ResultEntry.objects.count() == 30 and ResultVersion.objects.count() == 30
    assert all(report.ok for report in trail.verify())


@pytest.mark.django_db
def test_insert_many_stores_what_bulk_create_stores(hospital: dict[str, Any]) -> None:
    """Issue 11: the listener inserts its messages and entries without Django's query
    compiler (``insert_many``); every column must read back as bulk_create stores it."""
    from qloop.clinical.actions import prepare_result
    from qloop.clinical.models import ClinicalRegister, EntrySource
    from qloop.inserts import insert_many

    register = ClinicalRegister.objects.get(code="lab")
    raws = [_potassium(f"IR-{i}", f"{3.5 + i / 10:.1f}") for i in range(40)]
    raws.append(hl7v2.frames(bytearray(hl7v2.frame(variant(6).encode())))[0])

    def build(prefix: str) -> tuple[list[HL7Message], list[ResultEntry]]:
        messages, entries = [], []
        for i, raw in enumerate(raws):
            msg = HL7Message(
                sender="LIS|HOSP",
                control_id=f"{prefix}-{i}",
                message_type="ORU^R01",
                transport="mllp",
                raw=raw,
                charset="utf-8",
                status="applied",
                ack_code="AA",
                entries=i % 3,
            )
            messages.append(msg)
            for n, data in enumerate(hl7v2.results_of(hl7v2._parse(raw)[0])):
                entry, _found = prepare_result(
                    hl7v2._known(data), register=register, source=EntrySource.HL7
                )
                entry.number = f"{prefix}-{i}-{n}"
                entry.accession = f"{prefix}-{entry.accession}"  # one specimen per copy
                entry.message = msg
                entries.append(entry)
        return messages, entries

    def stored(model: Any, objs: list[Any]) -> list[dict[str, Any]]:
        assert all(obj.pk is not None and not obj._state.adding for obj in objs)
        assert [obj.pk for obj in objs] == sorted(obj.pk for obj in objs)
        skip = {"id", "control_id", "number", "accession", "message_id", "received_at"}
        skip.add("created_at")
        rows = model.objects.filter(pk__in=[o.pk for o in objs]).order_by("pk").values()
        return [{k: v for k, v in row.items() if k not in skip} for row in rows]

    theirs, mine = build("BC"), build("IR")
    HL7Message.objects.bulk_create(theirs[0])
    insert_many(mine[0])
    for entry in theirs[1] + mine[1]:
        entry.message = entry.message  # the message's key, now that it has one
    ResultEntry.objects.bulk_create(theirs[1])
    insert_many(mine[1])
    assert stored(HL7Message, mine[0]) == stored(HL7Message, theirs[0])
    assert stored(ResultEntry, mine[1]) == stored(ResultEntry, theirs[1])
    assert len(mine[1]) > 40
    for a, b in zip(mine[1], theirs[1], strict=True):
        assert a.message.control_id.split("-")[1:] == b.message.control_id.split("-")[1:]
        assert ResultEntry.objects.get(pk=a.pk).message_id == a.message.pk
    assert insert_many([]) == []
