"""Charts drawn on the server as inline SVG: no JavaScript, prints sharp, works offline.

Every text that goes into a chart passes through ``escape``; callers mark the result safe.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape

INK = "#1f4e79"
PREVIOUS = "#a6a6a6"
GRID = "#d0d0d0"
_NICE_STEPS = [m * 10**e for e in range(7) for m in (1, 2, 5)]
FONT = 'font-family="Noto Sans CJK SC, Noto Sans, sans-serif"'


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    previous: float | None = None


def text_width(text: str, size: float) -> float:
    """About how wide ``text`` is drawn at font size ``size``: a Chinese character (or any wide
    one) takes a full em, Latin letters and digits a little over half."""
    return sum(size if unicodedata.east_asian_width(ch) in "WF" else size * 0.6 for ch in text)


def fit_lines(text: str, width: float, size: float, *, lines: int = 2) -> list[str]:
    """``text`` broken into at most ``lines`` lines no wider than ``width`` (between words where
    there are spaces); what does not fit ends the last line with "…". Nothing is ever drawn
    outside the space given to it."""
    out: list[str] = []
    rest = text.strip()
    while rest and len(out) < lines:
        last = len(out) == lines - 1
        take = len(rest)
        while (
            take
            and text_width(rest[:take] + ("…" if last and take < len(rest) else ""), size) > width
        ):
            take -= 1
        if take < len(rest):
            space = rest.rfind(" ", 0, take + 1)
            if space > 0 and rest[take - 1 : take + 1].isascii() and rest[take : take + 1] != " ":
                take = space
        line = rest[:take].rstrip()
        rest = rest[take:].lstrip()
        out.append(line + ("…" if last and rest else ""))
    return out


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:.1f}{unit}" if value % 1 else f"{value:.0f}{unit}"


def comparison_bars(
    bars: Sequence[Bar],
    *,
    lo: float,
    hi: float,
    unit: str = "",
    current_label: str,
    previous_label: str,
    width: int = 640,
    title: str = "",
    legend: bool = True,
) -> str:
    """Horizontal bars, one per row, with the previous value as a thin grey bar below it.

    ``lo`` may be negative (NPS runs from −100 to 100): bars then grow from zero both ways.
    Without ``legend`` the chart is one piece of a longer one (see ``chart_pieces``).
    """
    label_w, right = 190, 56
    row_h = 30
    top = 24 if title else 8
    legend_h = 22 if legend else 0
    height = top + row_h * max(len(bars), 1) + 22 + legend_h
    plot_w = width - label_w - right
    span = hi - lo or 1

    def x(v: float) -> float:
        return label_w + (max(lo, min(hi, v)) - lo) / span * plot_w

    zero = x(0 if lo < 0 < hi else lo)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" class="chart" {FONT} font-size="12">'
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
        out.append(f'<text x="0" y="14" font-weight="bold">{escape(title)}</text>')
    axis_y = top + row_h * max(len(bars), 1)
    for i in range(5):
        v = lo + span * i / 4
        gx = x(v)
        out.append(
            f'<line x1="{gx:.1f}" y1="{top}" x2="{gx:.1f}" y2="{axis_y}" stroke="{GRID}" '
            'stroke-width="0.6"/>'
        )
        out.append(
            f'<text x="{gx:.1f}" y="{axis_y + 14}" text-anchor="middle" fill="#555" '
            f'font-size="10">{_fmt(v)}</text>'
        )
    for i, bar in enumerate(bars):
        y = top + i * row_h
        # Right-aligned at the axis, so a label wider than its column would lose its start:
        # long labels wrap onto a second line and end with "…" if still too long.
        lines = fit_lines(bar.label, label_w - 12, 12)
        tspans: str
        if len(lines) == 1:
            tspans = escape(lines[0])
        else:
            lines = fit_lines(bar.label, label_w - 12, 11)
            tspans = "".join(
                f'<tspan x="{label_w - 6}" y="{y + 11 + 12 * n}" font-size="11">{escape(line)}'
                "</tspan>"
                for n, line in enumerate(lines)
            )
        out.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" class="bar-label">'
            f"<title>{escape(bar.label)}</title>{tspans}</text>"
        )
        if bar.value is not None:
            x0, x1 = sorted((zero, x(bar.value)))
            out.append(
                f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 1):.1f}" height="14" '
                f'fill="{INK}"/>'
            )
            out.append(
                f'<text x="{max(x(bar.value), zero) + 4:.1f}" y="{y + 15}" '
                f'font-size="11">{_fmt(bar.value, unit)}</text>'
            )
        if bar.previous is not None:
            x0, x1 = sorted((zero, x(bar.previous)))
            out.append(
                f'<rect x="{x0:.1f}" y="{y + 20}" width="{max(x1 - x0, 1):.1f}" height="6" '
                f'fill="{PREVIOUS}"/>'
            )
    out.append(
        f'<line x1="{zero:.1f}" y1="{top}" x2="{zero:.1f}" y2="{axis_y}" stroke="#000" '
        'stroke-width="0.8"/>'
    )
    ly = height - 8
    if legend:
        out.append(f'<rect x="{label_w}" y="{ly - 9}" width="14" height="10" fill="{INK}"/>')
        out.append(f'<text x="{label_w + 18}" y="{ly}">{escape(current_label)}</text>')
    if legend and any(b.previous is not None for b in bars):
        px = label_w + 150
        out.append(f'<rect x="{px}" y="{ly - 6}" width="14" height="5" fill="{PREVIOUS}"/>')
        out.append(f'<text x="{px + 18}" y="{ly}">{escape(previous_label)}</text>')
    out.append("</svg>")
    return "".join(out)


def chart_pieces(
    bars: Sequence[Bar], *, per_piece: int = 4, title: str = "", **kw: Any
) -> list[str]:
    """A long bar chart as pieces of ``per_piece`` bars (0: one piece), each with its own axis:
    printed, a page takes as many pieces as fit, instead of the whole chart moving to the next
    page and leaving half of this one blank. The first piece has the title, the last the
    legend."""
    size = per_piece or len(bars) or 1
    chunks = [bars[i : i + size] for i in range(0, len(bars), size)] or [bars]
    return [
        comparison_bars(
            chunk,
            title=title if n == 0 else "",
            legend=n == len(chunks) - 1,
            **kw,
        )
        for n, chunk in enumerate(chunks)
    ]


def month_columns(
    months: Sequence[tuple[str, dict[str, int]]],
    series: Sequence[tuple[str, str]],
    *,
    width: int = 640,
    height: int = 200,
    title: str = "",
) -> str:
    """Stacked columns per month; ``series`` is (key, label) in stacking order."""
    colours = [INK, "#c55a11", "#548235", "#7f6000"]
    left, bottom, top = 32, 34, 24 if title else 8
    plot_h = height - top - bottom
    plot_w = width - left - 8
    totals = [sum(counts.get(k, 0) for k, _l in series) for _m, counts in months]
    peak = max([*totals, 1])
    step = next(s for s in _NICE_STEPS if peak / s <= 5)
    ceiling = ((peak + step - 1) // step) * step
    col_w = plot_w / max(len(months), 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" class="chart" {FONT} font-size="11">'
    ]
    if title:
        out.append(f"<title>{escape(title)}</title>")
        out.append(f'<text x="0" y="14" font-weight="bold" font-size="12">{escape(title)}</text>')
    for v in range(0, ceiling + 1, step):
        gy = top + plot_h - v / ceiling * plot_h
        out.append(
            f'<line x1="{left}" y1="{gy:.1f}" x2="{width - 8}" y2="{gy:.1f}" stroke="{GRID}" '
            'stroke-width="0.6"/>'
        )
        out.append(
            f'<text x="{left - 4}" y="{gy + 4:.1f}" text-anchor="end" fill="#555">{v}</text>'
        )
    for i, (month, counts) in enumerate(months):
        cx = left + i * col_w
        y = top + plot_h
        for j, (key, _label) in enumerate(series):
            n = counts.get(key, 0)
            if not n:
                continue
            h = n / ceiling * plot_h
            y -= h
            out.append(
                f'<rect x="{cx + col_w * 0.18:.1f}" y="{y:.1f}" width="{col_w * 0.64:.1f}" '
                f'height="{h:.1f}" fill="{colours[j % len(colours)]}"><title>{escape(month)} '
                f"{escape(_label)}: {n}</title></rect>"
            )
        if totals[i]:
            out.append(
                f'<text x="{cx + col_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">'
                f"{totals[i]}</text>"
            )
        out.append(
            f'<text x="{cx + col_w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
            f'fill="#333" font-size="10">{escape(month[2:])}</text>'
        )
    lx = left
    for j, (_key, label) in enumerate(series):
        out.append(
            f'<rect x="{lx}" y="{height - 11}" width="12" height="9" '
            f'fill="{colours[j % len(colours)]}"/>'
        )
        out.append(f'<text x="{lx + 16}" y="{height - 3}">{escape(label)}</text>')
        lx += 30 + 12 * len(label)
    out.append("</svg>")
    return "".join(out)
