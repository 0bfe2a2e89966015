"""The Modal Relation Graph drawn with streamlit-agraph, its legend, the prior's tables, the epoch
replay (slider and Play) and a short guide to reading it."""

from __future__ import annotations

from typing import Callable, Sequence

import streamlit as st

from mro_core.paths import PathSpace

from app.services import state as S
from app.services.prior_view import (
    DISAGREE,
    NODE_COLOR,
    READING_GUIDE,
    PriorSnapshot,
    PriorView,
    edge_labels_fit,
    edge_rows,
    p_versus_s_text,
    graph_elements,
    next_epoch,
)
from app.services.routing import graph_legend_svg
from app.services.text import table_height

GRAPH_HEIGHT = 580
GRAPH_RADIUS = 230.0
INACTIVE_DASHES = [14, 10]
"""Dash and gap lengths (px) of inactive edges: long enough to read as dashed on a wide stroke."""
PLAY_SECONDS = 1.0
"""Seconds per epoch while the replay plays."""


def _on_play(epochs: Sequence[int]) -> None:
    playing = not st.session_state.get(S.GRAPH_PLAYING, False)
    st.session_state[S.GRAPH_PLAYING] = playing
    if playing:
        if st.session_state.get(S.GRAPH_EPOCH) == epochs[-1]:
            st.session_state[S.GRAPH_EPOCH] = epochs[0]  # at the end: play from the start
        st.session_state[S.GRAPH_PLAY_FRESH] = True


def _play_step(epochs: Sequence[int]) -> None:
    """While playing, show the next epoch (not on the run that Play itself started)."""
    if not st.session_state.get(S.GRAPH_PLAYING):
        return
    if st.session_state.pop(S.GRAPH_PLAY_FRESH, False):
        return
    epoch, more = next_epoch(epochs, st.session_state.get(S.GRAPH_EPOCH))
    st.session_state[S.GRAPH_EPOCH] = epoch
    if not more:
        st.session_state[S.GRAPH_PLAYING] = False


def epoch_picker(prior: PriorView) -> PriorSnapshot:
    """A slider over the run's epochs that replays the prior, and a Play button that steps through
    them; the final prior without history."""
    if not prior.history:
        st.caption("No per-epoch history in this checkpoint, so there is nothing to replay.")
        return prior.final
    epochs = [s.epoch for s in prior.history]
    if st.session_state.get(S.GRAPH_EPOCH) not in epochs:  # first visit, or another checkpoint
        st.session_state[S.GRAPH_EPOCH] = epochs[-1]
    _play_step(epochs)
    playing = bool(st.session_state.get(S.GRAPH_PLAYING))
    c1, c2 = st.columns([6, 1], vertical_alignment="bottom")
    epoch = c1.select_slider("Epoch (replay the prior during the run)", options=epochs, key=S.GRAPH_EPOCH,
                             disabled=playing)
    c2.button("Pause" if playing else "Play", key=S.GRAPH_PLAY, on_click=_on_play, args=(epochs,),
              icon=":material/pause:" if playing else ":material/play_arrow:", width="stretch",
              help="step through the epochs, one per second")
    return next(s for s in prior.history if s.epoch == epoch)


def replay(body: Callable[[], None]) -> None:
    """Run ``body`` (picker, graph, tables) in a fragment that reruns every :data:`PLAY_SECONDS`
    while the replay plays; starting or stopping rerun the page so the timer follows."""
    playing = bool(st.session_state.get(S.GRAPH_PLAYING))

    def run() -> None:
        body()
        if bool(st.session_state.get(S.GRAPH_PLAYING)) != playing:
            st.rerun()  # play started or ended: the whole page reruns with the right timer

    st.fragment(run_every=PLAY_SECONDS if playing else None)(run)()


def prior_graph(space: PathSpace, p: Sequence[float], bits: str) -> None:
    """Nodes fixed on a circle (no physics), one curved directed edge per path labelled "A->V 0.42"
    on a white box beside the stroke (as strings: agraph draws no numbers), as wide as p is large;
    the canvas fills the frame and the circle is centred in it. Beyond 12 paths (k >= 5) the edges
    go unlabelled, with a caption saying where p is read instead."""
    try:
        from streamlit_agraph import Config, Edge, Node, agraph
    except ImportError:
        st.warning("streamlit-agraph is not installed; the graph is shown as a table only.")
        return
    labels = edge_labels_fit(space)
    nodes, edges = graph_elements(space, p, bits, radius=GRAPH_RADIUS, labels=labels)
    config = Config(height=GRAPH_HEIGHT, width=GRAPH_HEIGHT, directed=True, physics=False, hierarchical=False,
                    groups={})
    config.width = "100%"  # fill the column; vis.js centres the view on the circle's centre
    agraph(
        nodes=[Node(id=n.id, label=n.label, x=n.x, y=n.y, size=30, color=NODE_COLOR, shape="circle",
                    font={"color": "white", "size": 22}, fixed=True) for n in nodes],
        edges=[Edge(source=e.source, target=e.target, label=e.label, width=e.width, color=e.color,
                    title=e.title, dashes=False if e.active else INACTIVE_DASHES, arrows="to",
                    font={"size": 15, "align": "horizontal", "background": "rgba(255,255,255,0.92)",
                          "strokeWidth": 0, "color": "#222"},
                    smooth={"enabled": True, "type": "curvedCW", "roundness": 0.25}) for e in edges],
        config=config,
    )
    st.image(graph_legend_svg())
    if not labels:
        st.caption(f"{space.num_paths} paths: their edges carry no labels, which would hide each other. "
                   "Point at an edge for its path and p, or read every path's p in the table below.")


def reading_guide() -> None:
    """What each quantity means, one line each, and why the prior can disagree with planted paths."""
    with st.expander("How to read this", expanded=False, icon=":material/help:"):
        st.markdown("\n".join(f"- **{name}**: {text}" for name, text in READING_GUIDE))
        st.markdown(DISAGREE)


def prior_tables(space: PathSpace, snap: PriorSnapshot) -> None:
    """alpha, beta, gamma (and the run's Spearman rho) as metrics, then one row per path."""
    guide = dict(READING_GUIDE)
    c = st.columns(4)
    for col, (label, v, key) in zip(c, (("alpha", snap.alpha, "alpha, beta, gamma"),
                                        ("beta", snap.beta, "alpha, beta, gamma"),
                                        ("gamma", snap.gamma, "alpha, beta, gamma"),
                                        ("Spearman \u03c1", snap.spearman, "Spearman \u03c1"))):
        col.metric(label, f"{v:.3f}" if v is not None else "n/a", help=guide[key])
    rows = edge_rows(space, snap)
    why = p_versus_s_text(rows, space)
    if why:
        st.caption(why)
    st.dataframe(
        rows,
        hide_index=True,
        height=table_height(len(rows)),  # every path's row (k = 6: 30) without scrolling
        column_config={
            "path": "Path",
            "p": st.column_config.NumberColumn("p(i\u2192j)", format="%.3f", help=guide["p(i\u2192j)"]),
            "cos": st.column_config.NumberColumn("cos", format="%.3f", help=guide["cos"]),
            "var_g": st.column_config.NumberColumn("var_g", format="%.3f", help=guide["var_g"]),
            "var_a": st.column_config.NumberColumn("var_a", format="%.3f", help=guide["var_a"]),
            "score": st.column_config.NumberColumn("s = \u03b1z(cos) + \u03b2z(var_g) + \u03b3z(var_a)", format="%.3f",
                                                 help="composite edge score of Eq. (1) on z-scored statistics"),
        },
    )
