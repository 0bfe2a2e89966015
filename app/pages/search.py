"""Search: start a prior-guided search in the background; watch, cancel and resume runs."""

import _boot  # first: makes `app.*` importable (see app/_boot.py)
import streamlit as st

from app.components.large_type import apply_large_type
from app.components.runs_panel import runs_panel
from app.components.search_form import search_form
from app.components.sidebar import checkpoint_sidebar, show_flash
from app.services import launch
from app.services import runs as run_svc

_boot.page()  # inside main.py's navigation (see app/_boot.py)

st.title("Search")
apply_large_type()  # the Learn page's projector switch
checkpoint_sidebar()
show_flash()
if not run_svc.store_available():
    st.warning(run_svc.STORE_MISSING)
elif not launch.search_cli_available():
    st.warning("This build's `mro` command has no `search` subcommand yet, so starting a search will fail.")
with st.expander("New search", expanded=True):
    search_form()
st.subheader("Runs")
if run_svc.store_available():
    runs_panel()
