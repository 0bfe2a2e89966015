"""Graph: the Modal Relation Graph prior p_{i->j}, its statistics, and how it evolved."""

import streamlit as st

from app.components.large_type import apply_large_type
from app.components.mask_grid import current_mask
from app.components.prior_graph import epoch_picker, prior_graph, prior_tables, reading_guide, replay
from app.components.sidebar import checkpoint_sidebar, provenance_warning
from app.services.prior_view import read_prior

st.title("Modal Relation Graph")
apply_large_type()  # the Learn page's projector switch
view = checkpoint_sidebar()
if view is None:
    st.stop()
provenance_warning(view)  # the open checkpoint came from other search code
mask = current_mask(view)
bits = view.space.to_bits(mask)
prior = read_prior(view.ckpt.prior, view.space)
if prior.uniform:
    st.info("This checkpoint holds no Modal Relation Graph prior: a search run (Search page, or "
            "`mro search`) learns p, alpha, beta, gamma and stores them with its checkpoint. "
            "Showing the uniform prior p = 1/(k-1) instead.")
for msg in prior.messages:
    st.info(msg)
reading_guide()
caption = f"Current mask {view.space.describe(mask)}: its paths are highlighted."
if view.planted:
    caption += f" Planted in the synthetic data: {', '.join(view.planted)}."


def body() -> None:
    snap = epoch_picker(prior)
    st.caption(caption)
    prior_graph(view.space, snap.p, bits)
    prior_tables(view.space, snap)


replay(body)
