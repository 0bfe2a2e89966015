"""Compare page parts: run selection, Table 5, Table 4, per-epoch curves."""

from __future__ import annotations

from typing import Any

import plotly.express as px
import streamlit as st

from app.resources import open_store
from app.services import runs as run_svc
from app.services import tables
from app.services import state as S
from app.services.checkpoints import CheckpointView

PERCENT_COLUMNS = ("Acc-7", "Acc-2", "F1")
PICK_LABELS = {"best": "best metric", "budget": "best under the FLOPs budget", "knee": "knee of the front",
               "prior": "highest prior"}


def _num_config(columns) -> dict:
    cfg = {c: st.column_config.NumberColumn(c, format="%.2f") for c in PERCENT_COLUMNS if c in columns}
    for c in ("MAE", "Corr", "Rank Corr (\u03c1)"):
        if c in columns:
            cfg[c] = st.column_config.NumberColumn(c, format="%.3f")
    if "MFLOPs" in columns:
        cfg["MFLOPs"] = st.column_config.NumberColumn("MFLOPs", format="%.3f")
    return cfg


def choose_runs() -> tuple[list[Any], str]:
    """Multiselect of the workspace's search runs and the pick (best/budget/knee/prior) to show."""
    store = open_store()
    runs = run_svc.list_runs(store, kind="search")
    labels = {r.id: run_svc.run_label(r) for r in runs}
    if S.COMPARE_RUNS not in st.session_state:
        st.session_state[S.COMPARE_RUNS] = [r.id for r in runs if run_svc.run_result(r)][:6]
    st.session_state[S.COMPARE_RUNS] = [i for i in st.session_state[S.COMPARE_RUNS] if i in labels]
    c1, c2 = st.columns([3, 1])
    ids = c1.multiselect("Runs", list(labels), format_func=lambda i: labels.get(i, i), key=S.COMPARE_RUNS,
                         placeholder="no runs in the workspace" if not labels else "choose runs")
    pick = c2.selectbox("Subnet", tables.PICKS, format_func=lambda p: PICK_LABELS[p], key=S.COMPARE_PICK)
    return [r for r in runs if r.id in ids], pick


def _checkpoint_rows(view: CheckpointView | None) -> list[dict]:
    """The selected checkpoint's full mask (Pairwise CMT, shared weights) and its best mask."""
    if view is None or not view.table:
        return []
    rows = []
    for model, bits in (("Pairwise CMT (full mask, this checkpoint)", view.full_bits),
                        ("Best mask of this checkpoint", view.best_mask())):
        r = view.table.get(bits or "")
        if r is None:
            continue
        cells = tables.metric_cells(r, view.task)
        rows.append({"Model": model, "Subnet Mask": bits, **cells, "MFLOPs": r.get("mflops")})
    return rows


def table5(runs: list[Any], pick: str, view: CheckpointView | None) -> None:
    st.subheader("Table 5: subnets, baselines and ablations")
    rows = tables.table5_rows(runs, pick) + _checkpoint_rows(view)
    if not rows:
        st.info("Nothing to compare yet: run a search (Search page) to fill this table.")
        return
    rows = tables.percent_cells(rows, PERCENT_COLUMNS)
    st.dataframe(rows, hide_index=True, column_config=_num_config(rows[0].keys()), key=S.COMPARE_TABLE5)
    st.caption("Acc-2 and F1 use the non-zero convention (MulT's). Validation split, shared weights unless a "
               "run fine-tuned its pick. Classification runs: Acc-7 is accuracy; MAE/Corr/Acc-2 only with "
               "sentiment labels.")


def table4(runs: list[Any], pick: str) -> None:
    st.subheader("Table 4: rank losses")
    if not runs:
        st.info("Choose runs (e.g. one per rank loss L0/L1/L2/L\u221e) to fill this table.")
        return
    store = open_store()
    events = {r.id: run_svc.events_of(store, r.id, "epoch") for r in runs}
    rows = tables.percent_cells(tables.table4_rows(runs, events, pick), PERCENT_COLUMNS)
    st.dataframe(rows, hide_index=True, column_config=_num_config(rows[0].keys()), key=S.COMPARE_TABLE4)


def curves(runs: list[Any]) -> None:
    st.subheader("Per-epoch curves")
    if not runs:
        return
    store = open_store()
    data = []
    for r in runs:
        data += tables.epoch_curves(run_svc.run_label(r), run_svc.events_of(store, r.id, "epoch"))
    if not data:
        st.info("The chosen runs have logged no epoch events yet.")
        return
    left, right = st.columns(2)
    rho = [d for d in data if d["series"] == "spearman"]
    loss = [d for d in data if d["series"] != "spearman"]
    if rho:
        fig = px.line(rho, x="epoch", y="value", color="run", markers=True, title="Spearman \u03c1 (prior vs performance)")
        left.plotly_chart(fig, key=S.COMPARE_RHO_CHART)
    if loss:
        fig = px.line(loss, x="epoch", y="value", color="run", line_dash="series", markers=True, title="Loss")
        right.plotly_chart(fig, key=S.COMPARE_LOSS_CHART)
