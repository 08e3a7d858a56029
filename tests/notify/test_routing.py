"""Who is told, where and when: personal preferences, quiet hours, department robots (X6, X3).

``notify`` writes the bell (``Notification``) and the outbox (``Message``); ``deliver_due``
sends to a real SMTP server and a real HTTP server playing the WeCom robot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from qloop.cases.models import Case
from qloop.notify.actions import notify
from qloop.notify.models import Message, MessagePreference, Notification, Robot
from qloop.notify.outbox import deliver_due
from qloop.org.models import Department, Membership, Role, User
from qloop.process.engine import take_transition
from qloop.process.tasks import create_task
from tests.notify.conftest import HTTPReceiver, SMTPServer

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
TASK = {"number": "QC-2026-000123", "title": "复测同批次产品", "case_title": "机械密封处漏水"}


@pytest.fixture
def mail(smtp_server: SMTPServer) -> Iterator[SMTPServer]:
    with override_settings(
        **smtp_server.email_settings(), DEFAULT_FROM_EMAIL="QLoop <qloop@example.com>"
    ):
        yield smtp_server


def member(username: str, department: str = "PROD", **fields: Any) -> User:
    fields.setdefault("email", f"{username}@example.com")
    user = User.objects.create_user(username, password="x", **fields)
    Membership.objects.create(
        user=user,
        department=Department.objects.get(code=department),
        role=Role.objects.get(code="member"),
    )
    return user


def prefer(user: User, **fields: Any) -> MessagePreference:
    return MessagePreference.objects.create(user=user, **fields)


def bell(kind: str = "task_assigned") -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


def emails(kind: str = "task_assigned") -> list[str]:
    return sorted(
        Message.objects.filter(kind=kind, channel="email").values_list("address", flat=True)
    )


# Preferences -------------------------------------------------------------------------------


def test_each_person_is_told_where_they_chose(users: dict[str, User]) -> None:
    """X6: e-mail turned off → only the bell; the bell turned off → only e-mail; no choice →
    the kind's defaults (a task: both)."""
    only_bell, only_mail, default = member("only_bell"), member("only_mail"), member("default")
    prefer(only_bell, channels={"task_assigned": ["app"]})
    prefer(only_mail, channels={"task_assigned": ["email"]})

    told = notify([only_bell, only_mail, default], kind="task_assigned", data=TASK)

    assert told == 3
    assert bell() == ["default", "only_bell"]
    assert emails() == ["default@example.com", "only_mail@example.com"]


def test_defaults_differ_by_kind(users: dict[str, User]) -> None:
    """X6: a step taken on a case reaches people in the app only; an approval asked of someone
    also by e-mail. A preference for one kind leaves the others at their defaults."""
    person = member("person")
    prefer(person, channels={"task_assigned": ["app"]})
    data = {"number": "QC-2026-000123", "actor": "周建华"}

    notify([person], kind="transition", data=data)
    notify([person], kind="approval_requested", data=data)

    assert bell("transition") == ["person"] and emails("transition") == []
    assert bell("approval_requested") == ["person"]
    assert emails("approval_requested") == ["person@example.com"]


def test_a_person_who_chose_nothing_for_a_kind_gets_nothing(users: dict[str, User]) -> None:
    """X6: both boxes cleared for a kind: neither the bell nor an e-mail."""
    person = member("person")
    prefer(person, channels={"task_assigned": []})

    notify([person], kind="task_assigned", data=TASK)

    assert bell() == [] and emails() == []


def test_the_person_who_acted_is_not_told(
    users: dict[str, User], make_case: Callable[..., Case]
) -> None:
    """X6: the quality engineer gives a task to his own department: the department's other
    member is told, he is not."""
    case = make_case()
    take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    take_transition(case, "forward_to_quality", {"analysis": "需品质部调查"}, actor=users["cs"])
    case.refresh_from_db()

    create_task(case, department="QA", title="抽检同批次产品", actor=users["qe"])

    assert bell() == ["qa_head"]
    assert emails() == ["qa_head@example.com"]


def test_a_person_named_twice_is_told_once(users: dict[str, User]) -> None:
    """X6: a person in two of the addressed groups gets one bell entry and one e-mail."""
    prod = users["prod"]

    told = notify([prod, users["qa_head"], prod], kind="task_assigned", data=TASK)

    assert told == 2
    assert bell() == ["prod", "qa_head"]
    assert emails() == ["prod@example.com", "qa_head@example.com"]


def test_no_email_without_an_address(users: dict[str, User]) -> None:
    """X6: a person without an e-mail address still gets the bell, and the outbox holds no
    message that could never be delivered."""
    person = member("no_address", email="")

    notify([person], kind="task_assigned", data=TASK)

    assert bell() == ["no_address"]
    assert not Message.objects.exists()


# Quiet hours -------------------------------------------------------------------------------


def test_quiet_hours_hold_an_email_until_they_end(users: dict[str, User], mail: SMTPServer) -> None:
    """X6: quiet hours 22:00–07:30. A task given at 23:00 is in the bell at once; the e-mail
    waits until 07:30 the next morning: a run at 07:29 sends nothing, one at 07:30 sends it."""
    person = member("night")
    prefer(person, quiet_from=dt.time(22, 0), quiet_to=dt.time(7, 30))
    evening = dt.datetime(2026, 3, 10, 23, 0, tzinfo=SHANGHAI)
    morning = dt.datetime(2026, 3, 11, 7, 30, tzinfo=SHANGHAI)

    notify([person], kind="task_assigned", data=TASK, at=evening)

    assert bell() == ["night"]
    message = Message.objects.get()
    assert message.due_at == morning
    assert deliver_due(now=morning - dt.timedelta(minutes=1)).sent == 0
    assert mail.messages == []
    assert deliver_due(now=morning).sent == 1
    assert [m["To"] for m in mail.messages] == ["night@example.com"]


@pytest.mark.parametrize(
    ("hour", "minute", "held_until"),
    [
        (6, 0, dt.datetime(2026, 3, 11, 7, 30, tzinfo=SHANGHAI)),  # after midnight: same day
        (21, 59, None),  # before they begin: at once
        (7, 30, None),  # the moment they end: at once
    ],
)
def test_quiet_hours_over_midnight(
    users: dict[str, User], hour: int, minute: int, held_until: dt.datetime | None
) -> None:
    """X6: quiet hours that run over midnight hold only what falls inside them."""
    person = member("night")
    prefer(person, quiet_from=dt.time(22, 0), quiet_to=dt.time(7, 30))
    at = dt.datetime(2026, 3, 11, hour, minute, tzinfo=SHANGHAI)

    notify([person], kind="task_assigned", data=TASK, at=at)

    assert Message.objects.get().due_at == (held_until or at)


def test_an_urgent_message_ignores_quiet_hours(users: dict[str, User], mail: SMTPServer) -> None:
    """X3, X6: a deadline that has passed is urgent and is sent at 23:00 regardless."""
    person = member("night")
    prefer(person, quiet_from=dt.time(22, 0), quiet_to=dt.time(7, 30))
    evening = dt.datetime(2026, 3, 10, 23, 0, tzinfo=SHANGHAI)
    data = {
        "number": "QC-2026-000123",
        "clock": "investigation",
        "due_at": "2026-03-10T22:00:00+08:00",
    }

    notify([person], kind="clock_breached", data=data, urgent=True, at=evening)

    assert Message.objects.get().due_at == evening
    assert deliver_due(now=evening).sent == 1
    (received,) = mail.messages
    assert received["Importance"] == "high"


# Department robots -------------------------------------------------------------------------


@pytest.fixture
def wecom(http_receiver: HTTPReceiver) -> Callable[..., Robot]:
    def make(department: str, **fields: Any) -> Robot:
        return Robot.objects.create(
            name=f"{department} 群机器人",
            channel="wecom",
            url=http_receiver.url(f"/cgi-bin/webhook/send?key={department}"),
            department=Department.objects.get(code=department),
            **fields,
        )

    return make


def test_the_department_robot_gets_one_copy(
    users: dict[str, User],
    wecom: Callable[..., Robot],
    http_receiver: HTTPReceiver,
    mail: SMTPServer,
) -> None:
    """X6: two members of Production are told; Production's WeCom robot posts the message once
    to its group, in the organisation's language; Quality's robot posts nothing."""
    prod_robot, qa_robot = wecom("PROD"), wecom("QA")
    member("prod2")

    notify(
        list(User.objects.filter(memberships__department__code="PROD")),
        kind="task_assigned",
        data=TASK,
    )
    report = deliver_due()

    assert Message.objects.filter(robot=prod_robot).count() == 1
    assert not Message.objects.filter(robot=qa_robot).exists()
    robot_posts = [r for r in http_receiver.requests if r.path == "/cgi-bin/webhook/send"]
    assert [r.query["key"] for r in robot_posts] == ["PROD"]
    content = robot_posts[0].json["markdown"]["content"]
    assert "QC-2026-000123" in content and "复测同批次产品" in content
    assert report.sent == 3
    assert sorted(m["To"] for m in mail.messages) == ["prod2@example.com", "prod@example.com"]


def test_a_robot_gets_only_the_kinds_it_asked_for(
    users: dict[str, User], wecom: Callable[..., Robot]
) -> None:
    """X6: a robot set to deadlines only posts a passed deadline, not a new task."""
    robot = wecom("PROD", kinds=["clock_breached", "clock_escalated"])
    data = {
        "number": "QC-2026-000123",
        "clock": "investigation",
        "due_at": "2026-03-10T22:00:00+08:00",
    }

    notify([users["prod"]], kind="task_assigned", data=TASK)
    notify([users["prod"]], kind="clock_breached", data=data, urgent=True)

    assert list(Message.objects.filter(robot=robot).values_list("kind", flat=True)) == [
        "clock_breached"
    ]


def test_a_switched_off_robot_gets_nothing(
    users: dict[str, User], wecom: Callable[..., Robot]
) -> None:
    wecom("PROD", active=False)

    notify([users["prod"]], kind="task_assigned", data=TASK)

    assert not Message.objects.filter(robot__isnull=False).exists()


def test_robot_quiet_hours_hold_its_post(
    users: dict[str, User], wecom: Callable[..., Robot]
) -> None:
    """X6: a group robot can have quiet hours of its own; urgent posts ignore them."""
    robot = wecom("PROD", quiet_from=dt.time(22, 0), quiet_to=dt.time(7, 30))
    evening = dt.datetime(2026, 3, 10, 23, 0, tzinfo=SHANGHAI)
    data = {
        "number": "QC-2026-000123",
        "clock": "investigation",
        "due_at": "2026-03-10T22:00:00+08:00",
    }

    notify([users["prod"]], kind="task_assigned", data=TASK, at=evening)
    notify([users["prod"]], kind="clock_breached", data=data, urgent=True, at=evening)

    held = dict(Message.objects.filter(robot=robot).values_list("kind", "due_at"))
    assert held == {
        "task_assigned": dt.datetime(2026, 3, 11, 7, 30, tzinfo=SHANGHAI),
        "clock_breached": evening,
    }


# Language ----------------------------------------------------------------------------------


def test_each_person_reads_the_message_in_their_language(
    users: dict[str, User], mail: SMTPServer
) -> None:
    """X6: the e-mail's words follow the reader's language; the bell too."""
    english = member("english", language="en")
    chinese = member("chinese", language="zh-hans")

    notify([english, chinese], kind="task_assigned", data=TASK)
    deliver_due()

    subjects = {m["To"]: m["Subject"] for m in mail.messages}
    assert subjects["english@example.com"] == (
        "QC-2026-000123: new task for your department: 复测同批次产品"
    )
    assert "复测同批次产品" in subjects["chinese@example.com"]


def test_a_chinese_reader_gets_chinese_words(users: dict[str, User], mail: SMTPServer) -> None:
    """X6: the built-in words are translated for the default language, not only the data."""
    chinese = member("chinese", language="zh-hans")

    notify([chinese], kind="task_assigned", data=TASK)
    deliver_due()

    (received,) = mail.messages
    assert received["Subject"] == "QC-2026-000123：本部门有新任务：复测同批次产品"
