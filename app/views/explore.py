"""Explore: toggle paths, read the subnet's shared-weight metrics, FLOPs and latency."""

import streamlit as st

from app.components.large_type import apply_large_type
from app.components.mask_grid import current_mask, grid_full_width, mask_grid, quick_masks
from app.components.metrics import mask_metrics_panel
from app.components.sidebar import checkpoint_sidebar, show_flash, provenance_warning
from app.services.routing import routing_svg

LANDING = """- **Path**: one modality attending to another (``A->T``: text reads audio). A model over k modalities has k(k-1) paths.
- **Mask**: which paths are on (one toggle each, a bit string in the URL); fewer paths cost fewer FLOPs.
- **Shared weights**: one trained supernet serves every mask, so each toggle shows that subnet's scores at once, \
without retraining. New here? The **Learn** page walks through it."""

st.title("Explore subnets")
apply_large_type()  # the Learn page's projector switch
st.markdown(LANDING)
view = checkpoint_sidebar()
if view is None:
    st.stop()
provenance_warning(view)  # the open checkpoint came from other search code


@st.fragment
def explore_body(view) -> None:
    """Toggles, diagram and metrics: a fragment, so that a toggle reruns only this part (not the
    title, the sidebar's checkpoint picker and the page around it). The callbacks change only the
    mask, which nothing outside reads; a new checkpoint in the sidebar reruns the whole page."""
    show_flash()  # a toggle's callback may refuse the all-zero mask and say why
    mask = current_mask(view)
    bits = view.space.to_bits(mask)
    # up to k = 4 the grid and the routing diagram sit side by side; from k = 5 each gets the full width
    wide = grid_full_width(view.space)
    left, right = (st.container(), st.container()) if wide else st.columns([3, 2], gap="large")
    with left:
        st.subheader("Paths")
        mask_grid(view, mask)
        quick_masks(view, mask)
    with right:
        st.subheader("Routing")
        # full width: a larger diagram, so that k = 6's 30 arrows stay apart
        st.image(routing_svg(view.space, bits, size=480 if wide else 320),
                 caption="active paths bold, inactive dashed")
        st.caption(f"Active: {view.space.describe(mask)}")
        if view.planted:
            st.caption(f"Planted in the synthetic data: {', '.join(view.planted)}")
    mask_metrics_panel(view, mask)


explore_body(view)
