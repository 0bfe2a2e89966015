"""Explore: toggle paths, read the subnet's shared-weight metrics, FLOPs and latency."""

import streamlit as st

from app.components.mask_grid import current_mask, mask_grid, quick_masks
from app.components.metrics import mask_metrics_panel
from app.components.sidebar import checkpoint_sidebar, show_flash
from app.services.routing import routing_svg

st.title("Explore subnets")
view = checkpoint_sidebar()
if view is None:
    st.stop()
show_flash()
mask = current_mask(view)
bits = view.space.to_bits(mask)

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Paths")
    mask_grid(view, mask)
    quick_masks(view, mask)
with right:
    st.subheader("Routing")
    st.image(routing_svg(view.space, bits), caption="active paths bold, inactive dashed")
    st.caption(f"Active: {view.space.describe(mask)}")
    if view.planted:
        st.caption(f"Planted in the synthetic data: {', '.join(view.planted)}")

mask_metrics_panel(view, mask)
