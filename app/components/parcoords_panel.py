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


def parcoords_section(sources: Sequence[Source], spec: MetricSpec, space: PathSpace) -> None:
    """Parallel coordinates of the masks the filters show (one axis per path of the selected
    checkpoint's path space, MFLOPs, the metric as the colour)."""
    st.subheader("Parallel coordinates")
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
