"""Plotly figure of evaluated subnets (metric vs MFLOPs) with Pareto fronts and baselines.

The front itself is computed in :mod:`app.services.pareto_view`; this module only draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import plotly.graph_objects as go

from app.services.metrics_view import MetricSpec, format_value, is_percent
from app.services.pareto_view import ParetoFront

PALETTE = ("#1F77B4", "#E4572E", "#2CA02C", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22")


@dataclass
class Source:
    """One set of evaluated masks: a run or the selected checkpoint's table."""

    name: str
    rows: list[dict]
    front: ParetoFront
    checkpoint: str | None = None


def _y(spec: MetricSpec, v: float) -> float:
    return 100.0 * v if is_percent(spec.key) else v


def pareto_figure(sources: Sequence[Source], baselines: Sequence[dict], spec: MetricSpec, *,
                  budget: float | None = None, best: dict | None = None) -> go.Figure:
    """The scatter: per source, dominated points (faint), the front (line + markers); baselines as
    labelled diamonds; the budget as a vertical line and the best subnet under it as a star.

    Every subnet point carries ``customdata = [mask, source, paths]`` (hover and selection read it).
    """
    fig = go.Figure()
    y_label = f"{spec.label}{' (%)' if is_percent(spec.key) else ''} ({'higher' if spec.higher_is_better else 'lower'} is better)"
    hover = ("<b>%{customdata[0]}</b> (%{customdata[1]})<br>%{customdata[2]}<br>"
             f"MFLOPs %{{x:.3f}}<br>{spec.label} %{{y:.3f}}<extra></extra>")
    for i, src in enumerate(sources):
        color = PALETTE[i % len(PALETTE)]
        for rows, name, opacity, mode in ((src.front.dominated, f"{src.name}", 0.35, "markers"),
                                          (src.front.front, f"{src.name}: Pareto front", 1.0, "lines+markers")):
            if not rows:
                continue
            fig.add_trace(go.Scatter(
                x=[float(r["mflops"]) for r in rows],
                y=[_y(spec, float(r[spec.key])) for r in rows],
                mode=mode, name=name, opacity=opacity, marker={"color": color, "size": 9},
                line={"color": color, "shape": "hv"},
                customdata=[[r["mask"], src.name, r.get("_paths", "")] for r in rows],
                hovertemplate=hover,
            ))
    bl = [b for b in baselines if b.get("mflops") is not None and b.get(spec.key) is not None]
    if bl:
        fig.add_trace(go.Scatter(
            x=[float(b["mflops"]) for b in bl], y=[_y(spec, float(b[spec.key])) for b in bl],
            mode="markers+text", name="baselines", text=[str(b["name"]) for b in bl], textposition="top center",
            marker={"symbol": "diamond", "size": 12, "color": "#333333"},
            hovertemplate="<b>%{text}</b><br>MFLOPs %{x:.3f}<br>" + spec.label + " %{y:.3f}<extra></extra>",
        ))
    if budget is not None:
        fig.add_vline(x=budget, line_dash="dash", line_color="#888888",
                      annotation_text=f"budget {budget:.3f}", annotation_position="top left")
    if best is not None:
        fig.add_trace(go.Scatter(
            x=[float(best["mflops"])], y=[_y(spec, float(best[spec.key]))], mode="markers", name="best under budget",
            marker={"symbol": "star", "size": 20, "color": "#FFB400", "line": {"width": 1, "color": "#333"}},
            customdata=[[best["mask"], best.get("_source", ""), best.get("_paths", "")]], hovertemplate=hover,
        ))
    fig.update_layout(
        xaxis_title="MFLOPs per sample", yaxis_title=y_label, height=520, margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": -0.15}, clickmode="event+select",
    )
    return fig


def best_caption(best: dict | None, spec: MetricSpec, budget: float) -> str:
    if best is None:
        return f"No evaluated subnet fits {budget:.3f} MFLOPs."
    return (f"Best under {budget:.3f} MFLOPs: **{best['mask']}** ({best.get('_source', '')}), "
            f"{spec.label} {format_value(spec.key, best[spec.key])}, {float(best['mflops']):.3f} MFLOPs")
