"""The sidebar every page shows: the checkpoint picker (demo + every run's checkpoint).
The cached resources it reads (store, checkpoints) live in :mod:`app.resources`."""

from __future__ import annotations

import streamlit as st

from app.components.chart_export import chart_format_choice
from app.components.checkpoint_url import apply_url_checkpoint, write_url_checkpoint
from app.resources import checkpoint_view, open_store
from app.services import runs as run_svc
from app.services import settings
from app.services import state as S
from app.services.checkpoints import CheckpointView, checkpoint_options
from app.services.provenance_view import checkpoint_warning, file_warning


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
    chart_format_choice()
    try:
        view = checkpoint_view(path)
    except (OSError, ValueError) as e:
        st.sidebar.error(f"Cannot load {path}: {e}")
        return None
    st.sidebar.caption(view.describe())
    return view


def provenance_warning(view: CheckpointView) -> None:
    """One warning line when the open checkpoint came from other search code."""
    msg = checkpoint_warning(view.ckpt.code_version, view.path)
    if msg:
        st.warning(msg)


def file_provenance_warning(path) -> None:
    """One warning line when a shown result file came from other search code."""
    msg = file_warning(path)
    if msg:
        st.warning(msg)
