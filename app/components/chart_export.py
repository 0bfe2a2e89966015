"""The sidebar's choice of what every chart's camera button saves (SVG or PNG).

The config itself is :func:`app.services.chart_export.export_config`; ``show_chart`` in
:mod:`app.components.large_type` reads the choice from ``S.CHART_FORMAT``.
"""

from __future__ import annotations

import streamlit as st

from app.services import state as S
from app.services.chart_export import DEFAULT_FORMAT, FORMATS


def _keep() -> None:
    st.session_state[S.CHART_FORMAT] = st.session_state.get(S.CHART_FORMAT_PICK, DEFAULT_FORMAT)


def chart_format_choice() -> None:
    """A two-way choice in the sidebar; its value survives pages that do not show it."""
    cur = st.session_state.get(S.CHART_FORMAT)
    st.session_state[S.CHART_FORMAT_PICK] = cur if cur in FORMATS else DEFAULT_FORMAT
    st.sidebar.radio("Chart camera button saves", list(FORMATS), format_func=FORMATS.get, horizontal=True,
                     key=S.CHART_FORMAT_PICK, on_change=_keep,
                     help="the camera icon in a chart's toolbar draws the file in your browser (offline); "
                          "SVG scales without loss for papers, PNG (twice the screen size) suits slides")
