"""Large type for a projector: one switch (on the Learn page) that every page honours."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.services import state as S
from app.services.chart_export import DEFAULT_FORMAT, FORMATS, export_config

LARGE_CSS = """<style>
[data-testid="stAppViewContainer"] p, [data-testid="stAppViewContainer"] li,
[data-testid="stAppViewContainer"] label, [data-testid="stAppViewContainer"] button,
[data-testid="stMetricValue"], [data-testid="stCaptionContainer"] { font-size: 1.4rem !important; }
[data-testid="stAppViewContainer"] h1 { font-size: 3.2rem !important; }
[data-testid="stAppViewContainer"] h2, [data-testid="stAppViewContainer"] h3 { font-size: 2.2rem !important; }
</style>"""


CHART_SCALE = 1.6
"""How much larger chart text gets in large type (ticks, axis titles, legends, bar labels, hovers)."""


def enlarge(fig: Any, scale: float = CHART_SCALE) -> Any:
    """``fig`` with every text size scaled (plotly's default of 12 px where none is set); pure, tested."""
    base = lambda f: (getattr(f, "size", None) or 12) * scale  # noqa: E731
    fig.update_layout(font={"size": base(fig.layout.font)}, legend={"font": {"size": base(fig.layout.legend.font)}},
                      hoverlabel={"font": {"size": base(fig.layout.hoverlabel.font)}})
    fig.update_xaxes(tickfont={"size": 12 * scale}, title_font={"size": 13 * scale})
    fig.update_yaxes(tickfont={"size": 12 * scale}, title_font={"size": 13 * scale})
    for tr in fig.data:
        if hasattr(tr, "textfont"):
            tr.textfont.size = (tr.textfont.size or 12) * scale
    for a in fig.layout.annotations or ():
        a.font.size = (a.font.size or 12) * scale
    return fig


def large_type_on() -> bool:
    return bool(st.session_state.get(S.LARGE_TYPE_ON))


EXPORT_CONFIG = export_config()
"""Plotly's default chart config: the camera button of the chart's toolbar saves the figure as SVG
(vector, for papers and slides), drawn in the browser, offline (no kaleido, no server); the
sidebar's format choice (``S.CHART_FORMAT``) switches every chart to PNG."""


def show_chart(fig: Any, *, export_name: str | None = None, **kwargs: Any) -> Any:
    """``st.plotly_chart`` that honours large type and the session's export format (every page's
    charts go through here); ``export_name`` names the saved file (default ``mro-figure``)."""
    fmt = st.session_state.get(S.CHART_FORMAT)
    config = export_config(fmt if fmt in FORMATS else DEFAULT_FORMAT, export_name)
    config.update(kwargs.pop("config", None) or {})
    return st.plotly_chart(enlarge(fig) if large_type_on() else fig, config=config, **kwargs)


def apply_large_type() -> None:
    """Enlarge the page's text while the session's large-type switch is on."""
    if st.session_state.get(S.LARGE_TYPE_ON):
        st.markdown(LARGE_CSS, unsafe_allow_html=True)


def _keep() -> None:
    st.session_state[S.LARGE_TYPE_ON] = bool(st.session_state.get(S.LEARN_LARGE))


def large_type_switch() -> None:
    """The switch itself (its value survives page changes through ``LARGE_TYPE_ON``)."""
    st.session_state[S.LEARN_LARGE] = bool(st.session_state.get(S.LARGE_TYPE_ON))
    st.toggle("Large type (for a projector)", key=S.LEARN_LARGE, on_change=_keep)
    apply_large_type()
