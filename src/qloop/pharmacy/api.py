"""The pharmacy profile's part of the REST API under /api/v1 (see docs/api.md)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from qloop.api.schemas import ERROR_RESPONSES
from qloop.cases.access import get_case_for_user
from qloop.org.models import User

router = Router(tags=["pharmacy"])


@router.get(
    "/cases/{number}/e2b",
    response={**ERROR_RESPONSES},
    summary="An ADR report as ICH E2B(R3) XML",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The ICSR message (ICH E2B(R3), HL7 v3 MCCI_IN200100UV01)",
                "content": {"application/xml": {"schema": {"type": "string"}}},
            }
        }
    },
)
def get_e2b(request: HttpRequest, number: str) -> HttpResponse:
    """The report as an ICH E2B(R3) batch of one ICSR; 404 for a case this person may not
    see or that is not an ADR report."""
    from django.http import Http404

    from qloop.pharmacy.e2b import e2b_document

    user: User = request.user  # type: ignore[assignment]
    case = get_case_for_user(user, number)
    if case.kind != "adr":
        raise Http404
    return HttpResponse(e2b_document([case]), content_type="application/xml; charset=utf-8")
