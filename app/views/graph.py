"""Graph: the Modal Relation Graph prior p_{i->j}, its statistics, and how it evolved."""

import streamlit as st

from app.components.mask_grid import current_mask
from app.components.prior_graph import epoch_picker, prior_graph, prior_tables
from app.components.sidebar import checkpoint_sidebar
from app.services.prior_view import read_prior

st.title("Modal Relation Graph")
view = checkpoint_sidebar()
if view is None:
    st.stop()
mask = current_mask(view)
bits = view.space.to_bits(mask)
prior = read_prior(view.ckpt.prior, view.space)
if prior.uniform:
    st.info("This checkpoint holds no Modal Relation Graph prior: a search run (Search page, or "
            "`mro search`) learns p, alpha, beta, gamma and stores them with its checkpoint. "
            "Showing the uniform prior p = 1/(k-1) instead.")
for msg in prior.messages:
    st.info(msg)

snap = epoch_picker(prior)
st.caption(f"Current mask {view.space.describe(mask)}: its paths are highlighted.")
prior_graph(view.space, snap.p, bits)
prior_tables(view.space, snap)
