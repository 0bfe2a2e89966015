"""The launcher side of background runs: start, watch, cancel and reap job processes.

A job is a real subprocess in its own session and process group, with stdin closed and
stdout/stderr appended to a log file. It outlives the dashboard script run (and the browser tab)
that started it. What it does is reported only through the :class:`~mro_core.runs.store.RunStore`;
the log file is for humans.

:func:`spawn` records the pid and log path in the store; :func:`cancel_job` sends SIGTERM to the
job's process group, waits, and SIGKILLs it after a timeout; :class:`JobManager` keeps the
``Popen`` handles so exited children are reaped and a job that died without reporting is marked in
the store. The job side (what the child does) is :mod:`mro_core.runs.job`; what to start, the
front door :mod:`mro_core.runs.api`.

No ``multiprocessing``: with the spawn start method it re-runs the Streamlit page in the child.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from mro_core.runs.logs import tail  # noqa: F401 - re-exported: the launcher's callers read logs
from mro_core.runs.records import (
    ACTIVE_STATUSES,
    LAUNCHED_RUN_ENV,
    TERMINAL_STATUSES,
    RunBusy,
    RunNotFound,
    pid_alive,
)
from mro_core.runs.store import RunStore

logger = logging.getLogger(__name__)

DEFAULT_CANCEL_TIMEOUT_S = 10.0
"""Seconds a job gets to checkpoint and exit after SIGTERM before it is SIGKILLed."""

_POLL_S = 0.02  # sleep between liveness checks while waiting for a process to go


# ------------------------------------------------------------------------------------------------
# Launcher side
# ------------------------------------------------------------------------------------------------
def job_alive(pid: int | None) -> bool:
    """Whether the job process exists and has not exited (zombies count as exited)."""
    return pid_alive(pid)


def default_log_path(store: RunStore, run_id: str) -> Path:
    """Where a job's log goes unless told otherwise: ``<workspace>/logs/<run_id>.log``."""
    return store.workspace / "logs" / f"{run_id}.log"


def spawn(
    cmd: Sequence[str],
    store: RunStore,
    run_id: str,
    log_path: str | os.PathLike[str] | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start any command as the background job of a run.

    The run is claimed atomically (:meth:`RunStore.claim_run`: ``queued``, owned by this process,
    ``finished`` / ``error`` cleared, so a stopped run can be resumed under the same id; of two
    launchers starting the same run, exactly one gets past this) with its log path as the
    ``"log"`` artifact; then the process starts in a new session (its pid is also its
    process-group id), stdin from ``/dev/null``, stdout and stderr appended to ``log_path``, and
    the run is handed over to its pid (:meth:`RunStore.hand_over`). If the run was cancelled
    meanwhile, the job's process group is killed. The job itself is expected to call
    :meth:`RunStore.mark_running` (see :func:`running_job`), which only its owner may.

    Args:
        cmd: the full command line (``[sys.executable, "-m", "mro_core", ...]`` for MRO jobs).
        store: the run store.
        run_id: an existing run that is not active (new, or stopped and to be resumed).
        log_path: log file (appended to); default :func:`default_log_path`.
        cwd: working directory of the job.
        env: environment of the job (default: this process's), plus ``PYTHONUNBUFFERED=1`` so the
            log is live.

    Returns:
        The ``Popen`` handle; keep it (or hand it to a :class:`JobManager`) to reap the child.

    Raises:
        RunNotFound: no such run.
        RunBusy: another live process holds the run (queued or running), or it is done; or it
            was cancelled between the claim and the start (the job was killed).
        ValueError: ``cmd`` is empty.
        OSError: the log file or the program cannot be opened (the run is marked failed).
    """
    if not cmd:
        raise ValueError("spawn() needs a command (got an empty list)")
    store.check_writable()
    log = Path(log_path) if log_path is not None else default_log_path(store, run_id)
    log.parent.mkdir(parents=True, exist_ok=True)
    launcher = os.getpid()
    store.claim_run(run_id, launcher)
    store.add_artifacts(run_id, {"log": str(log)})
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONUNBUFFERED"] = "1"
    child_env[LAUNCHED_RUN_ENV] = run_id  # the job was handed this claimed run (see running_job)
    try:
        with open(log, "ab") as fh:
            fh.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} start: {' '.join(map(str, cmd))}\n".encode())
            fh.flush()
            proc = subprocess.Popen(
                [str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT,
                cwd=cwd, env=child_env, start_new_session=True, close_fds=True,
            )
    except OSError as e:
        store.finish(run_id, "failed", error=f"could not start the job: {e}")
        raise
    try:
        # Conditional: the child may already have marked itself running (same pid) or finished;
        # if the run was cancelled meanwhile, the child must not go on.
        owned = store.hand_over(run_id, launcher, proc.pid)
    except BaseException:
        _signal_group(proc.pid, signal.SIGKILL)  # an untracked job could never be cancelled
        proc.wait()
        raise
    if not owned:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        raise RunBusy(f"run {run_id} was cancelled or claimed by another process before its job started; "
                      "the job was stopped")
    logger.info("started run %s as pid %d (log %s)", run_id, proc.pid, log)
    return proc


def mro_command(argv: Sequence[str]) -> list[str]:
    """The command line of an MRO job: ``[sys.executable, "-m", "mro_core", *argv]``."""
    return [sys.executable, "-m", "mro_core", *map(str, argv)]


def start_job(
    argv: Sequence[str],
    store: RunStore,
    run_id: str,
    log_path: str | os.PathLike[str] | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
) -> int:
    """Start ``python -m mro_core <argv>`` as the background job of a run (see :func:`spawn`).

    Use this from short-lived launchers (the CLI); a long-lived process (the dashboard) should use
    :class:`JobManager` so that exited children are reaped.

    Returns:
        The job's pid (also its process-group id).
    """
    return spawn(mro_command(argv), store, run_id, log_path, cwd=cwd, env=env).pid


def _signal_group(pid: int, sig: signal.Signals) -> bool:
    """Signal the job's process group (pid == pgid); False when nothing is left to signal."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    except PermissionError as e:
        raise PermissionError(f"not allowed to signal job process group {pid}: {e.strerror}") from e
    return True


def _wait_gone(pid: int, timeout: float, process: subprocess.Popen[bytes] | None) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        gone = process.poll() is not None if process is not None else not pid_alive(pid)
        if gone:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)


def cancel_job(
    store: RunStore,
    run_id: str,
    timeout: float = DEFAULT_CANCEL_TIMEOUT_S,
    *,
    process: subprocess.Popen[bytes] | None = None,
) -> str:
    """Stop a run's job: SIGTERM to its process group, wait, then SIGKILL.

    A job using :func:`running_job` answers SIGTERM by stopping at its next safe point and writing
    ``cancelled`` itself. If it does not (it ignores the signal, hangs, or dies first), the run is
    marked ``cancelled`` here with an error saying so. A run that already finished is left alone.

    A live pid whose heartbeat is stale is *not* signalled: the pid may have been reused by an
    unrelated process. The run is marked cancelled and a warning names the pid.

    Args:
        store: the run store.
        run_id: the run.
        timeout: seconds between SIGTERM and SIGKILL.
        process: the ``Popen`` handle, if this process started the job (lets it be reaped).

    Returns:
        The run's status afterwards (``"cancelled"``, or the terminal status it already had).

    Raises:
        RunNotFound: no such run.
        ReadOnlyStore: the workspace is read-only (nothing is signalled).
    """
    store.check_writable()
    rec = store.get_run(run_id)
    if rec.status in TERMINAL_STATUSES:
        return rec.status
    if rec.status == "queued":
        # A queued run's pid is its owner: maybe the launcher (a CLI started from a shell leads
        # its own process group), so nothing is signalled. The cancel is a compare-and-set; the
        # launcher's hand-over or the job's mark_running sees it and the job does not start.
        why = "cancelled before its job started" if rec.is_active else "cancelled; the job was not running"
        if store.cancel_queued(run_id, why):
            return "cancelled"
        rec = store.get_run(run_id)  # it started (or ended) meanwhile
        if rec.status in TERMINAL_STATUSES:
            return rec.status
    pid = rec.pid
    if rec.effective_status not in ACTIVE_STATUSES or pid is None:
        if pid is not None and pid_alive(pid):
            logger.warning(
                "run %s: pid %d is alive but has not reported for a while; not signalling it in "
                "case the pid was reused (kill it yourself if it is the job)", run_id, pid,
            )
        store.finish(run_id, "cancelled", error="cancelled; the job was not running")
        return "cancelled"

    killed = False
    if _signal_group(pid, signal.SIGTERM):
        logger.info("run %s: sent SIGTERM to process group %d", run_id, pid)
        if not _wait_gone(pid, timeout, process):
            logger.warning("run %s: still alive %.3g s after SIGTERM; sending SIGKILL", run_id, timeout)
            _signal_group(pid, signal.SIGKILL)
            killed = True
            if not _wait_gone(pid, 5.0, process):
                logger.error("run %s: pid %d survived SIGKILL", run_id, pid)

    rec = store.get_run(run_id)
    if rec.status in ACTIVE_STATUSES:
        why = (
            f"cancelled; the job ignored SIGTERM for {timeout:g} s and was killed"
            if killed else "cancelled; the job exited without recording it"
        )
        store.finish(run_id, "cancelled", error=why)
    return store.get_run(run_id).status


# ------------------------------------------------------------------------------------------------
# The process-wide manager (held by the dashboard in st.cache_resource)
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobInfo:
    """A job this manager started.

    Attributes:
        run_id: the run.
        pid: the process (and process-group) id.
        log_path: where its output goes.
        started: unix time of the start.
        returncode: ``None`` while it runs; negative for "killed by signal N".
    """

    run_id: str
    pid: int
    log_path: str
    started: float
    returncode: int | None

    @property
    def alive(self) -> bool:
        return self.returncode is None


class JobManager:
    """Starts, lists and cancels background jobs, and reaps the ones that exit.

    A plain class (no Streamlit): the dashboard keeps one per process with ``st.cache_resource``;
    it must never live in ``st.session_state``, which a reload loses. The store stays the durable
    record: a manager only knows the jobs *it* started, while the store knows every run, so UIs
    list runs from the store and use the manager to act.

    :meth:`poll` (called by :meth:`jobs` and :meth:`start`) reaps exited children. A job that exited
    while the store still says queued/running is marked there: ``interrupted`` if a signal killed
    it (resumable), ``failed`` otherwise, with the last log line as the error.

    Thread safety: all methods take an internal lock, so Streamlit script threads may share one.

    Args:
        store: the run store jobs report to.
        cwd: working directory for jobs (default: this process's).
    """

    def __init__(self, store: RunStore, *, cwd: str | os.PathLike[str] | None = None) -> None:
        self.store = store
        self.cwd = cwd
        self._lock = threading.RLock()
        self._procs: dict[str, tuple[subprocess.Popen[bytes], JobInfo]] = {}

    def __repr__(self) -> str:
        return f"JobManager(store={self.store!r}, jobs={len(self._procs)})"

    def start(self, argv: Sequence[str], run_id: str, log_path: str | os.PathLike[str] | None = None) -> int:
        """Start ``python -m mro_core <argv>`` for a run; returns the pid."""
        return self.spawn(mro_command(argv), run_id, log_path)

    def spawn(self, cmd: Sequence[str], run_id: str, log_path: str | os.PathLike[str] | None = None, *,
              env: dict[str, str] | None = None) -> int:
        """Start any command for a run (see :func:`spawn`); returns the pid."""
        with self._lock:
            self.poll()
            proc = spawn(cmd, self.store, run_id, log_path, cwd=self.cwd, env=env)
            log = str(self.store.get_run(run_id).log_path)
            self._procs[run_id] = (proc, JobInfo(run_id, proc.pid, log, time.time(), None))
            return proc.pid

    def cancel(self, run_id: str, timeout: float = DEFAULT_CANCEL_TIMEOUT_S) -> str:
        """Cancel a run (see :func:`cancel_job`), reaping it if this manager started it."""
        with self._lock:
            entry = self._procs.get(run_id)
            proc = entry[0] if entry is not None and entry[0].returncode is None else None
        status = cancel_job(self.store, run_id, timeout, process=proc)
        self.poll()
        return status

    def poll(self) -> dict[str, int]:
        """Reap exited children and reconcile their runs.

        Returns:
            ``run_id -> returncode`` for the jobs found to have exited during this call.
        """
        exited: dict[str, int] = {}
        with self._lock:
            for run_id, (proc, info) in list(self._procs.items()):
                if info.returncode is not None:
                    continue
                rc = proc.poll()
                if rc is None:
                    continue
                self._procs[run_id] = (proc, JobInfo(info.run_id, info.pid, info.log_path, info.started, rc))
                exited[run_id] = rc
                self._reconcile(run_id, info, rc)
        return exited

    def _reconcile(self, run_id: str, info: JobInfo, rc: int) -> None:
        try:
            rec = self.store.get_run(run_id)
        except RunNotFound:
            return
        if rec.status not in ACTIVE_STATUSES or rec.pid not in (None, info.pid):
            return  # the job reported its end, or the run was restarted by someone else
        last = tail(info.log_path, 1).strip()
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            self.store.finish(run_id, "interrupted", error=f"the job was killed by {name}; resume to continue")
        else:
            detail = f": {last}" if last else ""
            self.store.finish(run_id, "failed", error=f"the job exited with code {rc} without reporting{detail}")
        logger.warning("run %s: job pid %d exited with %d without reporting its end", run_id, info.pid, rc)

    def jobs(self) -> list[JobInfo]:
        """The jobs this manager started (running and exited), oldest first."""
        with self._lock:
            self.poll()
            return sorted((info for _, info in self._procs.values()), key=lambda i: i.started)

    def is_running(self, run_id: str) -> bool:
        """Whether this manager's job for the run is still running."""
        with self._lock:
            self.poll()
            entry = self._procs.get(run_id)
            return entry is not None and entry[1].returncode is None

    def forget(self, run_id: str) -> None:
        """Drop an exited job from the list (a running one is kept, so it is still reaped)."""
        with self._lock:
            entry = self._procs.get(run_id)
            if entry is not None and entry[1].returncode is not None:
                del self._procs[run_id]
