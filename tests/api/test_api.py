"""The REST API under /api/v1: tokens, registering, finding, photos, errors, docs."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from qloop.cases.actions import ContactData, ProductData
from qloop.cases.models import Attachment, Case, Contact
from qloop.org.models import ApiToken, User
from tests.conftest import PERSONAS

API = "/api/v1"


def create_token(username: str) -> str:
    out = io.StringIO()
    call_command("token", "create", username, stdout=out)
    return out.getvalue().strip()


class ApiClient:
    """A program using the API with a personal token, as an ERP or a call centre would."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.client.get(API + path, params or {}, headers=self.headers)

    def post(self, path: str, payload: dict[str, Any]) -> Any:
        return self.client.post(
            API + path, payload, content_type="application/json", headers=self.headers
        )

    def upload(self, path: str, files: dict[str, Any]) -> Any:
        return self.client.post(API + path, files, headers=self.headers)


@pytest.fixture
def api_as(users: dict[str, User]) -> Callable[[str], ApiClient]:
    return lambda username: ApiClient(create_token(username))


def complaint(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "kind": "complaint",
        "channel": "phone",
        "received_at": (timezone.now() - dt.timedelta(hours=3)).isoformat(),
        "contact": {
            "name": "王芳",
            "gender": "female",
            "phone": "13800138000",
            "email": "wangfang@example.cn",
            "qq": "12345678",
            "organisation": "苏州恒通水务有限公司",
        },
        "product": {
            "specification": "50-160, 7.5kW",
            "model": "QL-CP50",
            "quantity": 2,
            "serial_number": "CP50-2611-00001",
        },
        "symptom": "机械密封处漏水，每分钟约滴水二十滴。",
        "current_status": "降负荷运行。",
        "extra": {"purchase_channel": "经销商", "delivery_date": "2025-12-01"},
    }
    payload.update(overrides)
    return payload


def assert_error(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    """Every error is JSON with a message a person can read, naming the field at fault."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body
        assert field in body["detail"]
        assert all(e["message"] for e in body["errors"])
    return body


# Tokens -----------------------------------------------------------------------------------------


def all_stored_text() -> str:
    """Every value in every table, to prove a secret was never written down."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.extend(str(v) for row in cursor.fetchall() for v in row)
    return "\n".join(chunks)


def test_token_command_prints_a_token_that_works_and_is_stored_only_hashed(
    users: dict[str, User],
) -> None:
    raw = create_token("cs")

    assert re.fullmatch(r"ql_[A-Za-z0-9_-]{40,}", raw)
    token = ApiToken.objects.get(user=users["cs"])
    assert token.revoked_at is None
    assert raw not in all_stored_text()
    response = ApiClient(raw).get("/cases")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_each_token_is_new(users: dict[str, User]) -> None:
    assert create_token("cs") != create_token("cs")
    assert ApiToken.objects.filter(user=users["cs"]).count() == 2


def test_token_command_refuses_an_unknown_or_inactive_person(users: dict[str, User]) -> None:
    with pytest.raises(CommandError, match="nobody"):
        create_token("nobody")
    User.objects.filter(username="prod").update(is_active=False)
    with pytest.raises(CommandError):
        create_token("prod")
    assert not ApiToken.objects.exists()


def test_a_revoked_token_gets_401(
    users: dict[str, User], client_for: Callable[[str], Client]
) -> None:
    raw = create_token("cs")
    api = ApiClient(raw)
    assert api.get("/cases").status_code == 200
    token = ApiToken.objects.get()

    client_for("cs").post(reverse("tokens"), {"revoke": token.pk})

    body = assert_error(api.get("/cases"), 401)
    assert "Bearer" in body["detail"]
    assert_error(api.post("/cases", complaint()), 401)
    assert not Case.objects.exists()


def test_the_token_of_a_person_who_left_gets_401(users: dict[str, User]) -> None:
    api = ApiClient(create_token("cs"))
    User.objects.filter(username="cs").update(is_active=False)
    assert_error(api.get("/cases"), 401)


@pytest.mark.parametrize(
    "header",
    [None, "Bearer ql_not-a-real-token", "Token something", "Bearer "],
    ids=["none", "unknown", "wrong-scheme", "empty"],
)
def test_requests_without_a_valid_token_get_401_as_json(header: str | None, db: Any) -> None:
    headers = {"Authorization": header} if header else {}
    response = Client().get(f"{API}/cases", headers=headers)
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"


def test_the_browser_session_works_for_reading(client_for: Callable[[str], Client]) -> None:
    assert client_for("cs").get(f"{API}/cases").status_code == 200


# Registering -----------------------------------------------------------------------------------


def test_post_case_registers_a_complaint_into_the_cs_queue(
    api_as: Callable[[str], ApiClient], users: dict[str, User]
) -> None:
    response = api_as("sales").post("/cases", complaint())

    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get()
    assert body["number"] == case.number and re.fullmatch(r"QC-\d{4}-\d{6}", case.number)
    assert body["state"] == "new"
    assert body["department"] == "CS"
    assert body["registered_by"] == "sales"
    assert body["contact"]["phone"] == "13800138000"
    assert body["product"]["quantity"] == 2
    assert body["extra"] == {"purchase_channel": "经销商", "delivery_date": "2025-12-01"}
    assert case.registered_by == users["sales"]
    assert case.events.filter(verb="registered").count() == 1


def test_post_case_needs_only_the_essentials(api_as: Callable[[str], ApiClient]) -> None:
    response = api_as("prod").post(
        "/cases",
        {
            "kind": "complaint",
            "channel": "email",
            "contact": {"name": "赵敏", "email": "zm@example.cn"},
            "symptom": "外壳裂纹。",
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "new" and body["department"] == "CS"
    # The registrant sees what they typed in full, even without the right to personal data.
    assert body["contact"]["email"] == "zm@example.cn"


def _without(payload: dict[str, Any], section: str, key: str) -> dict[str, Any]:
    return {**payload, section: {k: v for k, v in payload[section].items() if k != key}}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (_without(complaint(), "contact", "name"), "contact.name"),
        (complaint(contact={**complaint()["contact"], "name": "  "}), "contact.name"),
        (complaint(received_at="yesterday"), "received_at"),
        (
            complaint(received_at=(timezone.now() + dt.timedelta(days=1)).isoformat()),
            "received_at",
        ),
        (complaint(product={**complaint()["product"], "quantity": -1}), "product.quantity"),
        (complaint(product={**complaint()["product"], "quantity": "two"}), "product.quantity"),
        (complaint(extra={"colour": "红"}), "extra.colour"),
        (complaint(extra={"purchase_channel": "团购"}), "extra.purchase_channel"),
        (complaint(extra={"delivery_date": "2025-13-45"}), "extra.delivery_date"),
        (complaint(channel="pigeon"), "channel"),
        (complaint(kind="rumour"), "kind"),
        (complaint(symptom=""), "symptom"),
        (complaint(category="9Z"), "category"),
        (
            complaint(contact={"name": "王芳", "phone": "", "email": "", "qq": ""}),
            "contact.phone",
        ),
        ({k: v for k, v in complaint().items() if k != "symptom"}, "symptom"),
    ],
    ids=[
        "missing-contact-name",
        "blank-contact-name",
        "bad-received-at",
        "future-received-at",
        "negative-quantity",
        "quantity-not-a-number",
        "unknown-extra-field",
        "extra-value-not-a-choice",
        "extra-bad-date",
        "unknown-channel",
        "unknown-kind",
        "empty-symptom",
        "unknown-category",
        "no-way-to-reach-the-contact",
        "missing-symptom",
    ],
)
def test_bad_registration_is_422_naming_the_field_and_registers_nothing(
    payload: dict[str, Any], field: str, api_as: Callable[[str], ApiClient]
) -> None:
    response = api_as("cs").post("/cases", payload)

    assert_error(response, 422, field)
    assert not Case.objects.exists()
    assert not Contact.objects.exists()


def test_a_body_that_is_not_json_is_refused_as_json(api_as: Callable[[str], ApiClient]) -> None:
    api = api_as("cs")
    response = api.client.post(
        f"{API}/cases", "{not json", content_type="application/json", headers=api.headers
    )
    assert_error(response, 400)
    assert not Case.objects.exists()


def test_errors_speak_the_persons_language(
    api_as: Callable[[str], ApiClient], users: dict[str, User]
) -> None:
    User.objects.filter(username="cs").update(language="en")
    api = api_as("cs")
    body = assert_error(api.post("/cases", complaint(extra={"colour": "红"})), 422, "extra.colour")
    assert "There is no such field." in body["detail"]
    # Others get the default language, Simplified Chinese.
    body = assert_error(
        api_as("qe").post("/cases", complaint(extra={"colour": "红"})), 422, "extra.colour"
    )
    assert "该字段不存在。" in body["detail"]


# Reading --------------------------------------------------------------------------------------


@pytest.fixture
def three_cases(make_case: Callable[..., Case]) -> dict[str, Case]:
    now = timezone.now()
    return {
        "seal": make_case(
            product=ProductData(model="QL-CP50", quantity=1),
            received_at=now - dt.timedelta(hours=1),
            category_code="1A",
        ),
        "motor": make_case(
            product=ProductData(model="QL-CP65", quantity=1),
            contact=ContactData(name="陈静", phone="13700001234"),
            symptom="电机过热，运行半小时后跳闸。",
            received_at=now - dt.timedelta(hours=2),
            extra={"purchase_channel": "经销商"},
        ),
        "late": make_case(
            product=ProductData(model="QL-CP65", quantity=4),
            symptom="交货延迟两周。",
            received_at=now - dt.timedelta(days=40),
        ),
    }


def numbers(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [r["number"] for r in response.json()["results"]]


def test_list_filters_like_the_list_page(
    three_cases: dict[str, Case], api_as: Callable[[str], ApiClient]
) -> None:
    api = api_as("cs")
    n = {k: c.number for k, c in three_cases.items()}

    assert numbers(api.get("/cases")) == [n["seal"], n["motor"], n["late"]]
    assert numbers(api.get("/cases", {"model": "QL-CP65"})) == [n["motor"], n["late"]]
    assert numbers(api.get("/cases", {"q": "跳闸"})) == [n["motor"]]
    assert numbers(api.get("/cases", {"category": "1"})) == [n["seal"]]
    assert numbers(api.get("/cases", {"extra.purchase_channel": "经销商"})) == [n["motor"]]
    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert numbers(api.get("/cases", {"received_from": since})) == [n["seal"], n["motor"]]
    assert numbers(api.get("/cases", {"sort": "received_at"})) == [n["late"], n["motor"], n["seal"]]
    assert numbers(api.get("/cases", {"department": "QA"})) == []


def test_list_pages(three_cases: dict[str, Case], api_as: Callable[[str], ApiClient]) -> None:
    api = api_as("cs")

    first = api.get("/cases", {"page_size": 2}).json()
    second = api.get("/cases", {"page_size": 2, "page": 2}).json()

    assert first["count"] == 3 and first["page"] == 1 and first["page_size"] == 2
    assert not first["count_is_capped"]
    assert len(first["results"]) == 2 and len(second["results"]) == 1
    all_numbers = {r["number"] for r in first["results"] + second["results"]}
    assert all_numbers == {c.number for c in three_cases.values()}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"received_from": "last week"}, "received_from"),
        ({"sort": "colour"}, "sort"),
        ({"extra.colour": "红"}, "extra.colour"),
        ({"page": "first"}, "page"),
    ],
)
def test_a_filter_that_cannot_be_understood_is_422_naming_it(
    params: dict[str, str],
    field: str,
    three_cases: dict[str, Case],
    api_as: Callable[[str], ApiClient],
) -> None:
    assert_error(api_as("cs").get("/cases", params), 422, field)


def test_the_list_shows_each_person_only_the_cases_they_may_see(
    make_case: Callable[..., Case], api_as: Callable[[str], ApiClient]
) -> None:
    theirs = make_case(actor="cs")
    own = make_case(actor="prod")

    assert numbers(api_as("prod").get("/cases")) == [own.number]
    assert set(numbers(api_as("qe").get("/cases"))) == {theirs.number, own.number}


def test_get_one_case_with_its_timeline_and_deadlines(
    make_case: Callable[..., Case], api_as: Callable[[str], ApiClient]
) -> None:
    case = make_case()

    response = api_as("cs").get(f"/cases/{case.number}")

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == case.number and body["state"] == "new"
    assert body["contact"]["phone"] == "13800138000"
    assert body["symptom"] == "机械密封处漏水，每分钟约滴水二十滴。"
    assert [e["verb"] for e in body["events"]] == ["registered"]
    assert [c["name"] for c in body["clocks"]] == ["customer_answer"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_get_case_masks_personal_data_for_those_who_may_not_see_it(
    persona: str,
    make_case: Callable[..., Case],
    users: dict[str, User],
    api_as: Callable[[str], ApiClient],
) -> None:
    case = make_case(actor="cs")

    response = api_as(persona).get(f"/cases/{case.number}")

    user = users[persona]
    if not (user.sees_all_cases or case.department_id in user.department_ids):
        assert_error(response, 404)
        return
    contact = response.json()["contact"]
    if user.sees_personal_data:
        assert (contact["phone"], contact["email"]) == ("13800138000", "wangfang@example.cn")
    else:
        assert (contact["phone"], contact["email"]) == ("138****8000", "w***@example.cn")


def test_prod_cannot_get_another_departments_case(
    make_case: Callable[..., Case], api_as: Callable[[str], ApiClient]
) -> None:
    case = make_case(actor="cs")
    api = api_as("prod")

    missing = assert_error(api.get(f"/cases/{case.number}"), 404)
    unknown = assert_error(api.get("/cases/QC-2026-999999"), 404)

    # The answer is the same as for a number that does not exist: numbers don't leak.
    assert missing == unknown


# Photos ----------------------------------------------------------------------------------------


def test_photos_endpoint_attaches_a_good_photo(
    make_case: Callable[..., Case], api_as: Callable[[str], ApiClient], photo: Callable[..., Any]
) -> None:
    case = make_case()

    response = api_as("cs").upload(f"/cases/{case.number}/photos", {"photos": photo("铭牌.jpg")})

    assert response.status_code == 200
    photos = response.json()["photos"]
    assert [(p["name"], p["content_type"]) for p in photos] == [("铭牌.jpg", "image/jpeg")]
    attachment = Attachment.objects.get(case=case)
    assert photos[0]["url"] == reverse("attachment", args=[attachment.token])
    assert case.events.filter(verb="photos_added").count() == 1


def test_photos_endpoint_refuses_a_file_that_is_not_a_photo(
    make_case: Callable[..., Case], api_as: Callable[[str], ApiClient], photo: Callable[..., Any]
) -> None:
    case = make_case()

    response = api_as("cs").upload(
        f"/cases/{case.number}/photos",
        {"photos": [photo("ok.jpg"), photo("virus.jpg", data=b"MZ\x90\x00 not an image")]},
    )

    body = assert_error(response, 422, "photos")
    assert "virus.jpg" in body["detail"]
    assert not Attachment.objects.exists()


def test_photos_endpoint_needs_the_photos_field(
    make_case: Callable[..., Case], api_as: Callable[[str], ApiClient]
) -> None:
    case = make_case()
    assert_error(api_as("cs").upload(f"/cases/{case.number}/photos", {}), 422, "photos")


def test_photos_need_the_right_to_change_the_case(
    make_case: Callable[..., Case], api_as: Callable[[str], ApiClient], photo: Callable[..., Any]
) -> None:
    case = make_case(actor="cs")

    assert_error(api_as("qe").upload(f"/cases/{case.number}/photos", {"photos": photo()}), 403)
    assert_error(api_as("prod").upload(f"/cases/{case.number}/photos", {"photos": photo()}), 404)
    assert not Attachment.objects.exists()


# Schema and docs -------------------------------------------------------------------------------


def test_openapi_schema_lists_the_endpoints_and_the_bearer_scheme(db: Any) -> None:
    response = Client().get(f"{API}/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "QLoop API"
    paths = schema["paths"]
    assert {"post", "get"} <= set(paths[f"{API}/cases"])
    assert "get" in paths[f"{API}/cases/{{number}}"]
    assert "post" in paths[f"{API}/cases/{{number}}/photos"]
    schemes = schema["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["BearerToken"].items()
    created = paths[f"{API}/cases"]["post"]["responses"]
    assert {"201", "401", "403", "404", "422"} <= set(created)
    assert "CaseIn" in schema["components"]["schemas"]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_openapi_schema_is_self_consistent(db: Any) -> None:
    """Every reference resolves and every operation documents its answers and names."""
    schema = Client().get(f"{API}/openapi.json").json()

    components = schema["components"]["schemas"]
    refs = _refs(schema)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in components, ref
    operation_ids = []
    for path, operations in schema["paths"].items():
        assert path.startswith(API + "/")
        for method, operation in operations.items():
            assert method in {"get", "post", "put", "patch", "delete"}
            assert operation["responses"], (method, path)
            operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids))


def test_docs_page_loads_everything_from_this_server(db: Any) -> None:
    """An intranet without internet access still gets working API docs."""
    response = Client().get(f"{API}/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert not re.search(r"https?://", html), "the docs page loads something from outside"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        served = Client().get(asset)
        assert served.status_code == 200, asset
        assert b"".join(served.streaming_content)
