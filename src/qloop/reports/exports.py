"""Every list as ``.xlsx`` and CSV, with the filters on the page (X4).

A list registers an ``ExportList``: how to read its filters, its columns, how many rows they
give and the rows themselves, one at a time. A small export is written inside the request; a
large one is an ``ExportJob`` the worker writes to a file, row by row (the sheet's XML
streamed into the zip by ``xlsx_stream``, querysets read in chunks), so neither the web
process nor the worker holds the rows; the page polls its progress and offers the file, to
the person who asked only.

Profiles register their own lists here (``register_export``), as they do their menu entries.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qloop.cases.export import CASE_WIDTHS, _safe, case_headers, case_rows
from qloop.reports.models import ExportJob, ExportState
from qloop.reports.xlsx_stream import write_xlsx_stream

if TYPE_CHECKING:
    from qloop.org.models import User

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
PROGRESS_EVERY = 1000  # rows between two progress updates of a job


class ExportError(ValueError):
    """A filter that cannot be understood; carries the parameter name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class Table:
    """What one export writes: lines above the header (a named form's title and period), the
    header, the number of rows, and the rows, produced lazily."""

    headers: list[str]
    count: Callable[[], int]
    rows: Callable[[], Iterable[Sequence[object]]]
    preamble: list[str] = field(default_factory=list)
    widths: dict[int, int] = field(default_factory=dict)
    wrap: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ExportList:
    """A list that can be exported: ``table(user, params)`` checks who asks (PermissionDenied)
    and the filters (ExportError) and returns the table; ``page`` is the list's URL name."""

    code: str
    title: str | Promise
    table: Callable[[User, Mapping[str, str]], Table]
    page: str = ""


EXPORTS: dict[str, ExportList] = {}


def register_export(*lists: ExportList) -> None:
    for item in lists:
        EXPORTS[item.code] = item


def _params(query: Mapping[str, Any]) -> dict[str, str]:
    """The filters as plain strings (one value each), without paging and format."""
    skip = {"page", "format", "csrfmiddlewaretoken"}
    return {k: str(query.get(k) or "") for k in query if k not in skip and query.get(k)}


# --- writers ---------------------------------------------------------------------------------


def write_xlsx(out: IO[bytes], table: Table, title: str, progress: Callable[[int], None]) -> int:
    """Stream the table into a workbook whose sheet XML is written as text and deflated as it
    comes (``xlsx_stream``): no cell objects, nothing held but a batch of rows."""
    return write_xlsx_stream(
        out,
        title=title,
        headers=[str(h) for h in table.headers],
        rows=table.rows(),
        preamble=[str(line) for line in table.preamble],
        widths=table.widths,
        wrap=table.wrap,
        progress=progress,
        progress_every=PROGRESS_EVERY,
    )


def write_csv(out: IO[bytes], table: Table, title: str, progress: Callable[[int], None]) -> int:
    """CSV in UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    writer = csv.writer(text)
    for line in table.preamble:
        writer.writerow([_safe(line)])
    writer.writerow([_safe(h) for h in table.headers])
    n = 0
    for row in table.rows():
        writer.writerow(["" if v is None else _safe(v) for v in row])
        n += 1
        if n % PROGRESS_EVERY == 0:
            progress(n)
    text.flush()
    text.detach()
    return n


WRITERS = {"xlsx": write_xlsx, "csv": write_csv}


def _never(n: int) -> None:
    return None


# --- asking for an export --------------------------------------------------------------------


@dataclass
class Inline:
    """An export small enough to write in the request."""

    content: IO[bytes]
    filename: str
    content_type: str


def filename(code: str, fmt: str) -> str:
    return f"qloop-{code}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"


@dataclass
class Pending:
    """A large export that nobody has started: reading (GET) only counts its rows; starting it
    is a POST, so a link, a prefetch or another site can never queue work in someone's name."""

    code: str
    title: str
    total: int
    file_format: str
    params: dict[str, str]


def request_export(
    user: User,
    code: str,
    query: Mapping[str, Any],
    fmt: str = "xlsx",
    *,
    start_job: bool = True,
) -> Inline | ExportJob | Pending:
    """Write a small export now; queue a large one for the worker and return its job (or, with
    ``start_job=False``, only say how large it is).

    Raises Http404-worthy ``KeyError`` for an unknown list, ``ExportError`` for a bad filter or
    format, ``PermissionDenied`` for a list this person may not export."""
    spec = EXPORTS[code]
    if fmt not in FORMATS:
        raise ExportError("format", _("Choose xlsx or csv."))
    params = _params(query)
    table = spec.table(user, params)
    total = table.count()
    if total <= settings.QLOOP_EXPORT_INLINE_ROWS:
        out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
        WRITERS[fmt](out, table, str(spec.title), _never)
        out.seek(0)
        return Inline(out, filename(code, fmt), FORMATS[fmt])
    if not start_job:
        return Pending(code, str(spec.title), total, fmt, params)
    with transaction.atomic():
        job = ExportJob.objects.create(
            token=secrets.token_urlsafe(24),
            requested_by=user,
            list_code=code,
            file_format=fmt,
            params=params,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            rows_total=total,
        )
        from qloop.reports.jobs import run_export

        transaction.on_commit(lambda: run_export(job.pk))
    return job


def job_for(user: User, token: str) -> ExportJob:
    """An export job and its file are only ever the asker's: 404 for anyone else."""
    from django.http import Http404

    found = ExportJob.objects.filter(token=token, requested_by=user).first()
    if found is None:
        raise Http404
    return found


def write_job(job_id: int) -> ExportJob | None:
    """The worker's half: claim the job (once), write the file, keep it in storage. Safe to run
    twice: a job already claimed is left alone."""
    now = timezone.now()
    if not ExportJob.objects.filter(pk=job_id, state=ExportState.QUEUED).update(
        state=ExportState.RUNNING, started_at=now
    ):
        return None
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    spec = EXPORTS.get(job.list_code)

    def progress(n: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_done=n)

    try:
        if spec is None:
            raise ExportError("list", _("This list can no longer be exported."))
        with translation.override(job.language or settings.LANGUAGE_CODE):
            table = spec.table(job.requested_by, job.params)
            with tempfile.TemporaryFile() as out:
                n = WRITERS[job.file_format](out, table, str(spec.title), progress)
                out.seek(0)
                name = default_storage.save(
                    f"exports/{job.token}.{job.file_format}", File(out, name="export")
                )
    except (ExportError, PermissionDenied) as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportState.FAILED, error=str(exc), finished_at=timezone.now()
        )
    else:
        ExportJob.objects.filter(pk=job.pk).update(
            state=ExportState.DONE,
            rows_done=n,
            rows_total=max(n, job.rows_total),
            file_name=name,
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job


def remove_old_exports(days: int = 7) -> int:
    """Export files are copies of the register, kept a week: the job stays as a record."""
    cutoff = timezone.now() - dt.timedelta(days=days)
    n = 0
    for job in ExportJob.objects.filter(state=ExportState.DONE, finished_at__lt=cutoff):
        if job.file_name:
            default_storage.delete(job.file_name)
        n += ExportJob.objects.filter(pk=job.pk, state=ExportState.DONE).update(
            state=ExportState.EXPIRED, file_name=""
        )
    # A job whose worker was killed half-way is failed after a day, so the page stops waiting.
    stale = timezone.now() - dt.timedelta(days=1)
    ExportJob.objects.filter(state=ExportState.RUNNING, started_at__lt=stale).update(
        state=ExportState.FAILED, error="interrupted", finished_at=timezone.now()
    )
    return n


# --- the core's lists ------------------------------------------------------------------------


def _case_table(user: User, params: Mapping[str, str]) -> Table:
    from qloop.cases.filters import CaseFilter, FilterError
    from qloop.cases.models import Case

    try:
        flt = CaseFilter.from_query(dict(params))
        qs = flt.apply(Case.objects.all(), user)
    except FilterError as exc:
        raise ExportError(exc.field, exc.message) from exc
    kind = flt.kind or "complaint"
    return Table(
        headers=case_headers(kind),
        count=lambda: qs.order_by().count(),
        rows=lambda: case_rows(qs, user, kind=kind),
        widths=CASE_WIDTHS,
        wrap=frozenset({19, 20}),
    )


def _register_table(code: str) -> Callable[[User, Mapping[str, str]], Table]:
    def table(user: User, params: Mapping[str, str]) -> Table:
        from qloop.cases.registers import (
            REGISTERS,
            Period,
            PeriodError,
            register_count,
            register_queryset,
            row,
        )

        spec = REGISTERS[code]
        try:
            period = Period.from_query(params)
        except PeriodError as exc:
            raise ExportError(exc.field, exc.message) from exc

        def rows() -> Iterator[list[object]]:
            qs = register_queryset(spec, user, period)
            for case in qs.iterator(chunk_size=1000):
                values = row(spec, case, user)
                yield [values[c.key] for c in spec.columns]

        return Table(
            headers=[str(c.label) for c in spec.columns],
            count=lambda: register_count(spec, user, period),
            rows=rows,
            preamble=[
                str(spec.title),
                _("Period: %(start)s to %(end)s") % {"start": period.start, "end": period.end},
            ],
            widths={i: c.width for i, c in enumerate(spec.columns, start=1)},
            wrap=frozenset(i for i, c in enumerate(spec.columns, start=1) if c.wrap),
        )

    return table


def _customer_table(user: User, params: Mapping[str, str]) -> Table:
    from qloop.customers.access import can_use_directory
    from qloop.customers.models import CustomerOrganisation

    if not can_use_directory(user):
        raise PermissionDenied
    qs = CustomerOrganisation.objects.search(params.get("q", "").strip())
    if params.get("archived") != "1":
        qs = qs.live()
    qs = qs.order_by("name", "id")

    def rows() -> Iterator[list[object]]:
        for c in qs.iterator(chunk_size=2000):
            yield [
                c.name,
                c.get_kind_display(),
                c.address,
                c.notes,
                timezone.localtime(c.created_at).replace(tzinfo=None),
                _("Yes") if c.archived_at else "",
            ]

    return Table(
        headers=[
            _("Name"),
            _("Kind"),
            _("Address"),
            _("Notes"),
            _("Created"),
            _("Archived"),
        ],
        count=lambda: qs.order_by().count(),
        rows=rows,
        widths={1: 30, 3: 30, 4: 40, 5: 17},
    )


register_export(
    ExportList("cases", gettext_lazy("Register"), _case_table, "case-list"),
    ExportList(
        "feedback-handling",
        gettext_lazy("Customer Feedback Handling Record"),
        _register_table("handling"),
        "feedback-handling-record",
    ),
    ExportList(
        "complaints-and-feedback",
        gettext_lazy("Customer Complaint and Feedback Record"),
        _register_table("complaints"),
        "complaint-feedback-record",
    ),
    ExportList("customers", gettext_lazy("Customers"), _customer_table, "customer-list"),
)
