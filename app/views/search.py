"""Search: start a prior-guided search in the background; watch, cancel and resume runs."""

import streamlit as st

from app.components.large_type import apply_large_type
from app.components.runs_panel import runs_panel
from app.components.search_form import search_form
from app.components.sidebar import checkpoint_sidebar, show_flash

st.title("Search")
apply_large_type()  # the Learn page's projector switch
checkpoint_sidebar()
show_flash()
with st.expander("New search", expanded=True):
    search_form()
st.subheader("Runs")
runs_panel()
