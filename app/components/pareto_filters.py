"""The Pareto page's filters of which masks are shown: top-k by the metric, the dominated toggle,
and the range filters (metric, MFLOPs, paths on / off).

The filtering itself is :mod:`app.services.pareto_filter` and :mod:`app.services.mask_filter`; this
module only draws the widgets and applies the filters to every source, so the scatter, its clicks,
the parallel coordinates and the table agree.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

import streamlit as st

from mro_core.paths import PathSpace

from app.components.pareto_chart import Source
from app.services import state as S
from app.services.mask_filter import MaskFilter
from app.services.metrics_view import MetricSpec, is_percent
from app.services.pareto_filter import filter_front, restrict


def front_filters(n_max: int) -> tuple[int, bool]:
    """Top-k number input and the dominated toggle side by side; ``(top_k, show_dominated)``
    (top_k 0: all). ``n_max``: the most masks one source has (the input's upper bound)."""
    n_max = max(int(n_max), 1)
    cur = st.session_state.get(S.PARETO_TOP_K)
    if not isinstance(cur, int) or not 0 <= cur <= n_max:  # first visit, or fewer masks than before
        st.session_state[S.PARETO_TOP_K] = 0
    c1, c2 = st.columns([1, 1])
    top_k = c1.number_input("Top-k: best masks shown per source (0: all)", min_value=0, max_value=n_max, step=1,
                            key=S.PARETO_TOP_K,
                            help="only the k best masks of each run by the metric (ties: fewer MFLOPs first); "
                                 "a hidden mask still counts for who is dominated")
    if S.PARETO_SHOW_DOMINATED not in st.session_state:
        st.session_state[S.PARETO_SHOW_DOMINATED] = True
    dominated = c2.toggle("Show dominated masks", key=S.PARETO_SHOW_DOMINATED,
                          help="off: only each source's non-dominated front is drawn and listed")
    return int(top_k), bool(dominated)


def shown_sources(sources: Sequence[Source], top_k: int, show_dominated: bool,
                  keep: Callable[[dict], bool] | None = None) -> list[Source]:
    """Copies of ``sources`` holding only the masks the filters keep (their ``rows`` too, so a click
    on a spot offers only masks that are drawn there). ``keep`` (the range filters) applies first,
    so top-k means the k best of the masks in range."""
    out = []
    for s in sources:
        front = restrict(s.front, keep) if keep is not None else s.front
        front = filter_front(front, top_k=top_k or None, show_dominated=show_dominated)
        out.append(replace(s, front=front, rows=front.front + front.dominated))
    return out


def _range_slider(where, label: str, key: str, lo: float, hi: float, scale: float) -> tuple[float, float] | None:
    """A range slider over [lo, hi] (shown times ``scale``); the chosen range unscaled, or None while
    it spans everything (then it widens with a running search's new points)."""
    auto_key = S.PARETO_FILTER_AUTO + key
    cur = st.session_state.get(key)
    if (st.session_state.get(auto_key, True) or not isinstance(cur, (tuple, list)) or len(cur) != 2
            or not lo * scale <= cur[0] <= cur[1] <= hi * scale):
        st.session_state[key] = (lo * scale, hi * scale)

    def changed() -> None:
        st.session_state[auto_key] = tuple(st.session_state[key]) == (lo * scale, hi * scale)

    a, b = where.slider(label, min_value=lo * scale, max_value=hi * scale, step=(hi - lo) * scale / 200,
                        format="%.3f", key=key, on_change=changed)
    if (a, b) == (lo * scale, hi * scale):
        return None
    return a / scale, b / scale


def mask_filter(feasible: Sequence[dict], spec: MetricSpec, space: PathSpace) -> MaskFilter:
    """The range filters (metric, MFLOPs, paths on / off) in an expander; they stand in for
    brushing the parallel coordinates, which Streamlit cannot read back from the browser."""
    scale = 100.0 if is_percent(spec.key) else 1.0
    names = list(space.path_names)
    for key in (S.PARETO_PATHS_ON, S.PARETO_PATHS_OFF):  # a checkpoint of another path space
        st.session_state[key] = [n for n in st.session_state.get(key, []) if n in names]
    with st.expander("Filter masks: metric, MFLOPs, paths (the scatter, parallel coordinates and table)",
                     icon=":material/filter_alt:"):
        c1, c2 = st.columns(2)
        ms = [float(r[spec.key]) for r in feasible]
        fl = [float(r["mflops"]) for r in feasible]
        m_range = _range_slider(c1, f"{spec.label}{' (%)' if scale != 1.0 else ''} range", S.PARETO_FILTER_METRIC,
                                min(ms), max(ms), scale) if max(ms) > min(ms) else None
        f_range = _range_slider(c2, "MFLOPs range", S.PARETO_FILTER_MFLOPS, min(fl), max(fl), 1.0) \
            if max(fl) > min(fl) else None
        on = c1.multiselect("Paths that must be on", names, key=S.PARETO_PATHS_ON, placeholder="any")
        off = c2.multiselect("Paths that must be off", names, key=S.PARETO_PATHS_OFF, placeholder="any")
        st.caption("A path in neither list may be on or off. Plotly's own brushing of the parallel "
                   "coordinates (drag along an axis) stays in the browser and filters nothing else; "
                   "these filters apply everywhere on the page.")
    f = MaskFilter(spec.key, m_range, f_range, tuple(names.index(n) for n in on),
                   tuple(names.index(n) for n in off), space.num_paths)
    if f.conflicts:
        st.warning(f"{', '.join(names[i] for i in f.conflicts)} must be both on and off: no mask can match. "
                   "Take it out of one of the two lists.")
    return f
