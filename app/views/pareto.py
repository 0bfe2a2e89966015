"""Pareto: evaluated subnets of runs (and of the selected checkpoint) against MFLOPs."""

import streamlit as st

from app.components.large_type import apply_large_type
from app.components.pareto_epochs import epochs_section
from app.components.pareto_panel import open_selected_mask, pareto_controls, pareto_panel
from app.components.sidebar import checkpoint_sidebar, show_flash, provenance_warning

st.title("Pareto front")
apply_large_type()  # the Learn page's projector switch
open_selected_mask()  # a point clicked on the chart opens in Explore
view = checkpoint_sidebar()
if view is None:
    st.stop()
provenance_warning(view)  # the open checkpoint came from other search code
show_flash()
controls = pareto_controls(view)
pareto_panel(view, controls)
epochs_section(controls.run_ids, controls.spec, polling=controls.polling)  # one run's front, epoch by epoch
