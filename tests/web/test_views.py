"""The web pages as a person uses them: register, correct, archive, comment, find, export."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import Any

import openpyxl
import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from qloop.cases.actions import ContactData, ProductData
from qloop.cases.models import Case, Comment, Contact, ExtraField
from qloop.org.models import User
from qloop.process.engine import take_transition
from qloop.process.tasks import create_task
from tests.conftest import PERSONAS, image_bytes


@pytest.fixture(autouse=True)
def _fresh_counters() -> Iterator[None]:
    """Rate limits are counted in the cache; no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


def text(response: Any) -> str:
    return response.content.decode()


def local_minute(delta: dt.timedelta = dt.timedelta(0)) -> str:
    return (timezone.localtime() + delta).strftime("%Y-%m-%dT%H:%M")


def registration_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "received_at": local_minute(-dt.timedelta(hours=2)),
        "channel": "phone",
        "contact_name": "李建国",
        "contact_gender": "male",
        "contact_phone": "13912345678",
        "contact_email": "ljg@example.cn",
        "contact_qq": "",
        "contact_organisation": "无锡新区自来水公司",
        "product_specification": "65-200, 15kW",
        "product_model": "QL-CP65",
        "product_quantity": "3",
        "product_serial_number": "CP65-2611-00042",
        "symptom": "泵体异响，振动明显。",
        "current_status": "已停机。",
        "category": "1A",
        "severity": "major",
        "extra__purchase_channel": "经销商",
        "extra__delivery_date": "2025-12-01",
    }
    data.update(overrides)
    return data


# Registration -------------------------------------------------------------------------------


def test_anyone_registers_a_complaint_with_photo_and_extra_fields_into_the_cs_queue(
    client_for: Callable[[str], Client], photo: Callable[..., Any]
) -> None:
    """R1.1: whoever registers it, the complaint lands in Customer Service's queue."""
    response = client_for("prod").post(
        reverse("case-create"), registration_form(photos=photo("泵体.jpg"))
    )

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("case-detail", args=[case.number])
    assert case.department.code == "CS"
    assert case.registered_by is not None and case.registered_by.username == "prod"
    assert case.extra == {"purchase_channel": "经销商", "delivery_date": "2025-12-01"}
    assert case.product.model == "QL-CP65" and case.product.quantity == 3
    assert case.contact is not None and case.contact.phone == "13912345678"
    attachment = case.attachments.get()
    assert attachment.original_name == "泵体.jpg"
    assert attachment.content_type == "image/jpeg"

    page = client_for("cs").get(response["Location"])
    assert case.number in text(page)
    assert "经销商" in text(page)
    assert reverse("attachment-thumbnail", args=[attachment.token]) in text(page)
    assert case.number in text(client_for("cs_head").get(reverse("my-work")))


@pytest.mark.parametrize(
    ("overrides", "field_errors"),
    [
        (
            {"contact_name": "", "symptom": ""},
            {"zh": "此字段为必填项。", "en": "This field is required."},
        ),
        (
            {"contact_qq": "12ab"},
            {"zh": "QQ 号为 5 至 12 位数字。", "en": "A QQ number is 5 to 12 digits."},
        ),
        (
            {"contact_phone": "", "contact_email": "", "contact_qq": ""},
            {
                "zh": "请至少填写电话、电子邮件地址或 QQ 号中的一项。",
                "en": "Enter at least a phone number, an e-mail address or a QQ number.",
            },
        ),
        (
            {"received_at": local_minute(dt.timedelta(days=2))},
            {
                "zh": "接收时间不能晚于当前时间。",
                "en": "The time received cannot be in the future.",
            },
        ),
        (
            {"extra__delivery_date": "2025-13-45"},
            {"zh": "输入一个有效的日期。", "en": "Enter a valid date."},
        ),
    ],
    ids=["required", "qq", "no-way-to-reach", "future", "extra-date"],
)
def test_bad_input_is_explained_in_chinese_then_english_and_saves_nothing(
    overrides: dict[str, Any],
    field_errors: dict[str, str],
    client_for: Callable[[str], Client],
    photo: Callable[..., Any],
) -> None:
    client = client_for("cs")
    data = registration_form(**overrides)

    response = client.post(reverse("case-create"), {**data, "photos": photo()})

    assert response.status_code == 200
    assert "请更正下方标出的字段。目前尚未保存任何内容。" in text(response)
    assert field_errors["zh"] in text(response)
    assert response["Content-Language"] == "zh-hans"

    switched = client.post(reverse("set-language"), {"language": "en", "next": "/cases/new/"})
    assert switched.status_code == 302
    response = client.post(reverse("case-create"), {**data, "photos": photo()})

    assert response.status_code == 200
    assert "Please correct the fields marked below. Nothing has been saved yet." in text(response)
    assert field_errors["en"] in text(response)
    assert not Case.objects.exists()
    assert not Contact.objects.exists()


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_registered(
    client_for: Callable[[str], Client], photo: Callable[..., Any]
) -> None:
    bad = photo("invoice.jpg", data=b"%PDF-1.4 not a photo")
    client = client_for("cs")
    client.post(reverse("set-language"), {"language": "en"})

    response = client.post(reverse("case-create"), registration_form(photos=bad))

    assert response.status_code == 200
    assert "“invoice.jpg” is not a photo QLoop can read" in text(response)
    assert not Case.objects.exists()


# Contact lookup -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_contact_lookup_suggests_a_returning_contact_only_to_those_who_see_personal_data(
    persona: str,
    make_case: Callable[..., Case],
    users: dict[str, User],
    client_for: Callable[[str], Client],
) -> None:
    make_case(contact=ContactData(name="王芳", phone="13800138000", email="wf@example.cn"))

    response = client_for(persona).get(reverse("contact-lookup"), {"contact_phone": "1380013"})

    assert response.status_code == 200
    if users[persona].sees_personal_data:
        assert "王芳" in text(response)
        assert 'data-phone="13800138000"' in text(response)
    else:
        assert "王芳" not in text(response)
        assert "13800138000" not in text(response)


def test_contact_lookup_needs_four_digits_and_matches_the_phone_prefix_only(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    make_case(contact=ContactData(name="王芳", phone="13800138000"))
    make_case(contact=ContactData(name="赵敏", phone="15900001111"))
    client = client_for("cs")

    def names(prefix: str) -> set[str]:
        body = text(client.get(reverse("contact-lookup"), {"contact_phone": prefix}))
        return {n for n in ("王芳", "赵敏") if n in body}

    assert names("138") == set()
    assert names("1380") == {"王芳"}
    assert names("1590000") == {"赵敏"}
    assert names("13900") == set()


def test_choosing_a_suggested_contact_reuses_it_for_the_new_case(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    first = make_case(contact=ContactData(name="王芳", phone="13800138000"))
    assert first.contact is not None

    # The suggestion fills in the fields; the server finds the contact from them (issue 9.1).
    client_for("cs").post(
        reverse("case-create"),
        registration_form(
            contact_name="王芳", contact_phone="13800138000", contact_email=first.contact.email
        ),
    )

    second = Case.objects.exclude(pk=first.pk).get()
    assert second.contact_id == first.contact.pk
    assert Contact.objects.count() == 1


# The case page ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_case_page_shows_the_phone_in_full_only_to_those_who_see_personal_data(
    persona: str,
    make_case: Callable[..., Case],
    users: dict[str, User],
    client_for: Callable[[str], Client],
) -> None:
    case = make_case(actor="cs")
    # Production sees the case once Quality hands it a task (R1.8).
    take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    take_transition(case, "forward_to_quality", {"analysis": "需调查"}, actor=users["cs"])
    case.refresh_from_db()
    create_task(case, department="PROD", title="复测同批次产品", actor=users["qe"])

    response = client_for(persona).get(reverse("case-detail", args=[case.number]))

    assert response.status_code == 200
    if users[persona].sees_personal_data:
        assert "13800138000" in text(response)
        assert "wangfang@example.cn" in text(response)
    else:
        assert "138****8000" in text(response)
        assert "13800138000" not in text(response)
        assert "wangfang@example.cn" not in text(response)
        assert "w***@example.cn" in text(response)


def test_a_registrant_without_personal_data_rights_sees_the_phone_they_typed(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    case = make_case(actor="prod")
    response = client_for("prod").get(reverse("case-detail", args=[case.number]))
    assert "13800138000" in text(response)


# Edit, archive, comment ------------------------------------------------------------------------


def test_edit_writes_one_timeline_event_with_old_and_new_values(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    case = make_case(extra={"purchase_channel": "直销"})
    client = client_for("cs")
    form = client.get(reverse("case-edit", args=[case.number])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["received_at"] = timezone.localtime(case.received_at).strftime("%Y-%m-%dT%H:%M")
    data.update(
        {
            "title": "离心泵机械密封漏水（复核）",
            "product_quantity": "5",
            "extra__purchase_channel": "经销商",
            "reason": "客户来电更正数量",
        }
    )
    before = case.events.count()

    response = client.post(reverse("case-edit", args=[case.number]), data)

    assert response.status_code == 302
    assert case.events.count() == before + 1
    event = case.events.get(verb="changed")
    changes = {c["field"]: (c["old"], c["new"]) for c in event.changes}
    assert changes == {
        "title": (case.title, "离心泵机械密封漏水（复核）"),
        "product.quantity": (2, 5),
        "extra.purchase_channel": ("直销", "经销商"),
    }
    assert event.comment == "客户来电更正数量"
    page = text(client.get(response["Location"]))
    assert "离心泵机械密封漏水（复核）" in page
    assert "客户来电更正数量" in page
    assert f'<del class="text-muted">{case.title}</del>' in page


def test_edit_with_nothing_changed_writes_no_event(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    case = make_case()
    client = client_for("cs")
    form = client.get(reverse("case-edit", args=[case.number])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["received_at"] = timezone.localtime(case.received_at).strftime("%Y-%m-%dT%H:%M")

    client.post(reverse("case-edit", args=[case.number]), data)

    assert not case.events.filter(verb="changed").exists()


def test_archive_with_reason_keeps_the_case_in_the_register_marked_archived(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    case = make_case()
    client = client_for("cs_head")

    response = client.post(reverse("case-archive", args=[case.number]), {"reason": "重复登记"})

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.is_archived and case.archive_reason == "重复登记"
    assert case.events.filter(verb="archived", comment="重复登记").count() == 1
    page = text(client.get(reverse("case-detail", args=[case.number])))
    assert "重复登记" in page
    assert reverse("case-edit", args=[case.number]) not in page
    assert case.number not in text(client.get(reverse("case-list")))
    assert case.number in text(client.get(reverse("case-list"), {"archived": "1"}))


def test_archive_without_reason_is_refused_with_a_message(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    case = make_case()
    client = client_for("cs_head")

    response = client.post(
        reverse("case-archive", args=[case.number]), {"reason": "  "}, follow=True
    )

    assert "请填写存档原因。" in text(response)
    case.refresh_from_db()
    assert not case.is_archived


def test_comment_appears_on_the_case_page_and_timeline(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    case = make_case()
    client = client_for("qe")

    response = client.post(
        reverse("case-comment", args=[case.number]), {"body": "已通知供应商送检"}, follow=True
    )

    assert response.status_code == 200
    assert Comment.objects.get(case=case).body == "已通知供应商送检"
    assert case.events.filter(verb="commented").count() == 1
    assert "已通知供应商送检" in text(response)


def test_an_empty_comment_is_refused_with_a_message(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    case = make_case()

    response = client_for("qe").post(
        reverse("case-comment", args=[case.number]), {"body": ""}, follow=True
    )

    assert "请先填写备注内容。" in text(response)
    assert not Comment.objects.exists()


# The register: filters, search, paging, queries -------------------------------------------------


@pytest.fixture
def three_cases(make_case: Callable[..., Case]) -> dict[str, Case]:
    return {
        "seal": make_case(
            product=ProductData(model="QL-CP50", quantity=1),
            contact=ContactData(name="王芳", phone="13800138000"),
            category_code="1A",
            extra={"purchase_channel": "直销"},
        ),
        "motor": make_case(
            product=ProductData(model="QL-CP65", quantity=1),
            contact=ContactData(name="陈静", phone="13700001234"),
            symptom="电机过热，运行半小时后跳闸。",
            category_code="1F",
            extra={"purchase_channel": "经销商"},
        ),
        "late": make_case(
            product=ProductData(model="QL-CP65", quantity=4),
            contact=ContactData(name="周强", phone="13600005678"),
            symptom="交货延迟两周。",
            category_code="2A",
            received_at=timezone.now() - dt.timedelta(days=40),
        ),
    }


def numbers_on(response: Any, cases: dict[str, Case]) -> set[str]:
    body = text(response)
    return {key for key, case in cases.items() if case.number in body}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"seal", "motor", "late"}),
        ({"model": "ql-cp65"}, {"motor", "late"}),
        ({"q": "陈静"}, {"motor"}),
        ({"q": "跳闸"}, {"motor"}),
        ({"q": "13600005678"}, {"late"}),
        ({"category": "1"}, {"seal", "motor"}),
        ({"category": "2A"}, {"late"}),
        ({"extra.purchase_channel": "经销商"}, {"motor"}),
        (
            {"received_from": (timezone.localdate() - dt.timedelta(days=7)).isoformat()},
            {"seal", "motor"},
        ),
        ({"department": "QA"}, set()),
    ],
    ids=[
        "all",
        "model",
        "contact",
        "symptom",
        "phone",
        "parent-category",
        "category",
        "extra",
        "since",
        "department",
    ],
)
def test_list_filters_and_search(
    query: dict[str, str],
    expected: set[str],
    three_cases: dict[str, Case],
    client_for: Callable[[str], Client],
) -> None:
    response = client_for("cs").get(reverse("case-list"), query)
    assert response.status_code == 200
    assert numbers_on(response, three_cases) == expected


def test_htmx_request_gets_only_the_table(
    three_cases: dict[str, Case], client_for: Callable[[str], Client]
) -> None:
    response = client_for("cs").get(
        reverse("case-list"), {"q": "陈静"}, headers={"HX-Request": "true"}
    )

    body = text(response)
    assert body.lstrip().startswith('<div id="case-table">')
    assert "<html" not in body and 'id="filters"' not in body
    assert numbers_on(response, three_cases) == {"motor"}


def test_a_filter_value_that_cannot_be_understood_is_explained(
    three_cases: dict[str, Case], client_for: Callable[[str], Client]
) -> None:
    response = client_for("cs").get(reverse("case-list"), {"received_from": "yesterday"})

    assert response.status_code == 200
    assert "请按 YYYY-MM-DD 格式输入日期。" in text(response)
    assert numbers_on(response, three_cases) == set()


def test_list_pages_by_25(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    cases = [make_case() for _ in range(27)]
    client = client_for("cs")

    first = client.get(reverse("case-list"))
    second = client.get(reverse("case-list"), {"page": "2"})

    on_first = {c.number for c in cases if c.number in text(first)}
    on_second = {c.number for c in cases if c.number in text(second)}
    assert len(on_first) == 25 and len(on_second) == 2
    assert not on_first & on_second


def _list_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("case-list"))
    assert response.status_code == 200
    return len(queries)


def test_list_page_queries_do_not_grow_with_the_number_of_cases(
    make_case: Callable[..., Case],
    users: dict[str, User],
    client_for: Callable[[str], Client],
    photo: Callable[..., Any],
) -> None:
    for i in range(5):
        make_case(category_code="1A", photos=[photo()] if i == 0 else [])
    client = client_for("qe")
    with_five = _list_queries(client)

    for _ in range(45):
        make_case(category_code="1B")
    Case.objects.filter(pk__in=Case.objects.all()[:10].values("pk")).update(handler=users["cs"])
    with_fifty = _list_queries(client)

    assert with_fifty <= with_five


# Export ------------------------------------------------------------------------------------------


def _open_export(response: Any) -> Any:
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith('attachment; filename="qloop-cases-')
    return openpyxl.load_workbook(io.BytesIO(response.content)).active


def test_export_has_a_column_per_extra_field_and_the_filtered_rows(
    three_cases: dict[str, Case], client_for: Callable[[str], Client]
) -> None:
    sheet = _open_export(client_for("cs").get(reverse("case-export"), {"model": "QL-CP65"}))

    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    for field in ExtraField.objects.filter(kind="complaint", is_active=True):
        assert field.label in header
    by_number = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_number) == {three_cases["motor"].number, three_cases["late"].number}
    purchase = ExtraField.objects.get(code="purchase_channel").label
    assert by_number[three_cases["motor"].number][purchase] == "经销商"


def test_export_writes_a_formula_like_contact_name_as_text(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    name = '=HYPERLINK("http://evil.example/","点我")'
    case = make_case(contact=ContactData(name=name, phone="13800138000"))

    sheet = _open_export(client_for("cs").get(reverse("case-export")))

    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == case.number)
    cell = next(c for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.data_type == "s"
    assert not str(cell.value).startswith("=")
    assert str(cell.value).lstrip("'") == name


def test_export_masks_phones_for_those_who_may_not_see_them(
    make_case: Callable[..., Case], client_for: Callable[[str], Client]
) -> None:
    make_case()

    for persona, shown in (("cs", "13800138000"), ("qe", "138****8000")):
        sheet = _open_export(client_for(persona).get(reverse("case-export")))
        values = [c for row in sheet.iter_rows(min_row=2, values_only=True) for c in row]
        assert shown in values
        if persona == "qe":
            assert "13800138000" not in values


# Attachments ----------------------------------------------------------------------------------


def test_attachment_download_requires_the_right_to_see_the_case(
    make_case: Callable[..., Case], client_for: Callable[[str], Client], photo: Callable[..., Any]
) -> None:
    content = image_bytes("PNG", color="blue")
    case = make_case(actor="cs", photos=[photo("铭牌.png", "PNG", "image/png", content)])
    token = case.attachments.get().token
    url = reverse("attachment", args=[token])

    allowed = client_for("qe").get(url)
    assert allowed.status_code == 200
    assert allowed["Content-Type"] == "image/png"
    assert b"".join(allowed.streaming_content) == content
    thumb = client_for("qe").get(reverse("attachment-thumbnail", args=[token]))
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert b"".join(thumb.streaming_content).startswith(b"\xff\xd8")  # a JPEG

    assert client_for("prod").get(url).status_code == 404
    assert client_for("prod").get(reverse("attachment-thumbnail", args=[token])).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))
    assert client_for("qe").get(reverse("attachment", args=["0" * 32])).status_code == 404


def test_photos_added_on_the_case_page_are_stored_and_a_bad_file_is_explained(
    make_case: Callable[..., Case], client_for: Callable[[str], Client], photo: Callable[..., Any]
) -> None:
    case = make_case()
    client = client_for("cs")
    client.post(reverse("set-language"), {"language": "en"})

    good = client.post(
        reverse("case-photos", args=[case.number]), {"photos": [photo("a.jpg"), photo("b.jpg")]}
    )
    bad = client.post(
        reverse("case-photos", args=[case.number]),
        {"photos": photo("c.jpg", data=b"not an image")},
        follow=True,
    )

    assert good.status_code == 302
    assert sorted(case.attachments.values_list("original_name", flat=True)) == ["a.jpg", "b.jpg"]
    assert "“c.jpg” is not a photo QLoop can read" in text(bad)
    assert case.events.filter(verb="photos_added").count() == 1


# Language ---------------------------------------------------------------------------------------


def test_language_choice_is_remembered_on_the_person(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    assert client_for("cs").get(reverse("case-list"))["Content-Language"] == "zh-hans"

    response = client_for("cs").post(reverse("set-language"), {"language": "en", "next": "/cases/"})

    assert response.status_code == 302 and response["Location"] == "/cases/"
    users["cs"].refresh_from_db()
    assert users["cs"].language == "en"
    # Another browser, no cookie: the person's choice still holds.
    page = client_for("cs").get(reverse("case-list"))
    assert page["Content-Language"] == "en"
    assert '<html lang="en">' in text(page)
    assert "Market quality complaint register" in text(page)
    # Others keep the default.
    assert client_for("qe").get(reverse("case-list"))["Content-Language"] == "zh-hans"


def test_language_switch_refuses_an_outside_next_address_and_unknown_languages(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    client = client_for("cs")

    response = client.post(
        reverse("set-language"), {"language": "klingon", "next": "https://evil.example/"}
    )

    assert response["Location"] == "/"
    users["cs"].refresh_from_db()
    assert users["cs"].language == "zh-hans"


def test_anonymous_language_choice_is_kept_in_a_cookie(db: Any) -> None:
    client = Client()
    client.post(reverse("set-language"), {"language": "en"})
    assert client.get(reverse("login"))["Content-Language"] == "en"


# API tokens in the UI ----------------------------------------------------------------------------


def test_token_page_shows_a_new_token_once_and_revokes_it(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    client = client_for("cs")

    created = client.post(reverse("tokens"), {"name": "ERP 对接"})

    raw = created.context["new_token"]
    assert raw and raw in text(created)
    assert raw not in text(client.get(reverse("tokens")))
    token = users["cs"].api_tokens.get()
    assert token.key_hash != raw and raw not in token.key_hash
    api = Client()
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {raw}"}).status_code == 200

    client.post(reverse("tokens"), {"revoke": token.pk})

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_nobody_revokes_another_persons_token(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    client_for("cs").post(reverse("tokens"), {"name": "ERP"})
    token = users["cs"].api_tokens.get()

    client_for("admin").post(reverse("tokens"), {"revoke": token.pk})

    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize(
    ("value", "status"),
    [("abc", 400), ("", 400), ("1e3", 400), ("99999999999999999999999", 400), ("424242", 404)],
)
def test_revoking_a_token_that_is_not_there_is_a_clear_refusal(
    value: str, status: int, users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    """Issue 9: a non-numeric id was a 500; it is a 4xx with a message, and nothing changes."""
    User.objects.filter(username="cs").update(language="en")
    client = client_for("cs")
    client.post(reverse("tokens"), {"name": "ERP"})

    response = client.post(reverse("tokens"), {"revoke": value})

    assert response.status_code == status
    assert "There is no such token." in text(response)
    assert users["cs"].api_tokens.get().revoked_at is None
