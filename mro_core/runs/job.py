"""The job side of a background run: what the child process does around its work.

:func:`running_job` marks the run running, heartbeats from a thread (:func:`keep_alive`), turns
SIGTERM into a flag the work polls at safe points (:class:`GracefulTermination`, passed to the
search as ``should_stop``), and records ``done`` / ``cancelled`` / ``failed`` on the way out. The
launcher side (starting, cancelling, reaping) is :mod:`mro_core.runs.launcher`.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Any, Callable, Iterator, Sequence

from mro_core.cancel import JobCancelled
from mro_core.runs.records import (
    ACTIVE_STATUSES,
    LAUNCHED_RUN_ENV,
    RunNotFound,
    StoreError,
    StoreGone,
)
from mro_core.runs.store import RunStore

logger = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_INTERVAL_S = 10.0
"""How often :func:`keep_alive` heartbeats; well below the store's ``stale_after`` (120 s)."""

__all__ = [
    "DEFAULT_HEARTBEAT_INTERVAL_S", "GracefulTermination", "JobCancelled", "cancel_requested",
    "check_cancelled", "graceful_termination", "install_sigterm_handler", "keep_alive", "one_line",
    "running_job",
]


def install_sigterm_handler(callback: Callable[[int], None]) -> Any:
    """Call ``callback(signum)`` on SIGTERM instead of dying; returns the previous handler.

    Low-level; prefer :func:`graceful_termination`. Must be called from the main thread.
    """
    return signal.signal(signal.SIGTERM, lambda signum, frame: callback(signum))


class GracefulTermination:
    """Turns termination signals into a flag, raised as :class:`JobCancelled` at safe points.

    Use as a context manager (entered in the main thread): on entry it installs handlers for
    ``signals`` (default SIGTERM) and on exit restores the previous ones. A first signal only sets
    the flag; the job calls :meth:`check` (or the module-level :func:`check_cancelled`) where
    stopping is safe, e.g. after writing a checkpoint. A second signal raises at once.

    Args:
        signals: the signals to catch.
    """

    def __init__(self, signals: Sequence[signal.Signals] = (signal.SIGTERM,)) -> None:
        self.signals = tuple(signals)
        self._event = threading.Event()
        self._signum: int | None = None
        self._why: str | None = None
        self._previous: dict[signal.Signals, Any] = {}

    @property
    def requested(self) -> bool:
        """Whether a stop was requested."""
        return self._event.is_set()

    def request(self, signum: int | None = None, reason: str | None = None) -> None:
        """Ask the job to stop (what the signal handler does; also usable from other threads).

        Args:
            signum: the signal that asked, if any.
            reason: why, when it was not a signal (e.g. the run store was deleted under the job).
        """
        self._signum = signum
        self._why = reason
        self._event.set()

    def check(self) -> None:
        """Raise :class:`JobCancelled` if a stop was requested."""
        if self._event.is_set():
            raise JobCancelled(self._reason())

    def _reason(self) -> str:
        if self._why is not None:
            return self._why
        if self._signum is None:
            return "cancelled"
        return f"cancelled by {signal.Signals(self._signum).name}"

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._event.is_set():
            raise JobCancelled(self._reason() + " (signalled twice; stopping now)")
        logger.info("received %s; stopping at the next safe point", signal.Signals(signum).name)
        self.request(signum)

    def __enter__(self) -> GracefulTermination:
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("graceful_termination() must be entered in the main thread (signal handlers live there)")
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._handle)
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        for sig, prev in self._previous.items():
            signal.signal(sig, prev)
        self._previous.clear()


# The terminations currently entered (innermost last); only GracefulTermination's enter/exit
# change it, so it always matches the `with` blocks on the stack.
_ACTIVE: list[GracefulTermination] = []


def graceful_termination(signals: Sequence[signal.Signals] = (signal.SIGTERM,)) -> GracefulTermination:
    """``with graceful_termination() as term: ... term.check()`` (see :class:`GracefulTermination`)."""
    return GracefulTermination(signals)


def check_cancelled() -> None:
    """Raise :class:`JobCancelled` if an active :func:`graceful_termination` got a stop request.

    A no-op outside any ``graceful_termination`` block, so library loops may call it freely.
    """
    for term in _ACTIVE:
        term.check()


def cancel_requested() -> bool:
    """Whether an active :func:`graceful_termination` got a stop request (without raising)."""
    return any(term.requested for term in _ACTIVE)


@contextmanager
def keep_alive(
    store: RunStore,
    run_id: str,
    interval: float = DEFAULT_HEARTBEAT_INTERVAL_S,
    term: GracefulTermination | None = None,
) -> Iterator[None]:
    """Heartbeat the run from a daemon thread every ``interval`` seconds while the block runs.

    Keeps a long epoch from reading as stale. The thread stops quietly if the run disappears. If
    the store file was deleted or replaced under the job (:class:`StoreGone`), it stops beating and
    asks ``term`` to stop the job at its next safe point: its progress could not be recorded.
    """
    if interval <= 0:
        raise ValueError(f"heartbeat interval must be positive seconds (got {interval})")
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval):
            try:
                store.heartbeat(run_id)
            except RunNotFound:
                logger.warning("run %s was deleted; heartbeats stop", run_id)
                return
            except StoreGone as e:
                logger.error("run %s: %s", run_id, e)
                if term is not None:
                    term.request(reason=str(e))
                return
            except Exception:  # a transient lock or I/O error must not kill the job
                logger.warning("run %s: heartbeat failed", run_id, exc_info=True)

    thread = threading.Thread(target=beat, name=f"mro-heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=max(1.0, interval))


def one_line(e: BaseException) -> str:
    """``Type: first line of the message``: how a failed run's error is stored."""
    text = str(e).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def _record_end(store: RunStore, run_id: str, status: str, error: str) -> StoreError | None:
    """``store.finish(run_id, status, error)``; a store that cannot take it is logged, not raised.

    The job's own error must win over a second failure while recording it (a full disk, a store
    deleted under the job): the caller re-raises the original, ``main()`` prints it as the log's
    last ``mro: error:`` line, and the next reader reports that line (see
    :meth:`RunStore.effective_error`). Returns the store's error, or None when it was recorded.
    """
    try:
        store.finish(run_id, status, error=error)
    except StoreError as se:
        logger.error("run %s: could not record %s (%s): %s", run_id, status, error, se)
        return se
    return None


@contextmanager
def running_job(
    store: RunStore,
    run_id: str,
    *,
    heartbeat_interval: float = DEFAULT_HEARTBEAT_INTERVAL_S,
    claim: bool | None = None,
) -> Iterator[GracefulTermination]:
    """The lifecycle of a job's body, written to the store.

    On entry: the run is claimed if needed, then ``mark_running`` (with this pid), SIGTERM handling
    (:func:`graceful_termination`) and heartbeats (:func:`keep_alive`). A job started by a launcher
    (:func:`~mro_core.runs.launcher.spawn`, which sets :data:`LAUNCHED_RUN_ENV`) was handed a run
    already claimed; a job started in the foreground (``mro search``, a resume in this process)
    claims it here, atomically (:meth:`RunStore.claim_run`), so it cannot run beside another job of
    the same run. Either way :class:`RunBusy` means this job must not run. On exit:

    * normal end: ``done`` (unless the body already finished the run, e.g. with a result);
    * :class:`JobCancelled` (SIGTERM seen at a ``check``): ``cancelled``; the exception is
      swallowed so the process exits normally;
    * ``KeyboardInterrupt`` / ``SystemExit``: ``interrupted`` (resumable), re-raised;
    * any other exception: ``failed`` with a one-line error, re-raised.

    Example::

        with running_job(store, run_id) as term:
            for epoch in range(start, cfg.epochs):
                train_one_epoch(...); save_checkpoint(...)
                store.log_event(run_id, "epoch", epoch, metrics)
                store.heartbeat(run_id, epoch=epoch, progress=(epoch + 1) / cfg.epochs)
                term.check()  # the safe point: the checkpoint is on disk

    Args:
        claim: claim the run before marking it running; default: unless this process was
            launched for this run (``os.environ[LAUNCHED_RUN_ENV] == run_id``).

    Yields:
        The :class:`GracefulTermination` in force.
    """
    if claim is None:
        claim = os.environ.get(LAUNCHED_RUN_ENV) != run_id
    # Handlers first: a SIGTERM that arrives while marking running is then kept, not fatal.
    with graceful_termination() as term:
        if claim:
            store.claim_run(run_id)
        store.mark_running(run_id)
        with keep_alive(store, run_id, heartbeat_interval, term):
            try:
                yield term
            except JobCancelled as e:
                unrecorded = _record_end(store, run_id, "cancelled", str(e))
                if unrecorded is not None:  # the end could not be written: say so, loudly
                    raise unrecorded from e
                logger.info("run %s: %s", run_id, e)
                return
            except (KeyboardInterrupt, SystemExit) as e:
                _record_end(store, run_id, "interrupted", f"interrupted ({type(e).__name__}); resume to continue")
                raise
            except BaseException as e:
                _record_end(store, run_id, "failed", one_line(e))
                raise
    if store.get_run(run_id).status in ACTIVE_STATUSES:
        store.finish(run_id, "done")
