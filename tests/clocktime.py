"""Time for the deadline tests (X3): the wall clock in China, the Monday the sample complaint
comes in, and its answer clock. The fixtures that move the clock live in ``tests/conftest.py``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from qloop.cases.models import Case
from qloop.process.models import Clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
ANSWER = {"answer": "已电话答复客户，正在调查。", "answer_channel": "phone"}


def local(*parts: int) -> dt.datetime:
    """A time on the wall clock in China."""
    return dt.datetime(*parts, tzinfo=SHANGHAI)  # type: ignore[misc]


# Monday 2 March 2026, 09:00: the complaint comes in; its 2-day answer is due Wednesday 09:00.
T0 = local(2026, 3, 2, 9, 0)
DUE = local(2026, 3, 4, 9, 0)


def answer_clock(case: Case) -> Clock:
    return Clock.objects.get(case=case, name="customer_answer")
