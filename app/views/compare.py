"""Compare: the paper's Table 5 and Table 4 layouts for chosen runs, their training curves, and a
diff of two runs' resolved configs."""

import streamlit as st

from app.components.large_type import apply_large_type
from app.components.compare_tables import choose_runs, curves, table4, table5
from app.components.config_diff import config_diff_section
from app.components.sidebar import checkpoint_sidebar

st.title("Compare runs")
apply_large_type()  # the Learn page's projector switch
view = checkpoint_sidebar()
runs, pick = choose_runs()  # explains itself when the workspace has no runs
table5(runs, pick, view)
table4(runs, pick)
curves(runs)
config_diff_section()
