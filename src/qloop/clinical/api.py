"""The clinical profile's part of the REST API under /api/v1 (see docs/api.md).

``POST /api/v1/hl7`` takes one HL7 v2 message as the body and answers with its ACK; the other
operations read the registers, findings and timeliness figures a person may see.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.errors import HttpError

from qloop.api.schemas import ERROR_RESPONSES, ErrorOut, OneOf
from qloop.clinical import hl7v2, timeliness
from qloop.clinical.models import ClinicalRegister
from qloop.org.models import User

router = Router(tags=["clinical"])

HL7_TYPES = ("x-application/hl7-v2+er7", "text/plain")


def can_send_results(user: User) -> bool:
    """Interfaces send results as a person of a department that keeps a register (its
    technologists' account for the LIS/RIS) or as an administrator."""
    from qloop.clinical.actions import can_write_register

    if user.is_superuser or user.administers:
        return True
    return any(can_write_register(user, r) for r in ClinicalRegister.objects.filter(is_active=True))


@router.post(
    "/hl7",
    # The 200 is described below only: listed here too, it would appear twice in the document
    # (as 200 and "200"), which Swagger UI refuses to read.
    response={415: ErrorOut, **ERROR_RESPONSES},
    summary="Send one HL7 v2 message (ORU^R01); the answer is its ACK",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {t: {"schema": {"type": "string"}} for t in HL7_TYPES},
        },
        "responses": {
            "200": {
                "description": "The ACK",
                "content": {"x-application/hl7-v2+er7": {"schema": {"type": "string"}}},
            }
        },
    },
)
def post_hl7(request: HttpRequest) -> HttpResponse:
    """The body is the message (segments separated by CR); MSH-18 names its character set.
    The answer is the ACK: ``AA`` once stored, ``AE``/``AR`` with the reason (kept for
    replay). The same message sent twice is applied once."""
    user: User = request.user  # type: ignore[assignment]
    if not can_send_results(user):
        raise PermissionDenied
    content_type = (request.content_type or "").lower()
    if content_type not in HL7_TYPES:
        raise HttpError(415, "Send the message as x-application/hl7-v2+er7 or text/plain.")
    ack = hl7v2.receive(request.body, transport="http")
    charset = hl7v2.charset_of(ack) if ack.startswith(b"MSH") else "utf-8"
    return HttpResponse(ack, content_type=f"x-application/hl7-v2+er7; charset={charset}")


@router.get("/clinical/timeliness", response={200: list[dict[str, Any]], **ERROR_RESPONSES})
def get_timeliness(
    request: HttpRequest,
    start: dt.date,
    end: dt.date,
    group: Annotated[str, OneOf(timeliness.GROUPS)] = "register",
    kind: str = "",
) -> list[dict[str, Any]]:
    """Timeliness of findings for the days ``start``..``end`` (both included), per department
    (``group=register``), test or ordering department: 通报率, 通报及时率, median and 90th
    percentile minutes, late and unacknowledged counts."""
    from django.utils import timezone

    from qloop.clinical.nav import reads_timeliness

    user: User = request.user  # type: ignore[assignment]
    if not reads_timeliness(user):
        raise PermissionDenied
    tz = timezone.get_current_timezone()
    rows = timeliness.figures(
        dt.datetime.combine(start, dt.time.min, tzinfo=tz),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
        group=group,
        kind=kind,
    )
    return [
        {
            "key": r.key,
            "label": r.label,
            "total": r.total,
            "acknowledged": r.acknowledged,
            "on_time": r.on_time,
            "late": r.late,
            "unacknowledged": r.unacknowledged,
            "ack_rate": r.ack_rate,
            "on_time_rate": r.on_time_rate,
            "median_minutes": None if r.median_seconds is None else r.median_seconds / 60,
            "p90_minutes": None if r.p90_seconds is None else r.p90_seconds / 60,
        }
        for r in rows
    ]
