"""The Compare page's config diff: two runs of the workspace, the keys their resolved configs
differ in (dotted), values side by side. The diff itself is :func:`app.services.config_diff.config_diff`."""

from __future__ import annotations

import streamlit as st

from app.resources import open_store
from app.services import runs as run_svc
from app.services import state as S
from app.services.config_diff import config_diff


def config_diff_section() -> None:
    """Two run pickers (any kind of run; the two newest at first) and the table of differences."""
    runs = run_svc.list_runs(open_store())
    if not runs:
        return  # the page already explains an empty workspace
    st.subheader("Config diff of two runs")
    if len(runs) < 2:
        st.info("The config diff needs two runs in the workspace; there is one.")
        return
    labels = {r.id: run_svc.run_label(r) for r in runs}
    ids = list(labels)
    for key, default in ((S.COMPARE_DIFF_A, ids[1]), (S.COMPARE_DIFF_B, ids[0])):  # older left, newer right
        if st.session_state.get(key) not in labels:
            st.session_state[key] = default
    c1, c2 = st.columns(2)
    a = c1.selectbox("Run A", ids, format_func=lambda i: labels.get(i, i), key=S.COMPARE_DIFF_A)
    b = c2.selectbox("Run B", ids, format_func=lambda i: labels.get(i, i), key=S.COMPARE_DIFF_B)
    if a == b:
        st.info("Pick two different runs to see where their configs differ.")
        return
    by_id = {r.id: r for r in runs}
    diff = config_diff(run_svc.run_config(by_id[a]), run_svc.run_config(by_id[b]))
    if not diff:
        st.success("The two runs' resolved configs are identical.")
        return
    st.dataframe([{"key": d.key, "run A": d.a, "run B": d.b} for d in diff], hide_index=True,
                 key=S.COMPARE_DIFF_TABLE, column_config={
                     "run A": st.column_config.TextColumn(f"A: {labels[a]}"),
                     "run B": st.column_config.TextColumn(f"B: {labels[b]}")})
    st.caption(f"{len(diff)} key(s) differ; nested settings are written as dotted keys (train.lr), "
               "equal keys are left out, (absent) marks a key one run does not have.")
