"""register_case: one intake for every complaint (R1.1), with the fields of R1.2 (X2, R2.3)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation

from qloop.cases.actions import ContactData, ProductData, register_case
from qloop.cases.choices import FieldType
from qloop.cases.models import Attachment, Case, Category, Contact, Event, ExtraField
from qloop.cases.queues import my_work_queryset
from qloop.org.models import Organisation, Profile, Sequence
from qloop.process.models import Clock, ClockName, ClockState
from tests.conftest import registration

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*parts: int) -> dt.datetime:
    """A time on the wall clock in China."""
    return dt.datetime(*parts, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are compared in English whatever translations are installed."""
    with translation.override("en"):
        yield


def register_snapshot() -> dict[str, Any]:
    """Everything a registration writes, to prove that a refused one wrote nothing."""
    media = settings.MEDIA_ROOT
    files = sorted(
        os.path.relpath(os.path.join(root, name), media)
        for root, _dirs, names in os.walk(media)
        for name in names
    )
    return {
        "cases": Case.objects.count(),
        "contacts": Contact.objects.count(),
        "events": Event.objects.count(),
        "attachments": Attachment.objects.count(),
        "clocks": Clock.objects.count(),
        "sequences": list(Sequence.objects.order_by("key").values_list("key", "last_value")),
        "files": files,
    }


def refused(users: dict[str, Any], reg: Any, photos: list[Any] | None = None) -> dict[str, Any]:
    """Register ``reg``, expect a refusal, and return the errors by field."""
    with pytest.raises(ValidationError) as caught:
        register_case(reg, actor=users["cs"], photos=photos or [])
    return caught.value.message_dict


# Every field of R1.2 ------------------------------------------------------------------------


def test_it_stores_every_registration_field_of_r1_2(users: dict[str, Any], photo: Any) -> None:
    """R1.2: contact (name, gender, phone, e-mail, QQ, organisation), product (specification,
    model, quantity, serial number), symptom, photos, current status, and "etc." fields."""
    received = dt.datetime(2026, 11, 20, 9, 30, tzinfo=SHANGHAI)
    reg = registration(
        channel="email",
        received_at=received,
        contact=ContactData(
            name="王芳",
            gender="female",
            phone="13800138000",
            email="wangfang@example.cn",
            qq="123456789",
            organisation="苏州恒通水务有限公司",
        ),
        product=ProductData(
            specification="50-160, 7.5kW",
            model="QL-CP50",
            quantity=2,
            serial_number="CP50-2611-00001",
        ),
        symptom="  机械密封处漏水，每分钟约滴水二十滴。  ",
        current_status="降负荷运行。",
        title="离心泵机械密封漏水",
        severity="major",
        category_code="1A",
        extra={"purchase_channel": "经销商", "delivery_date": "2026-10-15"},
    )

    case = register_case(reg, actor=users["cs"], photos=[photo("现场.jpg")])

    case = Case.objects.select_related("contact", "product", "category").get(pk=case.pk)
    assert case.kind == "complaint"
    assert case.profile == Profile.MANUFACTURER
    assert case.channel == "email"
    assert case.received_at == received
    assert case.title == "离心泵机械密封漏水"
    assert case.severity == "major"
    assert case.category is not None and case.category.code == "1A"
    assert case.registered_by == users["cs"]
    assert case.extra == {"purchase_channel": "经销商", "delivery_date": "2026-10-15"}
    contact = case.contact
    assert contact is not None
    assert (contact.name, contact.gender, contact.phone, contact.email, contact.qq) == (
        "王芳",
        "female",
        "13800138000",
        "wangfang@example.cn",
        "123456789",
    )
    assert contact.organisation == "苏州恒通水务有限公司"
    product = case.product
    assert (product.specification, product.model, product.quantity, product.serial_number) == (
        "50-160, 7.5kW",
        "QL-CP50",
        2,
        "CP50-2611-00001",
    )
    assert product.symptom == "机械密封处漏水，每分钟约滴水二十滴。"
    assert product.current_status == "降负荷运行。"
    [attachment] = case.attachments.all()
    assert attachment.original_name == "现场.jpg"
    assert attachment.content_type == "image/jpeg"


def test_it_makes_a_title_from_model_and_first_symptom_line_when_none_is_given(
    make_case: Callable[..., Any],
) -> None:
    """X2: every register entry has a title a person can scan in the list."""
    case = make_case(title="", symptom="叶轮磨损严重\n已更换两次")
    assert case.title == "QL-CP50 叶轮磨损严重"


def test_a_complaint_registered_by_anyone_lands_unassigned_in_the_cs_queue(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """R1.1: anyone may register; the record lands in CS's queue; CS assigns a handler."""
    case = make_case(actor="prod")
    assert case.department.code == "CS"
    assert case.handler is None
    assert case.state == "new"
    assert list(my_work_queryset(users["cs"])) == [case]
    assert list(my_work_queryset(users["cs_head"])) == [case]
    # Production registered it but does not hold the CS queue.
    assert list(my_work_queryset(users["prod"])) == []


def test_the_owner_of_a_corrective_plan_finds_it_in_my_work_while_it_is_implemented(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """R1.5: the plan's owner (Production) has the case in My work while the plan is being
    implemented, and not before or after; the badge counts it the same way."""
    from qloop.capa.models import CorrectiveAction

    case = make_case(actor="cs")
    CorrectiveAction.objects.create(case=case, plan="更换供应商", owner=users["prod"])
    for state, expected in (("investigating", []), ("implementing", [case]), ("standardising", [])):
        Case.objects.filter(pk=case.pk).update(state=state)
        assert list(my_work_queryset(users["prod"])) == expected, state
        assert my_work_queryset(users["prod"]).count() == len(expected), state


def test_customer_service_follows_cases_in_corrective_states_until_closed_or_archived(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """R1.7: Customer Service's follow-up list on My work holds the cases in a corrective state,
    oldest change first, and none once closed or archived."""
    from django.utils import timezone

    from qloop.cases.queues import corrective_follow_up

    first, second = make_case(actor="cs"), make_case(actor="cs")
    for state, expected in (
        ("investigating", []),
        ("implementing", [first, second]),
        ("standardising", [first, second]),
        ("closed", []),
    ):
        Case.objects.filter(pk__in=[first.pk, second.pk]).update(state=state)
        Case.objects.filter(pk=second.pk).update(updated_at=timezone.now())
        Case.objects.filter(pk=first.pk).update(updated_at=timezone.now() - dt.timedelta(days=1))
        assert list(corrective_follow_up(users["cs"])) == expected, state
    Case.objects.filter(pk=first.pk).update(state="implementing", archived_at=timezone.now())
    assert list(corrective_follow_up(users["cs"])) == []
    assert list(corrective_follow_up(users["prod"])) == []


def test_feedback_lands_in_the_department_configured_as_its_intake(
    make_case: Callable[..., Any],
) -> None:
    """R2.1, X1: the intake department is configuration (Supply and Sales for feedback)."""
    case = make_case(kind="feedback")
    assert case.department.code == "SALES"
    assert case.number.startswith("FB-")


def test_it_writes_a_registered_event_naming_the_actor_and_the_queue(
    make_case: Callable[..., Any], users: dict[str, Any], photo: Any
) -> None:
    """X2: the register keeps who registered what, when and through which channel."""
    case = make_case(actor="sales", photos=[photo(), photo("b.png", "PNG", "image/png")])
    [event] = case.events.all()
    assert event.verb == "registered"
    assert event.actor == users["sales"]
    assert event.data == {"department": "CS", "channel": "phone", "photos": 2}


# Returning contacts -----------------------------------------------------------------------


def test_a_returning_contact_is_found_by_phone(make_case: Callable[..., Any]) -> None:
    """R1.2: a customer who calls again is the same contact, not a second one."""
    first = make_case()
    second = make_case(contact=ContactData(name="王芳", phone="13800138000"))
    assert second.contact_id == first.contact_id
    assert Contact.objects.count() == 1
    # What the second call did not repeat is kept from the first.
    contact = Contact.objects.get()
    assert contact.email == "wangfang@example.cn"
    assert contact.organisation == "苏州恒通水务有限公司"


def test_a_returning_contact_is_found_by_email_and_gets_the_new_phone(
    make_case: Callable[..., Any],
) -> None:
    """R1.2: found by e-mail; a new phone number given on the second call is remembered."""
    first = make_case()
    second = make_case(
        contact=ContactData(name="王芳", phone="13911112222", email="wangfang@example.cn")
    )
    assert second.contact_id == first.contact_id
    contact = Contact.objects.get()
    assert contact.phone == "13911112222"


def test_a_different_person_with_the_same_phone_is_a_new_contact(
    make_case: Callable[..., Any],
) -> None:
    """R1.2: a colleague calling from the same switchboard number is a different person."""
    first = make_case()
    second = make_case(contact=ContactData(name="李强", phone="13800138000"))
    assert second.contact_id != first.contact_id
    assert Contact.objects.get(pk=first.contact_id).name == "王芳"


def test_a_contact_the_server_knows_is_reused(make_case: Callable[..., Any]) -> None:
    """R1.2: a case raised from another (feedback, a survey) keeps that case's contact; the
    server passes it, never a request (issue 9.1)."""
    first = make_case()
    second = make_case(contact=ContactData(name="王芳", qq="5566778"), known_contact=first.contact)
    assert second.contact_id == first.contact_id
    assert Contact.objects.get().qq == "5566778"


# Bad input is refused and changes nothing -----------------------------------------------


BAD_REGISTRATIONS: list[tuple[str, dict[str, Any], str]] = [
    ("no name", {"contact": ContactData(name="  ", phone="13800138000")}, "contact.name"),
    ("no way to reach", {"contact": ContactData(name="王芳", gender="female")}, "contact.phone"),
    ("empty symptom", {"symptom": " \n "}, "symptom"),
    ("unknown category", {"category_code": "9Z"}, "category"),
    ("bad channel", {"channel": "fax"}, "channel"),
    ("bad severity", {"severity": "apocalyptic"}, "severity"),
    (
        "negative quantity",
        {"product": ProductData(model="QL-CP50", quantity=-1)},
        "product.quantity",
    ),
    ("unknown kind", {"kind": "rumour"}, "kind"),
    ("bad extra choice", {"extra": {"purchase_channel": "邮购"}}, "extra.purchase_channel"),
    ("bad extra date", {"extra": {"delivery_date": "2026-13-45"}}, "extra.delivery_date"),
    ("unknown extra field", {"extra": {"colour": "red"}}, "extra.colour"),
]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [pytest.param(o, f, id=name) for name, o, f in BAD_REGISTRATIONS],
)
def test_it_refuses_bad_input_naming_the_field_and_changes_nothing(
    users: dict[str, Any], make_case: Callable[..., Any], overrides: dict[str, Any], field: str
) -> None:
    """R1.2, X2: bad input gets a message on the field at fault and writes nothing."""
    make_case()  # an earlier case, so that the sequence row exists and must not move
    before = register_snapshot()

    errors = refused(users, registration(**overrides))

    assert field in errors
    assert errors[field] and all(message.strip() for message in errors[field])
    assert register_snapshot() == before


def test_it_refuses_a_future_time_received(users: dict[str, Any]) -> None:
    """X2: a register entry cannot claim to have been received tomorrow."""
    with time_machine.travel(dt.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI), tick=False):
        before = register_snapshot()
        errors = refused(
            users, registration(received_at=dt.datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
        )
        assert errors == {"received_at": ["The time received cannot be in the future."]}
        assert register_snapshot() == before


def test_it_accepts_a_time_received_a_moment_ahead_of_the_server_clock(
    users: dict[str, Any],
) -> None:
    """X2: a PC whose clock runs a minute fast must not block the clerk."""
    now = dt.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(now, tick=False):
        case = register_case(
            registration(received_at=now + dt.timedelta(minutes=1)), actor=users["cs"]
        )
    assert case.received_at == now + dt.timedelta(minutes=1)


def test_a_time_received_without_offset_is_read_as_china_time(users: dict[str, Any]) -> None:
    """X2: "2026-11-20T09:30" from an API client means 09:30 in China, not an error."""
    case = register_case(
        registration(received_at=dt.datetime.fromisoformat("2026-11-20T09:30")),
        actor=users["cs"],
    )
    assert Case.objects.get(pk=case.pk).received_at == local(2026, 11, 20, 9, 30)
    assert Clock.objects.get(case=case).due_at == local(2026, 11, 22, 9, 30)


def test_it_refuses_a_future_time_received_without_offset(users: dict[str, Any]) -> None:
    """X2: a naive time is checked against the clock like any other."""
    with time_machine.travel(local(2026, 11, 25, 10, 0), tick=False):
        errors = refused(
            users, registration(received_at=dt.datetime.fromisoformat("2026-11-25T12:00"))
        )
    assert list(errors) == ["received_at"]


def test_it_reports_every_bad_field_at_once(users: dict[str, Any]) -> None:
    """R1.2: the clerk sees all problems in one go, not one per attempt."""
    errors = refused(
        users,
        registration(contact=ContactData(name=""), symptom="", channel="fax", category_code="x"),
    )
    assert {"contact.name", "contact.phone", "symptom", "channel", "category"} <= set(errors)


def test_it_accepts_a_qq_number_as_the_only_way_to_reach_the_contact(
    users: dict[str, Any],
) -> None:
    """R1.2, X6: QQ is one of the channels people use; it is enough on its own."""
    case = register_case(
        registration(contact=ContactData(name="王芳", qq="123456789")), actor=users["cs"]
    )
    assert case.contact is not None and case.contact.qq == "123456789"


def test_it_refuses_a_missing_required_extra_field(users: dict[str, Any]) -> None:
    """R1.2 "etc.": an organisation can make its own field required."""
    ExtraField.objects.create(
        kind="complaint", code="site", label="安装地点", field_type=FieldType.TEXT, required=True
    )
    before = register_snapshot()
    errors = refused(users, registration())
    assert errors == {"extra.site": ["This field is required."]}
    assert register_snapshot() == before


def test_it_refuses_an_inactive_category(users: dict[str, Any]) -> None:
    """R2.10: a retired category is no longer offered for new cases, from the moment it is
    retired (registration keeps the categories in memory, issue 14)."""
    register_case(registration(category_code="1A"), actor=users["cs"])
    category = Category.objects.get(code="1A")
    category.is_active = False
    category.save()
    assert "category" in refused(users, registration(category_code="1A"))


def test_it_refuses_a_kind_whose_profile_is_not_switched_on(users: dict[str, Any]) -> None:
    """X1: a pharmacy installation does not register manufacturer complaints."""
    org = Organisation.current()
    org.profiles = [Profile.PHARMACY]
    org.save()
    before = register_snapshot()
    errors = refused(users, registration())
    assert errors == {"kind": ["This organisation does not register this kind of case."]}
    assert register_snapshot() == before


def test_it_refuses_a_kind_no_department_receives(users: dict[str, Any]) -> None:
    """R1.1: without an intake department the case would land in nobody's queue."""
    from qloop.org.models import Department

    Department.objects.filter(code="CS").update(intake_kinds=[])
    before = register_snapshot()
    errors = refused(users, registration())
    assert list(errors) == ["kind"]
    assert register_snapshot() == before


def test_bad_photos_refuse_the_whole_registration(users: dict[str, Any], photo: Any) -> None:
    """R1.2: a registration with an unreadable photo is refused as a whole, nothing kept."""
    before = register_snapshot()
    errors = refused(
        users,
        registration(),
        photos=[photo(), photo("notes.jpg", data=b"not a photo at all", content_type="image/jpeg")],
    )
    assert list(errors) == ["photos"]
    assert "notes.jpg" in errors["photos"][0]
    assert register_snapshot() == before


# The customer-answer clock (R2.3) ---------------------------------------------------------


def test_it_starts_the_two_day_customer_answer_clock(users: dict[str, Any]) -> None:
    """R2.3, X3: every complaint gets an answer within 2 (calendar) days of receipt."""
    received = dt.datetime(2026, 11, 20, 16, 0, tzinfo=SHANGHAI)  # a Friday
    case = register_case(registration(received_at=received), actor=users["cs"])

    [clock] = Clock.objects.filter(case=case)
    assert clock.name == ClockName.CUSTOMER_ANSWER
    assert clock.state == ClockState.RUNNING
    assert clock.started_at == received
    assert clock.due_at == dt.datetime(2026, 11, 22, 16, 0, tzinfo=SHANGHAI)
    case.refresh_from_db()
    assert case.next_due_at == clock.due_at


@pytest.mark.parametrize(
    ("received", "due"),
    [
        pytest.param(
            local(2026, 11, 20, 10, 0),  # Friday
            local(2026, 11, 24, 10, 0),  # Tuesday
            id="weekend",
        ),
        pytest.param(
            local(2026, 9, 30, 10, 0),  # the day before National Day
            local(2026, 10, 9, 10, 0),  # 1–7 October off, then 8 and 9 October
            id="national-day",
        ),
        pytest.param(
            local(2026, 10, 9, 10, 0),  # Friday after National Day
            local(2026, 10, 12, 10, 0),  # Saturday 10 October is a swapped working day
            id="swapped-working-saturday",
        ),
        pytest.param(
            local(2026, 2, 13, 15, 0),  # Friday before Spring Festival
            local(2026, 2, 24, 15, 0),  # Saturday 14th works, 15–23 February off
            id="spring-festival",
        ),
        pytest.param(
            local(2026, 10, 3, 11, 0),  # received during the holiday
            local(2026, 10, 9, 11, 0),  # counting starts on the next working day
            id="received-on-a-holiday",
        ),
    ],
)
def test_with_working_days_the_answer_clock_skips_weekends_and_chinese_holidays(
    users: dict[str, Any], settings: Any, received: dt.datetime, due: dt.datetime
) -> None:
    """R2.3: "2 days" may be configured as working days on the Chinese statutory calendar."""
    settings.QLOOP_ANSWER_WORKING_DAYS = True
    with time_machine.travel(received + dt.timedelta(minutes=3), tick=False):
        case = register_case(registration(received_at=received), actor=users["cs"])
    clock = Clock.objects.get(case=case, name=ClockName.CUSTOMER_ANSWER)
    assert clock.due_at == due
    case.refresh_from_db()
    assert case.next_due_at == due


def test_with_calendar_days_the_answer_clock_runs_through_holidays(
    users: dict[str, Any], settings: Any
) -> None:
    """R2.3: the default counts calendar days, holidays included."""
    settings.QLOOP_ANSWER_WORKING_DAYS = False
    received = dt.datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(received, tick=False):
        case = register_case(registration(received_at=received), actor=users["cs"])
    due = Clock.objects.get(case=case).due_at
    assert due == dt.datetime(2026, 10, 2, 10, 0, tzinfo=SHANGHAI)


def test_without_a_time_received_the_clock_starts_now(users: dict[str, Any]) -> None:
    """R2.3: a case registered as it comes in is received now."""
    now = dt.datetime(2026, 11, 25, 14, 5, tzinfo=SHANGHAI)
    with time_machine.travel(now, tick=False):
        case = register_case(registration(received_at=None), actor=users["cs"])
    assert case.received_at == now
    assert Clock.objects.get(case=case).due_at == now + dt.timedelta(days=2)
