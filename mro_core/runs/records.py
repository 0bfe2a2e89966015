"""What the run store holds, as plain values: statuses, records, events and the store's errors.

Torch-free and free of SQLite, so every layer (the CLI, the dashboard, the jobs) can import the
status names and record types without opening anything. The store class is
:mod:`mro_core.runs.store`; its schema and migrations, :mod:`mro_core.runs.schema`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mro_core.procs import pid_alive  # noqa: F401 - re-exported: the store and the launcher read it here

KINDS = ("search", "train", "table")
STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
ACTIVE_STATUSES = ("queued", "running")
TERMINAL_STATUSES = ("done", "failed", "cancelled", "interrupted")
LOG_EVENT_KINDS = ("log",)
"""Event kinds that are never replaced: several log lines may share an epoch."""
RESUMABLE_STATUSES = ("failed", "cancelled", "interrupted")
"""Stopped runs that ``resume`` continues from their last saved epoch."""
LAUNCHED_RUN_ENV = "MRO_LAUNCHED_RUN"
"""Set by the launcher (:func:`~mro_core.runs.launcher.spawn`) in a job's environment to the run id
it claimed for the job: such a job only takes the run it was handed, and does not claim it again
(a run cancelled before its job started then stays cancelled)."""


# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------
class StoreError(OSError):
    """The store cannot be opened or written (bad workspace, read-only, disk full, locked too long).

    The message is one line and names the path involved.
    """


class StoreGone(StoreError):
    """The store file this process opened was deleted or replaced; its writes would be lost."""


class ReadOnlyStore(StoreError):
    """A write to a workspace that is opened for reading only (a read-only folder or file system)."""


class DamagedRow(StoreError):
    """One row of the store cannot be decoded (bad JSON, a value of the wrong type).

    Readers skip such a row with a warning (:meth:`RunStore.list_runs`, ``events``, ``masks``);
    asking for that run by id raises this error, naming the run and the column.
    """

    def __init__(self, message: str, *, run_id: str | None = None, column: str | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.column = column

    def __str__(self) -> str:  # OSError would print its args as a tuple
        return str(self.args[0])


class RunStateError(ValueError):
    """A run that cannot be started or resumed in its current state; the message names the fix."""


class RunBusy(RunStateError):
    """Another process holds the run (it is queued or running and its process is alive), or it is done.

    Raised by the atomic claim (:meth:`RunStore.claim_run`) and by a job whose run was taken or
    cancelled before it started (:meth:`RunStore.mark_running`).
    """


class RunNotFound(KeyError):
    """No run with that id in this workspace."""

    def __init__(self, run_id: str, workspace: Path | str) -> None:
        self.run_id = run_id
        self.workspace = str(workspace)
        super().__init__(run_id)

    def __str__(self) -> str:  # KeyError would print the repr of its argument
        return (
            f"no run {self.run_id!r} in workspace {self.workspace}; "
            "see the runs with `mro runs list` (or pass the right --workspace)"
        )


# ------------------------------------------------------------------------------------------------
# Records
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunRecord:
    """One row of ``runs``, decoded, plus the status as read at load time.

    Attributes:
        id: short unique id (8 hex digits).
        name: human label (need not be unique).
        kind: one of :data:`KINDS`.
        config: the resolved config the run was started with.
        status: the status the job last wrote (one of :data:`STATUSES`).
        pid: process (and process-group) id of the job, if started.
        heartbeat: unix time of the job's last sign of life.
        created, started, finished: unix times (``None`` until they happen).
        error: one-line reason for ``failed`` / ``cancelled`` / ``interrupted``.
        progress: fraction done, 0..1.
        epoch: last completed epoch (or search step).
        total_epochs: planned epochs.
        checkpoint: path of the latest checkpoint, if any.
        artifacts: name -> path of files the run produced (``"log"`` is the job's log file).
        result: final summary written by the job.
        effective_status: ``status``, except that an active run whose process is gone or silent
            reads as ``"interrupted"``, or as ``"failed"`` when the job's log ends with its own
            ``mro: error:`` line (it could not record its end; see :meth:`RunStore.effective_status`).
        effective_error: the reason to show with ``effective_status``: ``error``, or for a run
            whose process is gone, the job's last error line from its log or why it reads
            interrupted. Not a column: computed when the record is read.
    """

    id: str
    name: str
    kind: str
    config: dict[str, Any]
    status: str
    pid: int | None
    heartbeat: float | None
    created: float
    started: float | None
    finished: float | None
    error: str | None
    progress: float
    epoch: int | None
    total_epochs: int | None
    checkpoint: str | None
    artifacts: dict[str, str]
    result: Any
    effective_status: str = ""
    effective_error: str | None = None

    @property
    def is_active(self) -> bool:
        """True while the run is queued or running and its process is alive."""
        return self.effective_status in ACTIVE_STATUSES

    @property
    def log_path(self) -> str | None:
        """The job's log file, if it was started as a background job."""
        return self.artifacts.get("log")


@dataclass(frozen=True)
class Event:
    """One row of ``events``.

    ``id`` grows with every write; an epoch event that is re-logged (a resumed run) gets a new id,
    so a reader polling with ``since_id`` sees the replacement. Readers that accumulate events
    should key them by ``(kind, epoch)``.
    """

    id: int
    run_id: str
    kind: str
    epoch: int | None
    payload: Any
    time: float


def mask_bits(mask: Any) -> str:
    """A mask as its bit string (``"011011"``); ValueError for anything else."""
    if isinstance(mask, str):
        bits = mask.strip()
    else:
        try:
            bits = "".join(str(int(b)) for b in mask)
        except (TypeError, ValueError) as e:
            raise ValueError(f"a mask must be a bit string like '011011' or a sequence of 0/1 (got {mask!r})") from e
    if not bits or set(bits) - {"0", "1"}:
        raise ValueError(f"a mask must be a non-empty bit string like '011011' (got {mask!r})")
    return bits


def check_status(status: str) -> None:
    """ValueError unless ``status`` is one of :data:`STATUSES`."""
    if status not in STATUSES:
        raise ValueError(f"unknown run status {status!r}; allowed: {', '.join(STATUSES)}")
