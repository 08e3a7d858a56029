"""The API's input and output schemas: what the OpenAPI document says is what the server does.

Inputs refuse unknown fields (``extra="forbid"``) and every text holding a control character
(``qloop.inputs``, the rule the forms and actions use too); choices are enums, lengths those of
the columns the values are stored in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from qloop import inputs
from qloop.cases.choices import Channel, FeedbackType, Gender, Severity
from qloop.cases.kinds import KINDS
from qloop.process.definitions import PROCESSES, clock_names
from qloop.process.models import ApprovalKind, ApprovalState, ClockState, ClockUnit
from qloop.process.signatures import Meaning

# For the document only (the validators below give the messages): no control character; a
# QQ number is 5 to 12 digits.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"
QQ_PATTERN = r"^([0-9]{5,12})?$"


def refuse_control_characters(value: Any) -> Any:
    """The shared text rule as a pydantic check, with the same message as the forms'."""
    found = inputs.control_character(value)
    if found:
        raise PydanticCustomError(
            "control_character", "{message}", {"message": inputs.control_character_message(found)}
        )
    return value


class OneOf:
    """``Annotated[str, OneOf(values)]``: one of these strings, listed as an enum in the
    document; anything else is a 422 saying which values are allowed. ``values`` may be a
    function, read when asked: kinds, states and clocks are registered by the profiles."""

    def __init__(self, values: Iterable[str] | Callable[[], Iterable[str]]) -> None:
        self._values = values

    @property
    def values(self) -> list[str]:
        given = self._values() if callable(self._values) else self._values
        return list(dict.fromkeys(given))

    def _check(self, value: str) -> str:
        if value not in self.values:
            raise PydanticCustomError(
                "choice", "{choices}", {"choices": ", ".join(v or '""' for v in self.values)}
            )
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.pop("pattern", None)
        json_schema["enum"] = self.values
        return json_schema


def text_field(
    default: Any = "",
    *,
    max_length: int,
    required: bool = False,
    json_schema_extra: dict[str, Any] | None = None,
    **kw: Any,
) -> Any:
    """A text field as long as the column it is stored in; ``required`` ones must not be empty."""
    extra = {"pattern": TEXT_PATTERN, **(json_schema_extra or {})}
    if required:
        return Field(..., min_length=1, max_length=max_length, json_schema_extra=extra, **kw)
    return Field(default, max_length=max_length, json_schema_extra=extra, **kw)


class InputSchema(Schema):
    """The base of every request body: unknown fields and control characters are refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return refuse_control_characters(value)


def all_states() -> list[str]:
    return sorted({state for p in PROCESSES.values() for state in p.states})


def kinds() -> list[str]:
    return list(KINDS)


State = Annotated[str, OneOf(all_states)]


class ContactIn(InputSchema):
    name: str = text_field(max_length=100, required=True)
    gender: Annotated[str, OneOf(Gender.values)] = ""
    phone: str = text_field(max_length=30)
    email: str = text_field(max_length=254)
    qq: str = text_field(max_length=20, json_schema_extra={"pattern": QQ_PATTERN})
    organisation: str = text_field(max_length=200)

    @field_validator("qq")
    @classmethod
    def _qq_digits(cls, value: str) -> str:
        if value and not re.fullmatch(QQ_PATTERN, value):
            raise PydanticCustomError(
                "qq", "{message}", {"message": _("A QQ number is 5 to 12 digits.")}
            )
        return value


class ProductIn(InputSchema):
    specification: str = text_field(max_length=100)
    model: str = text_field(max_length=100)
    quantity: int | None = Field(None, ge=0, le=2_000_000_000)
    serial_number: str = text_field(max_length=100)


class CaseIn(InputSchema):
    kind: Annotated[str, OneOf(kinds)] = Field(..., examples=["complaint"])
    channel: Annotated[str, OneOf(Channel.values)] = Field(..., examples=["phone"])
    received_at: dt.datetime | None = Field(
        None,
        description="Between 2000-01-01 and now; a time without an offset is local time.",
    )
    contact: ContactIn
    product: ProductIn = Field(default_factory=ProductIn)  # type: ignore[arg-type]
    symptom: str = text_field(
        max_length=10_000,
        description="Required for the manufacturer's kinds (complaint, feedback); kinds with "
        "a record of their own (pharmacy, clinical) take none and send `detail` instead.",
    )
    current_status: str = text_field(max_length=10_000)
    title: str = text_field(max_length=200)
    severity: Annotated[str, OneOf(Severity.values)] = "minor"
    category: str = text_field(max_length=20, examples=["1A"])
    extra: dict[str, Any] = Field(default_factory=dict)
    # Feedback only (R2.4); empty: not classified yet.
    feedback_type: Annotated[str, OneOf(["", *FeedbackType.values])] = ""
    # The fields of the kind's own record (pharmacy and clinical kinds); see docs/api.md.
    detail: dict[str, Any] = Field(default_factory=dict)


class ContactOut(Schema):
    name: str
    gender: Annotated[str, OneOf(Gender.values)]
    phone: str
    email: str
    qq: str
    organisation: str


class ProductOut(Schema):
    specification: str
    model: str
    quantity: int | None
    serial_number: str


class ClockOut(Schema):
    name: Annotated[str, OneOf(clock_names)]
    started_at: dt.datetime
    due_at: dt.datetime
    stopped_at: dt.datetime | None
    breached_at: dt.datetime | None
    paused_at: dt.datetime | None
    state: Annotated[str, OneOf(ClockState.values)]
    unit: Annotated[str, OneOf(ClockUnit.values)]


class ClockActionIn(InputSchema):
    reason: str = text_field(max_length=10_000)


class EventOut(Schema):
    at: dt.datetime
    actor: str | None
    verb: str
    changes: list[dict[str, Any]]
    comment: str
    data: dict[str, Any]


class PhotoOut(Schema):
    name: str
    content_type: str
    size: int
    url: str
    thumbnail_url: str


class CaseSummaryOut(Schema):
    number: str
    kind: Annotated[str, OneOf(kinds)]
    state: State
    state_label: str
    title: str
    received_at: dt.datetime
    channel: Annotated[str, OneOf(Channel.values)]
    severity: Annotated[str, OneOf(Severity.values)]
    category: str | None
    department: str
    handler: str | None
    contact_name: str
    product_model: str
    next_due_at: dt.datetime | None
    overdue: bool
    archived: bool


class InputOut(Schema):
    name: str
    label: str
    type: str
    required: bool
    choices: list[dict[str, str]]


class TransitionOut(Schema):
    name: str
    label: str
    target: str
    inputs: list[InputOut]
    signature: str | None
    requires_approval: str | None
    requests_approval: str | None
    blocked: str | None


class SignatureIn(InputSchema):
    password: str = text_field(max_length=200, required=True)
    meaning: Annotated[str, OneOf(Meaning.values)] = Field(..., examples=["approved"])


class TransitionIn(BaseModel):
    """The step's inputs by name, plus an e-signature where the step requires one.

    A plain pydantic model: ninja's Schema validates through a wrapper that drops the extra
    fields, and the extra fields are the step's inputs. The engine checks them, for the web
    and the API alike: unknown ones and control characters are refused there."""

    signature: SignatureIn | None = None

    model_config = ConfigDict(extra="allow")


class TaskOut(Schema):
    id: int
    department: str
    assignee: str | None
    title: str
    due: dt.date | None
    done_at: dt.datetime | None
    result: str


class ApprovalOut(Schema):
    id: int
    case: str
    kind: Annotated[str, OneOf(ApprovalKind.values)]
    role: str
    reason: str
    requested_by: str
    requested_at: dt.datetime
    state: Annotated[str, OneOf(ApprovalState.values)]
    decided_by: str | None
    decided_at: dt.datetime | None
    comment: str
    signature: dict[str, Any]


class DecisionIn(InputSchema):
    decision: Annotated[str, OneOf(["approve", "refuse"])] = Field(..., examples=["approve"])
    comment: str = text_field(max_length=10_000)
    signature: SignatureIn | None = None


class TaskIn(InputSchema):
    department: str = text_field(max_length=30, required=True, examples=["PROD"])
    title: str = text_field(max_length=200, required=True)
    due: dt.date | None = Field(None, description="Between 2000-01-01 and 2099-12-31.")
    assignee: str | None = text_field(None, max_length=150)


class TaskDoneIn(InputSchema):
    result: str = text_field(max_length=10_000, required=True)


class CategoryOut(Schema):
    code: str
    name: str
    names: dict[str, str]
    children: list[CategoryOut] = Field(default_factory=list)


class CaseOut(CaseSummaryOut):
    # Empty: feedback not classified yet; null: not feedback.
    feedback_type: Annotated[str, OneOf(["", *FeedbackType.values])] | None = None
    source_case: str | None = None
    raised_cases: list[str] = Field(default_factory=list)
    contact: ContactOut | None
    product: ProductOut | None
    symptom: str
    current_status: str
    extra: dict[str, Any]
    registered_by: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    archive_reason: str
    clocks: list[ClockOut]
    photos: list[PhotoOut]
    events: list[EventOut]
    process_version: int
    transitions: list[TransitionOut]
    tasks: list[TaskOut]
    approvals: list[ApprovalOut]
    # The kind's own record as the kind shows it to this person (pharmacy, clinical kinds).
    detail: dict[str, Any] | None = None


class CasePageOut(Schema):
    count: int
    count_is_capped: bool
    page: int
    page_size: int
    results: list[CaseSummaryOut]


class ErrorOut(Schema):
    detail: str
    errors: list[dict[str, str]] = Field(default_factory=list)


# Every operation may answer these; 400: a body that is not JSON, 413: a body over the limit
# (QLOOP_MAX_BODY_MB), 422: a parameter or field that breaks a rule, named in ``errors``.
ERROR_RESPONSES: dict[int, Any] = {
    status: ErrorOut for status in (400, 401, 403, 404, 409, 413, 422)
}
