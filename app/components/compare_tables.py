"""Compare page parts: run selection, Table 5, Table 4, per-epoch curves.

Every Table 5 row says where it comes from (``From``): a chosen run's pick, a baseline stored with a
run, the newest ``mro table --suite table5`` run of the workspace, or the shipped
``results/table5.csv``. The sidebar checkpoint's own rows are a separate table: they are not a run.
"""

from __future__ import annotations

import csv
from typing import Any

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from app.components.large_type import show_chart

from app.components.pareto_chart import PALETTE
from app.resources import open_store
from app.services import runs as run_svc
from app.services import settings
from app.services import state as S
from app.services import tables
from app.services.checkpoints import CheckpointView
from app.services.references_view import (
    SETTINGS_NOTE,
    reference_lines,
    reference_rows,
    references_for,
    run_setting,
)
from app.services.provenance_view import file_warning
from app.services.run_results import PICK_LABELS
from app.services.text import plotly_text

PERCENT_COLUMNS = ("Acc-7", "Acc-2", "F1")
SHIPPED_TABLE5 = settings.REPO_ROOT / "results" / "table5.csv"
BASELINES_HOWTO = ("Baselines (Concat+MLP, EmbraceNet, Pairwise CMT) and the ablations are trained on their own by "
                   "`mro table --suite table5 --dataset synthetic --workspace runs --out results/table5`; "
                   "its newest result in the workspace is shown here.")
EMPTY = ("Compare puts finished search runs side by side in the paper's layouts: Table 5 (subnets, baselines "
         "and ablations), Table 4 (one run per rank loss L0/L1/L2/L\u221e) and their training curves. There are "
         "no search runs in this workspace yet: start some on the **Search** page (or `mro search`).")


def _num_config(columns) -> dict:
    cfg = {c: st.column_config.NumberColumn(c, format="%.2f") for c in PERCENT_COLUMNS if c in columns}
    for c in ("MAE", "Corr", "Rank Corr (\u03c1)"):
        if c in columns:
            cfg[c] = st.column_config.NumberColumn(c, format="%.3f")
    if "MFLOPs" in columns:
        cfg["MFLOPs"] = st.column_config.NumberColumn("MFLOPs", format="%.3f")
    return cfg


def choose_runs() -> tuple[list[Any], str]:
    """Multiselect of the workspace's search runs and the pick (best/budget/knee/prior) to show;
    with no runs at all, an explanation of what the page needs."""
    store = open_store()
    runs = run_svc.list_runs(store, kind="search")
    if not runs:
        st.info(EMPTY)
        return [], "best"
    labels = {r.id: run_svc.run_label(r) for r in runs}
    if S.COMPARE_RUNS not in st.session_state:
        st.session_state[S.COMPARE_RUNS] = [r.id for r in runs if run_svc.run_result(r)][:6]
    st.session_state[S.COMPARE_RUNS] = [i for i in st.session_state[S.COMPARE_RUNS] if i in labels]
    c1, c2 = st.columns([3, 1])
    ids = c1.multiselect("Runs", list(labels), format_func=lambda i: labels.get(i, i), key=S.COMPARE_RUNS,
                         placeholder="choose runs")
    pick = c2.selectbox("Subnet", tables.PICKS, format_func=lambda p: PICK_LABELS[p], key=S.COMPARE_PICK)
    return [r for r in runs if r.id in ids], pick


def _checkpoint_rows(view: CheckpointView | None) -> list[dict]:
    """The selected checkpoint's full mask (Pairwise CMT, shared weights) and its best mask."""
    if view is None or not view.table:
        return []
    rows = []
    for model, bits in (("Pairwise CMT (full mask, shared weights)", view.full_bits),
                        ("Best mask of the table (shared weights)", view.best_mask())):
        r = view.table.get(bits or "")
        if r is None:
            continue
        cells = tables.metric_cells(r, view.task)
        rows.append({"Model": model, "Subnet Mask": bits, **cells, "MFLOPs": r.get("mflops"),
                     "From": f"sidebar checkpoint {view.path.name}, validation split"})
    return rows


def _suite_rows() -> tuple[list[dict], str]:
    """Rows of the newest ``mro table --suite table5`` run, else of the shipped results/table5.csv."""
    rec = tables.latest_table5_run(run_svc.list_runs(open_store(), kind="table"))
    if rec is not None:
        res = run_svc.run_result(rec)
        src = f"`mro table` run {run_svc.run_label(rec)}, test split, {len(res.get('seeds') or [])} seed(s)"
        return tables.suite_rows(res["rows"], src.replace("`", "")), src
    if SHIPPED_TABLE5.is_file():
        with open(SHIPPED_TABLE5, newline="") as f:
            rows = list(csv.DictReader(f))
        src = f"shipped results/{SHIPPED_TABLE5.name} (`mro table`, test split)"
        return tables.suite_rows(rows, src.replace("`", "")), src
    return [], ""


def _show(rows: list[dict], key: str) -> None:
    """A Table 5 part; a cell without a value (a baseline's Rank Corr) reads as a dash, not "None"."""
    rows = tables.percent_cells(rows, PERCENT_COLUMNS)
    st.dataframe(rows, hide_index=True, column_config=_num_config(rows[0].keys()), key=key,
                 placeholder=tables.NO_VALUE)


def table5(runs: list[Any], pick: str, view: CheckpointView | None) -> None:
    st.subheader("Table 5: subnets, baselines and ablations")
    rows = tables.table5_rows(runs, pick)
    if rows:
        st.markdown("**The chosen runs** (validation split, shared weights unless a run fine-tuned its pick)")
        _show(rows, S.COMPARE_TABLE5)
    suite, src = _suite_rows()
    if suite:
        st.markdown(f"**Baselines and ablations trained alone**: from the {src}")
        if src.startswith("shipped"):
            warn = file_warning(SHIPPED_TABLE5)  # the shipped CSV came from other search code
            if warn:
                st.warning(warn)
        _show(suite, S.COMPARE_TABLE5 + "_suite")
    st.caption(BASELINES_HOWTO)
    refs = references_for(runs)  # only for chosen runs on mosei / mosi
    if refs:
        st.markdown("**Published reference points** for the chosen runs' data (test split as published; "
                    "no MFLOPs given)")
        _show(reference_rows(refs), S.COMPARE_TABLE5 + "_references")
        _reference_chart([r for r in runs if run_setting(r) is not None], pick, refs)
        st.caption(SETTINGS_NOTE)
    ck = _checkpoint_rows(view)
    if ck:
        st.markdown(f"**The sidebar checkpoint** ({view.path.name}; not a run, shown for reference)")
        _show(ck, S.COMPARE_TABLE5 + "_checkpoint")
    st.caption("Acc-2 and F1 use the non-zero convention (MulT's). Classification runs: Acc-7 is accuracy; "
               "MAE/Corr/Acc-2 only with sentiment labels.")


REF_METRICS = {"MAE": "mae", "Corr": "corr", "Acc-7": "acc7", "Acc-2": "acc2", "F1": "f1"}
"""Table 5 column -> the reference rows' metric key (same units: fractions, plain MAE)."""


def _reference_chart(runs: list[Any], pick: str, refs: list[dict]) -> None:
    """The chosen runs' picks (metric vs MFLOPs) with the published points as labelled dotted lines."""
    col = st.selectbox("Metric against the references", list(REF_METRICS), key=S.COMPARE_REF_METRIC)
    lines = reference_lines(refs, REF_METRICS[col])
    scale = 100.0 if col in PERCENT_COLUMNS else 1.0
    fig = go.Figure()
    for i, rec in enumerate(runs):
        row = tables.table5_rows([rec], pick)[-1]  # the run's own row comes after its baselines
        if row.get(col) is None or row.get("MFLOPs") is None:
            continue
        fig.add_trace(go.Scatter(x=[row["MFLOPs"]], y=[scale * row[col]], mode="markers",
                                 name=plotly_text(f"{row['Model']} ({row['Subnet Mask']})"),
                                 marker={"size": 12, "color": PALETTE[i % len(PALETTE)]}))
    for ref in lines:
        fig.add_hline(y=scale * ref["value"], line_dash="dot", line_color="#9A9A9A", line_width=1,
                      annotation_text=plotly_text(ref["label"]), annotation_position="right",
                      annotation_font={"size": 10, "color": "#666666"})
    fig.update_layout(xaxis_title="MFLOPs per sample (the references give none)",
                      yaxis_title=f"{col}{' (%)' if scale != 1.0 else ''}", height=380,
                      legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
                      margin={"l": 10, "r": 10, "t": 30, "b": 10})
    show_chart(fig, key=S.COMPARE_REF_CHART)


def table4(runs: list[Any], pick: str) -> None:
    if not runs:
        return
    st.subheader("Table 4: rank losses")
    store = open_store()
    events = {r.id: run_svc.events_of(store, r.id, "epoch") for r in runs}
    rows = tables.percent_cells(tables.table4_rows(runs, events, pick), PERCENT_COLUMNS)
    st.dataframe(rows, hide_index=True, column_config=_num_config(rows[0].keys()), key=S.COMPARE_TABLE4,
                 placeholder=tables.NO_VALUE)  # a run without rho (no prior) reads as a dash, not "None"
    st.caption("One row per chosen run: choose one run per rank loss (L0, L1, L2, L\u221e) to read it like the paper.")


def _line_chart(data: list[dict], title: str, y_title: str, key: str, dash: bool = False) -> None:
    runs = list(dict.fromkeys(d["run"] for d in data))
    colors = {r: PALETTE[i % len(PALETTE)] for i, r in enumerate(runs)}
    fig = px.line(data, x="epoch", y="value", color="run", line_dash="series" if dash else None, markers=True,
                  title=title, color_discrete_map=colors, labels={"epoch": "epoch", "value": y_title,
                                                                  "run": "run", "series": "series"})
    fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0, "title": None},
                      margin={"l": 10, "r": 10, "t": 50, "b": 10}, height=420)
    fig.update_xaxes(dtick=1 if max(d["epoch"] for d in data) <= 30 else None)  # whole epochs
    show_chart(fig, key=key)


def curves(runs: list[Any]) -> None:
    if not runs:
        return
    store = open_store()
    data = []
    for r in runs:
        data += tables.epoch_curves(plotly_text(run_svc.run_label(r)), run_svc.events_of(store, r.id, "epoch"))
    st.subheader("Per-epoch curves")
    if not data:
        st.info("The chosen runs have logged no epoch events yet: curves appear after their first epoch.")
        return
    rho = [d for d in data if d["series"] == "spearman"]
    loss = [d for d in data if d["series"] != "spearman"]
    if rho:
        _line_chart(rho, "Spearman \u03c1 between the prior's and the measured ranking of masks", "Spearman \u03c1",
                    S.COMPARE_RHO_CHART)
    if loss:
        for d in loss:
            d["series"] = {"train_loss": "train", "valid_loss": "validation"}.get(d["series"], d["series"])
        _line_chart(loss, "Loss (solid: train, dashed: validation)", "loss", S.COMPARE_LOSS_CHART, dash=True)
