"""Who may start a run: the atomic claim, the hand-over from launcher to job, and marking a run
running (a part of :class:`~mro_core.runs.store.RunStore`; the rules are in the store's docstring)."""

from __future__ import annotations

import logging
import os
import time

from mro_core.runs.records import (
    RESUMABLE_STATUSES,
    RunBusy,
    RunNotFound,
    RunRecord,
)
from mro_core.runs.schema import Database

logger = logging.getLogger("mro_core.runs.store")


class RunOwnership(Database):
    """Claiming and handing over runs; mixed into :class:`~mro_core.runs.store.RunStore`."""

    # -- ownership: who may start a run -----------------------------------------------------------
    # While a run is ``queued`` its ``pid`` names its owner: the process that created or claimed it
    # (a launcher), then the job's own process once the launcher hands it over. Claiming, handing
    # over and marking running are compare-and-set updates in one write transaction each, so of
    # two processes starting the same run exactly one wins (no schema change: v1 stores keep opening).
    def claim_run(self, run_id: str, owner: int | None = None) -> RunRecord:
        """Atomically take a run for starting: it becomes ``queued``, owned by ``owner``.

        Allowed when the run is failed / cancelled / interrupted, when it is queued or running but
        its process is gone or silent (it reads ``interrupted``), or when it is queued and already
        owned by ``owner`` (the creator starting its new run). Status, owner and liveness are read
        and written under one write lock, so two claimers cannot both succeed.

        Args:
            run_id: the run.
            owner: the claiming process id (default: this process).

        Returns:
            The run as claimed (``queued``, ``pid == owner``, ``finished`` and ``error`` cleared).

        Raises:
            RunNotFound: no such run.
            RunBusy: the run is done, or another live process holds it (one line naming its pid).
        """
        owner = os.getpid() if owner is None else int(owner)
        now = time.time()
        with self._write("claim a run") as conn:
            row = conn.execute(f"SELECT {self._run_select} FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunNotFound(run_id, self.workspace)
            rec = self._record(row, now)  # liveness judged under the lock
            if rec.status == "done":
                raise RunBusy(f"run {run_id} is already done; start a new search to train again")
            own_new = rec.status == "queued" and rec.pid == owner
            if not (own_new or rec.effective_status in RESUMABLE_STATUSES):
                raise RunBusy(
                    f"run {run_id} is already {rec.effective_status} (pid {rec.pid}): another process started it; "
                    f"cancel it first (`mro runs cancel {run_id}`)"
                )
            cur = conn.execute(  # compare-and-set on what was read (the lock already excludes writers)
                "UPDATE runs SET status = 'queued', pid = ?, heartbeat = ?, finished = NULL, error = NULL "
                "WHERE id = ? AND status = ? AND pid IS ?",
                (owner, now, run_id, rec.status, rec.pid),
            )
            if cur.rowcount != 1:
                raise RunBusy(f"run {run_id} changed while it was being claimed; try again")
        return self.get_run(run_id)

    def hand_over(self, run_id: str, from_pid: int, to_pid: int) -> bool:
        """The launcher gives its claimed run to the job it started (``pid`` from ``from_pid`` to ``to_pid``).

        Returns:
            True when the job owns the run now (handed over, or the job already marked itself
            running or even finished); False when it was cancelled or claimed by another process
            meanwhile, and the job must be stopped.
        """
        now = time.time()
        with self._write("hand a run to its job") as conn:
            cur = conn.execute(
                "UPDATE runs SET pid = ?, heartbeat = ? WHERE id = ? AND status = 'queued' AND pid = ?",
                (int(to_pid), now, run_id, int(from_pid)),
            )
            if cur.rowcount == 1:
                return True
            row = conn.execute("SELECT pid FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFound(run_id, self.workspace)
        return row[0] == int(to_pid)

    def cancel_queued(self, run_id: str, error: str) -> bool:
        """Mark a run ``cancelled`` if it is still ``queued`` (compare-and-set); whether it was."""
        with self._write("cancel a queued run") as conn:
            cur = conn.execute(
                "UPDATE runs SET status = 'cancelled', finished = ?, error = ? WHERE id = ? AND status = 'queued'",
                (time.time(), error, run_id),
            )
            if cur.rowcount == 0 and conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise RunNotFound(run_id, self.workspace)
            return cur.rowcount == 1

    def mark_running(self, run_id: str, pid: int | None = None) -> None:
        """Called by the job as it starts: status ``running``, its pid, a fresh heartbeat.

        Conditional: the run must be ``queued`` and owned by this process, its parent (the
        launcher, before the hand-over) or ``pid``; or already ``running`` as ``pid``. Clears
        ``finished`` and ``error`` so a resumed run starts clean; keeps the first ``started``.

        Raises:
            RunNotFound: no such run.
            RunBusy: the run was cancelled before the job started, or another process owns it;
                this job must not run.
        """
        now = time.time()
        me = os.getpid() if pid is None else int(pid)
        with self._write("mark a run running") as conn:
            cur = conn.execute(
                "UPDATE runs SET status = 'running', pid = ?, heartbeat = ?, "
                "started = COALESCE(started, ?), finished = NULL, error = NULL "
                "WHERE id = ? AND ((status = 'queued' AND pid IN (?, ?, ?)) OR (status = 'running' AND pid = ?))",
                (me, now, now, run_id, me, os.getpid(), os.getppid(), me),
            )
            if cur.rowcount == 1:
                return
            row = conn.execute("SELECT status, pid FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFound(run_id, self.workspace)
        status, owner = row
        if status == "cancelled":
            raise RunBusy(f"run {run_id} was cancelled before its job started; this job does not start")
        raise RunBusy(
            f"run {run_id} is {status} and owned by pid {owner}, not this job (pid {me}): another "
            "process claimed it; this job does not start"
        )

