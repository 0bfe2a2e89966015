"""Geometry and a static SVG routing diagram of a mask's active paths (no JavaScript needed).

Modalities sit on a circle; path ``i->j`` is a curved arrow from i to j. The two directions of a
pair bend to opposite sides, so both stay visible.
"""

from __future__ import annotations

import html
import math
from typing import Sequence

from mro_core.paths import PathSpace

ACTIVE_COLOR = "#E4572E"
INACTIVE_COLOR = "#C8C8C8"
NODE_COLOR = "#1F77B4"


def circle_positions(k: int, radius: float, *, cx: float = 0.0, cy: float = 0.0) -> list[tuple[float, float]]:
    """k points on a circle, the first at the top, clockwise (screen coordinates, y down)."""
    out = []
    for i in range(k):
        a = -math.pi / 2 + 2 * math.pi * i / k
        out.append((cx + radius * math.cos(a), cy + radius * math.sin(a)))
    return out


def _curve(p0: tuple[float, float], p1: tuple[float, float], bend: float, shrink: float) -> tuple[str, tuple[float, float]]:
    """Quadratic Bezier from p0 to p1 bent to the right of the direction of travel, with both ends
    pulled back by ``shrink`` (node radius); returns the path ``d`` and the curve's midpoint."""
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    n = math.hypot(dx, dy) or 1.0
    ux, uy = dx / n, dy / n
    nx, ny = -uy, ux  # right-hand normal in screen coordinates
    cx, cy = (x0 + x1) / 2 + bend * nx, (y0 + y1) / 2 + bend * ny
    # pull the ends back towards the control point so arrows stop at the node's rim
    def pull(px: float, py: float) -> tuple[float, float]:
        vx, vy = cx - px, cy - py
        m = math.hypot(vx, vy) or 1.0
        return px + shrink * vx / m, py + shrink * vy / m

    (sx, sy), (ex, ey) = pull(x0, y0), pull(x1, y1)
    mx, my = 0.25 * sx + 0.5 * cx + 0.25 * ex, 0.25 * sy + 0.5 * cy + 0.25 * ey
    return f"M {sx:.1f} {sy:.1f} Q {cx:.1f} {cy:.1f} {ex:.1f} {ey:.1f}", (mx, my)


def routing_svg(
    space: PathSpace,
    mask: Sequence[int] | str,
    *,
    weights: Sequence[float] | None = None,
    size: int = 320,
    show_inactive: bool = True,
) -> str:
    """An SVG of the modality graph with the active paths of ``mask`` drawn as bold arrows.

    Args:
        space: the path space (node names and path order).
        mask: bit string or sequence of 0/1 in path order.
        weights: optional per-path numbers printed on the active arrows (e.g. p_{i->j}).
        size: width and height in pixels.
        show_inactive: draw inactive paths as faint dashed arrows.
    """
    bits = [int(b) for b in (mask if not isinstance(mask, str) else list(mask))]
    r_node = 22.0
    pos = circle_positions(space.k, size / 2 - r_node - 18, cx=size / 2, cy=size / 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        'role="img" aria-label="routing diagram">',
        "<defs>",
        f'<marker id="arrA" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{ACTIVE_COLOR}"/></marker>',
        f'<marker id="arrI" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">'
        f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{INACTIVE_COLOR}"/></marker>',
        "</defs>",
    ]
    for idx, (p, b) in enumerate(zip(space.paths, bits)):
        if not b and not show_inactive:
            continue
        d, (mx, my) = _curve(pos[p.src], pos[p.tgt], bend=size * 0.07, shrink=r_node + 2)
        if b:
            parts.append(f'<path d="{d}" fill="none" stroke="{ACTIVE_COLOR}" stroke-width="3" marker-end="url(#arrA)">'
                         f"<title>{html.escape(p.name)} (active)</title></path>")
            if weights is not None and idx < len(weights):
                parts.append(f'<text x="{mx:.1f}" y="{my:.1f}" font-size="11" text-anchor="middle" '
                             f'fill="#333">{float(weights[idx]):.2f}</text>')
        else:
            parts.append(f'<path d="{d}" fill="none" stroke="{INACTIVE_COLOR}" stroke-width="1.5" '
                         f'stroke-dasharray="4 3" marker-end="url(#arrI)"><title>{html.escape(p.name)} (off)</title></path>')
    for name, (x, y) in zip(space.modalities, pos):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r_node}" fill="{NODE_COLOR}"/>')
        parts.append(f'<text x="{x:.1f}" y="{y + 5:.1f}" font-size="15" font-weight="bold" text-anchor="middle" '
                     f'fill="white">{html.escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def graph_legend_svg(width: int = 640) -> str:
    """The Graph page's legend: colour = active in the current mask, width = p, dashed = inactive."""
    h = 34
    y = h / 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" viewBox="0 0 {width} {h}" '
             'role="img" aria-label="graph legend" font-family="sans-serif" font-size="13" fill="#333">']
    x = 4
    for label, stroke, w, dash in (("active in the current mask", ACTIVE_COLOR, 4, ""),
                                   ("inactive", INACTIVE_COLOR, 4, ' stroke-dasharray="6 4"')):
        parts.append(f'<line x1="{x}" y1="{y}" x2="{x + 34}" y2="{y}" stroke="{stroke}" stroke-width="{w}"{dash}/>')
        parts.append(f'<text x="{x + 40}" y="{y + 4}">{html.escape(label)}</text>')
        x += 40 + 8 * len(label) + 14
    parts.append(f'<line x1="{x}" y1="{y}" x2="{x + 34}" y2="{y}" stroke="#888" stroke-width="1"/>')
    parts.append(f'<line x1="{x + 40}" y1="{y}" x2="{x + 74}" y2="{y}" stroke="#888" stroke-width="8"/>')
    parts.append(f'<text x="{x + 80}" y="{y + 4}">width = p (0 to 1)</text>')
    parts.append("</svg>")
    return "".join(parts)
