"""The runs list of the workspace: honest status, progress, measured ETA, cancel / resume, the log
tail, and a results card per finished run. Live.

The panel is a fragment that refreshes every few seconds while a run is active, and also after a
start, cancel or resume until the run leaves the status it had when the button was pressed
(:class:`~app.services.job_states.Settle`): a resumed run shows ``running`` without a reload.
A cancel waits for its job to stop (seconds), so it is sent in the background and the panel says
"Cancelling…" at once; the run's state then follows from the store.
"""

from __future__ import annotations

import hashlib
import time

import streamlit as st

from mro_core.runs.api import cancel_run, refusal, resume_run

from app.components.run_results import results_cards
from app.components.sidebar import show_flash
from app.resources import in_background, job_manager, open_store
from app.services import job_states as jobs
from app.services import runs as run_svc
from app.services import state as S
from app.services.text import markdown_text

REFRESH_SECONDS = 3
LOG_LINES = 40


def _act(action: str, run_id: str, before: str) -> None:
    """Cancel / resume callback; errors go to the flash message. Afterwards the panel waits for the
    run to leave ``before`` (and the next fragment run reruns the page, so polling restarts). A
    cancel is only sent here (it waits for the job to stop): :func:`_cancel_outcomes` reports it."""
    try:
        store = open_store()
        if store is None:
            raise FileNotFoundError("the workspace does not exist")
        if action == "cancel":
            sent = in_background(cancel_run, store, run_id, manager=job_manager())
            st.session_state.setdefault(S.RUNS_CANCELS, {})[run_id] = sent
        else:
            resume_run(store, run_id, manager=job_manager())
    except Exception as e:  # noqa: BLE001 - any failure of the job command is shown, not raised
        st.session_state[S.FLASH] = f"{action} {run_id} failed: {refusal(e)}"
        return
    st.session_state[S.RUNS_SETTLE] = jobs.Settle.after(run_id, before, action=action)
    st.session_state[S.RUNS_RERUN] = True


def _cancel_outcomes() -> None:
    """Cancels sent in the background that have finished: a failed one goes to the flash message
    and stops the panel's "Cancelling…" (a done one needs nothing: the store shows its result)."""
    sent = st.session_state.get(S.RUNS_CANCELS) or {}
    for run_id, future in list(sent.items()):
        if not future.done():
            continue
        del sent[run_id]
        error = future.exception()
        if error is None:
            continue
        st.session_state[S.FLASH] = f"cancel {run_id} failed: {refusal(error)}"
        settle = st.session_state.get(S.RUNS_SETTLE)
        if isinstance(settle, jobs.Settle) and settle.run_id == run_id and settle.action == "cancel":
            st.session_state.pop(S.RUNS_SETTLE, None)


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
    _cancel_outcomes()
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
    widths = run_svc.run_table_widths(rows)  # names and ETAs in full
    st.dataframe(rows, hide_index=True, key=S.RUNS_TABLE, column_config={
        "name": st.column_config.TextColumn("name", width=widths["name"]),
        "progress": st.column_config.ProgressColumn("progress", min_value=0, max_value=100, format="%.0f%%"),
        "ETA": st.column_config.TextColumn("ETA", help="from measured epoch times, once the first epoch is done",
                                           width=widths["ETA"]),
        "detail": st.column_config.TextColumn("detail", help="why a run stopped: its error, or who cancelled it",
                                              width="large"),
    })
    run_id = _run_picker(rows)
    row = next(r for r in rows if r["id"] == run_id)
    rec = next(r for r in runs if r.id == run_id)
    status = row["status"]
    settle = st.session_state.get(S.RUNS_SETTLE)
    pending = waiting and settle.run_id == run_id
    cancelling = pending and settle.cancelling(run_id, status)
    block = "waiting for the run to react" if pending else jobs.resume_block(status)
    c1, c2, c3 = st.columns([1, 1, 4])
    c1.button(jobs.CANCELLING if cancelling else "Cancel", key=S.RUNS_CANCEL, on_click=_act,
              args=("cancel", run_id, status), disabled=cancelling or status not in run_svc.ACTIVE_STATUSES,
              help="the job stops at its next safe point" if cancelling else None)
    c2.button("Resume", key=S.RUNS_RESUME, on_click=_act, args=("resume", run_id, status),
              disabled=block is not None, help=block or "continue after the last saved epoch")
    c3.caption((f"**{jobs.CANCELLING}** the job stops at its next safe point; " if cancelling else "")
               + f"status **{status}**, epoch {row['epoch'] or '-'}"
               + (f", ETA {row['ETA']}" if row["ETA"] else "")
               + (f"; {markdown_text(row['detail'])}" if row["detail"] else "")
               + (" (waiting for the run to react...)" if pending and not cancelling else ""))
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
    st.session_state[S.RUNS_SETTLE] = jobs.Settle.after(run_id, "queued", time.time(), action="start")
