"""Results cards of finished search runs: the picks (validation and test metric), each opening that
run's checkpoint and mask in Explore, the test figure over seeds of the same setting with a 95%
interval, and a link that shows the run on the Pareto page."""

from __future__ import annotations

from typing import Any, Sequence

import streamlit as st

from app.services import runs as run_svc
from app.services.run_results import has_checkpoint, pareto_link, pick_rows, seeds_line
from app.services.text import markdown_text

MAX_CARDS = 5


def results_card(rec: Any, done: Sequence[Any] = ()) -> None:
    """One finished run: its picks (validation and test) with Explore links, the setting's test
    figure over seeds with its interval when other seeds of it finished, and the run on Pareto."""
    rows = pick_rows(rec)
    if rows:
        st.dataframe(rows, hide_index=True, column_config={
            "MFLOPs": st.column_config.NumberColumn("MFLOPs", format="%.3f"),
            "open": st.column_config.LinkColumn("open", display_text="open in Explore",
                                                help="this run's checkpoint with this mask (new tab)"),
        })
    else:
        st.caption("This run stored no picks.")
    line = seeds_line(rec, done)
    if line:
        st.markdown(line)
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
            results_card(rec, done)
    if len(done) > len(shown):
        st.caption(f"{len(done) - len(shown)} older finished run(s) not shown: pick one in the Run list above, "
                   "or compare them on the Compare page.")
