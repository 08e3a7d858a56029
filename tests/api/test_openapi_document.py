"""The OpenAPI document says what the server does (issue 9.14): enums, non-empty and length
rules, the error answers of every operation, unknown fields refused. Read from the running
application, so a field added later without its rules fails here."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from qloop.cases.kinds import KINDS
from qloop.process.definitions import PROCESSES
from qloop.process.models import ClockUnit

TEXT_RULE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        return schema(document, node["$ref"].rsplit("/", 1)[-1])
    return node


def strings_of(document: dict[str, Any], node: dict[str, Any], path: str = "") -> Any:
    """Every string property under a request body's schema, with its path."""
    node = resolve(document, node)
    for option in node.get("anyOf", []):  # a nullable field: its rules sit beside the anyOf
        rules = {k: node[k] for k in ("pattern", "maxLength", "enum") if k in node}
        yield from strings_of(document, {**rules, **resolve(document, option)}, path)
    if node.get("type") == "string":
        yield path, node
    for name, child in node.get("properties", {}).items():
        yield from strings_of(document, child, f"{path}.{name}".strip("."))


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    ]


def test_the_document_has_no_key_twice() -> None:
    """A key twice in one object (200 and "200") is valid for json.loads but not for the YAML
    reader of Swagger UI, which then shows no operation at all on /api/v1/docs."""
    twice: list[str] = []

    def once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        twice.extend(k for k in set(keys) if keys.count(k) > 1)
        return dict(pairs)

    json.loads(Client().get("/api/v1/openapi.json").content, object_pairs_hook=once)
    assert twice == []


def test_every_operation_lists_the_errors_it_may_answer(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        assert {"400", "401", "404", "413", "422"} <= set(map(str, op["responses"])), (method, path)


def test_every_text_of_every_request_body_has_its_length_and_the_text_rule(
    document: dict[str, Any],
) -> None:
    """Issue 9.9, 9.14: no text field without a maxLength (what the column holds) and either a
    list of values or the pattern that forbids control characters."""
    seen = 0
    for method, path, op in operations(document):
        content = op.get("requestBody", {}).get("content", {}).get("application/json")
        if content is None:
            continue
        for name, node in strings_of(document, content["schema"]):
            if node.get("format") in {"date", "date-time"}:
                continue  # parsed as dates; their range is the server's (see security.md)
            seen += 1
            assert "maxLength" in node or "enum" in node, (method, path, name)
            assert "enum" in node or node.get("pattern") in (TEXT_RULE, r"^([0-9]{5,12})?$"), (
                method,
                path,
                name,
            )
    assert seen >= 25


def test_request_bodies_refuse_unknown_fields(document: dict[str, Any]) -> None:
    """Issue 9.14: only a step's body takes fields by name (its inputs)."""
    for name, node in document["components"]["schemas"].items():
        if name.endswith("In") and name != "TransitionIn":
            assert node.get("additionalProperties") is False, name


def test_choices_are_enums_and_required_texts_are_non_empty(document: dict[str, Any]) -> None:
    case_in = schema(document, "CaseIn")["properties"]
    # Every registered kind (the profiles' too), the manufacturer's first.
    assert case_in["kind"]["enum"][:2] == ["complaint", "feedback"]
    assert case_in["kind"]["enum"] == list(KINDS)
    assert "phone" in case_in["channel"]["enum"] and "survey" in case_in["channel"]["enum"]
    assert case_in["severity"]["enum"] == ["minor", "major", "critical"]
    assert "market_demand" in case_in["feedback_type"]["enum"]
    # The symptom is the manufacturer's: other kinds send their own ``detail`` instead.
    assert "detail" in case_in["symptom"]["description"]
    assert schema(document, "ContactIn")["properties"]["name"]["minLength"] == 1
    assert schema(document, "ContactIn")["properties"]["gender"]["enum"] == ["", "male", "female"]
    assert schema(document, "TaskIn")["properties"]["title"]["minLength"] == 1
    assert schema(document, "TaskDoneIn")["properties"]["result"]["minLength"] == 1
    assert schema(document, "DecisionIn")["properties"]["decision"]["enum"] == ["approve", "refuse"]
    # A refusal is signed as a refusal (issue 12 point 5).
    assert schema(document, "SignatureIn")["properties"]["meaning"]["enum"] == [
        "reviewed",
        "approved",
        "verified",
        "refused",
        # A clinician's acknowledgement of a finding (R5.5, issue 11).
        "received",
    ]
    states = {s for p in PROCESSES.values() for s in p.states}
    assert set(schema(document, "CaseSummaryOut")["properties"]["state"]["enum"]) == states
    clock = schema(document, "ClockOut")
    assert clock["properties"]["state"]["enum"] == ["running", "paused", "stopped", "breached"]
    assert clock["properties"]["unit"]["enum"] == ClockUnit.values
    assert {"paused_at", "unit"} <= set(clock["required"])
    assert schema(document, "ApprovalOut")["properties"]["state"]["enum"] == [
        "pending",
        "approved",
        "refused",
    ]


def test_the_registration_documents_its_idempotency_key(document: dict[str, Any]) -> None:
    [header] = [
        p for p in document["paths"]["/api/v1/cases"]["post"]["parameters"] if p["in"] == "header"
    ]
    assert header["name"] == "Idempotency-Key"
    assert header["required"] is False
    assert header["schema"]["anyOf"][0] == {"maxLength": 255, "type": "string"}
