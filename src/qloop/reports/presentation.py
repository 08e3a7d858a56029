"""What a survey summary report shows, computed from its stored results: rows and charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from qloop.reports.charts import Bar, comparison_bars, month_columns

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


def _safe(svg: str) -> SafeString:
    return mark_safe(svg)  # noqa: S308 - every text in the chart is escaped in charts.py


def survey_charts(results: dict[str, Any]) -> dict[str, SafeString]:
    """The overall indices, CSAT per question and NPS per question, each against the previous
    campaign when there is one."""
    prev = results.get("previous") or {}
    previous_label = _("Previous: %(title)s") % {"title": prev.get("title", "")} if prev else ""
    current_label = _("This survey")
    charts = {
        "overall": _safe(
            comparison_bars(
                [
                    Bar("CSAT", results.get("csat"), prev.get("csat")),
                    Bar("NPS", results.get("nps"), prev.get("nps")),
                ],
                lo=-100,
                hi=100,
                title=_("Overall satisfaction: CSAT and NPS"),
                current_label=current_label,
                previous_label=previous_label,
            )
        )
    }
    rows = question_rows(results)
    csat_bars = [Bar(r.text, r.csat, r.previous_csat) for r in rows if r.type == RATING]
    if csat_bars:
        charts["questions"] = _safe(
            comparison_bars(
                csat_bars,
                lo=0,
                hi=100,
                unit="%",
                title=_("Satisfaction by question (share of ratings 4–5)"),
                current_label=current_label,
                previous_label=previous_label,
            )
        )
    nps_bars = [Bar(r.text, r.nps, r.previous_nps) for r in rows if r.type == RECOMMENDATION]
    if nps_bars:
        charts["recommendation"] = _safe(
            comparison_bars(
                nps_bars,
                lo=-100,
                hi=100,
                title=_("Net promoter score by question"),
                current_label=current_label,
                previous_label=previous_label,
            )
        )
    return charts


def trend_chart(months: list[dict[str, Any]], kinds: list[tuple[str, str]]) -> SafeString:
    return _safe(
        month_columns(
            [(m["month"], m["kinds"]) for m in months],
            kinds,
            title=_("Cases received by month"),
        )
    )
