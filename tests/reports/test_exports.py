"""Exports that never hang (X4): every list as .xlsx and CSV with its filters; a large one is
written by the worker with progress, for the person who asked only; a printed register says
when it is cut."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from qloop.cases.actions import ProductData
from qloop.reports.models import ExportJob, ExportState

pytestmark = pytest.mark.django_db


def _rows_of_xlsx(content: bytes) -> list[tuple[Any, ...]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


def _model(name: str) -> ProductData:
    return ProductData(specification="50-160", model=name, quantity=1, serial_number="")


def test_a_small_export_comes_at_once_as_xlsx_and_csv_with_the_filters(
    make_case: Callable[..., Any], client_for: Callable[[str], Client]
) -> None:
    wanted = make_case(product=_model("QL-CP65"))
    make_case(product=_model("QL-CP50"))
    cs = client_for("cs")

    xlsx = cs.get(reverse("case-export"), {"model": "QL-CP65"})
    as_csv = cs.get(reverse("export-start", args=["cases"]), {"model": "QL-CP65", "format": "csv"})

    assert [r[0] for r in _rows_of_xlsx(xlsx.content)[1:]] == [wanted.number]
    assert as_csv["Content-Type"].startswith("text/csv")
    assert as_csv.content.startswith("\ufeff".encode())  # Excel reads the Chinese right
    lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert lines[0][0] == "编号" and [line[0] for line in lines[1:]] == [wanted.number]


def test_a_bad_filter_or_format_is_refused_by_name(client_for: Callable[[str], Client]) -> None:
    cs = client_for("cs")
    bad_date = cs.get(reverse("export-start", args=["cases"]), {"received_from": "yesterday"})
    bad_format = cs.get(reverse("export-start", args=["cases"]), {"format": "pdf"})
    assert bad_date.status_code == 422 and b"received_from" in bad_date.content
    assert bad_format.status_code == 422 and b"format" in bad_format.content
    assert not ExportJob.objects.exists()


def test_a_large_export_is_written_by_the_worker_and_only_its_owner_gets_the_file(
    make_case: Callable[..., Any],
    client_for: Callable[[str], Client],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.QLOOP_EXPORT_INLINE_ROWS = 2
    numbers = {make_case().number for _ in range(3)}
    cs = client_for("cs")

    with django_capture_on_commit_callbacks(execute=True):
        asked = cs.post(reverse("export-start", args=["cases"]), {"format": "xlsx"})
    job = ExportJob.objects.get()
    page = cs.get(asked["Location"])
    download = cs.get(reverse("export-download", args=[job.token]))

    assert asked.status_code == 302 and asked["Location"] == reverse("export-job", args=[job.token])
    assert job.state == ExportState.DONE and job.rows_done == 3 and job.rows_total == 3
    assert 'id="export-download"' in page.content.decode()
    content = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    assert {r[0] for r in _rows_of_xlsx(content)[1:]} == numbers
    for other in ("cs_head", "gm"):
        client = client_for(other)
        assert client.get(reverse("export-job", args=[job.token])).status_code == 404
        assert client.get(reverse("export-download", args=[job.token])).status_code == 404


def test_a_waiting_export_shows_its_progress_and_polls_without_inline_script(
    make_case: Callable[..., Any], client_for: Callable[[str], Client], settings: Any
) -> None:
    """The job is queued (its commit hook not run): the page polls with htmx attributes."""
    settings.QLOOP_EXPORT_INLINE_ROWS = 0
    make_case()
    cs = client_for("cs")

    asked = cs.post(reverse("export-start", args=["cases"]), {"format": "csv"})
    page = cs.get(asked["Location"]).content.decode()
    partial = cs.get(asked["Location"], headers={"HX-Request": "true"}).content.decode()

    assert 'hx-trigger="load delay:1s"' in page and "<script>" not in page
    assert partial.startswith('<div id="export-progress" data-state="queued"')


def test_a_get_never_starts_a_large_export_it_offers_a_button_that_posts(
    make_case: Callable[..., Any],
    client_for: Callable[[str], Client],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """X4: a link, a prefetch or another site's page cannot queue an export in someone's name:
    a GET of a large export only counts it and shows a CSRF-protected button; the POST from
    that button (the filters kept in its URL) starts it."""
    settings.QLOOP_EXPORT_INLINE_ROWS = 1
    make_case(product=_model("QL-CP65"))
    make_case(product=_model("QL-CP65"))
    make_case(product=_model("QL-CP50"))
    cs = client_for("cs")
    url = reverse("export-start", args=["cases"])

    shown = cs.get(url, {"model": "QL-CP65", "format": "csv"})
    also = cs.get(reverse("case-export"), {"model": "QL-CP65"})
    assert not ExportJob.objects.exists()
    page = shown.content.decode()
    assert shown.status_code == 200 and also.status_code == 200
    assert 'id="export-start-button"' in page and "csrfmiddlewaretoken" in page
    assert 'method="post"' in page and "model=QL-CP65" in page and "共 2 条" in page

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(_user("cs"))
    assert strict.post(url + "?model=QL-CP65", {"format": "csv"}).status_code == 403
    assert not ExportJob.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        started = cs.post(url + "?model=QL-CP65", {"format": "csv"})
    job = ExportJob.objects.get()
    assert started.status_code == 302 and job.rows_total == 2 and job.file_format == "csv"
    assert job.state == ExportState.DONE and job.params == {"model": "QL-CP65"}


def _user(name: str) -> Any:
    from qloop.org.models import User

    return User.objects.get(username=name)


@pytest.mark.parametrize("stranger", ["cs_head", "gm", "qe", "sales", "prod"])
def test_a_stranger_can_neither_see_nor_start_anothers_export(
    stranger: str,
    make_case: Callable[..., Any],
    client_for: Callable[[str], Client],
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """X4: an export belongs to who asked: every other role gets 404 for its page, its
    progress and its file, and whatever they post starts their own export, never another's."""
    settings.QLOOP_EXPORT_INLINE_ROWS = 0
    make_case()
    with django_capture_on_commit_callbacks(execute=True):
        client_for("cs").post(reverse("export-start", args=["cases"]), {"format": "csv"})
    job = ExportJob.objects.get()
    other = client_for(stranger)

    assert other.get(reverse("export-job", args=[job.token])).status_code == 404
    assert (
        other.get(reverse("export-job", args=[job.token]), headers={"HX-Request": "true"})
    ).status_code == 404
    assert other.get(reverse("export-download", args=[job.token])).status_code == 404
    assert other.post(reverse("export-job", args=[job.token])).status_code == 405
    assert job.token not in other.get(reverse("export-list")).content.decode()
    other.post(reverse("export-start", args=["cases"]), {"format": "csv", "token": job.token})
    assert {j.requested_by.username for j in ExportJob.objects.exclude(pk=job.pk)} <= {stranger}


def test_the_worker_writes_a_job_once(
    make_case: Callable[..., Any], users: dict[str, Any], settings: Any
) -> None:
    from qloop.reports.exports import request_export, write_job

    settings.QLOOP_EXPORT_INLINE_ROWS = 0
    make_case()
    job = request_export(users["cs"], "cases", {}, "csv")
    assert isinstance(job, ExportJob)

    first, second = write_job(job.pk), write_job(job.pk)

    assert first is not None and first.state == ExportState.DONE
    assert second is None  # claimed already: nothing written twice


def test_the_customer_directory_exports_for_those_who_use_it(
    client_for: Callable[[str], Client],
) -> None:
    from qloop.customers.models import CustomerOrganisation

    CustomerOrganisation.objects.create(name="苏州恒通水务有限公司", kind="end_customer")
    sales = client_for("sales").get(reverse("export-start", args=["customers"]))
    prod = client_for("prod").get(reverse("export-start", args=["customers"]))

    assert [r[0] for r in _rows_of_xlsx(sales.content)[1:]] == ["苏州恒通水务有限公司"]
    assert prod.status_code == 403


def test_a_printed_register_says_when_it_is_cut_and_how_to_get_everything(
    make_case: Callable[..., Any], client_for: Callable[[str], Client], monkeypatch: Any
) -> None:
    from qloop.web import register_views

    monkeypatch.setattr(register_views, "MAX_ROWS", 2)
    monkeypatch.setattr("qloop.cases.registers.MAX_ROWS", 2)
    for _ in range(3):
        make_case(actor="sales", kind="feedback", feedback_type="opinion")

    page = client_for("sales").get(reverse("feedback-handling-record")).content.decode()

    assert 'id="cut-notice"' in page
    assert "前 2 条" in page or "first 2 of 3" in page
    assert 'id="csv-link"' in page


def _rows_from_instances(user: Any, kind: str = "complaint") -> list[list[object]]:
    """The register's rows as the export wrote them from model instances before it read plain
    tuples: the reference the faster rows must equal, cell for cell."""
    from django.utils import timezone

    from qloop.cases import access
    from qloop.cases.extra import active_fields, display_value
    from qloop.cases.filters import CaseFilter
    from qloop.cases.models import Case

    def naive(value: Any) -> Any:
        return timezone.localtime(value).replace(tzinfo=None) if value else None

    qs = CaseFilter.from_query({}).apply(Case.objects.all(), user)
    rows = []
    for case in qs:
        c, p = case.contact, getattr(case, "product", None)
        reach = access.contact_details(user, case)
        rows.append(
            [
                case.number,
                naive(case.received_at),
                case.state_label,
                case.get_channel_display(),
                case.get_severity_display(),
                str(case.category) if case.category else "",
                str(case.department),
                str(case.handler) if case.handler else "",
                c.name if c else "",
                c.get_gender_display() if c else "",
                reach["phone"],
                reach["email"],
                reach["qq"],
                c.organisation if c else "",
                p.specification if p else "",
                p.model if p else "",
                p.quantity if p else None,
                p.serial_number if p else "",
                p.symptom if p else "",
                p.current_status if p else "",
                naive(case.next_due_at),
                "是" if case.is_overdue else "",
            ]
            + [display_value(d, case.extra.get(d.code)) for d in active_fields(kind)]
        )
    return rows


def test_the_rows_read_as_tuples_equal_the_rows_read_as_cases_for_every_reader(
    make_case: Callable[..., Any], users: dict[str, Any], monkeypatch: Any
) -> None:
    """X4: the export reads plain tuples now; every column, label and the masking of contact
    details for readers without the right to see them stay what they were, including a kind
    with a masking rule of its own (the pharmacy's and clinical kinds' kind, here stood in
    for by a rule on complaints)."""
    import dataclasses

    from qloop.cases.kinds import KINDS
    from qloop.cases.models import Case, ExtraField
    from qloop.reports.exports import EXPORTS

    make_case()
    make_case(actor="sales", product=_model("QL-CP65"))
    handled = make_case()
    make_case(actor="sales", kind="feedback", feedback_type="opinion")
    Case.objects.filter(pk=handled.pk).update(handler=users["qe"])  # the handler sees it all
    samples = {"boolean": False, "integer": 3, "decimal": "2.5", "date": "2026-03-01"}
    ExtraField.objects.create(
        kind="complaint", code="checked", label="已核对", field_type="boolean"
    )
    extra = {
        f.code: f.choices[-1] if f.field_type == "choice" else samples.get(f.field_type, "文本")
        for f in ExtraField.objects.filter(kind="complaint", is_active=True)
    }
    assert len(extra) >= 2
    Case.objects.filter(pk=handled.pk).update(extra=extra)
    readers = ("cs", "qe", "gm", "sales", "prod", "cs_head")

    def table_rows(user: Any) -> list[list[object]]:
        return [list(r) for r in EXPORTS["cases"].table(user, {}).rows()]

    for name in readers:
        assert table_rows(users[name]) == _rows_from_instances(users[name]), name
    qe_phones = {r[0]: r[10] for r in table_rows(users["qe"])}
    assert qe_phones[handled.number] == "13800138000"
    assert set(qe_phones.values()) == {"13800138000", "138****8000"}

    # A kind whose own rule decides: here only the second case's contact is shown in full.
    second = sorted(r[0] for r in table_rows(users["cs"]))[1]
    spec = dataclasses.replace(
        KINDS["complaint"], personal_data=lambda user, case: case.number == second
    )
    monkeypatch.setitem(KINDS, "complaint", spec)
    for name in readers:
        rows = table_rows(users[name])
        assert rows == _rows_from_instances(users[name]), name
        shown = {r[0] for r in rows if r[10] == "13800138000" and r[0].startswith("QC")}
        assert shown <= {second}


def test_a_searched_register_exports_the_cases_found(
    make_case: Callable[..., Any], client_for: Callable[[str], Client]
) -> None:
    """X4: the search box is a filter like the others (on PostgreSQL a full-text condition
    added to the query the rows are read from as tuples)."""
    wanted = make_case(product=_model("QL-CP65"))
    make_case(product=_model("QL-CP50"))

    found = client_for("cs").post(
        reverse("export-start", args=["cases"]) + "?q=QL-CP65", {"format": "csv"}
    )

    lines = list(csv.reader(io.StringIO(found.content.decode("utf-8-sig"))))
    assert [line[0] for line in lines[1:]] == [wanted.number]


def test_the_export_buttons_follow_the_filters_changed_on_the_page(
    make_case: Callable[..., Any], client_for: Callable[[str], Client]
) -> None:
    """X4 "with the current filters": the register's filters change the table through htmx;
    the answer brings the export form again (out of band) with the new filters in its URL."""
    make_case(product=_model("QL-CP65"))
    cs = client_for("cs")

    full = cs.get(reverse("case-list")).content.decode()
    partial = cs.get(
        reverse("case-list"), {"model": "QL-CP65"}, headers={"HX-Request": "true"}
    ).content.decode()

    assert 'id="export-form"' in full and "hx-swap-oob" not in full
    assert 'id="export-form" hx-swap-oob="true"' in partial
    assert 'action="/exports/cases/?model=QL-CP65"' in partial
    assert "csrfmiddlewaretoken" in partial
