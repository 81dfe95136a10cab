"""The plan's DAG as a small SVG picture (layered left to right, no layout engine)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

import networkx as nx

from storyboard.plan import Plan

__all__ = ["dag_svg"]

_W, _H, _GAP_X, _GAP_Y, _PAD = 170, 34, 50, 14, 10
_FILL = {
    "upload": "#e8eef7",
    "frame": "#efe8f7",
    "clip": "#efe8f7",
    "generate": "#e6f4ea",
    "take": "#f3f3f3",
    "assemble": "#fff4d6",
}


def dag_svg(plan: Plan, status: Mapping[str, str] | None = None) -> str:
    """An SVG of ``plan.graph``; ``status`` (node → cached/new/stale/...) colours the edges
    of generation nodes."""
    graph, status = plan.graph, status or {}
    columns = list(nx.topological_generations(graph))
    where: dict[str, tuple[int, int]] = {}
    for col, nodes in enumerate(columns):
        for row, node in enumerate(sorted(nodes)):
            where[node] = (_PAD + col * (_W + _GAP_X), _PAD + row * (_H + _GAP_Y))
    width = _PAD * 2 + len(columns) * (_W + _GAP_X) - _GAP_X
    height = _PAD * 2 + max(len(c) for c in columns) * (_H + _GAP_Y) - _GAP_Y
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="dag" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="plan: what each generation needs">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#888"/></marker>'
        "</defs>",
    ]
    for a, b in graph.edges:
        (ax, ay), (bx, by) = where[a], where[b]
        parts.append(
            f'<line x1="{ax + _W}" y1="{ay + _H // 2}" x2="{bx}" y2="{by + _H // 2}" '
            'stroke="#888" marker-end="url(#arrow)"/>'
        )
    for node, data in graph.nodes(data=True):
        x, y = where[node]
        kind = str(data.get("kind", ""))
        state = status.get(node, "")
        stroke = {"stale": "#c0392b", "new": "#2471a3", "cached": "#1e8449"}.get(state, "#999")
        label = str(data.get("label", node)) + (f" · {state}" if state else "")
        parts.append(
            f'<g class="node {escape(kind)}" data-node="{escape(node)}"><title>{escape(label)}'
            f'</title><rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="6" '
            f'fill="{_FILL.get(kind, "#fff")}" stroke="{stroke}" stroke-width="1.5"/>'
            f'<text x="{x + 8}" y="{y + _H // 2 + 4}" font-size="12" font-family="sans-serif">'
            f"{escape(_short(label))}</text></g>"
        )
    return "\n".join([*parts, "</svg>"]) + "\n"


def _short(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
