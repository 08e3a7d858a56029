"""The streamed workbook (X4): what it writes opens in openpyxl with the values, dates, Chinese
text, escaped markup and formula-like text as text; CSV is guarded the same way."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from qloop.reports.exports import Table, write_csv, write_xlsx
from qloop.reports.xlsx_stream import write_xlsx_stream

WHEN = dt.datetime(2026, 3, 5, 14, 30, 15)  # noqa: DTZ001 - a workbook holds naive times
ROWS: list[list[object]] = [
    ["QC-2026-000001", WHEN, "机械密封处漏水", 2, 1.5, dt.date(2026, 3, 6), True],
    ["QC-2026-000002", None, "a <b> & c\x01d\x0b", None, Decimal("3.25"), None, ""],
    ["QC-2026-000003", WHEN, "=cmd|' /C calc'!A0", -4, None, None, "+1 555"],
    ["QC-2026-000004", WHEN, "@SUM(A1)", 0, None, None, "\x02=HYPERLINK(1)"],
    ["QC-2026-000005", WHEN, "  leading and trailing  ", None, None, None, "第一行\n第二行"],
    ["QC-2026-000006", WHEN, "长" * 40_000, None, None, None, None],
]
HEADERS = ["编号", "受理时间", "症状", "数量", "金额", "日期", "标志"]


def _table() -> Table:
    return Table(
        headers=HEADERS,
        count=lambda: len(ROWS),
        rows=lambda: iter(ROWS),
        preamble=["顧客反饋處理記錄表", "期间：2026-01-01 至 2026-12-31"],
        widths={1: 18, 3: 50},
        wrap=frozenset({3}),
    )


def _workbook() -> tuple[bytes, int, list[int]]:
    out = io.BytesIO()
    seen: list[int] = []
    n = write_xlsx(out, _table(), "Customer Feedback Handling Record: 2026", seen.append)
    return out.getvalue(), n, seen


def test_the_streamed_workbook_opens_in_openpyxl_with_every_value() -> None:
    """X4: values, numbers, dates as dates, Chinese, <&> and control characters, the preamble
    and header; formula-like text is text, never a formula."""
    content, n, _ = _workbook()
    wb = openpyxl.load_workbook(io.BytesIO(content))
    sheet = wb.active
    assert sheet is not None and n == len(ROWS)
    assert sheet.title == "Customer Feedback Handling Reco"  # 31 characters, no ':'
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "顧客反饋處理記錄表" and rows[1][0].startswith("期间")
    assert list(rows[2]) == HEADERS
    first, second, third, fourth, fifth, sixth = rows[3:]
    assert sixth[2] == "长" * 32_767  # Excel's limit for a cell's text
    day = dt.datetime(2026, 3, 6)  # noqa: DTZ001 - a date reads back as midnight
    assert first == ("QC-2026-000001", WHEN, "机械密封处漏水", 2, 1.5, day, True)
    assert second[2] == "a <b> & cd" and second[4] == 3.25 and second[1] is None
    assert third[2] == "'=cmd|' /C calc'!A0" and third[6] == "'+1 555" and third[3] == -4
    assert fourth[2] == "'@SUM(A1)" and fourth[6] == "'=HYPERLINK(1)"
    assert fifth[2] == "  leading and trailing  " and fifth[6] == "第一行\n第二行"
    for row in sheet.iter_rows(min_row=4):
        for cell in row:
            assert cell.data_type != "f"  # nothing is a formula
    assert sheet["B4"].is_date and sheet["B4"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["F4"].is_date and sheet["F4"].number_format == "yyyy-mm-dd"
    assert sheet["A3"].font.b and sheet["C4"].alignment.wrap_text


def test_the_workbook_has_widths_a_frozen_header_and_progress() -> None:
    content, _, seen = _workbook()
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    assert sheet.freeze_panes == "B4"  # two preamble lines and the header stay in view
    assert sheet.column_dimensions["A"].width == 18
    assert sheet.column_dimensions["C"].width == 50
    assert sheet.column_dimensions["B"].width == 14
    assert zipfile.ZipFile(io.BytesIO(content)).testzip() is None
    assert seen == []  # fewer rows than one progress step


def test_a_large_sheet_reports_progress_and_reads_back_every_row() -> None:
    rows = ([f"R{i}", i, WHEN] for i in range(2500))
    out = io.BytesIO()
    seen: list[int] = []
    n = write_xlsx_stream(out, title="t", headers=["a", "b", "c"], rows=rows, progress=seen.append)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True).active
    values = list(sheet.iter_rows(min_row=2, values_only=True))  # type: ignore[union-attr]
    assert n == 2500 and seen == [1000, 2000]
    assert values[-1] == ("R2499", 2499, WHEN) and len(values) == 2500


def test_csv_writes_formula_like_text_as_text() -> None:
    out = io.BytesIO()
    write_csv(out, _table(), "t", lambda n: None)
    lines = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    cells = [c for line in lines for c in line]
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(A1)" in cells and "'+1 555" in cells
    assert "'=HYPERLINK(1)" in cells and "a <b> & cd" in cells
    # Only the number -4 starts with a sign: no text does.
    assert [c for c in cells if c[:1] in ("=", "+", "-", "@")] == ["-4"]


def test_rows_beyond_a_sheets_limit_go_on_to_further_sheets_with_the_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Excel holds 1,048,576 rows a sheet: a larger export goes on to a second sheet (header
    repeated) instead of making a file Excel refuses; no empty sheet when the rows end exactly
    at the limit. Here the limit is made 5 rows (a header and four)."""
    from qloop.reports import xlsx_stream

    monkeypatch.setattr(xlsx_stream, "MAX_SHEET_ROWS", 5)
    for total, sizes in ((10, [4, 4, 2]), (8, [4, 4])):
        out = io.BytesIO()
        n = write_xlsx_stream(
            out,
            title="顧客反饋處理記錄表",
            headers=["编号"],
            rows=([f"R{i}"] for i in range(total)),
        )
        wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
        assert n == total
        assert wb.sheetnames[:2] == ["顧客反饋處理記錄表", "顧客反饋處理記錄表 (2)"]
        values = [list(ws.iter_rows(values_only=True)) for ws in wb.worksheets]
        assert [len(v) - 1 for v in values] == sizes
        assert all(v[0] == ("编号",) for v in values)
        assert [r[0] for v in values for r in v[1:]] == [f"R{i}" for i in range(total)]
