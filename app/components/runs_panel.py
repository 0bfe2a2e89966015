"""The runs list of the workspace: status, progress, ETA, cancel / resume, the log tail. Live."""

from __future__ import annotations

import streamlit as st

from mro_core.runs.api import cancel_run, resume_run

from app.components.sidebar import show_flash
from app.resources import job_manager, open_store
from app.services import runs as run_svc
from app.services import state as S

REFRESH_SECONDS = 5
LOG_LINES = 40


def _act(action: str, run_id: str) -> None:
    """Cancel / resume callback; errors go to the flash message."""
    try:
        store = open_store()
        if store is None:
            raise FileNotFoundError("the workspace does not exist")
        if action == "cancel":
            cancel_run(store, run_id, manager=job_manager())
        else:
            resume_run(store, run_id, manager=job_manager())
    except Exception as e:  # noqa: BLE001 - any failure of the job command is shown, not raised
        st.session_state[S.FLASH] = f"{action} {run_id} failed: {e}"


def _body(polling: bool) -> None:
    show_flash()  # a cancel / resume error from a button in this fragment
    store = open_store()
    runs = run_svc.list_runs(store, kind="search")
    if not runs:
        st.info("No search runs in the workspace yet. Start one with the form above.")
        return
    rows = run_svc.run_table_rows(store, runs)
    active = any(r["status"] in run_svc.ACTIVE_STATUSES for r in rows)
    if polling and not active:
        st.rerun()  # every run has finished: rerun the page once so the fragment stops polling
    st.dataframe(rows, hide_index=True, column_config={
        "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=100, format="%.0f%%"),
    })
    ids = [r["id"] for r in rows]
    if st.session_state.get(S.RUNS_SELECTED) not in ids:
        st.session_state[S.RUNS_SELECTED] = ids[0]
    labels = {r["id"]: f"{r['name']} ({r['id']}) - {r['status']}" for r in rows}
    run_id = st.selectbox("Run", ids, format_func=lambda i: labels.get(i, i), key=S.RUNS_SELECTED)
    row = next(r for r in rows if r["id"] == run_id)
    rec = next(r for r in runs if r.id == run_id)
    c1, c2, c3 = st.columns([1, 1, 4])
    c1.button("Cancel", key=S.RUNS_CANCEL, on_click=_act, args=("cancel", run_id),
              disabled=row["status"] not in run_svc.ACTIVE_STATUSES)
    c2.button("Resume", key=S.RUNS_RESUME, on_click=_act, args=("resume", run_id),
              disabled=row["status"] not in run_svc.RESUMABLE_STATUSES)
    c3.caption(f"status **{row['status']}**, epoch {row['epoch'] or '-'}, ETA {row['ETA'] or '-'}"
               + (f", error: {row['error']}" if row["error"] else ""))
    tail = run_svc.log_tail(rec, LOG_LINES)
    if tail is None:
        st.caption("No log file for this run yet.")
    else:
        st.code(tail or "(empty log)", language=None)


def runs_panel() -> None:
    """Render the live runs list (refreshing every few seconds while a run is active, unless paused)."""
    last = st.session_state.get(S.LAST_LAUNCH) or {}
    if last.get("run_id"):
        st.caption(f"Last search started from this browser session: run `{last['run_id']}`.")
    store = open_store()
    runs = run_svc.list_runs(store, kind="search")
    active = any(run_svc.status_of(store, r) in run_svc.ACTIVE_STATUSES for r in runs)
    paused = st.toggle("Pause live refresh", key=S.RUNS_PAUSE)
    polling = active and not paused
    st.fragment(run_every=REFRESH_SECONDS if polling else None)(_body)(polling)
