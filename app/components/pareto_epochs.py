"""The Pareto page's "Front per epoch" section: one run's front at a chosen epoch (its final front
faint behind it) and the run's hypervolume per epoch.

The fronts and the hypervolume are computed in :mod:`app.services.pareto_epochs`; this module only
chooses and draws. The axes span every epoch of the run, so moving the slider moves the front, not
the axes.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from app.components.large_type import show_chart
from app.components.pareto_chart import PALETTE, UIREVISION
from app.resources import open_store
from app.services import runs as run_svc
from app.services import state as S
from app.services.hypervolume import REFERENCE_MARGIN
from app.services.metrics_view import MetricSpec, format_value, is_percent
from app.services.pareto_epochs import EpochFronts, epoch_fronts, epoch_rows
from app.services.pareto_view import ParetoFront
from app.services.text import markdown_text

REFRESH_SECONDS = 5
FINAL_COLOR = "#9A9A9A"
AREA_COLOR = "rgba(31, 119, 180, 0.10)"


def _y(spec: MetricSpec, v: float) -> float:
    return 100.0 * v if is_percent(spec.key) else v


def _points(front: ParetoFront, spec: MetricSpec, rows: list[dict]) -> dict:
    return {"x": [float(r["mflops"]) for r in rows], "y": [_y(spec, float(r[spec.key])) for r in rows],
            "customdata": [[r["mask"]] for r in rows],
            "hovertemplate": f"<b>%{{customdata[0]}}</b><br>MFLOPs %{{x:.3f}}<br>{spec.label} %{{y:.3f}}<extra></extra>"}


def _area(ef: EpochFronts, front: ParetoFront, spec: MetricSpec) -> dict | None:
    """The staircase region the hypervolume measures: under the front, up to the reference point."""
    if ef.reference is None or not front.front:
        return None
    rx, rm = ef.reference
    xs, ys, prev = [], [], rm
    for r in front.front:  # by MFLOPs, the metric improving: up (or down) at each point, then right
        x, m = float(r["mflops"]), float(r[spec.key])
        xs += [x, x]
        ys += [prev, m]
        prev = m
    xs += [rx, rx]
    ys += [prev, rm]
    return {"x": xs, "y": [_y(spec, v) for v in ys]}


def epoch_figure(ef: EpochFronts, epoch: int, spec: MetricSpec) -> go.Figure:
    """The front of ``epoch`` (line + markers), its dominated masks (faint), the run's final front
    (faint, dashed) and the area its hypervolume counts."""
    fig = go.Figure()
    front = ef.fronts[epoch]
    area = _area(ef, front, spec)
    if area is not None:
        fig.add_trace(go.Scatter(**area, mode="lines", fill="toself", fillcolor=AREA_COLOR, line={"width": 0},
                                 name="area counted by the hypervolume", hoverinfo="skip"))
    if ef.final.front:
        fig.add_trace(go.Scatter(**_points(ef.final, spec, ef.final.front), mode="lines+markers", name="final front",
                                 opacity=0.35, marker={"color": FINAL_COLOR, "size": 7},
                                 line={"color": FINAL_COLOR, "dash": "dash", "shape": "hv"}))
    if front.dominated:
        fig.add_trace(go.Scatter(**_points(front, spec, front.dominated), mode="markers",
                                 name=f"epoch {epoch}: dominated", opacity=0.35,
                                 marker={"color": PALETTE[0], "size": 8}))
    if front.front:
        fig.add_trace(go.Scatter(**_points(front, spec, front.front), mode="lines+markers", name=f"epoch {epoch} front",
                                 marker={"color": PALETTE[0], "size": 9}, line={"color": PALETTE[0], "shape": "hv"}))
    every = [r for e in ef.epochs for r in ef.fronts[e].front + ef.fronts[e].dominated] + ef.final.front
    y_label = f"{spec.label}{' (%)' if is_percent(spec.key) else ''} ({'higher' if spec.higher_is_better else 'lower'} is better)"
    fig.update_layout(xaxis_title="MFLOPs per sample", yaxis_title=y_label, height=420, uirevision=UIREVISION,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": -0.2})
    if every and ef.reference is not None:
        xs = [float(r["mflops"]) for r in every] + [ef.reference[0]]
        ys = [_y(spec, float(r[spec.key])) for r in every] + [_y(spec, ef.reference[1])]
        pad_x, pad_y = 0.03 * (max(xs) - min(xs) or 1.0), 0.03 * (max(ys) - min(ys) or 1.0)
        fig.update_xaxes(range=[min(xs) - pad_x, max(xs) + pad_x], autorange=False)
        fig.update_yaxes(range=[min(ys) - pad_y, max(ys) + pad_y], autorange=False)
    return fig


def hypervolume_figure(ef: EpochFronts, epoch: int) -> go.Figure:
    """Hypervolume per epoch (line + markers), the chosen epoch ringed."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=ef.epochs, y=[ef.hypervolume[e] for e in ef.epochs], mode="lines+markers",
                             name="hypervolume", marker={"color": PALETTE[0], "size": 8},
                             hovertemplate="epoch %{x}<br>hypervolume %{y:.4g}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[epoch], y=[ef.hypervolume[epoch]], mode="markers", name=f"epoch {epoch}",
                             marker={"size": 16, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": "#E4572E"}},
                             hoverinfo="skip"))
    fig.update_layout(xaxis_title="epoch", yaxis_title="hypervolume", height=280, showlegend=False,
                      margin={"l": 10, "r": 10, "t": 20, "b": 10}, uirevision=UIREVISION)
    fig.update_xaxes(tickmode="array", tickvals=ef.epochs)
    return fig


def _no_history(rec) -> str:
    name = markdown_text(run_svc.run_label(rec))
    if getattr(rec, "epoch", None):
        return (f"Run {name} has no per-epoch history: it was made before the run store kept each epoch's "
                "masks, so only its final front (the chart above) is known.")
    return f"Run {name} has not finished an epoch yet: its front appears here after each epoch."


def _epoch_choice(epochs: list[int]) -> int:
    """The epoch slider; it stays on the last epoch (and moves on with a running search) until moved."""
    last = epochs[-1]
    if len(epochs) == 1:
        st.caption(f"Epoch {last} is the only one with a snapshot so far.")
        return last
    if st.session_state.get(S.PARETO_EPOCH_FOLLOW, True) or st.session_state.get(S.PARETO_EPOCH) not in epochs:
        st.session_state[S.PARETO_EPOCH] = last

    def moved() -> None:
        st.session_state[S.PARETO_EPOCH_FOLLOW] = st.session_state.get(S.PARETO_EPOCH) == last

    return int(st.select_slider("Epoch", options=epochs, key=S.PARETO_EPOCH, on_change=moved,
                                help="the front of the masks evaluated after this epoch; the grey dashed line "
                                     "is the run's final front"))


def _section(run_ids: list[str], spec: MetricSpec) -> None:
    st.subheader("Front per epoch")
    store = open_store()
    recs = {}
    for rid in run_ids:
        try:
            recs[rid] = store.get_run(rid) if store is not None else None
        except KeyError:  # RunNotFound: deleted meanwhile
            continue
    recs = {k: v for k, v in recs.items() if v is not None}
    if not recs:
        st.caption("Choose a run above to replay its front epoch by epoch.")
        return
    if st.session_state.get(S.PARETO_EPOCH_RUN) not in recs:
        st.session_state[S.PARETO_EPOCH_RUN] = next(iter(recs))
    rid = st.selectbox("Run", list(recs), key=S.PARETO_EPOCH_RUN, format_func=lambda i: run_svc.run_label(recs[i]))
    rec = recs[rid]
    history = epoch_rows(store, rid)
    if not history:
        st.info(_no_history(rec))
        return
    ef = epoch_fronts(history, spec.key, spec.higher_is_better, run_svc.pareto_rows(store, rec))
    epoch = _epoch_choice(ef.epochs)
    front = ef.fronts[epoch]
    show_chart(epoch_figure(ef, epoch, spec), key=S.PARETO_EPOCH_CHART, export_name=f"front-epoch-{epoch}")
    n = len(front.front) + len(front.dominated)
    st.caption(f"Epoch {epoch} of {markdown_text(run_svc.run_label(rec))}: {n} masks evaluated, "
               f"{len(front.front)} on its front; hypervolume {ef.hypervolume[epoch]:.4g}.")
    show_chart(hypervolume_figure(ef, epoch), key=S.PARETO_HV_CHART, export_name="hypervolume-per-epoch")
    if ef.reference is not None:
        rx, rm = ef.reference
        unit = f"{spec.label} as a fraction" if is_percent(spec.key) else spec.label
        st.caption(
            f"Hypervolume: the area the epoch's front dominates, up to the reference point ({rx:.3f} MFLOPs, "
            f"{spec.label} {format_value(spec.key, rm)}), in MFLOPs x {unit}; larger is better. The reference "
            f"is this run's worst MFLOPs and worst {spec.label} over all its epochs, {REFERENCE_MARGIN:.0%} of "
            "each range further out, so every epoch is measured in the same box."
        )


def epochs_section(run_ids: list[str], spec: MetricSpec, *, polling: bool) -> None:
    """The section, in a fragment that refreshes every few seconds while a chosen run is active."""
    st.fragment(run_every=REFRESH_SECONDS if polling else None)(_section)(run_ids, spec)
