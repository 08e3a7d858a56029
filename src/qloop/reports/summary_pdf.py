"""A period summary as an A4 PDF, laid out like the printed page (X5, R3.2): organisation,
title, recipient set and period, the figure tables with the period before and the same period
last year, the open corrective actions, and the sign-off with who signed and when.

Written with ReportLab in pure Python. Chinese is set in the Adobe CID fonts every PDF reader
carries (STSong-Light for 简体 and English, MSung-Light for 繁體): no font file on the server,
no system package, and the text stays searchable (``pdftotext`` reads it back).
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
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

    from qloop.reports.models import PeriodSummary

FONTS = {"zh-hant": "MSung-Light"}
DEFAULT_FONT = "STSong-Light"
_registered: set[str] = set()


def _font(language: str) -> str:
    name = FONTS.get(language, DEFAULT_FONT)
    if name not in _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(name))
        _registered.add(name)
    return name


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), style)


def _number(value: Any) -> str:
    return "—" if value is None else str(value)


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
    story.append(signature)

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
