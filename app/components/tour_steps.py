"""The Learn page's steps: each has one control and one visible effect, answered from the demo
checkpoint's cached per-mask table (no model run, so every change shows at once)."""

from __future__ import annotations

from urllib.parse import urlencode

import plotly.graph_objects as go
import streamlit as st

from app.components.pareto_chart import Source, pareto_figure
from app.services import state as S
from app.services.checkpoints import DEMO_TOKEN, CheckpointView
from app.services.metrics_view import display_value, format_change, format_mflops, primary
from app.services.pareto_view import best_under_budget, pareto_front
from app.services.provenance_view import file_warning
from app.services.prior_view import DISAGREE, read_prior
from app.services.routing import ACTIVE_COLOR, INACTIVE_COLOR, routing_svg
from app.components.large_type import show_chart
from app.services.tour import (
    MARKER_Y,
    GroundTruth,
    cheapest_within,
    estimate_vs_alone,
    into,
    only,
    pareto_text,
    prior_bars,
    reveal,
    sampling_shares,
    spearman,
    without,
)


def _explore_link(bits: str) -> str:
    return "./?" + urlencode({S.MASK_PARAM: bits, S.CHECKPOINT_PARAM: DEMO_TOKEN})


def _mask_card(view: CheckpointView, bits: str, *, compare_to_full: bool = True) -> None:
    """The effect side of a step: the routing diagram of ``bits`` beside its MAE and MFLOPs."""
    row = view.table.get(bits) or {}
    full = view.table.get(view.full_bits) or {}
    left, right = st.columns([1, 1.3], vertical_alignment="center")
    left.image(routing_svg(view.space, bits, size=280), caption=f"mask {bits}: bold arrows are on")
    mae, mf = row.get("mae"), row.get("mflops")
    d_mae = (f"{float(mae) - float(full['mae']):+.3f}" if compare_to_full and bits != view.full_bits
             and mae is not None and full.get("mae") is not None else None)
    d_mf = (f"{float(mf) - float(full['mflops']):+.3f}" if compare_to_full and bits != view.full_bits
            and mf is not None and full.get("mflops") is not None else None)
    right.metric("MAE (error, lower is better)", display_value("mae", mae) or "n/a", delta=d_mae,
                 delta_color="inverse")
    right.metric("MFLOPs (cost)", format_mflops(mf) or "n/a", delta=d_mf, delta_color="inverse")
    if compare_to_full and bits != view.full_bits:
        right.caption(f"Changes are against the full mask {view.full_bits} (every path on): "
                      f"MAE {display_value('mae', full.get('mae'))}, {format_mflops(full.get('mflops'))} MFLOPs. "
                      f"[Open {bits} in Explore]({_explore_link(bits)})")


def step_path(view: CheckpointView) -> None:
    space = view.space
    names = list(space.path_names)

    def label(n: str) -> str:
        p = space.paths[names.index(n)]
        return f"{n}: {space.modalities[p.tgt]} reads {space.modalities[p.src]}"

    name = st.selectbox("Path", names, key=S.LEARN_PATH, format_func=label)
    _mask_card(view, only(space, names.index(name)))


def step_into_target(view: CheckpointView) -> None:
    space = view.space
    target = space.modalities[0]
    idx = into(space, target)
    off = st.toggle(f"Switch off every path into {target} ({', '.join(space.path_names[i] for i in idx)})",
                    key=S.LEARN_INTO_T)
    _mask_card(view, without(space, idx) if off else view.full_bits)


def step_cheapest(view: CheckpointView) -> None:
    tol = st.slider("Allowed extra error (MAE above the full mask's)", 0.0, 0.30, 0.05, 0.01, key=S.LEARN_TOLERANCE,
                    format="%.2f")
    row = cheapest_within(view.table, view.full_bits, tol)
    if row is None:
        st.info("This checkpoint's table has no MAE for the full mask.")
        return
    full = view.table[view.full_bits]
    st.success(f"Cheapest mask within {tol:.2f} of the full mask's MAE: **{row['mask']}** "
               f"({', '.join(view.space.active_names(view.space.parse(row['mask'])))}), "
               f"{100 * float(row['mflops']) / float(full['mflops']):.0f}% of the full cost.")
    _mask_card(view, row["mask"])


def step_pareto(view: CheckpointView) -> None:
    spec = primary(view.task)
    rows = [{**r, "_source": "demo", "_source_id": "demo", "_paths": ", ".join(
        view.space.active_names(view.space.parse(r["mask"])))} for r in view.table.values()]
    lo = min(float(r["mflops"]) for r in rows)
    hi = max(float(r["mflops"]) for r in rows)
    budget = st.slider("FLOPs budget (MFLOPs you can afford per sample)", lo, hi, hi, (hi - lo) / 100,
                       key=S.LEARN_BUDGET, format="%.2f")
    best = best_under_budget(rows, spec.key, spec.higher_is_better, budget)
    src = Source("demo", f"all {len(rows)} masks of the demo", rows, pareto_front(rows, spec.key, spec.higher_is_better))
    fig = pareto_figure([src], [], spec, budget=budget, best=best)
    fig.update_layout(height=440)
    show_chart(fig, key="learn_pareto")
    st.markdown(pareto_text(spec.label, spec.higher_is_better))
    if best is not None:
        st.markdown(f"With {budget:.2f} MFLOPs the best mask is **{best['mask']}**: {spec.label} "
                    f"{display_value(spec.key, best[spec.key])}.")


def step_prior(view: CheckpointView) -> None:
    prior = read_prior(view.ckpt.prior, view.space)
    snap = prior.final
    if prior.history:
        epochs = [s.epoch for s in prior.history]
        if st.session_state.get(S.LEARN_EPOCH) not in epochs:
            st.session_state[S.LEARN_EPOCH] = epochs[-1]
        e = st.select_slider("Epoch of the search", options=epochs, key=S.LEARN_EPOCH)
        snap = next(s for s in prior.history if s.epoch == e)
    else:
        st.caption("This checkpoint keeps no per-epoch history: only the final prior is shown.")
    names = list(view.space.path_names)
    planted = set(view.planted)
    bars = prior_bars(names, snap.p, planted)
    fig = go.Figure(go.Bar(x=[b.label for b in bars], y=[b.p for b in bars], marker_color=INACTIVE_COLOR,
                           text=[f"{b.p:.2f}" for b in bars], textposition="outside", name="p"))
    marked = [b for b in bars if b.planted]
    if marked:  # a marker at a fixed height, so a planted path with p = 0 is marked too
        fig.add_trace(go.Scatter(x=[b.label for b in marked], y=[MARKER_Y] * len(marked), mode="markers+text",
                                 marker={"symbol": "star", "size": 16, "color": ACTIVE_COLOR},
                                 text=["planted"] * len(marked), textposition="top center", name="planted"))
    fig.update_layout(height=360, yaxis={"title": "p (the prior's preference)", "range": [0, 1.3]},
                      xaxis={"title": "path (\u2605: planted in the data)"}, showlegend=False,
                      margin={"l": 10, "r": 10, "t": 20, "b": 10})
    show_chart(fig, key="learn_prior")
    sh = sampling_shares(snap.p, view.space.k, (view.ckpt.extra or {}).get("search_config") or {})
    st.markdown(
        "**p is a preference, not a sampling frequency.** After the first "
        f"{sh['warmup_epochs']} (uniform) epochs, each trained mask is a uniform draw with probability "
        f"{sh['uniform_mix']:.2f}; otherwise each path is included on its own with probability \u03c0 "
        f"({sh['mode']} inclusion). So the share of guided-epoch masks that contain a path is about "
        + ", ".join(f"{n} {v:.2f}" for n, v in zip(names, sh["share"])) + ".")
    if sh["defaulted"]:
        st.caption("This checkpoint records no " + ", ".join(sh["defaulted"]) + ": the search's defaults are assumed.")
    top = [n for n, v in sorted(zip(names, snap.p), key=lambda t: -t[1]) if v >= 0.5]
    agree = len(set(top) & planted)
    st.markdown(f"Favoured (p >= 0.5): **{', '.join(top) or 'none'}**; planted: **{', '.join(view.planted) or '-'}**; "
                f"{agree} of the favoured paths are planted.")
    st.caption(DISAGREE)


def _unreveal() -> None:
    st.session_state[S.LEARN_REVEALED] = False


def _reveal() -> None:
    st.session_state[S.LEARN_REVEALED] = True


def step_predict(view: CheckpointView) -> None:
    names = list(view.space.path_names)
    guess = st.multiselect("Your guess: the paths the label depends on", names, key=S.LEARN_GUESS,
                           on_change=_unreveal)
    st.button("Reveal the answer", key=S.LEARN_REVEAL, on_click=_reveal)
    if not st.session_state.get(S.LEARN_REVEALED):
        st.caption("Guess first: the answer stays hidden until you reveal it.")
        return
    spec = primary(view.task)
    r = reveal(guess, view.table, view.space, view.planted, spec.key, higher_is_better=spec.higher_is_better)
    what = "planted in the synthetic data" if r.source == "planted" else "whose removal raises the error most"
    st.success(f"The paths {what}: **{', '.join(r.answer) or 'none'}**. You found {len(r.hits)} of "
               f"{len(r.answer)}" + (f"; missed {', '.join(r.misses)}" if r.misses else "")
               + (f"; {', '.join(r.false_alarms)} {'is' if len(r.false_alarms) == 1 else 'are'} not among them"
                  if r.false_alarms else "") + ".")
    st.markdown(f"Switching one path off in the full mask changes the {spec.label} by: "
                + ", ".join(f"{n} {format_change(spec.key, d) or 'n/a'}" for n, d in r.effect.items())
                + ". A planted path can show little effect alone when another path carries the same information.")


def step_ground_truth(view: CheckpointView, gt: GroundTruth) -> None:
    warn = file_warning(gt.path)  # the ground truth came from other search code
    if warn:
        st.warning(warn)
    rows = estimate_vs_alone(view.table, gt)
    if not rows:
        st.info(f"{gt.path.name} shares no masks with the demo's table.")
        return
    masks = [r["mask"] for r in rows]
    m = st.selectbox("Mask", masks, key=S.LEARN_GT_MASK)
    r = next(x for x in rows if x["mask"] == m)
    c1, c2 = st.columns(2)
    c1.metric("Supernet estimate (shared weights)", f"{r['supernet estimate (valid MAE)']:.3f}",
              help="validation MAE of this mask inside the one trained supernet")
    c2.metric(f"Trained alone (mean of {r['seeds']} seed{'s' if r['seeds'] != 1 else ''})",
              f"{r['trained alone (valid MAE)']:.3f}", help="validation MAE of this mask trained on its own")
    rho = spearman([x["supernet estimate (valid MAE)"] for x in rows], [x["trained alone (valid MAE)"] for x in rows])
    if rho is not None:
        st.caption(f"Over {len(rows)} masks the two rankings agree with Spearman \u03c1 = {rho:.2f} "
                   "(1 = same order). The supernet is for ranking masks, not for their exact error.")
    st.dataframe(rows, hide_index=True, key="learn_gt_table")
