"""Issue 13's pages in the generated permission matrix (tests/web/test_permissions.py):
exports, dashboards, analysis and the history import. ``manage_routes(Route)`` takes the
matrix's Route class to avoid a circular import."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from qloop.cases.models import Case
from qloop.org.models import User
from qloop.reports.models import ExportJob, ExportState


def _cs_export(case: Case, users: dict[str, User]) -> dict[str, Any]:
    """A finished export asked for by the CS clerk: nobody else may see it or its file."""
    name = default_storage.save("exports/matrix.csv", ContentFile(b"number\n"))
    job = ExportJob.objects.create(
        token="matrix-token",
        requested_by=users["cs"],
        list_code="cases",
        file_format="csv",
        state=ExportState.DONE,
        file_name=name,
    )
    return {"job": job.token}


def _only_cs(user: User, case: Case) -> int:
    return 200 if user.username == "cs" else 404


def manage_routes(route: Any) -> list[Any]:
    return [
        route("dashboard", "get", lambda user, case: 200),
        route(
            "dashboard-board",
            "get",
            lambda user, case: 200,
            prepare=lambda case, users: {"board": "department"},
        ),
        route("analysis", "get", lambda user, case: 200 if user.sees_all_cases else 403),
        route("export-list", "get", lambda user, case: 200),
        route("similar-cases", "get", lambda user, case: 200),
        route("history-import", "get", lambda user, case: 200 if user.manages_cases else 403),
        route("history-template", "get", lambda user, case: 200 if user.manages_cases else 403),
        route(
            "export-start",
            "get",
            lambda user, case: 200,
            prepare=lambda case, users: {"code": "cases"},
        ),
        # A small export (under QLOOP_EXPORT_INLINE_ROWS) comes at once to everyone signed in,
        # holding only the cases each may see; a large one is started by this POST only.
        route(
            "export-start",
            "post",
            lambda user, case: 200,
            data=lambda photo: {"format": "csv"},
            prepare=lambda case, users: {"code": "cases"},
        ),
        route("export-job", "get", _only_cs, prepare=_cs_export),
        route("export-download", "get", _only_cs, prepare=_cs_export),
    ]
