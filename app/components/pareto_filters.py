"""The Pareto page's filters of which masks are shown: top-k by the metric and the dominated toggle.

The filtering itself is :func:`app.services.pareto_filter.filter_front`; this module only draws the
widgets and applies the filter to every source, so the chart, its clicks and the table agree.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import streamlit as st

from app.components.pareto_chart import Source
from app.services import state as S
from app.services.pareto_filter import filter_front


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


def shown_sources(sources: Sequence[Source], top_k: int, show_dominated: bool) -> list[Source]:
    """Copies of ``sources`` holding only the masks the filters keep (their ``rows`` too, so a click
    on a spot offers only masks that are drawn there)."""
    out = []
    for s in sources:
        front = filter_front(s.front, top_k=top_k or None, show_dominated=show_dominated)
        out.append(replace(s, front=front, rows=front.front + front.dominated))
    return out
