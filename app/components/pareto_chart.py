"""Plotly figure of evaluated subnets (metric vs MFLOPs) with Pareto fronts and baselines.

The front itself is computed in :mod:`app.services.pareto_view`; this module only draws it. Every
user-supplied name is escaped (:func:`app.services.text.plotly_text`): plotly renders HTML in text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from app.services.metrics_view import MetricSpec, format_value, is_percent
from app.services.pareto_view import ParetoFront, point_key, ties
from app.services.text import markdown_text, plotly_text

PALETTE = ("#1F77B4", "#E4572E", "#2CA02C", "#9467BD", "#8C564B", "#E377C2", "#7F7F7F", "#BCBD22")
UIREVISION = "pareto"
"""Constant ``layout.uirevision``. Streamlit 1.67 draws a chart whose figure changed as a new element
(its id hashes the figure), so a zoom made with the mouse lasts until new points arrive; a zoom set
with the page's zoom sliders is part of the figure and survives (see ``pareto_panel``)."""
MAX_HOVER_TIES = 8


@dataclass
class Source:
    """One set of evaluated masks: a run or the selected checkpoint's table.

    Attributes:
        id: unique and stable (the run id, or ``checkpoint``): what a click carries.
        name: shown in legends and tables (user text: escaped when drawn).
        rows: evaluated masks.
        front: their Pareto split.
        checkpoint: the checkpoint file the masks belong to (None: none on disk yet).
        token: the checkpoint's URL name (``demo`` / run id) when it is in the picker.
        live: a note for a running run (``running, epoch 3/10``), '' otherwise.
    """

    id: str
    name: str
    rows: list[dict]
    front: ParetoFront
    checkpoint: str | None = None
    token: str | None = None
    live: str = ""


def _y(spec: MetricSpec, v: float) -> float:
    return 100.0 * v if is_percent(spec.key) else v


def _tie_text(group: Sequence[dict], spec: MetricSpec) -> str:
    lines = [f"{plotly_text(r['mask'])} ({plotly_text(r.get('_source', ''))})" for r in group[:MAX_HOVER_TIES]]
    if len(group) > MAX_HOVER_TIES:
        lines.append(f"... and {len(group) - MAX_HOVER_TIES} more (see the table below)")
    return f"<br><i>{len(group)} subnets at this point:</i><br>" + "<br>".join(lines)


WEBGL_POINTS = 2000
"""A trace with more points is drawn with WebGL (``Scattergl``) and without the per-point path list in
its hover: measured at k = 6 with 10,000 masks, the SVG scatter took 2.1 s to draw in Chromium and
its figure was 14.6 MB of JSON, mostly the path lists; WebGL drew it in 0.5-0.8 s."""


def pareto_figure(sources: Sequence[Source], baselines: Sequence[dict], spec: MetricSpec, *,
                  budget: float | None = None, best: dict | None = None,
                  x_range: tuple[float, float] | None = None,
                  y_range: tuple[float, float] | None = None,
                  references: Sequence[dict] = ()) -> go.Figure:
    """The scatter: per source, dominated points (faint), the front (line + markers); baselines as
    labelled diamonds; the budget as a vertical line and the best subnet under it as a star;
    ``x_range`` / ``y_range`` (MFLOPs, metric as stored) fix the axes (None: fit the data);
    ``references`` (``{"label", "value"}``, published points without MFLOPs) are dotted horizontal
    lines labelled at the right edge.

    Every subnet point carries ``customdata = [mask, source id, paths, ties]``: hover and selection
    read it; ``ties`` lists every mask drawn at the same spot (one click cannot tell them apart).
    """
    fig = go.Figure()
    y_label = f"{spec.label}{' (%)' if is_percent(spec.key) else ''} ({'higher' if spec.higher_is_better else 'lower'} is better)"
    hover = ("<b>%{customdata[0]}</b> (%{customdata[4]})<br>%{customdata[2]}<br>"
             f"MFLOPs %{{x:.3f}}<br>{spec.label} %{{y:.3f}}%{{customdata[3]}}<extra></extra>")
    tied = ties([r for s in sources for r in s.front.front + s.front.dominated], spec.key)

    def custom(r: dict, src_id: str, src_name: str, lean: bool = False) -> list[str]:
        group = tied.get(point_key(r, spec.key) or (0.0, 0.0))
        paths = "" if lean else plotly_text(r.get("_paths", ""))  # the table below lists a mask's paths
        return [r["mask"], src_id, paths, _tie_text(group, spec) if group else "", plotly_text(src_name)]

    for i, src in enumerate(sources):
        color = PALETTE[i % len(PALETTE)]
        name = plotly_text(src.name) + (f" ({src.live})" if src.live else "")
        for rows, label, opacity, mode in ((src.front.dominated, name, 0.35, "markers"),
                                           (src.front.front, f"{name}: Pareto front", 1.0, "lines+markers")):
            if not rows:
                continue
            many = len(rows) > WEBGL_POINTS
            trace = go.Scattergl if many else go.Scatter
            # numpy arrays: plotly validates a list element by element (0.4 s of a 20,000-point redraw)
            fig.add_trace(trace(
                x=np.array([float(r["mflops"]) for r in rows]),
                y=np.array([_y(spec, float(r[spec.key])) for r in rows]),
                mode=mode, name=label, opacity=opacity, marker={"color": color, "size": 6 if many else 9},
                line={"color": color, "shape": "hv"},
                customdata=np.array([custom(r, src.id, src.name, lean=many) for r in rows], dtype=object),
                hovertemplate=hover,
            ))
    bl = [b for b in baselines if b.get("mflops") is not None and b.get(spec.key) is not None]
    if bl:
        fig.add_trace(go.Scatter(
            x=[float(b["mflops"]) for b in bl], y=[_y(spec, float(b[spec.key])) for b in bl],
            mode="markers+text", name="baselines", text=[plotly_text(b["name"]) for b in bl],
            textposition="top center", marker={"symbol": "diamond", "size": 12, "color": "#333333"},
            hovertemplate="<b>%{text}</b><br>MFLOPs %{x:.3f}<br>" + spec.label + " %{y:.3f}<extra></extra>",
        ))
    if budget is not None:
        fig.add_vline(x=budget, line_dash="dash", line_color="#888888",
                      annotation_text=f"budget {budget:.3f}", annotation_position="top left")
    if best is not None:
        src_name = best.get("_source", "")
        fig.add_trace(go.Scatter(
            x=[float(best["mflops"])], y=[_y(spec, float(best[spec.key]))], mode="markers", name="best under budget",
            marker={"symbol": "star", "size": 20, "color": "#FFB400", "line": {"width": 1, "color": "#333"}},
            customdata=[custom(best, best.get("_source_id", ""), src_name)], hovertemplate=hover,
        ))
    for ref in references:
        fig.add_hline(y=_y(spec, float(ref["value"])), line_dash="dot", line_color="#9A9A9A", line_width=1,
                      annotation_text=plotly_text(ref["label"]), annotation_position="right",
                      annotation_font={"size": 10, "color": "#666666"})
    if references:  # a legend entry, so the dotted lines are explained where the runs are
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name="published reference (no MFLOPs)",
                                 line={"color": "#9A9A9A", "dash": "dot"}, hoverinfo="skip"))
    live = [f"{plotly_text(s.name)}: {s.live}" for s in sources if s.live]
    for j, text in enumerate(live):
        fig.add_annotation(text=text, xref="paper", yref="paper", x=0.0, y=1.0 - 0.06 * j, xanchor="left",
                           yanchor="top", showarrow=False, font={"color": "#B85C00"},
                           bgcolor="rgba(255,255,255,0.8)")
    fig.update_layout(
        xaxis_title="MFLOPs per sample", yaxis_title=y_label, height=520, margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": -0.15}, clickmode="event+select", hovermode="closest",
        uirevision=UIREVISION,
    )
    if x_range is not None:
        fig.update_xaxes(range=list(x_range), autorange=False)
    if y_range is not None:
        fig.update_yaxes(range=[_y(spec, y_range[0]), _y(spec, y_range[1])], autorange=False)
    return fig


def best_caption(best: dict | None, spec: MetricSpec, budget: float) -> str:
    if best is None:
        return f"No evaluated subnet fits {budget:.3f} MFLOPs."
    return (f"Best under {budget:.3f} MFLOPs: **{best['mask']}** ({markdown_text(best.get('_source', ''))}), "
            f"{spec.label} {format_value(spec.key, best[spec.key])}, {float(best['mflops']):.3f} MFLOPs")
