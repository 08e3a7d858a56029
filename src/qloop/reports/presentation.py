"""What a survey summary report shows, computed from its stored results: rows and charts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from qloop.reports.charts import Bar, chart_pieces, comparison_bars, month_columns

RATING = "rating"
RECOMMENDATION = "recommendation"


@dataclass(frozen=True)
class QuestionRow:
    code: str
    text: str
    type: str
    answered: int
    mean: float | None
    csat: float | None
    nps: float | None
    previous_csat: float | None
    previous_nps: float | None
    distribution: list[tuple[str, int]]
    comments: list[str]


def question_rows(results: dict[str, Any]) -> list[QuestionRow]:
    previous = {q["code"]: q for q in (results.get("previous") or {}).get("questions", [])}
    rows = []
    for q in results.get("questions", []):
        prev = previous.get(q["code"], {})
        rows.append(
            QuestionRow(
                code=q["code"],
                text=q["text"],
                type=q["type"],
                answered=q.get("answered", 0),
                mean=q.get("mean"),
                csat=q.get("csat"),
                nps=q.get("nps"),
                previous_csat=prev.get("csat"),
                previous_nps=prev.get("nps"),
                distribution=list((q.get("distribution") or {}).items()),
                comments=list(q.get("comments") or []),
            )
        )
    return rows


def chart_label(question: str) -> str:
    """A question as a chart labels it: without a closing note in brackets, which explains the
    scale to the respondent ("（0 = 完全不可能，10 = 非常可能）") and the chart's axis shows."""
    return re.sub(r"\s*[（(][^（）()]*[)）]\s*$", "", question) or question


def _safe(svg: str) -> SafeString:
    return mark_safe(svg)  # noqa: S308 - every text in the chart is escaped in charts.py


def survey_charts(results: dict[str, Any], *, per_piece: int = 0) -> dict[str, list[SafeString]]:
    """The overall indices, CSAT per question and NPS per question, each against the previous
    campaign when there is one; each chart a list of pieces of ``per_piece`` bars (see
    ``chart_pieces``), or of one piece with 0."""
    prev = results.get("previous") or {}
    previous_label = _("Previous: %(title)s") % {"title": prev.get("title", "")} if prev else ""
    labels: dict[str, Any] = {
        "current_label": _("This survey"),
        "previous_label": previous_label,
    }
    charts = {
        "overall": [
            _safe(
                comparison_bars(
                    [
                        Bar("CSAT", results.get("csat"), prev.get("csat")),
                        Bar("NPS", results.get("nps"), prev.get("nps")),
                    ],
                    lo=-100,
                    hi=100,
                    title=_("Overall satisfaction: CSAT and NPS"),
                    **labels,
                )
            )
        ]
    }
    rows = question_rows(results)
    csat_bars = [
        Bar(chart_label(r.text), r.csat, r.previous_csat) for r in rows if r.type == RATING
    ]
    if csat_bars:
        charts["questions"] = [
            _safe(svg)
            for svg in chart_pieces(
                csat_bars,
                per_piece=per_piece,
                lo=0,
                hi=100,
                unit="%",
                title=_("Satisfaction by question (share of ratings 4–5)"),
                **labels,
            )
        ]
    nps_bars = [
        Bar(chart_label(r.text), r.nps, r.previous_nps) for r in rows if r.type == RECOMMENDATION
    ]
    if nps_bars:
        charts["recommendation"] = [
            _safe(svg)
            for svg in chart_pieces(
                nps_bars,
                per_piece=per_piece,
                lo=-100,
                hi=100,
                title=_("Net promoter score by question"),
                **labels,
            )
        ]
    return charts


def trend_chart(months: list[dict[str, Any]], kinds: list[tuple[str, str]]) -> SafeString:
    return _safe(
        month_columns(
            [(m["month"], m["kinds"]) for m in months],
            kinds,
            title=_("Cases received by month"),
        )
    )
