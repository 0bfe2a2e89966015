"""The Pareto page's controls and its live panel (chart, budget, subnet table, CSV)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from app.components.large_type import show_chart

from app.components.pareto_chart import Source, best_caption, pareto_figure
from app.components.pareto_filters import front_filters, mask_filter, shown_sources
from app.components.parcoords_panel import parcoords_section
from app.components.pareto_sources import gather_sources
from app.components.sidebar import select_checkpoint
from app.resources import open_store
from app.services import runs as run_svc
from app.services import state as S
from app.services.checkpoints import CheckpointView
from app.services.metrics_view import MetricSpec, format_value, is_percent, spec_for
from app.services.pareto_view import (
    RunChoice,
    best_under_budget,
    default_runs,
    resolve_click,
    rows_to_csv,
    selected_points,
)
from app.services.references_view import SETTINGS_NOTE, reference_lines, references_for
from app.services.text import markdown_text

REFRESH_SECONDS = 5
EXPLORE_PAGE = "views/explore.py"
MAX_DEFAULT_RUNS = 3
MAX_TIE_BUTTONS = 12
TABLE_ROWS = 2000
"""Rows the subnet table lists at most: at k = 6 its 10,000 rows cost 0.3-0.4 s of every redraw."""


@dataclass
class Controls:
    run_ids: list[str]
    include_checkpoint: bool
    spec: MetricSpec
    polling: bool


def open_selected_mask() -> None:
    """If a callback chose a subnet, open it in Explore: its mask and its checkpoint in the URL."""
    target = st.session_state.pop(S.PARETO_OPEN, None)
    if not target:
        return
    query = {S.MASK_PARAM: target["mask"]}
    if target.get("ckpt"):
        query[S.CHECKPOINT_PARAM] = target["ckpt"]
    st.switch_page(EXPLORE_PAGE, query_params=query)


def pareto_controls(view: CheckpointView) -> Controls:
    store = open_store()
    runs = run_svc.list_runs(store, kind="search")
    labels = {r.id: run_svc.run_label(r) for r in runs}
    asked = st.query_params.get(S.PARETO_RUNS_PARAM)  # ?runs=<id>,...: a results card's link
    if asked and asked != st.session_state.get(S.PARETO_URL_SEEN):
        st.session_state[S.PARETO_URL_SEEN] = asked
        wanted = [i for i in asked.split(",") if i]
        st.session_state[S.PARETO_RUNS] = [i for i in wanted if i in labels]
        if any(i not in labels for i in wanted):
            st.warning(f"The link names run(s) this workspace does not have: "
                       f"{', '.join(markdown_text(i) for i in wanted if i not in labels)}.")
    if S.PARETO_RUNS not in st.session_state:
        kept = st.session_state.get(S.PARETO_RUNS_KEPT)
        if kept is not None:  # back from another page (Streamlit dropped the widget's state): the user's choice
            st.session_state[S.PARETO_RUNS] = list(kept)
        else:  # a first visit: count each recent run's points once (10,000 rows took 0.1 s a run)
            choices = [RunChoice(r.id, run_svc.status_of(store, r), len(run_svc.pareto_rows(store, r)))
                       for r in runs[:4 * MAX_DEFAULT_RUNS]]
            st.session_state[S.PARETO_RUNS] = default_runs(choices, MAX_DEFAULT_RUNS)
    st.session_state[S.PARETO_RUNS] = [i for i in st.session_state[S.PARETO_RUNS] if i in labels]
    c1, c2, c3 = st.columns([3, 1.2, 1])
    run_ids = c1.multiselect("Runs", list(labels), format_func=lambda i: labels.get(i, i), key=S.PARETO_RUNS,
                             placeholder="no runs in the workspace" if not labels else "choose runs",
                             help="a first visit selects the newest runs that have points or are running; "
                                  "failed and empty runs are left out")
    st.session_state[S.PARETO_RUNS_KEPT] = list(run_ids)
    include = c2.checkbox("Selected checkpoint's table", value=True, key=S.PARETO_INCLUDE_CHECKPOINT)
    keys = [s.key for s in view.specs]
    if st.session_state.get(S.PARETO_METRIC) not in keys:  # first visit, or a checkpoint of another task
        st.session_state[S.PARETO_METRIC] = keys[0]
    metric = c3.selectbox("Metric", keys, format_func=lambda k: spec_for(view.task, k).label, key=S.PARETO_METRIC)
    active = any(run_svc.status_of(store, r) in run_svc.ACTIVE_STATUSES for r in runs if r.id in run_ids)
    paused = st.toggle("Pause live refresh", key=S.PARETO_PAUSE, disabled=not active,
                       help="the chart takes the new points of a running search every few seconds (your zoom "
                            "is kept); pause to stop the refreshes")
    return Controls(list(run_ids), bool(include), spec_for(view.task, metric), active and not paused)


def _open(mask: str, source: Source | None) -> None:
    """Open ``mask`` of ``source`` in Explore: its checkpoint (when on disk) and the mask."""
    if source is not None and source.checkpoint:
        select_checkpoint(source.checkpoint)
    elif source is not None:
        st.session_state[S.FLASH] = (f"Run {markdown_text(source.name)} has no checkpoint on disk yet, so {mask} opens on the "
                                     "selected checkpoint.")
    st.session_state[S.MASK] = mask
    st.session_state[S.PARETO_OPEN] = {"mask": mask, "ckpt": source.token if source is not None else None}
    st.session_state.pop(S.PARETO_TIES, None)


def _on_select(sources: dict[str, Source], metric: str) -> None:
    """Chart selection callback: one subnet alone at its spot opens in Explore; a click on a spot
    several subnets share (or a box of points) asks which one."""
    picked = selected_points(st.session_state.get(S.PARETO_CHART))
    if not picked:
        return
    meant = resolve_click(picked, [r for s in sources.values() for r in s.rows], metric)
    if len(meant) == 1:
        mask, sid = meant[0]
        _open(mask, sources.get(sid))
    else:
        st.session_state[S.PARETO_TIES] = [list(p) for p in meant]


def _tie_choice(sources: dict[str, Source]) -> None:
    """Buttons for the subnets a click could not tell apart (one per subnet)."""
    tied = st.session_state.get(S.PARETO_TIES) or []
    tied = [(m, sid) for m, sid in tied if sid in sources]
    if not tied:
        return
    st.warning(f"{len(tied)} subnets are drawn at the point you clicked. Which one do you want to open?")
    cols = st.columns(min(len(tied), 4))
    for i, (mask, sid) in enumerate(tied[:MAX_TIE_BUTTONS]):
        cols[i % len(cols)].button(f"{mask} from {markdown_text(sources[sid].name)}", key=f"{S.PARETO_TIE_PREFIX}{i}",
                                   on_click=_open, args=(mask, sources[sid]), width="stretch")


def _table(sources: list[Source], spec: MetricSpec, view: CheckpointView) -> None:
    """Every drawn subnet as a row, best first, with a link that opens exactly that run and mask."""
    rows = []
    for s in sources:
        on_front = {r["mask"] for r in s.front.front}
        for r in s.front.front + s.front.dominated:
            q = {S.MASK_PARAM: r["mask"], **({S.CHECKPOINT_PARAM: s.token} if s.token else {})}
            rows.append({"source": s.name, "mask": r["mask"], "paths": r["_paths"],
                         "MFLOPs": float(r["mflops"]), spec.label: format_value(spec.key, r[spec.key]),
                         "_v": float(r[spec.key]), "on front": r["mask"] in on_front,
                         "open": "./?" + urlencode(q)})
    sign = -1.0 if spec.higher_is_better else 1.0
    rows.sort(key=lambda r: (not r["on front"], r["MFLOPs"], sign * r["_v"]))
    n_all = len(rows)
    rows = rows[:TABLE_ROWS]
    for r in rows:
        del r["_v"]
    with st.expander(f"Subnets on the chart ({n_all}): open any one in Explore", expanded=False):
        if n_all > len(rows):
            st.caption(f"The first {len(rows):,} of {n_all:,} rows (the fronts first, then by MFLOPs and "
                       f"{spec.label}); the filters above narrow them, and the CSV below has every mask.")
        st.dataframe(rows, hide_index=True, key=S.PARETO_TABLE, height=320, column_config={
            "MFLOPs": st.column_config.NumberColumn("MFLOPs", format="%.3f"),
            "open": st.column_config.LinkColumn("open", display_text="open in Explore",
                                                help="opens this run's checkpoint with this mask (new tab)"),
        })
        if any(s.token is None for s in sources):
            st.caption("Runs without a checkpoint on disk yet (still running) open their mask on the selected "
                       "checkpoint.")


def _zoom_slider(where, label: str, key: str, lo: float, hi: float, fmt: str, scale: float) -> tuple[float, float] | None:
    """A range slider over [lo, hi]; the chosen range, or None while it spans everything (then it
    widens with new points). Its value is part of the figure, so it survives live refreshes."""
    auto_key = S.PARETO_ZOOM_AUTO + key
    cur = st.session_state.get(key)
    if (st.session_state.get(auto_key, True) or not isinstance(cur, (tuple, list)) or len(cur) != 2
            or not lo <= cur[0] <= cur[1] <= hi):
        st.session_state[key] = (lo, hi)

    def changed() -> None:
        st.session_state[auto_key] = tuple(st.session_state[key]) == (lo, hi)

    a, b = where.slider(label, min_value=lo, max_value=hi, step=(hi - lo) / 200, format=fmt, key=key,
                        on_change=changed)
    if (a, b) == (lo, hi) or b <= a:
        return None
    pad = 0.03 * (b - a)
    return (a - pad) / scale, (b + pad) / scale


def _zoom(feasible: list[dict], spec: MetricSpec) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    xs = [float(r["mflops"]) for r in feasible]
    scale = 100.0 if is_percent(spec.key) else 1.0
    ys = [scale * float(r[spec.key]) for r in feasible]
    with st.expander("Zoom (kept while new points arrive)", icon=":material/zoom_in:"):
        c1, c2 = st.columns(2)
        x = _zoom_slider(c1, "MFLOPs shown", S.PARETO_ZOOM_X, min(xs), max(xs), "%.3f", 1.0) \
            if max(xs) > min(xs) else None
        y = _zoom_slider(c2, f"{spec.label} shown", S.PARETO_ZOOM_Y, min(ys), max(ys), "%.3f", scale) \
            if max(ys) > min(ys) else None
        st.caption("A zoom drawn with the mouse lasts until a running search adds points; these sliders' "
                   "zoom stays.")
    return x, y


def _panel(view: CheckpointView, controls: Controls) -> None:
    open_selected_mask()  # a selection callback ran before this fragment rerun
    sources, baselines, active, recs = gather_sources(view, controls.run_ids, controls.include_checkpoint,
                                                      controls.spec)
    if controls.polling and not active:
        st.rerun()  # the runs have finished: one full rerun so the panel stops polling
    spec = controls.spec
    all_rows = [r for s in sources for r in s.rows]
    feasible = [r for s in sources for r in s.front.front + s.front.dominated]
    for s in sources:
        if s.live:
            st.caption(f"{markdown_text(s.name)}: {s.live}. Its points appear as each epoch's masks are "
                       "evaluated; the chart refreshes every few seconds.")
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
    top_k, show_dominated = front_filters(max(len(s.front.front) + len(s.front.dominated) for s in sources))
    ranges = mask_filter(feasible, spec, view.space)
    everything = sources
    # what is drawn, clickable and listed
    sources = shown_sources(sources, top_k, show_dominated, ranges.keeps if ranges.active else None)
    by_id = {s.id: s for s in sources}
    x_range, y_range = _zoom(feasible, spec)
    refs = references_for(recs)  # only runs on mosei / mosi have published reference points
    lines = reference_lines(refs, spec.key)
    fig = pareto_figure(sources, baselines, spec, budget=budget if hi > lo else None, best=best,
                        x_range=x_range, y_range=y_range, references=lines)
    show_chart(fig, key=S.PARETO_CHART, on_select=lambda: _on_select(by_id, spec.key),
                    selection_mode="points")
    _tie_choice(by_id)
    st.markdown(best_caption(best, spec, budget))
    n_front = sum(len(s.front.front) for s in sources)
    n_shown = sum(len(s.rows) for s in sources)
    shown = f"{n_shown} of {len(feasible)}" if n_shown != len(feasible) else f"{len(feasible)}"
    st.caption(f"{shown} subnets from {len(sources)} source(s) shown, {n_front} of them on the fronts. "
               "Click a point to open its mask in Explore; where several subnets share a point, the hover lists "
               "them all and a click asks which one.")
    if lines:
        srcs = sorted({(r["source_title"], r["source_url"]) for r in refs})
        st.caption(f"Dotted lines: {len(lines)} published {spec.label} reference point(s) for "
                   f"{', '.join(sorted({r['dataset'].upper() for r in refs}))}, without MFLOPs. {SETTINGS_NOTE} "
                   "Sources: " + "; ".join(f"[{markdown_text(t)}]({u})" for t, u in srcs) + ".")
    elif refs:
        st.caption(f"The published reference points of these runs' data do not report {spec.label}.")
    parcoords_section(sources, spec, view.space)
    _table(sources, spec, view)
    on_front = {(s.id, r["mask"]) for s in everything for r in s.front.front}
    keys = [s.key for s in view.specs]

    def csv_text() -> str:  # on the click only: 20,000 rows took 0.2 s of every rerun
        return rows_to_csv([{"source": r["_source"], "mask": r.get("mask"), "paths": r["_paths"],
                             "mflops": r.get("mflops"), **{k: r.get(k) for k in keys},
                             "on_front": (r["_source_id"], r.get("mask")) in on_front}
                            for r in all_rows])  # every evaluated mask, whatever the filters show

    st.download_button("Download CSV", csv_text, file_name="pareto.csv", mime="text/csv",
                       on_click="ignore", key=S.PARETO_CSV,
                       help="every evaluated mask of the chosen sources, whatever the filters show")


def pareto_panel(view: CheckpointView, controls: Controls) -> None:
    """The chart in a fragment that refreshes every few seconds while a selected run is active."""
    st.fragment(run_every=REFRESH_SECONDS if controls.polling else None)(_panel)(view, controls)
