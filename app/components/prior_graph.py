"""The Modal Relation Graph drawn with streamlit-agraph, and the prior's tables."""

from __future__ import annotations

from typing import Sequence

import streamlit as st

from mro_core.paths import PathSpace

from app.services import state as S
from app.services.prior_view import NODE_COLOR, PriorSnapshot, PriorView, edge_rows, graph_elements

GRAPH_HEIGHT = 460


def epoch_picker(prior: PriorView) -> PriorSnapshot:
    """A slider over the run's epochs that replays the prior; the final prior without history."""
    if not prior.history:
        st.caption("No per-epoch history in this checkpoint, so there is nothing to replay.")
        return prior.final
    epochs = [s.epoch for s in prior.history]
    if st.session_state.get(S.GRAPH_EPOCH) not in epochs:  # first visit, or another checkpoint
        st.session_state[S.GRAPH_EPOCH] = epochs[-1]
    epoch = st.select_slider("Epoch (replay the prior during the run)", options=epochs, key=S.GRAPH_EPOCH)
    return next(s for s in prior.history if s.epoch == epoch)


def prior_graph(space: PathSpace, p: Sequence[float], bits: str) -> None:
    """Nodes fixed on a circle (no physics), one curved directed edge per path, labelled with p
    (as strings: agraph does not draw numbers) and as wide as p is large."""
    try:
        from streamlit_agraph import Config, Edge, Node, agraph
    except ImportError:
        st.warning("streamlit-agraph is not installed; the graph is shown as a table only.")
        return
    nodes, edges = graph_elements(space, p, bits)
    agraph(
        nodes=[Node(id=n.id, label=n.label, x=n.x, y=n.y, size=28, color=NODE_COLOR, shape="circle",
                    font={"color": "white", "size": 20}, fixed=True) for n in nodes],
        edges=[Edge(source=e.source, target=e.target, label=e.label, width=e.width, color=e.color,
                    title=e.title, dashes=not e.active, arrows="to", font={"size": 14, "align": "middle"},
                    smooth={"enabled": True, "type": "curvedCW", "roundness": 0.25}) for e in edges],
        config=Config(height=GRAPH_HEIGHT, width=GRAPH_HEIGHT + 140, directed=True, physics=False,
                      hierarchical=False, groups={}),
    )


def prior_tables(space: PathSpace, snap: PriorSnapshot) -> None:
    """alpha, beta, gamma (and the run's Spearman rho) as metrics, then one row per path."""
    c = st.columns(4)
    for col, (label, v) in zip(c, (("alpha", snap.alpha), ("beta", snap.beta), ("gamma", snap.gamma),
                                   ("Spearman \u03c1", snap.spearman))):
        col.metric(label, f"{v:.3f}" if v is not None else "n/a")
    st.dataframe(
        edge_rows(space, snap),
        hide_index=True,
        column_config={
            "path": "Path",
            "p": st.column_config.NumberColumn("p(i\u2192j)", format="%.3f"),
            "cos": st.column_config.NumberColumn("cos", format="%.3f"),
            "var_g": st.column_config.NumberColumn("var_g", format="%.3f"),
            "var_a": st.column_config.NumberColumn("var_a", format="%.3f"),
            "score": st.column_config.NumberColumn("s = \u03b1z(cos) + \u03b2z(var_g) + \u03b3z(var_a)", format="%.3f",
                                                 help="composite edge score of Eq. (1) on z-scored statistics"),
        },
    )
