"""Plotly parallel-coordinates figure of evaluated masks (``go.Parcoords``).

The axes are built in :mod:`app.services.parcoords_view`; this module only draws them. Path names
and run names are user text (modality names come from data files): escaped for plotly.
"""

from __future__ import annotations

import plotly.graph_objects as go

from app.services.metrics_view import MetricSpec
from app.services.parcoords_view import Parcoords
from app.services.text import plotly_text

TILT_AFTER = 12
"""With more axes than this (k = 4 has 12 paths), labels are tilted so ``src->tgt`` names of
neighbouring axes do not overlap (k = 6: 30 path axes plus MFLOPs and the metric)."""
PARCOORDS_UIREVISION = "parcoords"
"""Constant ``uirevision``: a brush or an axis drag survives a refresh of the same figure."""


def parcoords_figure(data: Parcoords, spec: MetricSpec) -> go.Figure:
    """One line per mask across the axes of ``data``, coloured by the metric so that better is
    always the bright end of the scale (reversed for lower-is-better metrics such as MAE)."""
    many = len(data.dimensions) > TILT_AFTER
    dims = [{**d, "label": plotly_text(d["label"]),
             **({"ticktext": [plotly_text(t) for t in d["ticktext"]]} if "ticktext" in d else {})}
            for d in data.dimensions]
    better = "higher" if spec.higher_is_better else "lower"
    fig = go.Figure(go.Parcoords(
        dimensions=dims,
        line={"color": data.color, "colorscale": "Viridis", "reversescale": not spec.higher_is_better,
              "showscale": True, "colorbar": {"title": {"text": f"{plotly_text(spec.label)}<br>({better} is better)"}}},
        labelangle=-45 if many else 0, labelside="top",
        labelfont={"size": 11 if many else 13}, tickfont={"size": 10}, uirevision=PARCOORDS_UIREVISION,
    ))
    fig.update_layout(height=480, margin={"l": 40, "r": 40, "t": 110 if many else 50, "b": 20},
                      uirevision=PARCOORDS_UIREVISION)
    return fig
