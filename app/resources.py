"""The dashboard's process-wide resources, cached once per server: the run store, the job manager,
the loaded checkpoints and the threads that send slow job commands (a cancel) in the background.

Every page and component gets them from here (never from ``st.session_state``, which a reload
loses). The store and the manager are thread-safe by contract, so Streamlit's script threads share
one of each per workspace; checkpoints are shared per file version (path + mtime).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

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


BACKGROUND_THREADS = 4
"""Job commands sent at once; more wait for a free thread (a cancel waits for its job, seconds)."""


@st.cache_resource
def _background() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=BACKGROUND_THREADS, thread_name_prefix="mro-job-command")


def in_background(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Run ``fn(*args, **kwargs)`` on a server thread and return its Future, so that a button's
    callback returns at once and the page can say what is under way. ``fn`` must not touch
    Streamlit (it runs outside any script run); pass it the store and manager, not their getters."""
    return _background().submit(fn, *args, **kwargs)


@st.cache_data(show_spinner="Reading the data file...", max_entries=16)
def inspect_data(dataset: str, path: str, mtime: float) -> dict:
    """``mro_core.data.inspect.inspect_source(dataset, path).to_dict()``, once per file version.

    Raises:
        DataError / OSError / ValueError: the file cannot be read (the message is one line).
    """
    from mro_core.data.inspect import inspect_source

    del mtime  # part of the cache key only: a rewritten file is read again
    return inspect_source(dataset, path).to_dict()
