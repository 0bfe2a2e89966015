"""The data of the parallel-coordinates view of evaluated masks, apart from any figure (STYLE 16).

One axis per path (0 = off, 1 = on, labelled with the path's name ``src->tgt``), then MFLOPs, then
the metric (the line colour). With several sources a first axis says which run a line comes from.
Masks of another path space (another length) cannot share the path axes and are left out, counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from app.services.metrics_view import finite_or_none


@dataclass
class Parcoords:
    """What the chart draws.

    Attributes:
        dimensions: one dict per axis, left to right: ``label``, ``values``, ``range`` and, for
            discrete axes, ``tickvals`` / ``ticktext``.
        color: the metric of each line (as stored), the colour scale's values.
        masks: each line's mask (same order as ``color``).
        left_out: how many rows were not drawn: another path space, or no finite metric / MFLOPs.
    """

    dimensions: list[dict] = field(default_factory=list)
    color: list[float] = field(default_factory=list)
    masks: list[str] = field(default_factory=list)
    left_out: int = 0


MAX_LINES = 1000
"""The most lines drawn: k = 6 with 10,000 masks put 10,000 x 32 values in one parcoords trace, and
the Pareto page then took 30-60 s per rerun in Chromium on 2 cores; a thousand lines are as many as
the eye can follow."""


def best_lines(rows: Sequence[Mapping[str, Any]], metric: str, higher_is_better: bool, limit: int) -> list[dict]:
    """``rows`` when at most ``limit``, else the ``limit`` best by ``metric`` (ties: fewer MFLOPs,
    then the mask; rows without a finite metric or MFLOPs go last)."""
    if len(rows) <= limit:
        return [dict(r) for r in rows]
    from app.services.pareto_filter import best_first

    usable = [finite_or_none(r.get(metric)) is not None and finite_or_none(r.get("mflops")) is not None for r in rows]
    ok = [r for r, u in zip(rows, usable) if u]
    rest = [dict(r) for r, u in zip(rows, usable) if not u]
    return (best_first(ok, metric, higher_is_better) + rest)[:limit]


def _span(values: Sequence[float]) -> list[float]:
    lo, hi = min(values), max(values)
    return [lo, hi] if hi > lo else [lo - 0.5, hi + 0.5]  # a flat axis still needs a range


def parcoords_data(rows: Sequence[Mapping[str, Any]], path_names: Sequence[str], metric: str, *,
                   metric_label: str, scale: float = 1.0, source_key: str = "_source") -> Parcoords:
    """Axes for ``rows`` (``mask``, ``mflops``, ``metric``; ``source_key`` names the run).

    Args:
        rows: evaluated masks (any order: lines are drawn in it).
        path_names: the path space's path names, in bit order.
        metric: the metric key; ``metric_label`` its axis label.
        scale: the metric axis shows ``scale * value`` (100 for percentages).
        source_key: the row key naming the source; a ``source`` axis appears when rows come from
            two or more sources.
    """
    n = len(path_names)
    keep, left_out = [], 0
    for r in rows:
        bits = str(r.get("mask", ""))
        if (len(bits) != n or set(bits) - {"0", "1"} or finite_or_none(r.get(metric)) is None
                or finite_or_none(r.get("mflops")) is None):
            left_out += 1
        else:
            keep.append(r)
    if not keep:
        return Parcoords(left_out=left_out)
    dims: list[dict] = []
    names = list(dict.fromkeys(str(r.get(source_key, "")) for r in keep))
    if len(names) > 1:
        dims.append({"label": "source", "values": [names.index(str(r.get(source_key, ""))) for r in keep],
                     "range": [0, len(names) - 1], "tickvals": list(range(len(names))), "ticktext": names})
    for i, name in enumerate(path_names):
        dims.append({"label": name, "values": [int(str(r["mask"])[i]) for r in keep], "range": [0, 1],
                     "tickvals": [0, 1], "ticktext": ["off", "on"]})
    fl = [float(r["mflops"]) for r in keep]
    dims.append({"label": "MFLOPs", "values": fl, "range": _span(fl)})
    ms = [scale * float(r[metric]) for r in keep]
    dims.append({"label": metric_label, "values": ms, "range": _span(ms)})
    return Parcoords(dims, [float(r[metric]) for r in keep], [str(r["mask"]) for r in keep], left_out)
