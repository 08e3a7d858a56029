"""The clinical trails are chained too (issue 9.17, R5.1, R5.5): a register entry's versions
with their correction reasons, and the calls that told a clinician of a finding, with what was
read back. An edit or a deletion made with SQL is found by ``qloop verify-trail``."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from qloop.clinical.actions import correct_result
from qloop.clinical.models import CallAttempt, ResultVersion
from qloop.process.engine import take_transition
from tests.clinical.conftest import result


def verify() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_trail", stdout=out)
    except CommandError as exc:
        return exc.returncode, f"{out.getvalue()}{exc}"
    return 0, out.getvalue()


def test_a_correction_reason_rewritten_with_sql_is_caught(
    hospital: dict[str, Any], report: Callable[..., Any]
) -> None:
    entry, _opened = report(result_value="4.1")
    correct_result(
        entry, result(result_value="2.2"), reason="标本溶血，重新测定", actor=hospital["lab"]
    )
    assert verify()[0] == 0
    second = ResultVersion.objects.get(entry=entry, version=2)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clinical_resultversion SET reason = %s WHERE id = %s", ["录入错误", second.pk]
        )
    code, out = verify()
    assert code == 1
    assert f"clinical.resultversion: BROKEN at entry {second.seq} (id {second.pk})" in out
    assert "its content was changed" in out


def test_a_deleted_first_version_is_caught(
    hospital: dict[str, Any], report: Callable[..., Any]
) -> None:
    entry, _opened = report(result_value="4.1")
    correct_result(entry, result(result_value="2.2"), reason="复测", actor=hospital["lab"])
    first = ResultVersion.objects.get(entry=entry, version=1)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinical_resultversion WHERE id = %s", [first.pk])
    code, out = verify()
    assert code == 1
    assert f"clinical.resultversion: BROKEN at entry {first.seq}" in out
    assert "is missing" in out


def test_a_read_back_changed_with_sql_is_caught(
    hospital: dict[str, Any], report: Callable[..., Any]
) -> None:
    """The read-back is the proof the clinician was told (R5.1); it cannot be made to match
    afterwards."""
    case = report(result_value="2.1")[1][0]
    take_transition(
        case,
        "record_call",
        {
            "receiver_name": "郑国华",
            "receiver_role": "physician",
            "outcome": "not_reached",
        },
        actor=hospital["lab"],
    )
    call = CallAttempt.objects.get(finding_id=case.pk)
    assert verify()[0] == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clinical_callattempt SET outcome = 'confirmed' WHERE id = %s", [call.pk]
        )
    code, out = verify()
    assert code == 1
    assert f"clinical.callattempt: BROKEN at entry {call.seq} (id {call.pk})" in out
