"""The Pareto page's controls and its live panel (chart, budget, CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from mro_core.paths import PathSpace

from app.components.pareto_chart import Source, best_caption, pareto_figure
from app.components.sidebar import select_checkpoint
from app.resources import open_store
from app.services import runs as run_svc
from app.services import state as S
from app.services.checkpoints import CheckpointView
from app.services.metrics_view import MetricSpec, spec_for
from app.services.pareto_view import best_under_budget, mask_from_selection, pareto_front, rows_to_csv

REFRESH_SECONDS = 5
EXPLORE_PAGE = "views/explore.py"
MAX_DEFAULT_RUNS = 3
CHECKPOINT_SOURCE = "checkpoint"


@dataclass
class Controls:
    run_ids: list[str]
    include_checkpoint: bool
    spec: MetricSpec
    polling: bool


def open_selected_mask() -> None:
    """If the chart's selection callback chose a mask, open it in Explore (mask in the URL)."""
    bits = st.session_state.pop(S.PARETO_OPEN, None)
    if bits:
        st.switch_page(EXPLORE_PAGE, query_params={S.MASK_PARAM: bits})


def pareto_controls(view: CheckpointView) -> Controls:
    store = open_store()
    runs = run_svc.list_runs(store, kind="search")
    labels = {r.id: run_svc.run_label(r) for r in runs}
    if S.PARETO_RUNS not in st.session_state:
        st.session_state[S.PARETO_RUNS] = [r.id for r in runs[:MAX_DEFAULT_RUNS]]
    st.session_state[S.PARETO_RUNS] = [i for i in st.session_state[S.PARETO_RUNS] if i in labels]
    c1, c2, c3 = st.columns([3, 1.2, 1])
    run_ids = c1.multiselect("Runs", list(labels), format_func=lambda i: labels.get(i, i), key=S.PARETO_RUNS,
                             placeholder="no runs in the workspace" if not labels else "choose runs")
    include = c2.checkbox("Selected checkpoint's table", value=True, key=S.PARETO_INCLUDE_CHECKPOINT)
    keys = [s.key for s in view.specs]
    if st.session_state.get(S.PARETO_METRIC) not in keys:  # first visit, or a checkpoint of another task
        st.session_state[S.PARETO_METRIC] = keys[0]
    metric = c3.selectbox("Metric", keys, format_func=lambda k: spec_for(view.task, k).label, key=S.PARETO_METRIC)
    active = any(run_svc.status_of(store, r) in run_svc.ACTIVE_STATUSES for r in runs if r.id in run_ids)
    paused = st.toggle("Pause live refresh", key=S.PARETO_PAUSE, disabled=not active,
                       help="the chart refreshes every few seconds while a selected run is going; "
                            "pause to keep your zoom")
    return Controls(list(run_ids), bool(include), spec_for(view.task, metric), active and not paused)


def _paths_text(space: PathSpace, bits: str) -> str:
    if len(bits) != space.num_paths or "1" not in bits:
        return ""
    return ", ".join(space.active_names(space.parse(bits)))


def _annotate(rows: list[dict], source: str, space: PathSpace) -> list[dict]:
    """Copies of ``rows`` tagged with their source and active path names (hover, CSV, caption)."""
    return [{**r, "_source": source, "_paths": _paths_text(space, str(r.get("mask", "")))} for r in rows]


def _sources(view: CheckpointView, controls: Controls) -> tuple[list[Source], list[dict], bool]:
    store = open_store()
    spec = controls.spec
    sources, baselines, active = [], [], False
    if controls.include_checkpoint and view.table:
        name = f"{CHECKPOINT_SOURCE} {view.path.name}"
        rows = _annotate(list(view.table.values()), name, view.space)
        sources.append(Source(name, rows, pareto_front(rows, spec.key, spec.higher_is_better), str(view.path)))
    for run_id in controls.run_ids:
        try:
            rec = store.get_run(run_id) if store is not None else None
        except KeyError:  # RunNotFound: deleted meanwhile
            rec = None
        if rec is None:
            continue
        active |= run_svc.status_of(store, rec) in run_svc.ACTIVE_STATUSES
        name = run_svc.run_label(rec)
        rows = _annotate(run_svc.pareto_rows(store, rec), name, view.space)
        ck = getattr(rec, "checkpoint", None)
        sources.append(Source(name, rows, pareto_front(rows, spec.key, spec.higher_is_better),
                              str(Path(ck).resolve()) if ck and Path(ck).is_file() else None))
        baselines += run_svc.baseline_rows(rec)
    return sources, baselines, active


def _on_select(checkpoints: dict[str, str | None]) -> None:
    """Chart selection callback: make the clicked mask current (and its run's checkpoint) and ask
    the page to open Explore."""
    hit = mask_from_selection(st.session_state.get(S.PARETO_CHART))
    if hit is None:
        return
    bits, source = hit
    ck = checkpoints.get(source)
    if ck:
        select_checkpoint(ck)
    st.session_state[S.MASK] = bits
    st.session_state[S.PARETO_OPEN] = bits


def _panel(view: CheckpointView, controls: Controls) -> None:
    open_selected_mask()  # the selection callback ran before this fragment rerun
    sources, baselines, active = _sources(view, controls)
    if controls.polling and not active:
        st.rerun()  # the runs have finished: one full rerun so the panel stops polling
    spec = controls.spec
    all_rows = [r for s in sources for r in s.rows]
    feasible = [r for s in sources for r in s.front.front + s.front.dominated]
    if not feasible:
        st.info("No evaluated subnets to show: pick a run that has evaluated masks, or include the "
                "checkpoint's per-mask table.")
        return
    lo = min(float(r["mflops"]) for r in feasible)
    hi = max(float(r["mflops"]) for r in feasible)
    budget = hi
    if hi > lo:
        cur = st.session_state.get(S.PARETO_BUDGET)
        if not isinstance(cur, (int, float)) or not lo <= cur <= hi:
            st.session_state[S.PARETO_BUDGET] = hi
        budget = st.slider("FLOPs budget (MFLOPs)", min_value=lo, max_value=hi, step=(hi - lo) / 200,
                           format="%.3f", key=S.PARETO_BUDGET)
    best = best_under_budget(feasible, spec.key, spec.higher_is_better, budget)
    fig = pareto_figure(sources, baselines, spec, budget=budget if hi > lo else None, best=best)
    checkpoints = {s.name: s.checkpoint for s in sources}
    st.plotly_chart(fig, key=S.PARETO_CHART, on_select=lambda: _on_select(checkpoints), selection_mode="points")
    st.markdown(best_caption(best, spec, budget))
    n_front = sum(len(s.front.front) for s in sources)
    st.caption(f"{len(feasible)} subnets from {len(sources)} source(s), {n_front} on the fronts. "
               "Click a point to open its mask in Explore.")
    on_front = {(s.name, r["mask"]) for s in sources for r in s.front.front}
    export = [{"source": r["_source"], "mask": r.get("mask"), "paths": r["_paths"], "mflops": r.get("mflops"),
               **{s.key: r.get(s.key) for s in view.specs}, "on_front": (r["_source"], r.get("mask")) in on_front}
              for r in all_rows]
    st.download_button("Download CSV", rows_to_csv(export), file_name="pareto.csv", mime="text/csv",
                       on_click="ignore", key=S.PARETO_CSV)


def pareto_panel(view: CheckpointView, controls: Controls) -> None:
    """The chart in a fragment that refreshes every few seconds while a selected run is active."""
    st.fragment(run_every=REFRESH_SECONDS if controls.polling else None)(_panel)(view, controls)
