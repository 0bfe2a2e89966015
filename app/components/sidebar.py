"""The sidebar every page shows: the checkpoint picker (demo + every run's checkpoint)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.components.checkpoint_url import apply_url_checkpoint, write_url_checkpoint
from app.services import launch
from app.services import runs as run_svc
from app.services import settings
from app.services import state as S
from app.services.checkpoints import CheckpointView, checkpoint_options


@st.cache_resource(show_spinner="Loading checkpoint...", max_entries=8)
def load_view(path: str, mtime: float) -> CheckpointView:
    """One shared :class:`CheckpointView` per file version (path + mtime)."""
    del mtime  # part of the cache key only: a rewritten checkpoint loads again
    return CheckpointView(path)


@st.cache_resource
def job_launcher() -> launch.JobLauncher:
    """The process-wide launcher that holds the handles of jobs this server started."""
    return launch.JobLauncher()


@st.cache_resource
def _store(workspace: str):
    """One ``RunStore`` per workspace for the whole server (it is thread-safe by contract)."""
    return run_svc.open_store(workspace, create=True)


def open_store():
    """The run store of the workspace; None while the workspace does not exist (looking never
    creates it) or when the store module is not installed."""
    ws = settings.workspace()
    if not ws.exists() or not run_svc.store_available():
        return None
    return _store(str(ws))


def show_flash() -> None:
    """Show (once) a message a callback left for this run."""
    msg = st.session_state.pop(S.FLASH, None)
    if msg:
        st.warning(msg)


def _on_pick() -> None:
    st.session_state[S.CHECKPOINT_CHOICE] = st.session_state[S.CHECKPOINT]


def select_checkpoint(path: str) -> None:
    """Make ``path`` the chosen checkpoint (e.g. from a callback); the picker follows on the next run."""
    st.session_state[S.CHECKPOINT_CHOICE] = path


def checkpoint_sidebar() -> CheckpointView | None:
    """Render the picker and return the loaded checkpoint (None after showing an error)."""
    store = open_store()
    options = checkpoint_options(settings.DEMO_CHECKPOINT, run_svc.list_runs(store))
    labels = {o.path: o.label for o in options}
    paths = list(labels)
    url_warning = apply_url_checkpoint(options)  # ?ckpt= of a shared link
    if url_warning:
        st.warning(url_warning)
    choice = st.session_state.get(S.CHECKPOINT_CHOICE)
    if choice not in labels:
        choice = st.session_state[S.CHECKPOINT_CHOICE] = paths[0]
    st.session_state[S.CHECKPOINT] = choice
    path = st.sidebar.selectbox("Checkpoint", paths, format_func=lambda p: labels.get(p, p), key=S.CHECKPOINT,
                                on_change=_on_pick,
                                help="The shipped demo checkpoint, or the checkpoint of any run in the workspace.")
    write_url_checkpoint(options, path)
    ws = settings.workspace()
    st.sidebar.caption(f"Workspace: `{ws}`" + ("" if ws.exists() else " (not created yet)"))
    if not run_svc.store_available():
        st.sidebar.caption("Run store not installed: only the demo checkpoint is listed.")
    try:
        mtime = Path(path).stat().st_mtime
        view = load_view(path, mtime)
    except (OSError, ValueError) as e:
        st.sidebar.error(f"Cannot load {path}: {e}")
        return None
    st.sidebar.caption(view.describe())
    return view
