"""The Pareto page's parallel-coordinates section: every shown mask as a line across its paths."""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from mro_core.paths import PathSpace

from app.components.large_type import show_chart
from app.components.parcoords_chart import parcoords_figure
from app.components.pareto_chart import Source
from app.services import state as S
from app.services.metrics_view import MetricSpec, is_percent
from app.services.parcoords_view import MAX_LINES, best_lines, parcoords_data

DRAW_HELP = ("parallel coordinates are WebGL: in Chromium without a GPU (software WebGL) each draw took "
             "2.3 s with 250 lines and 5-7 s with 1,000 at k = 6, on every rerun of the page (a metric, "
             "budget or filter change); with a GPU it is quick")
"""Why the section is off until asked for (measured in headless Chromium, bench/ui_latency.py's set-up)."""


def parcoords_section(sources: Sequence[Source], spec: MetricSpec, space: PathSpace) -> None:
    """Parallel coordinates of the masks the filters show (one axis per path of the selected
    checkpoint's path space, MFLOPs, the metric as the colour)."""
    st.subheader("Parallel coordinates")
    if not st.toggle("Draw parallel coordinates", key=S.PARETO_PARCOORDS_ON, help=DRAW_HELP):
        n = sum(len(s.rows) for s in sources)
        st.caption(f"Off: turn it on to draw the {min(n, MAX_LINES):,} best shown masks as lines, one axis per "
                   "path. It is off by default because a browser without a GPU draws it in software, 2 to 7 s "
                   "on every change of this page.")
        return
    scale = 100.0 if is_percent(spec.key) else 1.0
    rows = [r for s in sources for r in s.rows]
    shown_of = len(rows)
    rows = best_lines(rows, spec.key, spec.higher_is_better, MAX_LINES)
    data = parcoords_data(rows, space.path_names, spec.key,
                          metric_label=f"{spec.label}{' (%)' if scale != 1.0 else ''}", scale=scale)
    if not data.dimensions:
        st.info("No shown mask belongs to the selected checkpoint's path space "
                f"({space.num_paths} paths): loosen the filters or pick a checkpoint of the runs' data.")
        return
    show_chart(parcoords_figure(data, spec), key=S.PARETO_PARCOORDS, export_name="mro-parcoords")
    note = (f" {data.left_out} shown mask(s) of another path space (other modalities) or without numbers are "
            "not drawn: open that run's checkpoint in the sidebar to draw them." if data.left_out else "")
    cut = (f" Only the {len(rows):,} best of the {shown_of:,} shown masks are drawn (by {spec.label}): more lines "
           "than that neither read nor draw in time; narrow the filters to see others." if len(rows) < shown_of else "")
    st.caption(f"{len(data.masks)} masks, one line each: a path axis reads off (0) or on (1), then MFLOPs and "
               f"{spec.label}; the colour is {spec.label} with the better end bright. Drag along an axis to "
               "highlight lines in the chart itself (that stays in the browser); the filters above narrow "
               "the chart and the table." + note + cut)
