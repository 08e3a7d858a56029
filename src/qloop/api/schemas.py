from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema
from pydantic import BaseModel


class ContactIn(Schema):
    name: str = Field(..., max_length=100)
    gender: str = Field("", max_length=10)
    phone: str = Field("", max_length=30)
    email: str = Field("", max_length=254)
    qq: str = Field("", max_length=20)
    organisation: str = Field("", max_length=200)


class ProductIn(Schema):
    specification: str = Field("", max_length=100)
    model: str = Field("", max_length=100)
    quantity: int | None = Field(None, ge=0, le=2_000_000_000)
    serial_number: str = Field("", max_length=100)


class CaseIn(Schema):
    kind: str = Field(..., examples=["complaint"])
    channel: str = Field(..., examples=["phone"])
    received_at: dt.datetime | None = None
    contact: ContactIn
    product: ProductIn = Field(default_factory=ProductIn)  # type: ignore[arg-type]
    symptom: str = Field(..., max_length=10_000)
    current_status: str = Field("", max_length=10_000)
    title: str = Field("", max_length=200)
    severity: str = "minor"
    category: str = Field("", max_length=20, examples=["1A"])
    extra: dict[str, Any] = Field(default_factory=dict)
    # Feedback only (R2.4): complaint, opinion, suggestion, market_demand, conversation,
    # competitor.
    feedback_type: str = Field("", max_length=20)
    # The fields of the kind's own record (pharmacy and clinical kinds); see docs/api.md.
    detail: dict[str, Any] = Field(default_factory=dict)


class ContactOut(Schema):
    name: str
    gender: str
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
    name: str
    started_at: dt.datetime
    due_at: dt.datetime
    stopped_at: dt.datetime | None
    breached_at: dt.datetime | None
    paused_at: dt.datetime | None = None
    state: str
    unit: str = ""


class ClockActionIn(Schema):
    reason: str = ""


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
    kind: str
    state: str
    state_label: str
    title: str
    received_at: dt.datetime
    channel: str
    severity: str
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


class SignatureIn(Schema):
    password: str = Field(..., max_length=200)
    meaning: str = Field(..., examples=["approved"])


class TransitionIn(BaseModel):
    """The step's inputs by name, plus an e-signature where the step requires one.

    A plain pydantic model: ninja's Schema validates through a wrapper that drops the extra
    fields, and the extra fields are the step's inputs."""

    signature: SignatureIn | None = None

    model_config = {"extra": "allow"}


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
    kind: str
    role: str
    reason: str
    requested_by: str
    requested_at: dt.datetime
    state: str
    decided_by: str | None
    decided_at: dt.datetime | None
    comment: str
    signature: dict[str, Any]


class DecisionIn(Schema):
    decision: str = Field(..., examples=["approve"])
    comment: str = Field("", max_length=10_000)
    signature: SignatureIn | None = None


class TaskIn(Schema):
    department: str
    title: str = Field(..., max_length=200)
    due: dt.date | None = None
    assignee: str | None = None


class TaskDoneIn(Schema):
    result: str = Field(..., max_length=10_000)


class CategoryOut(Schema):
    code: str
    name: str
    names: dict[str, str]
    children: list[CategoryOut] = Field(default_factory=list)


class CaseOut(CaseSummaryOut):
    feedback_type: str | None = None
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
