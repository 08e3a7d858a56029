"""The survey summary report's steps are a chained trail (issue 9.17, R2.7): what the report
said at each step, and who signed it, cannot be rewritten in the database unnoticed."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from qloop.reports import actions
from qloop.reports.models import ReportEvent
from tests.reports.surveydata import make_campaigns

pytestmark = pytest.mark.django_db


def verify() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_trail", stdout=out)
    except CommandError as exc:
        return exc.returncode, f"{out.getvalue()}{exc}"
    return 0, out.getvalue()


def test_a_report_step_rewritten_with_sql_is_caught(users: dict[str, Any]) -> None:
    campaigns = make_campaigns(users)
    report = actions.draft_report(campaigns.current.pk, actor=users["sales"])
    actions.update_report(
        report,
        {"analysis": "售后服务满意度高于产品质量。", "improvements": "加强出厂检验。"},
        actor=users["sales"],
    )
    steps = list(ReportEvent.objects.order_by("seq"))
    assert len(steps) >= 2
    assert [s.seq for s in steps] == list(range(1, len(steps) + 1))
    assert verify()[0] == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE reports_reportevent SET actor_id = %s WHERE id = %s",
            [users["gm"].pk, steps[-1].pk],
        )
    code, out = verify()
    assert code == 1
    assert f"reports.reportevent: BROKEN at entry {steps[-1].seq} (id {steps[-1].pk})" in out
