"""Two deadline sweeps at once never double-alert (issue 9, Evidence; X3, R2.3, R2.8).

Workers on two machines, or a worker and someone running ``qloop sweep``, may sweep at the same
moment. Each reminder, breach and escalation must still happen once: the sweep claims breached
clocks by a conditional update and the clocks it alerts with ``select_for_update(skip_locked)``
in the transaction that writes the messages, so a second sweep skips what the first holds and
finds nothing left once it commits.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from qloop.cases.models import Case, Event
from qloop.notify.models import Message, Notification
from qloop.org import trail
from qloop.process import clocks
from qloop.process.engine import take_transition
from tests.clocktime import DUE, HOUR, T0, local

pytestmark = pytest.mark.usefixtures("calendar_days")

CASES = 12
# Half time and 80 % (reminders), the breach (first rung), a day after (second rung).
MOMENTS = [local(2026, 3, 3, 9, 0), local(2026, 3, 3, 23, 24), DUE + HOUR, DUE + 25 * HOUR]


def sweep_twice_at_once(moment: dt.datetime) -> list[clocks.SweepReport]:
    barrier = threading.Barrier(2)
    reports: list[clocks.SweepReport] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            reports.append(clocks.sweep(moment))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(reports) == 2
    return reports


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_alert_once(
    make_case: Callable[..., Any], users: dict[str, Any], at: Callable[[dt.datetime], None]
) -> None:
    """Twelve complaints, each swept by two sweeps at once at every point of its answer
    clock: every reminder, breach and escalation once, as one sweep alone would send."""
    at(T0)
    cases = []
    for _ in range(CASES):
        case = make_case(received_at=T0)
        cases.append(take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"]))

    totals: Counter[str] = Counter()
    for moment in MOMENTS:
        at(moment)
        for report in sweep_twice_at_once(moment):
            totals["reminders"] += report.reminders
            totals["breached"] += report.breached
            totals["escalations"] += report.escalations

    # Between them, the two sweeps did each thing once per case.
    assert totals == {"reminders": 2 * CASES, "breached": CASES, "escalations": 2 * CASES}
    for case in Case.objects.filter(pk__in=[c.pk for c in cases]):
        assert case.events.filter(verb="clock_breached").count() == 1
        assert case.events.filter(verb="clock_escalated").count() == 1
    bell = Counter(
        Notification.objects.values_list("user__username", "case_id", "kind", "created_at")
    )
    assert bell and max(bell.values()) == 1
    by_kind = Counter(kind for _user, _case, kind, _at in bell)
    assert by_kind["clock_reminder"] == 2 * CASES  # the handler, at half time and at 80 %
    assert by_kind["clock_breached"] >= CASES
    assert by_kind["clock_escalated"] >= CASES
    mail = Counter(
        Message.objects.values_list("user_id", "robot_id", "case_id", "kind", "created_at")
    )
    assert mail and max(mail.values()) == 1
    assert trail.verify_chain(Event).ok
