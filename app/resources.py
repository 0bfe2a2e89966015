"""The dashboard's process-wide resources, cached once per server: the run store, the job manager
and the loaded checkpoints.

Every page and component gets them from here (never from ``st.session_state``, which a reload
loses). The store and the manager are thread-safe by contract, so Streamlit's script threads share
one of each per workspace; checkpoints are shared per file version (path + mtime).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from mro_core.runs.launcher import JobManager
from mro_core.runs.store import RunStore

from app.services import settings
from app.services.checkpoints import CheckpointView


@st.cache_resource(show_spinner="Loading checkpoint...", max_entries=8)
def load_view(path: str, mtime: float) -> CheckpointView:
    """One shared :class:`CheckpointView` per file version (path + mtime)."""
    del mtime  # part of the cache key only: a rewritten checkpoint loads again
    return CheckpointView(path)


def checkpoint_view(path: str) -> CheckpointView:
    """The view of the checkpoint at ``path`` as it is on disk now (OSError / ValueError if unreadable)."""
    return load_view(path, Path(path).stat().st_mtime)


@st.cache_resource
def _store(workspace: str) -> RunStore:
    return RunStore(workspace)


def open_store() -> RunStore | None:
    """The run store of the workspace; None while the workspace does not exist (looking never
    creates it)."""
    ws = settings.workspace()
    return _store(str(ws)) if ws.exists() else None


def workspace_store() -> RunStore:
    """The run store of the workspace, creating the workspace (for starting a search)."""
    return _store(str(settings.workspace()))


@st.cache_resource
def _manager(workspace: str) -> JobManager:
    return JobManager(_store(workspace), cwd=settings.REPO_ROOT)


def job_manager() -> JobManager:
    """The process-wide :class:`JobManager` of the workspace: it reaps the jobs this server
    started and marks a job that died without reporting."""
    return _manager(str(settings.workspace()))


@st.cache_data(show_spinner="Reading the data file...", max_entries=16)
def inspect_data(dataset: str, path: str, mtime: float) -> dict:
    """``mro_core.data.inspect.inspect_source(dataset, path).to_dict()``, once per file version.

    Raises:
        DataError / OSError / ValueError: the file cannot be read (the message is one line).
    """
    from mro_core.data.inspect import inspect_source

    del mtime  # part of the cache key only: a rewritten file is read again
    return inspect_source(dataset, path).to_dict()
