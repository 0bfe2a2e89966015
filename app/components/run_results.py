"""Results cards of finished search runs: the picks, each opening that run's checkpoint and mask in
Explore, and a link that shows the run on the Pareto page."""

from __future__ import annotations

from typing import Any, Sequence

import streamlit as st

from app.services import runs as run_svc
from app.services.run_results import has_checkpoint, pareto_link, pick_rows
from app.services.text import markdown_text

MAX_CARDS = 5


def results_card(rec: Any) -> None:
    """One finished run: its picks with Explore links, and the run on Pareto."""
    rows = pick_rows(rec)
    if rows:
        st.dataframe(rows, hide_index=True, column_config={
            "MFLOPs": st.column_config.NumberColumn("MFLOPs", format="%.3f"),
            "open": st.column_config.LinkColumn("open", display_text="open in Explore",
                                                help="this run's checkpoint with this mask (new tab)"),
        })
    else:
        st.caption("This run stored no picks.")
    ck = "" if has_checkpoint(rec) else " Its checkpoint is not on disk, so Explore opens the mask on the selected one."
    st.markdown(f"[Show this run on the Pareto page]({pareto_link(rec.id)}).{ck}")


def results_cards(done: Sequence[Any], selected: str | None) -> None:
    """A card per finished run (newest first, at most :data:`MAX_CARDS`); the selected run's open."""
    if not done:
        return
    st.subheader("Results")
    shown = list(done[:MAX_CARDS])
    shown += [r for r in done[MAX_CARDS:] if r.id == selected]  # the selected run always has its card
    for rec in shown:
        with st.expander(f"{markdown_text(run_svc.run_label(rec))}: results", expanded=rec.id == selected):
            results_card(rec)
    if len(done) > len(shown):
        st.caption(f"{len(done) - len(shown)} older finished run(s) not shown: pick one in the Run list above, "
                   "or compare them on the Compare page.")
