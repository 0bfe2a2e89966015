"""The metric panel of a mask: validation metrics, MFLOPs (and % of full), latency, deltas to the
full mask."""

from __future__ import annotations

import streamlit as st

from mro_core.paths import Mask, PathSpace

from app.services.checkpoints import CheckpointView, percent
from app.services.latency import LATENCY_PAIRS, NO_DIFFERENCE
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
    lat = view.latency(mask)
    if lat is None:
        c3.metric(LATENCY_LABEL, "n/a", help="the timed forward failed (see the server log)")
    elif bits == view.full_bits:
        c3.metric(LATENCY_LABEL, lat.mask.text(), help=_latency_help(view))
    else:
        c3.metric(LATENCY_LABEL, lat.mask.text(), delta=lat.delta_text(),
                  delta_color="inverse" if lat.measurable else "off",
                  delta_arrow="auto" if lat.measurable else "off", help=_latency_help(view))
    verdict = (f"{abs(lat.diff):.1f} ms {'slower' if lat.diff > 0 else 'faster'} than the full mask "
               f"({lat.full.text()}), outside the noise" if lat is not None and lat.measurable
               else f"{NO_DIFFERENCE} from the full mask ({lat.full.text()})" if lat is not None
               and bits != view.full_bits else "")
    st.caption(f"Latency of {bits} measured on {view.latency_source or 'CPU'} (batch {view.latency_batch_size}, "
               f"1 CPU thread, median ± half the interquartile range of {LATENCY_PAIRS} forwards"
               + (f"; {verdict}" if verdict else "") + "). On a model this small, time follows FLOPs only "
               "loosely; `mro bench` measures how closely on your machine.")


def _latency_help(view: CheckpointView) -> str:
    return (f"{LATENCY_PAIRS} timed single-thread CPU forwards of one batch of {view.latency_batch_size}, "
            "interleaved with the full mask so a busy machine slows both alike; a difference counts only "
            "when the middle half of the paired differences is on one side of zero")
