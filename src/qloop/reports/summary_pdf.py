"""A period summary as an A4 PDF, laid out like the printed page (X5, R3.2): organisation,
title, recipient set and period, the figure tables with the period before and the same period
last year, the open corrective actions, and the sign-off with who signed and when.

Written with ReportLab in pure Python. The text is set in Adobe's CID font STSong-Light, which
PDF readers supply themselves: no font file on the server, no system package, and the text
stays searchable (``pdftotext`` reads it back). Its Adobe-GB1 collection holds the traditional
characters too, so 繁體 uses it as well: ReportLab 5.1 writes MSung-Light with the GB encoding
(UniGB-UCS2-H on Adobe-CNS1), which readers cannot map back to text.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

    from qloop.reports.models import PeriodSummary

FONT = "STSong-Light"


def _font(language: str) -> str:
    """The one font for every language (see above); registered once per process."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), style)


def _number(value: Any) -> str:
    return "—" if value is None else str(value)


INK = colors.HexColor("#1f4e79")
PREVIOUS = colors.HexColor("#a6a6a6")


def _charts(groups: list[tuple[str, list[Any]]], font: str, style: ParagraphStyle) -> list[Any]:
    """Each group as horizontal bars: this period dark, the period before grey beneath."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, String

    from qloop.reports.period_summaries import nice_top

    out: list[Any] = []
    for heading, bars in groups:
        bars = bars[:12]
        row = 16
        height = 26 + row * len(bars)
        drawing = Drawing(180 * mm, height)
        chart = HorizontalBarChart()
        chart.x, chart.y = 62 * mm, 16
        chart.width, chart.height = 100 * mm, row * len(bars)
        # The chart draws its first category, and in each its first series, at the bottom:
        # reversed, the largest is on top, each with the period before beneath it.
        chart.data = [
            [p or 0 for _l, _c, p in reversed(bars)],
            [c or 0 for _l, c, _p in reversed(bars)],
        ]
        chart.categoryAxis.categoryNames = [label[:24] for label, _c, _p in reversed(bars)]
        chart.categoryAxis.labels.fontName = font
        chart.categoryAxis.labels.fontSize = 8
        chart.categoryAxis.labels.boxAnchor = "e"
        chart.valueAxis.valueMin = 0
        chart.valueAxis.valueMax = nice_top(max(max(c or 0, p or 0) for _l, c, p in bars))
        chart.valueAxis.labels.fontName = font
        chart.valueAxis.labels.fontSize = 7
        chart.bars[0].fillColor, chart.bars[1].fillColor = PREVIOUS, INK
        chart.bars.strokeWidth = 0
        chart.barLabelFormat = _bar_label
        chart.barLabels.fontName = font
        chart.barLabels.fontSize = 7
        chart.barLabels.boxAnchor = "w"
        chart.barLabels.dx = 3
        drawing.add(chart)
        drawing.add(String(0, height - 10, heading, fontName=font, fontSize=9.5))
        out += [drawing, Spacer(1, 2 * mm)]
    if out:
        legend = Drawing(180 * mm, 12)
        legend.add(_swatch(0, INK))
        legend.add(String(14, 2, _("This period"), fontName=font, fontSize=8))
        legend.add(_swatch(70, PREVIOUS))
        legend.add(String(84, 2, _("Period before"), fontName=font, fontSize=8))
        out = [_p(_("Charts"), style), legend, *out]
    return out


def _bar_label(value: float) -> str:
    """A bar's count beside it; nothing beside an empty bar."""
    return f"{value:g}" if value else ""


def _swatch(x: float, colour: Any) -> Any:
    from reportlab.graphics.shapes import Rect

    return Rect(x, 1, 10, 8, fillColor=colour, strokeWidth=0)


def render_pdf(summary: PeriodSummary, language: str) -> bytes:
    """The summary as PDF bytes, from the kept figures (call inside the language wanted)."""
    from qloop.org.models import Organisation
    from qloop.reports import period_summaries as ps

    font = _font(language)
    item = ps.recipient_set(summary)
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=13)
    small = ParagraphStyle("small", parent=base, fontSize=8, leading=10.5)
    org_style = ParagraphStyle("org", parent=base, fontSize=11, alignment=TA_CENTER)
    title_style = ParagraphStyle(
        "title", parent=base, fontSize=17, leading=22, alignment=TA_CENTER, spaceAfter=2 * mm
    )
    head = ParagraphStyle("head", parent=base, fontSize=9, leading=11)
    section = ParagraphStyle("section", parent=base, fontSize=10, leading=13)
    num = ParagraphStyle("num", parent=base, alignment=2)

    title = str(item.paper_title or _("Quality information period summary"))
    story: list[Any] = [
        _p(Organisation.current().name, org_style),
        Spacer(1, 2 * mm),
        _p(title, title_style),
    ]
    if not summary.is_signed:
        story.append(_p("【" + _("Not signed off") + "】", org_style))
    meta = Table(
        [
            [
                _p(_("For") + f": {item.title}", base),
                _p(
                    f"{summary.get_period_display()} "
                    f"{summary.start:%Y-%m-%d} – {summary.end:%Y-%m-%d}",
                    num,
                ),
            ]
        ],
        colWidths=[100 * mm, 80 * mm],
    )
    meta.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story += [meta, Spacer(1, 3 * mm)]

    titles = ps.column_titles(summary)
    data: list[list[Any]] = [[_p("", head), *(_p(t, head) for t in titles)]]
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), font, 9.5),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.93, 0.93, 0.93)),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
    ]
    for row in ps.table(summary, language):
        if "heading" in row:
            style += [
                ("SPAN", (0, len(data)), (-1, len(data))),
                ("BACKGROUND", (0, len(data)), (-1, len(data)), colors.Color(0.97, 0.97, 0.97)),
            ]
            data.append([_p(row["heading"], section), "", "", ""])
        else:
            data.append([_p(row["label"], base), *(_number(v) for v in row["values"])])
    figures = Table(data, colWidths=[72 * mm, 36 * mm, 36 * mm, 36 * mm], repeatRows=1)
    figures.setStyle(TableStyle(style))
    story += [figures, Spacer(1, 4 * mm)]
    if item.charted:
        story += _charts(ps.chart_groups(summary, language), font, section)

    listed = summary.figures["current"].get("corrective_list")
    if listed is not None:
        rows: list[list[Any]] = [
            [_p(_("Corrective actions open at the end of the period"), section), "", "", ""],
            [_p(h, head) for h in (_("No."), _("Title"), _("Owner"), _("Due"))],
        ]
        rows += [
            [_p(a["number"], small), _p(a["title"], small), _p(a["owner"], small), a["due"] or "—"]
            for a in listed
        ] or [[_p(_("None."), base), "", "", ""]]
        actions = Table(rows, colWidths=[38 * mm, 82 * mm, 30 * mm, 30 * mm], repeatRows=2)
        actions.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), font, 8),
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                    ("SPAN", (0, 0), (-1, 0)),
                    ("BACKGROUND", (0, 0), (-1, 1), colors.Color(0.95, 0.95, 0.95)),
                ]
            )
        )
        story += [actions, Spacer(1, 4 * mm)]

    sig = summary.signature or {}
    if summary.is_signed:
        at = timezone.localtime(summary.signed_at) if summary.signed_at else None
        by, when, meaning = _("Signed off by"), _("Date"), _("Meaning of the signature")
        lines = [
            f"{by}: {sig.get('printed_name', '')}",
            f"{when}: {at:%Y-%m-%d %H:%M}" if at else "",
            meaning + ": " + _("Approved"),
        ]
        if sig.get("figures_sha256"):
            lines.append(f"SHA-256: {sig['figures_sha256']}")
    else:
        lines = [_("Signed off by") + ":", _("Date") + ":"]
    sign_rows = [[_p(_("Sign-off"), section)], *([_p(t, base)] for t in lines if t)]
    signature = Table(sign_rows, colWidths=[180 * mm])
    signature.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.5, colors.black),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.95, 0.95, 0.95)),
            ]
        )
    )
    story.append(KeepTogether([signature]))  # the sign-off is never split over two pages

    # The CID fonts have no middle dot (·): a wide space separates the parts.
    footer = f"{title}\u3000{summary.start:%Y-%m-%d} – {summary.end:%Y-%m-%d}"

    def page(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.drawString(15 * mm, 10 * mm, footer)
        canvas.drawRightString(195 * mm, 10 * mm, _("Page %(n)s") % {"n": doc.page})
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"{title} {summary.start:%Y-%m-%d}",
        author=Organisation.current().name,
        lang=language,
    )
    doc.build(story, onFirstPage=page, onLaterPages=page)
    return buf.getvalue()
