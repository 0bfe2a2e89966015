"""The run store: the only link between background jobs and the CLI / dashboard.

Everything a UI knows about a search or training run comes from here: what was asked (the resolved
config), where the run stands (status, pid, heartbeat, epoch, progress), what it logged (per-epoch
events) and what it measured (one row per evaluated mask). Jobs write; UIs read. No other channel
(files, pipes, ``st.session_state``) carries run state, so a browser refresh or a second terminal
sees exactly what the job wrote.

Storage is one SQLite file, ``<workspace>/mro.sqlite`` (workspace default ``runs/``), in WAL mode so
readers never block the writer and vice versa. Writers take the lock up front (``BEGIN IMMEDIATE``)
and hold it for one short statement group; a busy timeout (10 s by default) absorbs contention
between several jobs. The schema and its migrations live in :mod:`mro_core.runs.schema`; the
records, statuses and errors in :mod:`mro_core.runs.records`.

Liveness is not stored, it is read: a run recorded as ``queued``/``running`` whose process is gone,
or whose heartbeat is older than ``stale_after`` seconds, reads as ``interrupted``
(:meth:`RunStore.effective_status`), or as ``failed`` when the dead job's log ends with its own
``mro: error:`` line (it could not record its end: a full disk, a store deleted under it). A crashed
or killed job therefore never shows as running forever, and nothing has to clean up after it.
Process ids are only meaningful on the machine that started the job; the workspace is meant to be
local. No torch here: opening the store is cheap.

Ownership: starting a run is one atomic claim (:meth:`RunStore.claim_run`), so two launchers (two
``mro runs resume``, a CLI and a dashboard) never both start it. While a run is ``queued``, its
``pid`` is its owner: the creator or claimer, then the job once the launcher hands it over
(:meth:`RunStore.hand_over`); the job may only mark a run running that it owns
(:meth:`RunStore.mark_running`).

Faults: every SQLite failure is one :class:`StoreError` line; a workspace that cannot be written
opens read-only (reads work, writes raise :class:`ReadOnlyStore`); a row that cannot be decoded is
skipped by listings and named by :meth:`RunStore.get_run` (:class:`DamagedRow`); a store file deleted
or replaced under a process stops its writes (:class:`StoreGone`) instead of losing them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from mro_core.runs.records import (
    ACTIVE_STATUSES,
    KINDS,
    LOG_EVENT_KINDS,
    STATUSES,
    TERMINAL_STATUSES,
    Event,
    RunNotFound,
    DamagedRow,
    RESUMABLE_STATUSES,
    RunBusy,
    RunRecord,
    StoreError,
    check_status,
    mask_bits,
    pid_alive,
)
from mro_core.runs.logs import last_error
from mro_core.runs.schema import Database, filtered, from_json, to_json

logger = logging.getLogger(__name__)

DEFAULT_WORKSPACE = Path("runs")
DB_NAME = "mro.sqlite"

DEFAULT_BUSY_TIMEOUT_S = 10.0
"""How long a statement waits for another process's write lock before giving up (seconds)."""

DEFAULT_STALE_AFTER_S = 120.0
"""A live pid whose heartbeat is older than this (seconds) reads as interrupted (hung, or a reused pid)."""

_MASK_RESERVED = ("mask", "mflops", "split", "source", "time")
_JSON_COLUMNS = ("config", "artifacts", "result")
_UPDATABLE = (
    "name", "config", "status", "pid", "heartbeat", "started", "finished", "error", "progress",
    "epoch", "total_epochs", "checkpoint", "artifacts", "result",
)

_RUN_COLUMNS = tuple(f.name for f in dataclasses.fields(RunRecord) if f.name not in ("effective_status", "effective_error"))
_NUMERIC_COLUMNS = ("pid", "heartbeat", "created", "started", "finished", "progress", "epoch", "total_epochs")
_RUN_SELECT = ", ".join(_RUN_COLUMNS)


# ------------------------------------------------------------------------------------------------
# The store
# ------------------------------------------------------------------------------------------------
class RunStore(Database):
    """Runs, their events and their evaluated masks, in ``<workspace>/mro.sqlite``.

    Contract:
        * Jobs write their own run (``mark_running``, ``heartbeat``, ``log_event``, ``put_masks``,
          ``finish``); launchers write ``create_run`` and the pid; UIs only read (``list_runs``,
          ``get_run``, ``events``, ``masks``). Nothing else carries run state.
        * Every write is one short ``BEGIN IMMEDIATE`` transaction, so several processes (three
          searches and a dashboard, say) may share a workspace; a write that cannot get the lock
          within ``busy_timeout`` seconds raises :class:`StoreError`.
        * Reads never write: an abandoned run is reported as ``interrupted`` by
          :meth:`effective_status` without touching the row (:meth:`reconcile` persists it).

    Thread safety:
        One instance holds one SQLite connection, opened with ``check_same_thread=False`` and
        guarded by a re-entrant lock, so an instance may be shared between threads (for example a
        heartbeat thread and the training loop, or the dashboard's script threads through
        ``st.cache_resource``); calls are serialized. Instances must not cross ``fork``: if the
        process id changes, the instance opens a fresh connection and leaves the inherited one
        untouched. Separate processes should each open their own ``RunStore`` on the same
        workspace.

    Args:
        workspace: folder holding the database (created if missing). Default ``runs/``.
        busy_timeout: seconds to wait for another writer's lock.
        stale_after: seconds without a heartbeat after which a live pid reads as interrupted.
        readonly: open for reading only (``runs list|show`` and the dashboard's views work; every
            write raises :class:`ReadOnlyStore`). Default: detected, i.e. read-only when the
            workspace or its database cannot be written (a read-only mount, an archived folder).

    Raises:
        StoreError: the workspace cannot be created or the database cannot be opened / upgraded.
    """

    def __init__(
        self,
        workspace: str | os.PathLike[str] = DEFAULT_WORKSPACE,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT_S,
        stale_after: float = DEFAULT_STALE_AFTER_S,
        readonly: bool | None = None,
    ) -> None:
        if busy_timeout <= 0 or stale_after <= 0:
            raise ValueError(
                f"busy_timeout (got {busy_timeout}) and stale_after (got {stale_after}) must be positive seconds"
            )
        self.workspace = Path(workspace)
        self.stale_after = float(stale_after)
        db = self.workspace / DB_NAME
        if readonly is None and self.workspace.is_dir() and (
            not os.access(self.workspace, os.W_OK) or (db.exists() and not os.access(db, os.W_OK))
        ):
            readonly = True  # os.access reports a read-only mount even to root
        if not readonly:
            try:
                self.workspace.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StoreError(
                    f"cannot use run workspace {self.workspace}: {e.strerror or e}; "
                    "pass a writable folder (--workspace)"
                ) from e
        super().__init__(db, busy_timeout, readonly)

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        ro = ", readonly=True" if self.readonly else ""
        return f"RunStore(workspace={str(self.workspace)!r}, stale_after={self.stale_after:g}{ro})"

    # -- runs ------------------------------------------------------------------------------------
    def create_run(
        self, name: str, kind: str, config: Mapping[str, Any], total_epochs: int | None = None
    ) -> str:
        """Record a new run as ``queued``, owned by this process (its pid) until a job takes it.

        Args:
            name: human label.
            kind: one of :data:`KINDS`.
            config: the resolved config (JSON-serializable); store everything needed to rerun.
            total_epochs: planned epochs, for progress displays.

        Returns:
            The new run id (8 hex digits).

        Raises:
            ValueError: unknown kind, non-serializable config or negative ``total_epochs``.
            StoreError: the database cannot be written.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown run kind {kind!r}; allowed: {', '.join(KINDS)}")
        if total_epochs is not None and int(total_epochs) < 0:
            raise ValueError(f"total_epochs must be >= 0 (got {total_epochs})")
        cfg = to_json(dict(config), "the run config")
        now = time.time()
        with self._write("create a run") as conn:
            for _ in range(20):
                run_id = secrets.token_hex(4)
                if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                    break
            else:  # 20 collisions in 2^32 ids means something else is wrong
                raise RuntimeError("could not draw an unused run id")
            conn.execute(
                "INSERT INTO runs (id, name, kind, config, status, pid, created, total_epochs) "
                "VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
                (run_id, str(name), kind, cfg, os.getpid(), now, None if total_epochs is None else int(total_epochs)),
            )
        logger.debug("created run %s (%s, %s)", run_id, kind, name)
        return run_id

    def _damaged(self, run_id: Any, column: str, why: str) -> DamagedRow:
        return DamagedRow(
            f"run {run_id} in {self.path} is damaged ({why} in its {column!r} column); "
            "`mro runs list` shows the others; delete it or restore the store from a copy",
            run_id=str(run_id), column=column,
        )

    def _record(self, row: sqlite3.Row | tuple, now: float) -> RunRecord:
        """A row decoded and checked; :class:`DamagedRow` names the first column that is not sane."""
        d = dict(zip(_RUN_COLUMNS, row))
        for col, default, typ in (("config", {}, dict), ("artifacts", {}, dict), ("result", None, object)):
            try:
                d[col] = from_json(d[col], default)
            except (ValueError, TypeError):
                raise self._damaged(d["id"], col, "bad JSON") from None
            if not isinstance(d[col], typ):
                raise self._damaged(d["id"], col, f"a JSON {type(d[col]).__name__} where an object belongs")
        if d["status"] not in STATUSES:
            raise self._damaged(d["id"], "status", f"unknown status {d['status']!r}")
        for col in _NUMERIC_COLUMNS:
            v = d[col]
            if (v is None and col != "created") or (isinstance(v, (int, float)) and not isinstance(v, bool)):
                continue
            raise self._damaged(d["id"], col, f"{v!r} where a number belongs")
        rec = RunRecord(**d)
        status, error = self._effective(rec, now)
        return dataclasses.replace(rec, effective_status=status, effective_error=error)

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id.

        Raises:
            RunNotFound: no such run in this workspace.
        """
        with self._read("read a run") as conn:
            row = conn.execute(f"SELECT {_RUN_SELECT} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFound(run_id, self.workspace)
        return self._record(row, time.time())

    def list_runs(
        self, kind: str | None = None, *, limit: int | None = None, damaged: list[str] | None = None
    ) -> list[RunRecord]:
        """Runs, newest first; a damaged row is skipped (with a warning), never fatal to the list.

        Args:
            kind: only runs of this kind (one of :data:`KINDS`), or all.
            limit: at most this many rows are read (damaged ones included).
            damaged: if given, the ids of skipped damaged rows are appended to it (for a note
                like "skipped 1 damaged run(s): a1b2c3d4"); :meth:`get_run` on one names the column.
        """
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown run kind {kind!r}; allowed: {', '.join(KINDS)}")
        sql = f"SELECT {_RUN_SELECT} FROM runs"
        args: list[Any] = []
        if kind is not None:
            sql += " WHERE kind = ?"
            args.append(kind)
        sql += " ORDER BY created DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._read("list runs") as conn:
            rows = conn.execute(sql, args).fetchall()
        now = time.time()
        out = []
        for r in rows:
            try:
                out.append(self._record(r, now))
            except DamagedRow as e:
                logger.warning("run store %s: run %s has a damaged %s column; skipped", self.path, e.run_id, e.column)
                if damaged is not None:
                    damaged.append(str(e.run_id))
        return out

    def update_run(self, run_id: str, **fields: Any) -> None:
        """Set some columns of a run.

        Args:
            run_id: the run.
            **fields: any of ``name, config, status, pid, heartbeat, started, finished, error,
                progress, epoch, total_epochs, checkpoint, artifacts, result``. ``config``,
                ``artifacts`` and ``result`` are JSON-encoded.

        Raises:
            ValueError: an unknown column or status, or progress outside 0..1.
            RunNotFound: no such run.
        """
        if not fields:
            return
        unknown = sorted(set(fields) - set(_UPDATABLE))
        if unknown:
            raise ValueError(f"cannot update run column(s) {unknown}; allowed: {', '.join(_UPDATABLE)}")
        if "status" in fields:
            check_status(fields["status"])
        if fields.get("progress") is not None:
            p = float(fields["progress"])
            if not (0.0 <= p <= 1.0) or math.isnan(p):
                raise ValueError(f"progress must be a fraction in [0, 1] (got {fields['progress']})")
            fields["progress"] = p
        values = {
            k: (to_json(v, f"run {k}") if k in _JSON_COLUMNS and v is not None else v) for k, v in fields.items()
        }
        sets = ", ".join(f"{k} = ?" for k in values)
        with self._write("update a run") as conn:
            cur = conn.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*values.values(), run_id))
            if cur.rowcount == 0:
                raise RunNotFound(run_id, self.workspace)

    def add_artifacts(self, run_id: str, artifacts: Mapping[str, str | os.PathLike[str]]) -> None:
        """Merge ``name -> path`` entries into the run's artifacts (read-modify-write in one transaction)."""
        with self._write("record artifacts") as conn:
            row = conn.execute("SELECT artifacts FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunNotFound(run_id, self.workspace)
            try:
                have = from_json(row[0], {})
            except ValueError:
                raise self._damaged(run_id, "artifacts", "bad JSON") from None
            if not isinstance(have, dict):
                raise self._damaged(run_id, "artifacts", "a JSON value that is not an object")
            merged = {**have, **{str(k): str(v) for k, v in artifacts.items()}}
            conn.execute("UPDATE runs SET artifacts = ? WHERE id = ?", (to_json(merged, "artifacts"), run_id))

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
            row = conn.execute(f"SELECT {_RUN_SELECT} FROM runs WHERE id = ?", (run_id,)).fetchone()
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

    def heartbeat(self, run_id: str, epoch: int | None = None, progress: float | None = None) -> None:
        """Record a sign of life, optionally with the current epoch and progress (0..1)."""
        fields: dict[str, Any] = {"heartbeat": time.time()}
        if epoch is not None:
            fields["epoch"] = int(epoch)
        if progress is not None:
            fields["progress"] = progress
        self.update_run(run_id, **fields)

    def finish(self, run_id: str, status: str, error: str | None = None, result: Any = None) -> None:
        """Record the end of a run.

        Args:
            run_id: the run.
            status: one of :data:`TERMINAL_STATUSES`.
            error: one-line reason (for failed / cancelled / interrupted).
            result: JSON-serializable summary; ``None`` keeps what is there.

        Raises:
            ValueError: a non-terminal status.
        """
        if status not in TERMINAL_STATUSES:
            raise ValueError(f"finish() needs a terminal status, one of {', '.join(TERMINAL_STATUSES)} (got {status!r})")
        fields: dict[str, Any] = {"status": status, "finished": time.time(), "error": error}
        if status == "done":
            fields["progress"] = 1.0
        if result is not None:
            fields["result"] = result
        self.update_run(run_id, **fields)
        logger.debug("run %s finished: %s%s", run_id, status, f" ({error})" if error else "")

    def delete_run(self, run_id: str, *, force: bool = False) -> None:
        """Delete a run with its events and masks (files it wrote are left alone).

        Args:
            run_id: the run.
            force: also delete a run that is still active.

        Raises:
            RunNotFound: no such run.
            ValueError: the run is still active and ``force`` is false.
        """
        rec = self.get_run(run_id)
        if rec.is_active and not force:
            raise ValueError(
                f"run {run_id} is still {rec.effective_status} (pid {rec.pid}); "
                f"cancel it first (`mro runs cancel {run_id}`) or delete with force"
            )
        with self._write("delete a run") as conn:
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    # -- liveness --------------------------------------------------------------------------------
    def _effective(self, rec: RunRecord, now: float) -> tuple[str, str | None]:
        """(status, reason) a reader should show; only active rows whose process is gone cost more
        than a comparison (a ``kill(pid, 0)``, and for a dead pid one read of the log's last block)."""
        if rec.status not in ACTIVE_STATUSES:
            return rec.status, rec.error
        last_seen = rec.heartbeat or rec.started or rec.created
        if rec.pid is None:
            # Created but never launched (an old store's row): only abandoned once it waited too long.
            if now - last_seen > self.stale_after:
                return "interrupted", rec.error or "the job was never started"
            return rec.status, rec.error
        if not pid_alive(rec.pid):
            # The job (or, while queued, its launcher) is gone without recording its end. A job
            # that could not write the store (disk full, store deleted) still printed why.
            msg = last_error(rec.log_path)
            if msg is not None:
                return "failed", f"{msg} (from the job's log: the store could not record it)"
            return "interrupted", rec.error or "the job stopped without reporting (crash, kill, or a store it could not write)"
        if now - last_seen > self.stale_after:
            # hung, or the pid now belongs to another process
            return "interrupted", rec.error or f"no sign of life for {now - last_seen:.0f} s (hung, or its pid was reused)"
        return rec.status, rec.error

    def effective_status(self, record: RunRecord | str) -> str:
        """The status a reader should show, checked now.

        ``queued``/``running`` becomes ``interrupted`` when the recorded pid is dead (or a zombie),
        when it is alive but the heartbeat is older than ``stale_after`` seconds, or when a run that
        was never launched has waited longer than that. A dead job whose log's latest attempt ends
        with an ``mro: error:`` line reads ``failed`` (it could not record it: a full disk, a store
        deleted under it); ``RunRecord.effective_error`` then holds that line. Other statuses are
        returned as stored.

        Args:
            record: a record or a run id.
        """
        rec = self.get_run(record) if isinstance(record, str) else record
        return self._effective(rec, time.time())[0]

    def reconcile(self) -> list[str]:
        """Persist the effective status (``interrupted``, or ``failed`` from the job's log) and its
        reason for active runs whose process is gone or silent.

        A compare-and-set on the heartbeat makes this safe against a job that wakes up meanwhile.

        Returns:
            The ids that were marked.
        """
        if self.readonly:
            return []  # persisting is a write; readers still see the effective status
        marked = []
        now = time.time()
        for rec in self.list_runs():
            if rec.status in ACTIVE_STATUSES and rec.effective_status not in ACTIVE_STATUSES:
                with self._write("mark a run interrupted") as conn:
                    cur = conn.execute(
                        "UPDATE runs SET status = ?, finished = ?, error = ? "
                        "WHERE id = ? AND status = ? AND pid IS ? AND heartbeat IS ?",
                        (rec.effective_status, now, rec.effective_error, rec.id, rec.status, rec.pid, rec.heartbeat),
                    )
                if cur.rowcount:
                    marked.append(rec.id)
        return marked

    # -- events ----------------------------------------------------------------------------------
    def log_event(
        self, run_id: str, kind: str, epoch: int | None, payload: Any, *, replace: bool | None = None
    ) -> int:
        """Append an event; an epoch event replaces an earlier one for the same (kind, epoch).

        Args:
            run_id: the run.
            kind: e.g. ``"epoch"`` (per-epoch metrics), ``"prior"``, ``"log"``.
            epoch: the epoch it belongs to, or ``None``.
            payload: JSON-serializable data.
            replace: whether this event is unique per (run, kind, epoch). Default: yes when
                ``epoch`` is given and ``kind`` is not in :data:`LOG_EVENT_KINDS`, so a resumed
                run that logs epoch 3 again replaces it instead of duplicating it.

        Returns:
            The event id (a replacement gets a new, larger id).
        """
        keyed = (epoch is not None and kind not in LOG_EVENT_KINDS) if replace is None else bool(replace)
        if keyed and epoch is None:
            raise ValueError(f"a replaceable event needs an epoch (kind {kind!r})")
        data = to_json(payload, f"event payload ({kind})")
        verb = "INSERT OR REPLACE" if keyed else "INSERT"
        with self._write("log an event") as conn:
            try:
                cur = conn.execute(
                    f"{verb} INTO events (run_id, epoch, kind, keyed, payload, time) VALUES (?, ?, ?, ?, ?, ?)",
                    (run_id, None if epoch is None else int(epoch), str(kind), int(keyed), data, time.time()),
                )
            except sqlite3.IntegrityError as e:  # foreign key: the run does not exist
                raise RunNotFound(run_id, self.workspace) from e
            return int(cur.lastrowid or 0)

    def sync_epoch_events(self, run_id: str, history: Sequence[Mapping[str, Any]], kind: str = "epoch") -> list[int]:
        """Write the epochs of ``history`` that are missing from the run's events; the epochs written.

        A job saves its checkpoint, then logs the epoch's event: a kill in between loses the event,
        while the checkpoint's history keeps the epoch. On resume (and at the end) the job calls
        this with the checkpoint's history, so the store and the checkpoint agree again. One
        transaction; events already there are kept as they are (same ids), so it is idempotent.
        The run's ``epoch`` (and ``progress``, when ``total_epochs`` is known) move up to the
        history's last epoch, never down.

        Args:
            run_id: the run.
            history: the checkpoint's per-epoch records, each a JSON-serializable dict with an
                integer ``"epoch"``.
            kind: the event kind the job logs them as.

        Raises:
            RunNotFound: no such run.
            ValueError: an entry without an integer epoch, or not JSON-serializable.
        """
        entries = []
        for i, h in enumerate(history):
            try:
                epoch = int(h["epoch"])
            except (KeyError, TypeError, ValueError) as e:
                raise ValueError(f"history entry {i} has no integer 'epoch' ({e})") from None
            entries.append((epoch, to_json(dict(h), f"history entry {i}")))
        now = time.time()
        with self._write("reconcile epoch events") as conn:
            row = conn.execute("SELECT total_epochs FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise RunNotFound(run_id, self.workspace)
            have = {r[0] for r in conn.execute(
                "SELECT epoch FROM events WHERE run_id = ? AND kind = ? AND keyed = 1", (run_id, kind))}
            todo = [(e, js) for e, js in entries if e not in have]
            conn.executemany(
                "INSERT INTO events (run_id, epoch, kind, keyed, payload, time) VALUES (?, ?, ?, 1, ?, ?) "
                "ON CONFLICT (run_id, kind, epoch) WHERE keyed = 1 DO NOTHING",
                [(run_id, e, kind, js, now) for e, js in todo],
            )
            if entries:
                last = max(e for e, _ in entries)
                conn.execute("UPDATE runs SET epoch = MAX(COALESCE(epoch, 0), ?) WHERE id = ?", (last, run_id))
                if row[0]:
                    conn.execute("UPDATE runs SET progress = MAX(progress, ?) WHERE id = ?",
                                 (min(1.0, last / row[0]), run_id))
        if todo:
            logger.info("run %s: wrote %d epoch event(s) missing from the store: %s", run_id, len(todo),
                        [e for e, _ in todo])
        return [e for e, _ in todo]

    def events(
        self, run_id: str, kind: str | None = None, since_id: int | None = None, *, limit: int | None = None
    ) -> list[Event]:
        """Events of a run in write order.

        Args:
            run_id: the run.
            kind: only this kind.
            since_id: only events with a larger id (for incremental polling).
            limit: at most this many (the oldest first).

        Raises:
            RunNotFound: no such run.
        """
        sql, args = filtered("SELECT id, run_id, kind, epoch, payload, time FROM events WHERE run_id = ?",
                              [run_id], {"kind = ?": kind, "id > ?": None if since_id is None else int(since_id)})
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._read("read events") as conn:
            rows = conn.execute(sql, args).fetchall()
            if not rows and conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise RunNotFound(run_id, self.workspace)
        out, bad = [], 0
        for r in rows:
            try:
                out.append(Event(id=r[0], run_id=r[1], kind=r[2], epoch=r[3], payload=json.loads(r[4]), time=r[5]))
            except (ValueError, TypeError):
                bad += 1
        if bad:
            logger.warning("run store %s: run %s has %d damaged event row(s) (bad JSON); skipped", self.path, run_id, bad)
        return out

    # -- masks -----------------------------------------------------------------------------------
    def put_masks(self, run_id: str, rows: Sequence[Mapping[str, Any]], split: str, source: str) -> int:
        """Insert or update evaluated masks (one transaction).

        Args:
            run_id: the run.
            rows: dicts with ``"mask"`` (bit string or 0/1 sequence), ``"mflops"`` (optional) and
                metric keys (everything else, JSON-serializable).
            split: e.g. ``"valid"``, ``"test"``.
            source: how the metrics were obtained, e.g. ``"supernet"`` (shared weights) or
                ``"finetune"``.

        Returns:
            The number of rows written. A (mask, split, source) already present is overwritten.

        Raises:
            ValueError: a row without a valid mask, or with a reserved key as metric.
            RunNotFound: no such run.
        """
        now = time.time()
        values = []
        for i, row in enumerate(rows):
            if "mask" not in row:
                raise ValueError(f"mask row {i} has no 'mask' key (keys: {sorted(row)})")
            metrics = {k: v for k, v in row.items() if k not in ("mask", "mflops")}
            bad = sorted(set(metrics) & set(_MASK_RESERVED))
            if bad:
                raise ValueError(f"mask row {i}: {bad} are reserved names, not metrics; rename them")
            mflops = row.get("mflops")
            values.append((
                run_id, mask_bits(row["mask"]), str(split), str(source),
                None if mflops is None else float(mflops), to_json(metrics, f"mask row {i} metrics"), now,
            ))
        with self._write("store masks") as conn:
            try:
                conn.executemany(
                    "INSERT INTO masks (run_id, mask, split, source, mflops, metrics, time) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, mask, split, source) DO UPDATE "
                    "SET mflops = excluded.mflops, metrics = excluded.metrics, time = excluded.time",
                    values,
                )
            except sqlite3.IntegrityError as e:
                raise RunNotFound(run_id, self.workspace) from e
        return len(values)

    def masks(self, run_id: str, split: str | None = None, source: str | None = None) -> list[dict[str, Any]]:
        """Evaluated masks of a run, as flat dicts ``{mask, split, source, mflops, **metrics}``.

        Ordered by mask, then split, then source.

        Raises:
            RunNotFound: no such run.
        """
        sql, args = filtered("SELECT mask, split, source, mflops, metrics FROM masks WHERE run_id = ?",
                              [run_id], {"split = ?": split, "source = ?": source})
        sql += " ORDER BY mask, split, source"
        with self._read("read masks") as conn:
            rows = conn.execute(sql, args).fetchall()
            if not rows and conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise RunNotFound(run_id, self.workspace)
        out, bad = [], 0
        for m, sp, src, f, js in rows:
            try:
                metrics = json.loads(js)
                if not isinstance(metrics, dict):
                    raise TypeError("metrics are not an object")
            except (ValueError, TypeError):
                bad += 1
                continue
            out.append({"mask": m, "split": sp, "source": src, "mflops": f, **metrics})
        if bad:
            logger.warning("run store %s: run %s has %d damaged mask row(s) (bad JSON); skipped", self.path, run_id, bad)
        return out
