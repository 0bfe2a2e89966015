"""The runs list of the workspace: honest status, progress, measured ETA, cancel / resume, the log
tail, and a results card per finished run. Live.

The panel is a fragment that refreshes every few seconds while a run is active, and also after a
start, cancel or resume until the run leaves the status it had when the button was pressed
(:class:`~app.services.job_states.Settle`): a resumed run shows ``running`` without a reload.
"""

from __future__ import annotations

import hashlib
import time

import streamlit as st

from mro_core.runs.api import cancel_run, refusal, resume_run

from app.components.run_results import results_cards
from app.components.sidebar import show_flash
from app.resources import job_manager, open_store
from app.services import job_states as jobs
from app.services import runs as run_svc
from app.services import state as S
from app.services.text import markdown_text

REFRESH_SECONDS = 3
LOG_LINES = 40


def _act(action: str, run_id: str, before: str) -> None:
    """Cancel / resume callback; errors go to the flash message. Afterwards the panel waits for the
    run to leave ``before`` (and the next fragment run reruns the page, so polling restarts)."""
    try:
        store = open_store()
        if store is None:
            raise FileNotFoundError("the workspace does not exist")
        if action == "cancel":
            cancel_run(store, run_id, manager=job_manager())
        else:
            resume_run(store, run_id, manager=job_manager())
    except Exception as e:  # noqa: BLE001 - any failure of the job command is shown, not raised
        st.session_state[S.FLASH] = f"{action} {run_id} failed: {refusal(e)}"
        return
    st.session_state[S.RUNS_SETTLE] = jobs.Settle.after(run_id, before)
    st.session_state[S.RUNS_RERUN] = True


def settling(statuses: dict[str, str]) -> bool:
    """Whether a start / cancel / resume of this session still waits for its run to change."""
    settle = st.session_state.get(S.RUNS_SETTLE)
    if not isinstance(settle, jobs.Settle):
        return False
    if settle.pending(statuses.get(settle.run_id)):
        return True
    st.session_state.pop(S.RUNS_SETTLE, None)
    return False


def _on_pick(key: str) -> None:
    st.session_state[S.RUNS_SELECTED] = st.session_state[key]


def _run_picker(rows: list[dict]) -> str:
    """The run chooser, its labels carrying each run's status. The widget's key follows the labels:
    the browser keeps an old label of a widget whose options merely changed text (a run that ended
    still read "- running"), so a new status draws a new widget; the choice lives in
    ``S.RUNS_SELECTED``."""
    ids = [r["id"] for r in rows]
    if st.session_state.get(S.RUNS_SELECTED) not in ids:
        st.session_state[S.RUNS_SELECTED] = ids[0]
    labels = {r["id"]: f"{r['name']} ({r['id']}) - {r['status']}" for r in rows}
    key = S.RUNS_PICKER + hashlib.sha1("\n".join(labels.values()).encode()).hexdigest()[:10]
    chosen = st.session_state[S.RUNS_SELECTED]
    st.session_state[key] = chosen
    st.selectbox("Run", ids, format_func=lambda i: labels.get(i, i), key=key, on_change=_on_pick, args=(key,))
    return chosen


def _body(polling: bool) -> None:
    if st.session_state.pop(S.RUNS_RERUN, False):
        st.rerun()  # a button of this fragment acted: rerun the page so polling follows the new state
    show_flash()  # a cancel / resume error from a button in this fragment
    store = open_store()
    runs = run_svc.list_runs(store, kind="search")
    if not runs:
        st.info("No search runs in the workspace yet. Start one with the form above.")
        return
    rows = run_svc.run_table_rows(store, runs)
    statuses = {r["id"]: r["status"] for r in rows}
    waiting = settling(statuses)
    active = any(s in run_svc.ACTIVE_STATUSES for s in statuses.values())
    if polling and not active and not waiting:
        st.rerun()  # every run has settled: rerun the page once so the fragment stops polling
    st.dataframe(rows, hide_index=True, key=S.RUNS_TABLE, column_config={
        "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=100, format="%.0f%%"),
        "ETA": st.column_config.TextColumn("ETA", help="from measured epoch times, once the first epoch is done"),
        "detail": st.column_config.TextColumn("detail", help="why a run stopped: its error, or who cancelled it",
                                              width="large"),
    })
    run_id = _run_picker(rows)
    row = next(r for r in rows if r["id"] == run_id)
    rec = next(r for r in runs if r.id == run_id)
    status = row["status"]
    pending = waiting and st.session_state[S.RUNS_SETTLE].run_id == run_id
    block = "waiting for the run to react" if pending else jobs.resume_block(status)
    c1, c2, c3 = st.columns([1, 1, 4])
    c1.button("Cancel", key=S.RUNS_CANCEL, on_click=_act, args=("cancel", run_id, status),
              disabled=status not in run_svc.ACTIVE_STATUSES)
    c2.button("Resume", key=S.RUNS_RESUME, on_click=_act, args=("resume", run_id, status),
              disabled=block is not None, help=block or "continue after the last saved epoch")
    c3.caption(f"status **{status}**, epoch {row['epoch'] or '-'}"
               + (f", ETA {row['ETA']}" if row["ETA"] else "")
               + (f"; {markdown_text(row['detail'])}" if row["detail"] else "")
               + (" (waiting for the run to react...)" if pending else ""))
    tail = run_svc.log_tail(rec, LOG_LINES)
    if tail is None:
        st.caption("No log file for this run yet.")
    else:
        with st.expander("Log tail", expanded=status == "failed"):
            st.code(tail or "(empty log)", language=None)
    results_cards([r for r in runs if statuses.get(r.id) == "done"], run_id)


def runs_panel() -> None:
    """Render the live runs list (refreshing while a run is active or an action settles, unless
    paused)."""
    store = open_store()
    runs = run_svc.list_runs(store, kind="search")
    statuses = {r.id: run_svc.status_of(store, r) for r in runs}
    active = any(s in run_svc.ACTIVE_STATUSES for s in statuses.values())
    paused = st.toggle("Pause live refresh", key=S.RUNS_PAUSE)
    polling = (active or settling(statuses)) and not paused
    st.fragment(run_every=REFRESH_SECONDS if polling else None)(_body)(polling)


def note_started(run_id: str) -> None:
    """After a start: select the run and refresh until it leaves ``queued``."""
    st.session_state[S.RUNS_SELECTED] = run_id
    st.session_state[S.RUNS_SETTLE] = jobs.Settle.after(run_id, "queued", time.time())
