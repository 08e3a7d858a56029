"""Statements sent together (issue 11, ``qloop.together``): on PostgreSQL the HL7 listener's
batch sends the statements that need no answer of each other at once (psycopg's pipeline
mode) and waits once for them. It must store exactly what one statement at a time stores,
with the same statements in the same order, and a statement that fails among them must leave
nothing half-applied: the batch is answered as before (one by one), the numbers have no gap
and the trail stays whole. On SQLite the blocks are plain and these tests hold the same."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from qloop import together
from qloop.clinical import hl7v2
from qloop.clinical.models import Finding, HL7Message, ResultEntry, ResultVersion
from qloop.org import trail
from qloop.org.models import Sequence
from tests.clinical.test_hl7_batch import _msa, _potassium
from tests.standards import skip_without_standards

skip_without_standards()


def _batch(prefix: str) -> list[bytes]:
    """Plain results, a critical one (a finding), a bad one, a repeat and a correction."""
    first = _potassium(f"{prefix}-1", accession=f"{prefix}-SPEC")
    return [
        first,
        _potassium(f"{prefix}-2", "4.4"),
        _potassium(f"{prefix}-3", "2.3", "LL"),
        b"garbage",
        first,
        _potassium(f"{prefix}-4", "4.8", accession=f"{prefix}-SPEC"),  # corrects -1
        *[_potassium(f"{prefix}-{n}", f"{3.6 + n / 10:.1f}") for n in range(5, 12)],
    ]


def _picture(prefix: str) -> list[Any]:
    """What the batch of ``prefix`` stored, message by message, without its own names."""
    out: list[Any] = []
    for msg in HL7Message.objects.filter(control_id__startswith=f"{prefix}-").order_by("pk"):
        seen: list[Any] = [msg.control_id[len(prefix) :], msg.status, msg.ack_code, msg.entries]
        for entry in ResultEntry.objects.filter(message=msg).order_by("pk"):
            values = {k: v for k, v in entry.values().items() if k not in ("accession", "number")}
            versions = [
                (version, source, reason.replace(prefix, ""))  # the reason names the message
                for version, source, reason in ResultVersion.objects.filter(entry=entry)
                .order_by("version")
                .values_list("version", "source", "reason")
            ]
            seen.append((values, entry.version, versions, entry.findings.count()))
        out.append(seen)
    return out


def _numbers(prefix: str) -> list[int]:
    return sorted(
        int(n.rsplit("-", 1)[1])
        for n in ResultEntry.objects.filter(message__control_id__startswith=f"{prefix}-")
        .values_list("number", flat=True)
        .distinct()
    )


@pytest.mark.django_db
def test_a_batch_sent_together_stores_what_one_statement_at_a_time_stores(
    hospital: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    hl7v2.receive_many(_batch("WU"), transport="mllp")  # reference data read and kept
    with CaptureQueriesContext(connection) as sent:
        acks_together = hl7v2.receive_many(_batch("TG"), transport="mllp")
    with monkeypatch.context() as patch:
        patch.setattr(together, "available", lambda using="default": False)
        with CaptureQueriesContext(connection) as alone:
            acks_alone = hl7v2.receive_many(_batch("AL"), transport="mllp")
    assert [_msa(a)[0] for a in acks_together] == [_msa(a)[0] for a in acks_alone]
    assert [_msa(a)[0] for a in acks_together] == ["AA", "AA", "AA", "AR", "AA", "AA"] + ["AA"] * 7
    assert _picture("TG") == _picture("AL")

    # The same statements in the same order (only their values differ).
    def statements(queries: list[dict[str, str]]) -> list[str]:
        # The statement's head (the logs write the values in); savepoints by their kind.
        return [re.sub(r"\"s\d+_x\d+\"|\d+", "…", q["sql"])[:48] for q in queries]

    assert statements(sent.captured_queries) == statements(alone.captured_queries)
    for prefix in ("TG", "AL"):  # numbers without a gap
        numbers = _numbers(prefix)
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert all(report.ok for report in trail.verify())


@pytest.mark.django_db
def test_a_failure_among_statements_sent_together_leaves_nothing_half_applied(
    hospital: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The messages' insert fails (a message stored meanwhile, as by another listener, which
    the look-up did not see): the numbers sent with it are not taken, the batch is rolled
    back and answered one by one, the repeat as a repeat."""
    before = hl7v2.receive(_potassium("FT-2"), transport="mllp")
    assert _msa(before)[0] == "AA"
    numbers_before = list(Sequence.objects.order_by("key").values_list("key", "last_value"))
    monkeypatch.setattr(hl7v2._Batch, "_send_already_applied", lambda self, keys: dict)
    acks = hl7v2.receive_many(
        [_potassium("FT-1"), _potassium("FT-2"), _potassium("FT-3")], transport="mllp"
    )
    assert [_msa(a) for a in acks] == [("AA", "FT-1"), ("AA", "FT-2"), ("AA", "FT-3")]
    assert HL7Message.objects.filter(control_id="FT-2").count() == 1
    assert ResultEntry.objects.filter(message__control_id__startswith="FT-").count() == 3
    numbers = _numbers("FT")
    assert numbers == list(range(numbers[0], numbers[0] + 3))  # nothing lost to the failure
    taken = dict(Sequence.objects.values_list("key", "last_value"))
    assert sum(taken.values()) - sum(v for _k, v in numbers_before) == 2
    assert all(report.ok for report in trail.verify())


@pytest.mark.django_db
def test_a_failure_in_the_entries_sent_with_the_trail_head_answers_as_one_by_one(
    hospital: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entries' insert, sent with the trail head's lock, fails (a correction the look-up
    did not see): the batch goes one by one, the correction is a second version, no version
    is chained twice and the trail stays whole."""
    assert _msa(hl7v2.receive(_potassium("FE-1", accession="FE-S"), transport="mllp"))[0] == "AA"
    monkeypatch.setattr(hl7v2._Batch, "_send_accessions_stored", staticmethod(lambda ready: set))
    acks = hl7v2.receive_many(
        [_potassium("FE-2"), _potassium("FE-3", "4.9", accession="FE-S"), _potassium("FE-4")],
        transport="mllp",
    )
    assert [_msa(a)[0] for a in acks] == ["AA", "AA", "AA"]
    corrected = ResultEntry.objects.get(accession="FE-S")
    assert (corrected.version, corrected.result_value) == (2, "4.9")
    assert corrected.versions.count() == 2
    assert ResultEntry.objects.filter(message__control_id__startswith="FE-").count() == 3
    assert ResultVersion.objects.count() == 4
    assert not Finding.objects.exists()
    assert all(report.ok for report in trail.verify())


@pytest.mark.django_db
def test_rows_are_read_after_the_block_and_an_error_is_djangos_at_its_end(
    hospital: dict[str, Any],
) -> None:
    """``sent_together``: each statement's rows are there once the block ends; a failing
    statement raises Django's error there, and the caller's atomic block rolls back."""
    with transaction.atomic():
        first, second = connection.cursor(), connection.cursor()
        with together.sent_together():
            first.execute("SELECT 1 + 1")
            second.execute("SELECT 2 + 2")
        assert (first.fetchone(), second.fetchone()) == ((2,), (4,))
        first.close()
        second.close()
    taken = Sequence.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        Sequence.objects.create(key="TOGETHER-1")
        cursor = connection.cursor()
        with together.sent_together():
            cursor.execute(
                'INSERT INTO "org_sequence" ("key", "last_value") VALUES (%s, 1)', ["TOGETHER-2"]
            )
            cursor.execute(
                'INSERT INTO "org_sequence" ("key", "last_value") VALUES (%s, 1)', ["TOGETHER-1"]
            )
        cursor.close()
    assert Sequence.objects.count() == taken
    assert Sequence.objects.filter(key__startswith="TOGETHER").count() == 0
