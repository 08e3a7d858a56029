"""Bad input through the pages (issue 9, points 9–11): a control character is refused at its
field in the person's language, whatever the form; dates out of range never fail; a post over
the limit gets a clear 413 page; the exports never fail on a character already stored."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import io
import pkgutil
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from django import forms
from django.test import Client
from django.utils import timezone

import qloop
from qloop.cases.models import Case, Comment, Contact, ProductProblem
from qloop.customers.models import CustomerOrganisation
from qloop.inputs import InputRulesForm
from qloop.process.engine import take_transition
from qloop.process.models import Task
from qloop.surveys import actions as survey_actions
from qloop.surveys.models import Answer
from tests.web.test_views import registration_form


def text(response: Any) -> str:
    return response.content.decode()


def english(client: Client) -> Client:
    client.post("/language/", {"language": "en"})
    return client


def all_form_classes() -> list[type[forms.Form]]:
    for module in pkgutil.walk_packages(qloop.__path__, "qloop."):
        if ".migrations" not in module.name and not module.name.endswith("cli"):
            importlib.import_module(module.name)
    found = []
    pending = list(forms.Form.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("qloop.") and not inspect.isabstract(cls):
            found.append(cls)
    return found


def test_every_form_of_qloop_checks_its_text_and_dates_with_the_shared_rule() -> None:
    """Issue 9.9: one validator for every text input, not copies: every QLoop form is an
    InputRulesForm (the login forms only look a name up, and NUL is refused before it)."""
    classes = {cls.__name__: cls for cls in all_form_classes()}
    assert len(classes) >= 15
    unchecked = {
        name
        for name, cls in classes.items()
        if not issubclass(cls, InputRulesForm) and name not in {"LoginForm", "AdminLoginForm"}
    }
    assert unchecked == set()


# Registration and the case page ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contact_name", "王\x0b芳"),
        ("symptom", "漏水\x01"),
        ("product_model", "QL\x1fCP50"),
        ("contact_organisation", "恒通\x0b水务"),
    ],
)
def test_registration_refuses_a_control_character_at_its_field_in_both_languages(
    client_for: Callable[[str], Client], field: str, value: str
) -> None:
    client = client_for("cs")
    response = client.post("/cases/new/", registration_form(**{field: value}))
    assert response.status_code == 200
    assert "控制字符" in text(response)
    response = english(client).post("/cases/new/", registration_form(**{field: value}))
    assert "contains a control character" in text(response)
    assert f'id="id_{field}"' in text(response)
    assert not Case.objects.exists()
    assert not Contact.objects.exists()


def test_the_edit_form_refuses_a_control_character_and_changes_nothing(
    client_for: Callable[[str], Client], make_case: Callable[..., Case]
) -> None:
    case = make_case()
    client = english(client_for("cs"))
    page = client.get(f"/cases/{case.number}/edit/")
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update(title="新\x0b标题", symptom=case.product.symptom)
    response = client.post(f"/cases/{case.number}/edit/", data)
    assert "contains a control character (U+000B)" in text(response)
    case.refresh_from_db()
    assert case.title != "新\x0b标题"
    assert case.events.filter(verb="changed").count() == 0


def test_a_comment_or_an_archive_reason_with_a_control_character_says_why(
    client_for: Callable[[str], Client], make_case: Callable[..., Case]
) -> None:
    case = make_case()
    client = english(client_for("cs_head"))
    response = client.post(
        f"/cases/{case.number}/comment/", {"body": "已联系\x01客户"}, follow=True
    )
    assert "contains a control character (U+0001)" in text(response)
    response = client.post(f"/cases/{case.number}/archive/", {"reason": "重\x0b复"}, follow=True)
    assert "contains a control character (U+000B)" in text(response)
    case.refresh_from_db()
    assert not Comment.objects.exists()
    assert not case.is_archived


def test_a_steps_input_and_a_task_refuse_a_control_character(
    client_for: Callable[[str], Client], make_case: Callable[..., Case], users: dict[str, Any]
) -> None:
    """Issue 9.9: the step forms on the case page, the task form and the pause form."""
    case = make_case()
    take_transition(case, "assign", {"handler": "cs"}, actor=users["cs_head"])
    cs = english(client_for("cs"))
    response = cs.post(
        f"/cases/{case.number}/transitions/forward_to_quality/", {"analysis": "密封\x0b件"}
    )
    assert response.status_code == 422
    assert "contains a control character (U+000B)" in text(response)
    response = cs.post(
        f"/cases/{case.number}/clocks/customer_answer/pause/", {"reason": "等待\x01"}, follow=True
    )
    assert "contains a control character (U+0001)" in text(response)
    take_transition(case, "forward_to_quality", {"analysis": "密封件"}, actor=users["cs"])
    qe = english(client_for("qe"))
    response = qe.post(
        f"/cases/{case.number}/tasks/", {"department": "PROD", "title": "拆检\x1f"}, follow=True
    )
    assert "contains a control character (U+001F)" in text(response)
    assert not Task.objects.exists()
    case.refresh_from_db()
    assert case.state == "investigating"
    assert case.clocks.get(name="customer_answer").paused_at is None


def test_nul_in_any_form_post_is_a_400_naming_the_field(
    client_for: Callable[[str], Client], make_case: Callable[..., Case]
) -> None:
    """Issue 9.9: NUL, which PostgreSQL can neither store nor compare, is refused before any
    view looks a value up with it."""
    case = make_case()
    client = english(client_for("qe"))
    for path, data, field in [
        ("/cases/new/", registration_form(contact_name="王\x00芳"), "contact_name"),
        (f"/cases/{case.number}/tasks/", {"department": "PROD", "assignee": "p\x00"}, "assignee"),
        (f"/cases/{case.number}/comment/", {"body": "\x00"}, "body"),
    ]:
        response = client.post(path, data)
        assert response.status_code == 400
        assert f"In the field “{field}”" in text(response)
        assert "control character (U+0000)" in text(response)
    assert Case.objects.count() == 1
    assert not Comment.objects.exists()


def test_the_register_refuses_nul_in_a_search_and_clamps_extreme_dates(
    client_for: Callable[[str], Client], make_case: Callable[..., Case]
) -> None:
    """Issue 9.9, 9.10: ``?q=%00`` is a 400 page; 9999-12-31 and 0001-01-01 mean "until the
    end" and "from the start" in the list, the export and both registers."""
    make_case(received_at=timezone.now() - dt.timedelta(days=2))
    client = english(client_for("cs"))
    response = client.get("/cases/", {"q": "漏水\x00"})
    assert response.status_code == 400
    assert "control character (U+0000)" in text(response)
    assert client.get("/cases/QC%00/").status_code == 404

    for params in (
        {"received_from": "0001-01-01", "received_to": "9999-12-31"},
        {"received_from": "9999-12-31"},
        {"received_to": "0001-01-01"},
    ):
        assert client.get("/cases/", params).status_code == 200
        assert client.get("/cases/export.xlsx", params).status_code == 200
    listed = client.get("/cases/", {"received_from": "0001-01-01", "received_to": "9999-12-31"})
    assert listed.context["page"].count == 1
    sales = client_for("sales")
    for register in ("feedback-handling", "complaints-and-feedback"):
        for params in ({"from": "0001-01-01", "to": "9999-12-31"}, {"to": "9999-12-31"}):
            assert sales.get(f"/registers/{register}/", params).status_code == 200
            assert sales.get(f"/registers/{register}.xlsx", params).status_code == 200


def test_a_time_received_before_2000_is_refused_at_its_field(
    client_for: Callable[[str], Client],
) -> None:
    """Issue 9.10: year 1 was a server error, 1900 a case numbered QC-1900-000001."""
    client = english(client_for("cs"))
    for moment in ("0001-01-01T00:00", "1900-01-01T08:00", "1999-12-31T23:59"):
        response = client.post("/cases/new/", registration_form(received_at=moment))
        assert response.status_code == 200
        assert "Enter a date between 2000-01-01 and 2099-12-31." in text(response)
    assert not Case.objects.exists()


# Size ---------------------------------------------------------------------------------------


def test_a_form_post_over_the_limit_gets_a_413_page(
    client_for: Callable[[str], Client], settings: Any
) -> None:
    """Issue 9.11: a page says plainly what is too large, in the person's language."""
    client = client_for("cs")
    big = "漏" * (6 * 1024 * 1024 // 3)
    response = client.post("/cases/new/", registration_form(symptom=big))
    assert response.status_code == 413
    assert "太大" in text(response) or "超过" in text(response)
    response = english(client).post("/cases/new/", registration_form(symptom=big))
    assert response.status_code == 413
    assert "The request is larger than QLoop accepts: at most 5 MB of text" in text(response)
    assert not Case.objects.exists()


def test_a_photo_upload_over_the_total_limit_is_refused_before_it_is_read(
    client_for: Callable[[str], Client], settings: Any, make_case: Callable[..., Case]
) -> None:
    settings.QLOOP_MAX_PHOTOS = 1
    settings.QLOOP_MAX_UPLOAD_MB = 1
    case = make_case()
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("big.jpg", b"\xff" * (7 * 1024 * 1024), "image/jpeg")
    response = client_for("cs").post(f"/cases/{case.number}/photos/", {"photos": photo})
    assert response.status_code == 413
    assert not case.attachments.exists()


# Customers, surveys -------------------------------------------------------------------------


def test_the_customer_forms_refuse_a_control_character(
    client_for: Callable[[str], Client],
) -> None:
    client = english(client_for("sales"))
    response = client.post("/customers/new/", {"name": "恒通\x0b水务", "kind": "company"})
    assert "contains a control character (U+000B)" in text(response)
    assert not CustomerOrganisation.objects.exists()


@pytest.fixture
def public_campaign(users: dict[str, Any]) -> Any:
    sales = users["sales"]
    questionnaire = survey_actions.create_questionnaire("满意度", actor=sales)
    section = survey_actions.add_section(questionnaire, "总体", actor=sales)
    for code, kind in (("quality", "rating"), ("comments", "text")):
        survey_actions.add_question(
            section,
            survey_actions.QuestionData(text=code, type=kind, required=False, code=code),
            actor=sales,
        )
    return survey_actions.create_campaign(
        questionnaire,
        title="2026",
        opens_at=timezone.now() - dt.timedelta(days=1),
        actor=sales,
    )


def test_the_public_survey_page_refuses_a_control_character_in_a_free_text_answer(
    public_campaign: Any,
) -> None:
    """Issue 9.9: the page anyone may answer, in the language the person picked."""
    url = f"/survey/p/{public_campaign.public_token}/"
    client = Client()
    response = client.post(url, {"q_quality": "5", "q_comments": "很好\x0b服务", "lang": "en"})
    assert response.status_code == 422
    assert "contains a control character (U+000B)" in text(response)
    response = client.post(url, {"q_quality": "5", "q_comments": "很好\x0b服务"})
    assert "控制字符" in text(response)
    response = client.post(url, {"q_quality": "5", "respondent_name": "王\x01芳", "lang": "en"})
    assert response.status_code == 422
    assert not Answer.objects.exists()


def test_the_survey_builder_refuses_a_control_character(
    client_for: Callable[[str], Client],
) -> None:
    client = english(client_for("sales"))
    response = client.post("/surveys/questionnaires/new/", {"title": "满意度\x0b调查"}, follow=True)
    assert "contains a control character (U+000B)" in text(response)


# Exports ------------------------------------------------------------------------------------


def test_the_exports_never_fail_on_a_character_already_stored(
    client_for: Callable[[str], Client], make_case: Callable[..., Case]
) -> None:
    """Issue 9.9: one case whose text holds U+000B or U+0001 (stored before these checks, or by
    an import) broke the Excel exports for everyone; the character is now left out of the
    cell, the rest of the text kept."""
    case = make_case()
    Case.objects.filter(pk=case.pk).update(title="标题\x0b第二行")
    ProductProblem.objects.filter(case=case).update(symptom="漏水\x01\x0b每分钟二十滴\ufffe")
    feedback = make_case(kind="feedback", category_code="2G", feedback_type="complaint")
    ProductProblem.objects.filter(case=feedback).update(symptom="态度\x0b不好")
    Contact.objects.filter(pk=case.contact_id).update(organisation="=恒通\x1f水务")

    response = client_for("cs_head").get("/cases/export.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "漏水每分钟二十滴" in values
    assert "'=恒通水务" in values  # still written as text, not as a formula

    sales = client_for("sales")
    for register in ("feedback-handling", "complaints-and-feedback"):
        response = sales.get(f"/registers/{register}.xlsx")
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        assert "态度不好" in [cell.value for row in sheet.iter_rows() for cell in row]
