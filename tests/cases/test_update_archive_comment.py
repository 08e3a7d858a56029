"""Changing, archiving and commenting on a case; the append-only event trail (X2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import translation

from qloop.cases.actions import add_comment, archive_case, update_case
from qloop.cases.models import Case, Category, Comment, Event
from qloop.cases.queues import my_work_queryset
from qloop.process.engine import take_transition
from tests.conftest import PERSONAS

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The demo roles that manage cases (Role.manages_cases): they may edit and archive any case.
MANAGERS = {"cs", "cs_head", "qa_head", "sales", "admin"}


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages and field labels are compared in English whatever translations exist."""
    with translation.override("en"):
        yield


def state_of(case: Case) -> dict[str, Any]:
    """What a person could see of a case: its fields, product, contact, extra and trail."""
    case = Case.objects.select_related("product", "contact").get(pk=case.pk)
    product, contact = case.product, case.contact
    assert contact is not None
    return {
        "case": (case.title, case.channel, case.severity, case.category_id, case.received_at),
        "product": (product.model, product.quantity, product.symptom, product.serial_number),
        "contact": (contact.name, contact.phone, contact.email),
        "extra": case.extra,
        "archived": (case.archived_at, case.archive_reason),
        "search": case.search_text,
        "events": list(case.events.values_list("verb", flat=True)),
        "comments": case.comments.count(),
    }


def assign(case: Case, handler: str, users: dict[str, Any]) -> Case:
    return take_transition(case, "assign", {"handler": handler}, actor=users["cs_head"])


# update_case ------------------------------------------------------------------------------


def test_an_edit_writes_one_changed_event_listing_each_field_with_old_and_new_value(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """X2: the register shows who changed what from what to what, in one entry per edit."""
    case = make_case(extra={"purchase_channel": "直销"})
    events_before = case.events.count()

    update_case(
        case,
        {
            "title": "离心泵机械密封漏水（复核）",
            "severity": "major",
            "product.model": "QL-CP65",
            "product.quantity": 3,
            "contact.phone": "13911112222",
            "extra": {"purchase_channel": "经销商", "delivery_date": "2026-10-15"},
        },
        actor=users["cs"],
        reason="客户来电更正型号",
    )

    assert case.events.count() == events_before + 1
    event = case.events.get(verb="changed")
    assert event.actor == users["cs"]
    assert event.comment == "客户来电更正型号"
    changes = {c["field"]: (c["old"], c["new"]) for c in event.changes}
    assert changes == {
        "title": ("QL-CP50 机械密封处漏水，每分钟约滴水二十滴。", "离心泵机械密封漏水（复核）"),
        "severity": ("minor", "major"),
        "product.model": ("QL-CP50", "QL-CP65"),
        "product.quantity": (2, 3),
        "contact.phone": ("13800138000", "13911112222"),
        "extra.purchase_channel": ("直销", "经销商"),
        "extra.delivery_date": ("", "2026-10-15"),
    }
    labels = {c["field"]: c["label"] for c in event.changes}
    assert labels["product.model"] == "model"
    assert labels["contact.phone"] == "phone"


def test_an_edit_is_stored_and_found_by_search(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """X2: a corrected model number is what the register shows and finds from then on."""
    case = make_case(title="离心泵故障")
    update_case(
        case, {"product.model": "QL-CP65", "product.symptom": "叶轮卡死"}, actor=users["cs"]
    )
    stored = Case.objects.select_related("product").get(pk=case.pk)
    assert stored.product.model == "QL-CP65"
    assert stored.product.symptom == "叶轮卡死"
    assert list(Case.objects.search("叶轮卡死")) == [stored]
    assert list(Case.objects.search("机械密封")) == []


def test_times_and_categories_are_recorded_as_a_person_reads_them(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """X2: the trail shows the local time and the category's name, not ids or UTC."""
    case = make_case(
        received_at=dt.datetime(2026, 11, 20, 9, 30, tzinfo=SHANGHAI), category_code="1A"
    )
    update_case(
        case,
        {
            "received_at": dt.datetime(2026, 11, 19, 17, 5, tzinfo=SHANGHAI),
            "category": Category.objects.get(code="1B"),
        },
        actor=users["cs"],
    )
    changes = {c["field"]: (c["old"], c["new"]) for c in case.events.get(verb="changed").changes}
    assert changes == {
        "received_at": ("2026-11-20 09:30", "2026-11-19 17:05"),
        "category": ("1A Manufacturing quality", "1B Design defect"),
    }


def test_a_corrected_contact_is_found_on_every_case_of_that_contact(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """R1.2, X2: a returning customer's cases share one contact; a new phone number entered on
    one of them finds all of them."""
    first = make_case(title="第一次投诉")
    second = make_case(title="第二次投诉")
    assert first.contact_id == second.contact_id
    update_case(second, {"contact.phone": "13911112222"}, actor=users["cs"])
    found = set(Case.objects.search("13911112222").values_list("title", flat=True))
    assert found == {"第一次投诉", "第二次投诉"}
    assert not Case.objects.search("13800138000").exists()


def test_an_edit_that_changes_nothing_writes_no_event(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """X2: the trail lists real changes only."""
    case = make_case()
    update_case(
        case, {"product.model": "QL-CP50", "contact.name": "王芳", "extra": {}}, actor=users["cs"]
    )
    assert not case.events.filter(verb="changed").exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_case_managers_may_edit_a_case(
    make_case: Callable[..., Any], users: dict[str, Any], persona: str
) -> None:
    """R1.1, X1: CS, the heads, Supply and Sales and the administrator manage cases; the
    others may read but not change what they did not get to handle."""
    case = make_case()
    before = state_of(case)
    if persona in MANAGERS:
        update_case(case, {"title": "改过的标题"}, actor=users[persona])
        assert Case.objects.get(pk=case.pk).title == "改过的标题"
    else:
        # 403 for who sees the case; 404 for who may not even see it (Production).
        with pytest.raises((PermissionDenied, Http404)):
            update_case(case, {"title": "改过的标题"}, actor=users[persona])
        assert state_of(case) == before


def test_the_cases_handler_may_edit_it_even_without_a_managing_role(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """R1.1: CS names one handler; that person may keep the record up to date."""
    case = assign(make_case(), "prod", users)
    update_case(case, {"product.serial_number": "CP50-2611-00002"}, actor=users["prod"])
    event = case.events.get(verb="changed")
    assert event.actor == users["prod"]
    assert event.changes[0]["new"] == "CP50-2611-00002"
    # Handling one case gives no right to edit, nor to see, another (issue 9.4).
    other = make_case()
    with pytest.raises(Http404):
        update_case(other, {"title": "x"}, actor=users["prod"])


BAD_EDITS: list[Any] = [
    pytest.param({"product.symptom": "  "}, "product.symptom", id="empty-symptom"),
    pytest.param({"number": "QC-2026-999999"}, "number", id="number-is-fixed"),
    pytest.param({"state": "closed"}, "state", id="state-only-by-transition"),
    pytest.param({"extra": {"purchase_channel": "邮购"}}, "purchase_channel", id="bad-extra"),
    pytest.param({"channel": "fax"}, "channel", id="bad-channel"),
    pytest.param({"severity": "apocalyptic"}, "severity", id="bad-severity"),
    pytest.param({"product.quantity": -1}, "product.quantity", id="negative-quantity"),
    pytest.param({"contact.name": " "}, "contact.name", id="no-contact-name"),
    pytest.param({"contact.phone": "", "contact.email": ""}, "contact.phone", id="no-way-to-reach"),
    pytest.param(
        {"received_at": dt.datetime(2099, 1, 1, tzinfo=SHANGHAI)}, "received_at", id="future"
    ),
]


@pytest.mark.parametrize(("changes", "field"), BAD_EDITS)
def test_it_refuses_a_bad_edit_naming_the_field_and_changes_nothing(
    make_case: Callable[..., Any], users: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    """R1.2, X2: an edit is held to the rules of registration; a refused one leaves the case,
    its contact and its trail exactly as they were."""
    case = make_case(extra={"purchase_channel": "直销"})
    before = state_of(case)
    with pytest.raises(ValidationError) as caught:
        update_case(case, {"title": "新标题", **changes}, actor=users["cs"])
    assert field in caught.value.message_dict
    assert state_of(case) == before


def test_an_archived_case_can_no_longer_be_edited(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """X2: what was archived stays as it was archived."""
    case = archive_case(make_case(), "重复登记", actor=users["cs_head"])
    with pytest.raises(PermissionDenied):
        update_case(case, {"title": "x"}, actor=users["admin"])


# archive_case -----------------------------------------------------------------------------


def test_archiving_keeps_the_case_in_the_register_but_out_of_the_queues(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """X2, R3.5: records are archived, never deleted; the archive can be inspected later."""
    case = make_case()
    assert case in my_work_queryset(users["cs"])

    archived = archive_case(case, "  与 QC 重复登记  ", actor=users["cs_head"])

    assert archived.is_archived
    stored = Case.objects.get(pk=case.pk)  # still in the register, same number
    assert stored.number == case.number
    assert stored.archive_reason == "与 QC 重复登记"
    assert stored.archived_by == users["cs_head"]
    assert not Case.objects.live().filter(pk=case.pk).exists()
    assert not Case.objects.open().filter(pk=case.pk).exists()
    assert case not in my_work_queryset(users["cs"])
    assert Case.objects.for_user(users["gm"]).filter(pk=case.pk).exists()
    event = stored.events.get(verb="archived")
    assert (event.actor, event.comment) == (users["cs_head"], "与 QC 重复登记")


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_archiving_needs_a_reason(
    make_case: Callable[..., Any], users: dict[str, Any], reason: str
) -> None:
    """X2: a later inspector must be able to read why a record left the queues."""
    case = make_case()
    before = state_of(case)
    with pytest.raises(ValidationError) as caught:
        archive_case(case, reason, actor=users["cs_head"])
    assert caught.value.message_dict == {"reason": ["Give a reason for archiving."]}
    assert state_of(case) == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_case_managers_may_archive(
    make_case: Callable[..., Any], users: dict[str, Any], persona: str
) -> None:
    """X1: archiving is for the roles that manage cases, not for the handler alone."""
    case = assign(make_case(), "prod", users)
    before = state_of(case)
    if persona in MANAGERS:
        archive_case(case, "重复登记", actor=users[persona])
        assert Case.objects.get(pk=case.pk).is_archived
    else:
        with pytest.raises(PermissionDenied):
            archive_case(case, "重复登记", actor=users[persona])
        assert state_of(case) == before


def test_a_case_is_archived_once(make_case: Callable[..., Any], users: dict[str, Any]) -> None:
    """X2: archiving again neither moves the archive time nor adds to the trail."""
    case = archive_case(make_case(), "重复登记", actor=users["cs"])
    first = Case.objects.get(pk=case.pk).archived_at
    with pytest.raises(PermissionDenied):
        archive_case(case, "再次归档", actor=users["cs_head"])
    stored = Case.objects.get(pk=case.pk)
    assert (stored.archived_at, stored.archive_reason) == (first, "重复登记")
    assert stored.events.filter(verb="archived").count() == 1


# add_comment ------------------------------------------------------------------------------


def test_a_comment_is_kept_and_written_to_the_trail(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """R1.8, X2: people working on a case leave remarks that stay on its record."""
    case = make_case()
    registered_updated_at = Case.objects.get(pk=case.pk).updated_at
    comment = add_comment(case, "  已联系客户，约定周五上门。 ", actor=users["qe"])
    assert Comment.objects.get(pk=comment.pk).body == "已联系客户，约定周五上门。"
    assert comment.author == users["qe"]
    event = case.events.get(verb="commented")
    assert (event.actor, event.comment) == (users["qe"], "已联系客户，约定周五上门。")
    assert Case.objects.get(pk=case.pk).updated_at > registered_updated_at


def test_an_empty_comment_is_refused(make_case: Callable[..., Any], users: dict[str, Any]) -> None:
    """X2: an empty remark is not a record."""
    case = make_case()
    before = state_of(case)
    with pytest.raises(ValidationError) as caught:
        add_comment(case, " \n ", actor=users["cs"])
    assert list(caught.value.message_dict) == ["body"]
    assert state_of(case) == before


def test_an_archived_case_takes_no_comments(
    make_case: Callable[..., Any], users: dict[str, Any]
) -> None:
    """X2: an archived record is closed to additions."""
    case = archive_case(make_case(), "重复登记", actor=users["cs"])
    before = state_of(case)
    with pytest.raises(PermissionDenied):
        add_comment(case, "补充说明", actor=users["cs"])
    assert state_of(case) == before


# The trail is append-only -----------------------------------------------------------------


def test_an_event_cannot_be_changed(make_case: Callable[..., Any]) -> None:
    """X2: the trail is evidence; nobody can rewrite an entry."""
    event = make_case().events.get()
    event.comment = "改写历史"
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    assert Event.objects.get(pk=event.pk).comment == ""


def test_an_event_cannot_be_deleted(make_case: Callable[..., Any]) -> None:
    """X2: nor remove one."""
    event = make_case().events.get()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    assert Event.objects.filter(pk=event.pk).exists()


def test_events_cannot_be_changed_or_deleted_in_bulk(make_case: Callable[..., Any]) -> None:
    """X2: nor through the query API, in bulk."""
    case = make_case()
    with pytest.raises(TypeError, match="append-only"):
        Event.objects.update(comment="x")
    with pytest.raises(TypeError, match="append-only"):
        Event.objects.filter(case=case).update(comment="x")
    with pytest.raises(TypeError, match="append-only"):
        Event.objects.all().delete()
    with pytest.raises(TypeError, match="append-only"):
        Event.objects.filter(case=case).delete()
    event = case.events.get()
    event.comment = "x"
    # bulk_update runs in the caller's transaction; a savepoint keeps the test's usable.
    with pytest.raises(TypeError, match="append-only"), transaction.atomic():
        Event.objects.bulk_update([event], ["comment"])
    assert list(Event.objects.values_list("verb", "comment")) == [("registered", "")]


def test_a_contact_used_by_a_case_cannot_be_deleted(make_case: Callable[..., Any]) -> None:
    """X2: deleting a contact must not take the register entries with it."""
    from django.db.models import ProtectedError

    case = make_case()
    assert case.contact is not None
    with pytest.raises(ProtectedError):
        case.contact.delete()
    assert Case.objects.filter(pk=case.pk).exists()
