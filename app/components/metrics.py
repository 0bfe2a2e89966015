"""The metric panel of a mask: validation metrics, MFLOPs (and % of full), latency, deltas to the
full mask."""

from __future__ import annotations

import streamlit as st

from mro_core.paths import Mask, PathSpace

from app.services.checkpoints import LATENCY_REPEATS, CheckpointView, percent
from app.services.metrics_view import (
    LATENCY_LABEL,
    MFLOPS_LABEL,
    display_value,
    format_delta,
    format_mflops,
    metric_value,
)


def mask_metrics_panel(view: CheckpointView, mask: Mask) -> None:
    """Metrics of ``mask`` with deltas to the full mask, from the cached table (or one evaluation)."""
    bits = PathSpace.to_bits(mask)
    cur = view.metrics(mask)
    full = view.metrics(view.full_mask)
    st.subheader("Validation metrics (shared weights)")
    if cur.note:
        st.info(cur.note)
    cols = st.columns(len(view.specs))
    for col, spec in zip(cols, view.specs):
        v, ref = metric_value(cur.row, spec.key), metric_value(full.row, spec.key)
        delta = format_delta(spec.key, v, ref) if bits != view.full_bits else None
        col.metric(spec.label, display_value(spec.key, v) or "n/a", delta=delta,
                   delta_color="normal" if spec.higher_is_better else "inverse",
                   help=f"`{spec.key}` on the validation split; delta to the full mask {view.full_bits}")
    c1, c2, c3 = st.columns(3)
    c1.metric(MFLOPS_LABEL, format_mflops(cur.mflops) or "n/a",
              delta=None if bits == view.full_bits or cur.mflops is None or full.mflops is None
              else f"{cur.mflops - full.mflops:+.3f}",
              delta_color="inverse", help="fvcore FLOPs per sample (1 multiply-add = 1 FLOP), in millions")
    c2.metric("% of full FLOPs", percent(cur.percent_of_full) or "n/a")
    src = {"table": "the checkpoint's per-mask table", "evaluated": "a shared-weight evaluation (cached)",
           "unavailable": "nowhere (see the note above)"}[cur.source]
    st.caption(f"Mask {bits}: metrics from {src}; deltas relative to the full mask {view.full_bits} "
               "(Pairwise CMT).")
    # Latency last: everything above is already on screen while the timed forwards run.
    lat = view.latency_ms(mask)
    lat_full = view.latency_ms(view.full_mask)
    c3.metric(LATENCY_LABEL, f"{lat:.1f} ms" if lat is not None else "n/a",
              delta=None if bits == view.full_bits or lat is None or lat_full is None else f"{lat - lat_full:+.1f} ms",
              delta_color="inverse",
              help=f"median of {LATENCY_REPEATS} timed single-thread CPU forwards of one batch of "
                   f"{view.latency_batch_size} through the subnet (measured once per mask, then cached)")
    st.caption(f"Latency of {bits} measured on {view.latency_source or 'CPU'} (batch {view.latency_batch_size}, "
               "1 CPU thread).")
