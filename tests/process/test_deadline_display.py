"""What a deadline shows comes from its clock's state, everywhere (X3, issue 12 point 1).

A breach recorded by the sweep is late on the case page, the register, My work, the overdue
filter, the Excel export and the API, even when the sweep ran ahead of this server's wall
clock (``qloop manage sweep --now``); a paused clock shows as paused, a stopped one as met or
late; only a running clock counts down, and a running clock whose time is up but whose breach
is not yet recorded says so without calling it overdue.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from qloop.cases.models import Case
from qloop.org.models import ApiToken, User
from qloop.process import clocks
from qloop.process.models import ClockState, deadline_status
from tests.clocktime import DUE, HOUR, T0, answer_clock

pytestmark = pytest.mark.usefixtures("calendar_days")


def shown(html: str) -> list[tuple[str, str]]:
    """Every deadline on a page as (data-state, text)."""
    return re.findall(
        r'<span class="deadline[^"]*" title="[^"]*" data-state="(\w+)">([^<]*)<', html
    )


def page(client: Client, name: str, *args: Any, **query: str) -> str:
    response = client.get(reverse(name, args=args), query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def breached_ahead(complaint: Case, at: Callable[..., None]) -> Case:
    """The sweep ran as of a time after the due time; the wall clock is back two days before
    it (the scenario of issue 12: "剩余 1 天 23 小时" in green beside a recorded breach)."""
    clocks.sweep(DUE + HOUR)
    at(T0 + HOUR)
    return Case.objects.get(pk=complaint.pk)


def test_a_recorded_breach_is_late_on_every_screen_and_in_the_export(
    breached_ahead: Case, client_for: Callable[[str], Client]
) -> None:
    case = breached_ahead
    assert answer_clock(case).state == ClockState.BREACHED
    assert case.deadline_state == ClockState.BREACHED and case.is_overdue
    cs = client_for("cs")
    with translation.override("zh-hans"):
        for html in (
            page(cs, "case-detail", case.number),
            page(cs, "case-list"),
            page(cs, "case-list", overdue="1"),
            page(cs, "my-work"),
        ):
            states = {state for state, _text in shown(html)}
            assert states == {"late"}, shown(html)
            assert "剩余" not in html
            assert "⚠ 已超时" in html
    assert list(Case.objects.overdue()) == [case]

    sheet = openpyxl.load_workbook(io.BytesIO(cs.get(reverse("case-export")).content)).active
    header, row = list(sheet.iter_rows(values_only=True))
    with translation.override("zh-hans"):
        assert row[header.index(gettext("Overdue"))] == gettext("Yes")


def test_the_api_says_overdue_from_the_breach_record(
    breached_ahead: Case, users: dict[str, User]
) -> None:
    _token, raw = ApiToken.issue(users["cs"], "t")
    response = Client().get(
        f"/api/v1/cases/{breached_ahead.number}",
        headers={"Authorization": f"Bearer {raw}"},
        secure=True,
    )
    assert response.status_code == 200
    assert response.json()["overdue"] is True
    listed = Client().get(
        "/api/v1/cases",
        {"overdue": "true"},
        headers={"Authorization": f"Bearer {raw}"},
        secure=True,
    )
    assert [c["number"] for c in listed.json()["results"]] == [breached_ahead.number]


def test_a_running_clock_past_its_due_time_is_not_overdue_until_the_sweep_records_it(
    complaint: Case, at: Callable[..., None], client_for: Callable[[str], Client]
) -> None:
    at(DUE + HOUR)
    case = Case.objects.get(pk=complaint.pk)
    assert not case.is_overdue
    assert not Case.objects.overdue().exists()
    with translation.override("zh-hans"):
        assert shown(page(client_for("cs"), "case-detail", case.number)) == [("due", "时限已到")]
    clocks.sweep()
    with translation.override("zh-hans"):
        assert shown(page(client_for("cs"), "case-detail", case.number)) == [
            ("late", "⚠ 已超时 1 小时")
        ]


def test_paused_and_stopped_clocks_show_their_state(
    complaint: Case,
    users: dict[str, User],
    at: Callable[..., None],
    client_for: Callable[[str], Client],
) -> None:
    at(T0 + HOUR)
    clocks.pause_clock(complaint, "customer_answer", reason="等待客户寄回样品", actor=users["cs"])
    at(DUE + 24 * HOUR)  # the due time has long passed on the wall clock: still paused
    clocks.sweep()
    cs = client_for("cs")
    with translation.override("zh-hans"):
        assert shown(page(cs, "case-detail", complaint.number)) == [("paused", "已暂停")]
        assert shown(page(cs, "case-list")) == [("paused", "已暂停")]
    assert not Case.objects.get(pk=complaint.pk).is_overdue

    clocks.resume_clock(complaint, "customer_answer", actor=users["cs"])
    clocks.stop_clock(complaint, "customer_answer")
    with translation.override("zh-hans"):
        assert shown(page(cs, "case-detail", complaint.number)) == [("met", "按时完成")]


def test_a_breach_shows_late_whatever_the_due_time_says() -> None:
    """The one reading of a clock's state: a breached clock is late even with a due time to
    come; a running one counts down; a stopped one after a breach was answered late."""
    status = deadline_status(ClockState.BREACHED, DUE, now=T0)
    assert status is not None and status.kind == "late" and status.is_late
    running = deadline_status(ClockState.RUNNING, DUE, started_at=T0, now=T0 + HOUR)
    assert running is not None and running.kind == "ok" and running.seconds == 47 * 3600
    near = deadline_status(ClockState.RUNNING, DUE, started_at=T0, now=DUE - HOUR)
    assert near is not None and near.kind == "near"
    stopped = deadline_status(ClockState.STOPPED, DUE, breached=True, now=T0)
    assert stopped is not None and stopped.kind == "late_stop" and stopped.is_late
    assert deadline_status("", None) is None
