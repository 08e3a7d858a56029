"""A workbook written as a stream (X4): the sheet's XML is made as text, row by row, and
deflated into the zip as it comes, so a million rows cost neither memory nor openpyxl's cell
objects (an object and an XML element per cell were three quarters of a large export's time).

What it writes is the smallest valid SpreadsheetML package: one sheet, inline strings (a
shared-strings table would have to hold every distinct text until the end), dates and times
as serial numbers with a date style, column widths, a bold header on a coloured fill, frozen
header rows and first column, wrapped text where asked. openpyxl still reads workbooks
(imports) and reads these back in the tests.

Every text goes through ``_safe`` (qloop.cases.export): a text that starts like a formula gets
a leading apostrophe and characters XML cannot hold are dropped; a text is always written as
a string cell, never as a formula.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import IO

from django.utils import timezone
from openpyxl.utils import get_column_letter

from qloop.cases.export import _safe

EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001 - a workbook's dates are naive
DAY = 86400.0
# Characters XML 1.0 forbids (and lone surrogates, which UTF-8 cannot encode): dropped from
# each batch of rows at once, which is faster than cleaning every text on its own.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Texts whose first character needs _safe's look: formula-like starts and control characters.
_RISKY_START = frozenset("=+-@\t\r") | frozenset(chr(i) for i in range(32))
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
BATCH = 500  # rows joined and written to the zip at once
MAX_CELL_TEXT = 32_767  # Excel's limit: a longer text makes Excel "repair" the file
MAX_SHEET_ROWS = 1_048_576  # Excel's limit: further rows go on to a new sheet, header repeated

# Style indexes (cellXfs in styles.xml).
S_DATETIME, S_HEADER, S_WRAP, S_BOLD, S_DATE, S_WRAP_DATETIME = 1, 2, 3, 4, 5, 6

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{sheets}"
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)
_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>QLoop</Application></Properties>"
)
_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:title>{title}</dc:title><dc:creator>QLoop</dc:creator>"
    '<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
    "</cp:coreProperties>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "{sheets}"
    "</Relationships>"
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<bookViews><workbookView activeTab="0"/></bookViews>'
    "<sheets>{sheets}</sheets></workbook>"
)
# 0 plain, 1 date and time, 2 header (bold on a fill), 3 wrapped text, 4 bold, 5 date,
# 6 date and time in a wrapped column.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDE7F3"/><bgColor indexed="64"/>'
    "</patternFill></fill></fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="7">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" '
    'applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def escape(text: str) -> str:
    """XML text (and attribute values in double quotes)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


def sheet_name(title: str) -> str:
    """A sheet's name: at most 31 characters, none of ``[]:*?/\\``."""
    return _SHEET_NAME.sub(" ", title)[:31].strip() or "Sheet"


def serial(value: dt.datetime | dt.date) -> float:
    """Days since 1899-12-30, as a workbook keeps dates; an aware time in local time."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = timezone.localtime(value).replace(tzinfo=None)
        delta = value - EPOCH
        return delta.days + (delta.seconds + delta.microseconds / 1e6) / DAY
    return float((value - EPOCH.date()).days)


def _text_cell(ref: str, text: str, style: int = 0) -> str:
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def write_xlsx_stream(
    out: IO[bytes],
    *,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    preamble: Sequence[str] = (),
    widths: dict[int, int] | None = None,
    wrap: frozenset[int] = frozenset(),
    progress: Callable[[int], None] | None = None,
    progress_every: int = 1000,
    compresslevel: int = 1,
) -> int:
    """Write the rows as a workbook to ``out`` (seekable); return how many rows. Rows beyond
    Excel's limit of 1,048,576 a sheet go on to further sheets, each with the header.

    Columns are 1-based in ``widths`` and ``wrap`` (as in ``Table``). Level-1 deflate is a
    fifth of the time of the default for a file a few percent larger."""
    ncols = len(headers)
    letters = [get_column_letter(i) for i in range(1, max(ncols, 1) + 1)]
    widths = widths or {}
    header_row = len(preamble) + 1
    head = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0">'
        f'<pane xSplit="1" ySplit="{header_row}" topLeftCell="B{header_row + 1}" '
        'activePane="bottomRight" state="frozen"/>'
        '<selection pane="topRight"/><selection pane="bottomLeft"/>'
        f'<selection pane="bottomRight" activeCell="B{header_row + 1}" '
        f'sqref="B{header_row + 1}"/>'
        '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>'
    ]
    head += [
        f'<col min="{i}" max="{i}" width="{widths.get(i, 14)}" customWidth="1"/>'
        for i in range(1, ncols + 1)
    ]
    head.append("</cols><sheetData>")
    for r, line in enumerate(preamble, start=1):
        head.append(f'<row r="{r}">{_text_cell(f"A{r}", str(_safe(line)), S_BOLD)}</row>')
    head.append(f'<row r="{header_row}">')
    head += [
        _text_cell(f"{letters[i]}{header_row}", str(_safe(h)), S_HEADER)
        for i, h in enumerate(headers)
    ]
    head.append("</row>")
    sheet_head = _ILLEGAL.sub("", "".join(head)).encode("utf-8")
    per_sheet = MAX_SHEET_ROWS - header_row

    text_style = [""] * ncols
    date_style = [f' s="{S_DATETIME}"'] * ncols
    for idx in wrap:
        if 1 <= idx <= ncols:
            text_style[idx - 1] = f' s="{S_WRAP}"'
            date_style[idx - 1] = f' s="{S_WRAP_DATETIME}"'
    n = 0
    sheets = 0
    pending = iter(rows)
    datetime_, date_, str_ = dt.datetime, dt.date, str
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        zf.writestr("_rels/.rels", _ROOT_RELS)
        now = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        zf.writestr("docProps/app.xml", _APP)
        zf.writestr(
            "docProps/core.xml", _CORE.format(title=escape(_ILLEGAL.sub("", title)), now=now)
        )
        zf.writestr("xl/styles.xml", _STYLES)
        more = True
        while more:
            sheets += 1
            more = False
            with zf.open(f"xl/worksheets/sheet{sheets}.xml", "w", force_zip64=True) as sheet:
                sheet.write(sheet_head)
                rownum = header_row
                batch: list[str] = []
                for row in pending:
                    if rownum - header_row >= per_sheet:
                        # The sheet is full: this row opens the next one.
                        pending = itertools.chain([row], pending)
                        more = True
                        break
                    rownum += 1
                    n += 1
                    cells = [f'<row r="{rownum}">']
                    for i, v in enumerate(row):
                        if v is None or v == "":
                            continue
                        t = type(v)
                        if t is str_ or isinstance(v, str_):
                            text = str_(v)
                            if text[0] in _RISKY_START:
                                text = str_(_safe(text))
                            if len(text) > MAX_CELL_TEXT:
                                text = text[:MAX_CELL_TEXT]
                            if "&" in text or "<" in text or ">" in text:
                                text = text.replace("&", "&amp;").replace("<", "&lt;")
                                text = text.replace(">", "&gt;")
                            cells.append(
                                f'<c r="{letters[i]}{rownum}"{text_style[i]} t="inlineStr"><is>'
                                f'<t xml:space="preserve">{text}</t></is></c>'
                            )
                        elif t is bool:
                            cells.append(f'<c r="{letters[i]}{rownum}" t="b"><v>{int(v)}</v></c>')  # type: ignore[call-overload]
                        elif t is int or t is Decimal or (t is float and math.isfinite(v)):  # type: ignore[arg-type]
                            cells.append(f'<c r="{letters[i]}{rownum}"><v>{v}</v></c>')
                        elif t is datetime_:
                            cells.append(
                                f'<c r="{letters[i]}{rownum}"{date_style[i]}>'
                                f"<v>{serial(v)!r}</v></c>"  # type: ignore[arg-type]
                            )
                        elif t is date_:
                            cells.append(
                                f'<c r="{letters[i]}{rownum}" s="{S_DATE}"><v>{serial(v)!r}</v></c>'  # type: ignore[arg-type]
                            )
                        else:  # a lazy translation, a number of another type: as text
                            text = escape(str_(_safe(str_(v))))
                            cells.append(
                                f'<c r="{letters[i]}{rownum}"{text_style[i]} t="inlineStr"><is>'
                                f'<t xml:space="preserve">{text}</t></is></c>'
                            )
                    cells.append("</row>")
                    batch.append("".join(cells))
                    if len(batch) >= BATCH:
                        sheet.write(_ILLEGAL.sub("", "".join(batch)).encode("utf-8"))
                        batch.clear()
                    if progress is not None and n % progress_every == 0:
                        progress(n)
                batch.append("</sheetData></worksheet>")
                sheet.write(_ILLEGAL.sub("", "".join(batch)).encode("utf-8"))
        # The parts that list the sheets, now that their number is known.
        base = _ILLEGAL.sub("", title)
        names = [sheet_name(base)] + [
            sheet_name(base[: 31 - len(f" ({k})")] + f" ({k})") for k in range(2, sheets + 1)
        ]
        zf.writestr(
            "[Content_Types].xml",
            _CONTENT_TYPES.format(
                sheets="".join(
                    f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="application/'
                    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                    for k in range(1, sheets + 1)
                )
            ),
        )
        zf.writestr(
            "xl/workbook.xml",
            _WORKBOOK.format(
                sheets="".join(
                    f'<sheet name="{escape(name)}" sheetId="{k}" r:id="rId{k}"/>'
                    for k, name in enumerate(names, start=1)
                )
            ),
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            _WORKBOOK_RELS.format(
                sheets="".join(
                    f'<Relationship Id="rId{k}" Type="http://schemas.openxmlformats.org/'
                    f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{k}.xml"/>'
                    for k in range(1, sheets + 1)
                )
            ),
        )
    return n
