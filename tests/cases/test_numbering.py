"""Register numbers: one series per kind and year, no gaps, no duplicates (X2)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from qloop.cases.actions import register_case
from qloop.cases.models import Case
from qloop.org.models import Sequence
from tests.conftest import registration

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Rollback(Exception):
    """Raised to abandon a registration half-way, as a later failing step would."""


def test_numbers_run_per_kind_and_year_with_six_digits(make_case: Callable[..., Any]) -> None:
    """X2: every record has its own number, QC-<year>-<six digits>, one series per kind."""
    received = dt.datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)
    numbers = [
        make_case(received_at=received).number,
        make_case(received_at=received).number,
        make_case(kind="feedback", received_at=received).number,
        make_case(received_at=received).number,
    ]
    assert numbers == ["QC-2026-000001", "QC-2026-000002", "FB-2026-000001", "QC-2026-000003"]


def test_a_new_year_restarts_at_one(make_case: Callable[..., Any]) -> None:
    """X2: numbering restarts each year; last year's series is left as it was."""
    first = make_case(received_at=dt.datetime(2025, 12, 30, 9, 0, tzinfo=SHANGHAI))
    second = make_case(received_at=dt.datetime(2025, 12, 31, 9, 0, tzinfo=SHANGHAI))
    new_year = make_case(received_at=dt.datetime(2026, 1, 2, 9, 0, tzinfo=SHANGHAI))
    late_entry = make_case(received_at=dt.datetime(2025, 12, 31, 17, 0, tzinfo=SHANGHAI))
    assert [first.number, second.number, new_year.number, late_entry.number] == [
        "QC-2025-000001",
        "QC-2025-000002",
        "QC-2026-000001",
        "QC-2025-000003",
    ]


def test_the_year_is_the_year_in_china_not_in_utc(make_case: Callable[..., Any]) -> None:
    """X2: a complaint phoned in at 04:00 on New Year's Day in Suzhou belongs to the new year,
    although it is still 31 December in UTC."""
    received = dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.UTC)  # 2027-01-01 04:00 in Shanghai
    with time_machine.travel(received, tick=False):
        case = make_case(received_at=received)
    assert case.number == "QC-2027-000001"


def test_a_rolled_back_registration_gives_its_number_back(
    make_case: Callable[..., Any],
) -> None:
    """X2: no gaps — a registration that does not complete does not use up a number."""
    make_case()
    with pytest.raises(Rollback), transaction.atomic():
        abandoned = make_case()
        assert abandoned.number.endswith("-000002")
        raise Rollback
    assert not Case.objects.filter(number=abandoned.number).exists()
    assert make_case().number == abandoned.number


def test_a_refused_registration_does_not_use_a_number(make_case: Callable[..., Any]) -> None:
    """X2: bad input is refused before a number is taken."""
    first = make_case()
    with pytest.raises(ValidationError):
        make_case(symptom="")
    assert make_case().number == first.number[:-6] + "000002"
    assert Sequence.objects.get(key=first.number[:7]).last_value == 2


def test_numbers_outside_a_transaction_are_refused() -> None:
    """X2: a number taken outside a transaction could not be given back, so it is refused."""
    with pytest.raises(RuntimeError, match="must run inside a transaction"):
        Sequence.next_value("QC-2026")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("earlier", [0, 1], ids=["first-of-the-year", "series-under-way"])
def test_twenty_registrations_at_the_same_moment_get_twenty_numbers_without_gaps(
    users: dict[str, Any], earlier: int
) -> None:
    """X2: under concurrency every case gets its own number and the series has no gaps.

    Twenty clerks press "register" at the same instant, each in its own thread and database
    connection: for the year's first numbers (the series row does not exist yet) and later.
    """
    for _ in range(earlier):
        register_case(registration(), actor=users["cs"])
    clerks = 20
    barrier = threading.Barrier(clerks, timeout=60)
    numbers: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    actors = [users["cs"], users["cs_head"], users["sales"], users["prod"]]

    def clerk(i: int) -> None:
        try:
            reg = registration(symptom=f"第{i}号并发登记：机械密封漏水")
            barrier.wait()
            case = register_case(reg, actor=actors[i % len(actors)])
            with lock:
                numbers.append(case.number)
        except BaseException as exc:
            with lock:
                failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(clerks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    year = numbers[0][3:7]
    expected = range(earlier + 1, earlier + clerks + 1)
    assert sorted(numbers) == [f"QC-{year}-{n:06d}" for n in expected]
    assert Case.objects.count() == earlier + clerks
    assert Sequence.objects.get(key=f"QC-{year}").last_value == earlier + clerks
