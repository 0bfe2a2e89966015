"""The front door of runs: submit, resume and cancel searches. The CLI and the dashboard both use it.

Path of a search: a :class:`~mro_core.runs.request.SearchRequest` -> :func:`submit_search`, which
prepares it (configs built, data opened) and refuses it with :class:`SearchRefused` (one line, the
same the CLI prints) before anything exists; then it creates the run, stores the request with it,
and starts ONE subprocess, the worker (:mod:`mro_core.runs.worker`), which reads the request back
from the store. The run id comes back from the store, never from the child's output. Jobs report
only through the store; :func:`resume_run` starts the same worker again, :func:`cancel_run`
stops it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import mro_core
from mro_core.config import to_dict
from mro_core.runs.launcher import (
    DEFAULT_CANCEL_TIMEOUT_S,
    JobManager,
    cancel_job,
    spawn,
)
from mro_core.runs.records import RunBusy, RunStateError
from mro_core.runs.request import PreparedSearch, SearchRefused, SearchRequest, prepare
from mro_core.runs.store import RunStore

PACKAGE_ROOT = Path(mro_core.__file__).resolve().parent.parent
"""The folder holding the ``mro_core`` package: put on the job's ``PYTHONPATH``."""


CANCEL_EVENT = "cancel"
"""Event logged when someone asks the front door to cancel a run (a user: the CLI or the dashboard),
so readers can tell a requested cancel from a SIGTERM that came from elsewhere."""
RESUME_EVENT = "resume"
"""Event logged when the front door resumes a run (a later cancel event is a new request)."""


def refusal(e: BaseException) -> str:
    """The first line of an error's message (its type name when it has none)."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def create_search_run(store: RunStore, prepared: PreparedSearch, *, argv: list[str] | None = None) -> str:
    """Register a prepared search in the store (status ``queued``, no process yet); its run id.

    The run's config holds the request (what the worker runs), the resolved configs, and, from the
    CLI, the command line that asked for it.
    """
    req, tcfg, scfg = prepared.request, prepared.train, prepared.search
    config = {"request": req.to_dict(), "train": to_dict(tcfg), "search": to_dict(scfg), "preset": req.preset,
              "dataset": req.dataset, "data_path": req.data_path, "rank_loss": scfg.rank_loss,
              "ablation": scfg.ablation, "seed": tcfg.seed}
    if argv is not None:
        config["argv"] = list(argv)
    run_id = store.create_run(req.default_name(scfg), "search", config, total_epochs=tcfg.epochs)
    ckpt = Path(req.out).resolve() if req.out else store.workspace.resolve() / run_id / "search.pt"
    store.update_run(run_id, checkpoint=str(ckpt))
    return run_id


def worker_command(store: RunStore, run_id: str) -> list[str]:
    """``python -m mro_core.runs.worker --workspace W --run-id ID``."""
    return [sys.executable, "-m", "mro_core.runs.worker", "--workspace", str(store.workspace.resolve()),
            "--run-id", run_id]


def _job_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _start(store: RunStore, run_id: str, cmd: list[str], manager: JobManager | None) -> int:
    if manager is not None:
        return manager.spawn(cmd, run_id, env=_job_env())
    return spawn(cmd, store, run_id, cwd=Path.cwd(), env=_job_env()).pid


def submit_search(store: RunStore, request: SearchRequest, *, manager: JobManager | None = None,
                  argv: list[str] | None = None) -> str:
    """Validate a request, create its run and start its job in the background; the run id.

    Args:
        store: the run store of the workspace.
        request: the search.
        manager: the process-wide :class:`JobManager` (the dashboard's), which reaps the child;
            without one the child is simply left running (the CLI exits right away).
        argv: the command line that asked for it (kept with the run, for humans).

    Raises:
        SearchRefused: the request cannot run (bad settings, missing or unreadable data, planted
            paths naming a missing modality); nothing was created.
        ReadOnlyStore: the workspace is read-only (nothing was read or created).
        OSError: the job could not be started (the run is marked failed).
    """
    store.check_writable()  # a read-only workspace: refused before the data is read
    try:
        prepared = prepare(request)
    except (ValueError, OSError) as e:
        raise SearchRefused(refusal(e)) from e
    run_id = create_search_run(store, prepared, argv=argv)
    _start(store, run_id, worker_command(store, run_id), manager)
    return run_id


def resume_run(store: RunStore, run_id: str, *, manager: JobManager | None = None) -> int:
    """Start a stopped run's job again; it continues after its last saved epoch. Returns the pid.

    The status check and the start are one atomic claim in the store (:func:`spawn` ->
    :meth:`RunStore.claim_run`): of two resumes of the same run, exactly one starts a job.

    Raises:
        RunNotFound: no such run.
        RunBusy: the run is still active (another process holds it) or already done.
        RunStateError: the run holds nothing to resume.
    """
    store.check_writable()
    rec = store.get_run(run_id)
    if rec.status == "done":  # final: no claim can change it, so checking it first is safe
        raise RunBusy(f"run {rec.id} is already done; start a new search to train again")
    config = rec.config or {}
    if isinstance(config.get("request"), dict):
        cmd = worker_command(store, rec.id)
    elif config.get("argv"):  # a run started by an older MRO: replay its command line
        cmd = [sys.executable, "-m", "mro_core", *map(str, config["argv"]), "--run-id", rec.id, "--resume"]
    else:
        raise RunStateError(f"run {rec.id} has no stored command line to resume")
    pid = _start(store, rec.id, cmd, manager)
    store.log_event(rec.id, RESUME_EVENT, None, {})  # only once the claim succeeded
    return pid


def cancel_run(store: RunStore, run_id: str, *, manager: JobManager | None = None,
               timeout: float = DEFAULT_CANCEL_TIMEOUT_S) -> str:
    """Stop a run's job (SIGTERM, then SIGKILL after ``timeout``); the run's status afterwards.

    Raises:
        RunNotFound: no such run.
    """
    store.log_event(run_id, CANCEL_EVENT, None, {})  # who asked: a user, through this door
    if manager is not None:
        return manager.cancel(run_id, timeout)
    return cancel_job(store, run_id, timeout)


__all__ = [
    "CANCEL_EVENT", "RESUME_EVENT", "RunBusy", "RunStateError", "SearchRefused", "SearchRequest", "cancel_run",
    "create_search_run", "refusal", "resume_run", "submit_search", "worker_command",
]
