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
import logging
import math
import os
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any, Mapping

from mro_core.runs.events import RunLog
from mro_core.runs.logs import last_error
from mro_core.runs.ownership import RunOwnership
from mro_core.runs.records import (
    ACTIVE_STATUSES,
    KINDS,
    STATUSES,
    TERMINAL_STATUSES,
    DamagedRow,
    RunNotFound,
    RunRecord,
    StoreError,
    check_status,
    pid_alive,
)
from mro_core.runs.schema import from_json, to_json

logger = logging.getLogger(__name__)

DEFAULT_WORKSPACE = Path("runs")
DB_NAME = "mro.sqlite"

DEFAULT_BUSY_TIMEOUT_S = 10.0
"""How long a statement waits for another process's write lock before giving up (seconds)."""

DEFAULT_STALE_AFTER_S = 120.0
"""A live pid whose heartbeat is older than this (seconds) reads as interrupted (hung, or a reused pid)."""

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
class RunStore(RunLog, RunOwnership):
    """Runs, their events and their evaluated masks, in ``<workspace>/mro.sqlite``.

    Contract:
        * Jobs write their own run (``mark_running``, ``heartbeat``, ``log_event``, ``put_masks``,
          ``finish``); launchers write ``create_run`` and the pid; UIs only read (``list_runs``,
          ``get_run``, ``events``, ``masks``, ``mask_epochs_of``). Nothing else carries run state.
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

    _run_select = _RUN_SELECT

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

    @classmethod
    def for_reading(cls, workspace: str | os.PathLike[str] = DEFAULT_WORKSPACE) -> RunStore | None:
        """The store of ``workspace`` opened read-only, for commands that only read (``mro runs
        list|show``): a read never creates a folder or a database and works on a full disk.

        Returns:
            The store, or None when the folder exists but holds no store yet (no runs).

        Raises:
            StoreError: the folder does not exist (a typo, most likely), or the store cannot be read.
        """
        ws = Path(workspace)
        if not ws.is_dir():
            what = "is a file, not a folder" if ws.exists() else "does not exist"
            raise StoreError(f"run workspace {ws} {what}; pass --workspace the folder your runs are in "
                             "(default runs/)")
        if not (ws / DB_NAME).is_file():
            return None
        try:
            return cls(ws, readonly=True)
        except StoreError as e:
            if "cannot be upgraded there" not in str(e) or not os.access(ws, os.W_OK):
                raise
            return cls(ws)  # an older schema in a writable folder: upgraded once, as any open would

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
        if d["checkpoint"] is not None:
            d["checkpoint"] = self._located(str(d["checkpoint"]))
        rec = RunRecord(**d)
        status, error = self._effective(rec, now)
        return dataclasses.replace(rec, effective_status=status, effective_error=error)

    # -- paths inside the workspace ----------------------------------------------------------------
    # A checkpoint inside the workspace is stored relative to it, so a copied or moved workspace
    # (an archive, another machine) still finds its files; records always carry absolute paths.
    def _portable(self, path: str | os.PathLike[str]) -> str:
        p = Path(os.path.abspath(path))
        try:
            return p.relative_to(Path(os.path.abspath(self.workspace))).as_posix()
        except ValueError:
            return str(p)  # outside the workspace (`mro search --out`): kept as given

    def _located(self, stored: str) -> str:
        """The absolute path of a stored checkpoint path. An absolute path that no longer exists
        (a workspace of an older MRO, copied elsewhere) is looked for under this workspace by its
        trailing components (``<run id>/search.pt``)."""
        ws = Path(os.path.abspath(self.workspace))
        p = Path(stored)
        if not p.is_absolute():
            return str(ws / p)
        if not p.exists():
            for i in range(1, len(p.parts) - 1):  # longest suffix first, at least two components
                cand = ws.joinpath(*p.parts[i:])
                if cand.exists():
                    return str(cand)
        return str(p)

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
        if fields.get("checkpoint") is not None:
            fields["checkpoint"] = self._portable(fields["checkpoint"])
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

