"""Large type for a projector: one switch (on the Learn page) that every page honours."""

from __future__ import annotations

import streamlit as st

from app.services import state as S

LARGE_CSS = """<style>
[data-testid="stAppViewContainer"] p, [data-testid="stAppViewContainer"] li,
[data-testid="stAppViewContainer"] label, [data-testid="stAppViewContainer"] button,
[data-testid="stMetricValue"], [data-testid="stCaptionContainer"] { font-size: 1.4rem !important; }
[data-testid="stAppViewContainer"] h1 { font-size: 3.2rem !important; }
[data-testid="stAppViewContainer"] h2, [data-testid="stAppViewContainer"] h3 { font-size: 2.2rem !important; }
</style>"""


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
