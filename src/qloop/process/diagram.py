"""The process drawn from its definition (R2.12): an SVG made on the server, no script needed.

States are laid out top to bottom by their longest distance from the initial state; steps that
stay in the same state are listed under it; steps that go back are drawn on the right.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape

from qloop.process.spec import Process

BOX_W, BOX_H, ROW_H, COL_GAP, MARGIN = 190, 44, 118, 90, 20


def _layers(process: Process) -> dict[str, int]:
    """Longest-path layering over the forward edges (back edges found by depth-first search)."""
    edges = defaultdict(set)
    for t in process.transitions:
        # Leaving a terminal state (reopening) always goes back: it must not push the end up.
        for src, dst in t.edges():
            if src not in process.terminal and dst != src:
                edges[src].add(dst)
    order: list[str] = []
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()

    def visit(node: str) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                visit(nxt)
        state[node] = 2
        order.append(node)

    visit(process.initial)
    layer = {s: 0 for s in process.states}
    for node in reversed(order):
        for nxt in edges[node]:
            if (node, nxt) not in back:
                layer[nxt] = max(layer[nxt], layer[node] + 1)
    return layer


def render_svg(process: Process, current: str | None = None) -> str:
    layer = _layers(process)
    rows: dict[int, list[str]] = defaultdict(list)
    for s in process.states:
        rows[layer[s]].append(s)
    side = 170  # room on each side for the long and the backward steps
    width = MARGIN * 2 + max(len(r) for r in rows.values()) * (BOX_W + COL_GAP) + 2 * side
    pos: dict[str, tuple[float, float]] = {}
    for depth, states in rows.items():
        span = len(states) * BOX_W + (len(states) - 1) * COL_GAP
        x0 = (width - span) / 2
        for i, s in enumerate(states):
            pos[s] = (x0 + i * (BOX_W + COL_GAP), MARGIN + depth * ROW_H)
    height = MARGIN * 2 + (max(rows) + 1) * ROW_H
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'class="process-diagram" role="img" font-size="13">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#5b6572"/></marker></defs>',
    ]
    loops: dict[str, list[str]] = defaultdict(list)
    back_offset = 0
    long_offset = 0
    for t in process.transitions:
        if t.same_state:
            continue  # open in many states; listed under the chart instead of drawn
        for src in sorted(t.sources):
            for dst in sorted(t.targets()):
                label = escape(str(t.label))
                if src == dst:
                    loops[src].append(label)
                    continue
                (sx, sy), (dx, dy) = pos[src], pos[dst]
                if layer[dst] - layer[src] > 1:
                    # A step that skips layers goes round on the left instead of through boxes.
                    long_offset += 1
                    left = side - 30 * long_offset
                    x1, y1 = sx, sy + BOX_H / 2
                    x2, y2 = dx, dy + BOX_H / 2
                    parts.append(
                        f'<path d="M{x1:.0f},{y1:.0f} C{left:.0f},{y1:.0f} {left:.0f},{y2:.0f} '
                        f'{x2:.0f},{y2:.0f}" stroke="#5b6572" fill="none" '
                        f'marker-end="url(#arrow)"/>'
                    )
                    parts.append(
                        f'<text x="{left - 4:.0f}" y="{(y1 + y2) / 2 + 14 * long_offset:.0f}" '
                        f'text-anchor="end" fill="#1f4e79">{label}</text>'
                    )
                elif layer[dst] > layer[src]:
                    x1, y1 = sx + BOX_W / 2, sy + BOX_H
                    x2, y2 = dx + BOX_W / 2, dy
                    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
                    parts.append(
                        f'<path d="M{x1:.0f},{y1:.0f} L{x2:.0f},{y2:.0f}" stroke="#5b6572" '
                        f'fill="none" marker-end="url(#arrow)"/>'
                    )
                    parts.append(
                        f'<text x="{mx + 6:.0f}" y="{my:.0f}" fill="#1f4e79">{label}</text>'
                    )
                else:
                    back_offset += 28
                    right = width - side + 30 + back_offset / 4
                    x1, y1 = sx + BOX_W, sy + BOX_H / 2
                    x2, y2 = dx + BOX_W, dy + BOX_H / 2
                    parts.append(
                        f'<path d="M{x1:.0f},{y1:.0f} C{right:.0f},{y1:.0f} {right:.0f},{y2:.0f} '
                        f'{x2:.0f},{y2:.0f}" stroke="#a15c00" stroke-dasharray="5 3" fill="none" '
                        f'marker-end="url(#arrow)"/>'
                    )
                    parts.append(
                        f'<text x="{right - 40:.0f}" y="{(y1 + y2) / 2:.0f}" '
                        f'fill="#a15c00">{label}</text>'
                    )
    for s, state_name in process.states.items():
        x, y = pos[s]
        is_current = s == current
        fill = "#1f4e79" if is_current else ("#e8eef5" if s not in process.terminal else "#dfe9dc")
        color = "#ffffff" if is_current else "#1b2430"
        parts.append(
            f'<g class="state{" current" if is_current else ""}" data-state="{s}">'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
            f'stroke="#1f4e79" stroke-width="{3 if is_current else 1}"/>'
            f'<text x="{x + BOX_W / 2:.0f}" y="{y + BOX_H / 2 + 5:.0f}" text-anchor="middle" '
            f'fill="{color}" font-weight="600">{escape(str(state_name))}</text></g>'
        )
        if loops[s]:
            parts.append(
                f'<text x="{x + BOX_W + 8:.0f}" y="{y + 14:.0f}" fill="#5b6572" '
                f'font-size="11">↻ {" · ".join(loops[s])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
