"""The run store's SQLite schema and its migrations (one function per version step).

The version lives in ``PRAGMA user_version``; :func:`migrate` applies :data:`MIGRATIONS` on open,
under the write lock, so several processes may open an old database at once. :class:`Database`
is the connection plumbing (WAL mode, busy timeout, one connection per process, short write
transactions) that :class:`~mro_core.runs.store.RunStore` builds on.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from mro_core.runs.records import ReadOnlyStore, StoreError, StoreGone

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2

READABLE_FROM = 1
"""The oldest schema a read-only open accepts without migrating: the steps after it only add tables
whose readers treat a missing one as empty (version 2's ``mask_epochs``: no per-epoch history), so
an archived workspace of version 1 stays readable where it cannot be upgraded."""


def _migrate_0_to_1(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            config TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'queued',
            pid INTEGER,
            heartbeat REAL,
            created REAL NOT NULL,
            started REAL,
            finished REAL,
            error TEXT,
            progress REAL NOT NULL DEFAULT 0.0,
            epoch INTEGER,
            total_epochs INTEGER,
            checkpoint TEXT,
            artifacts TEXT NOT NULL DEFAULT '{}',
            result TEXT
        )"""
    )
    conn.execute("CREATE INDEX runs_kind_created ON runs(kind, created)")
    # ``keyed`` rows (epoch events) are unique per (run, kind, epoch); log lines are not.
    conn.execute(
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            epoch INTEGER,
            kind TEXT NOT NULL,
            keyed INTEGER NOT NULL DEFAULT 0,
            payload TEXT NOT NULL,
            time REAL NOT NULL
        )"""
    )
    conn.execute("CREATE INDEX events_run ON events(run_id, id)")
    conn.execute("CREATE UNIQUE INDEX events_epoch_key ON events(run_id, kind, epoch) WHERE keyed = 1")
    conn.execute(
        """CREATE TABLE masks (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            mask TEXT NOT NULL,
            split TEXT NOT NULL,
            source TEXT NOT NULL,
            mflops REAL,
            metrics TEXT NOT NULL,
            time REAL NOT NULL,
            PRIMARY KEY (run_id, mask, split, source)
        )"""
    )


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    # Per-epoch snapshots of the masks table (the front of each epoch): ``masks`` keeps only the
    # latest values per (run, mask, split, source). Written by ``log_event`` for an ``epoch``
    # event (see RunLog.log_event); runs made before have no rows here.
    conn.execute(
        """CREATE TABLE mask_epochs (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            epoch INTEGER NOT NULL,
            mask TEXT NOT NULL,
            split TEXT NOT NULL,
            source TEXT NOT NULL,
            mflops REAL,
            metrics TEXT NOT NULL,
            PRIMARY KEY (run_id, epoch, mask, split, source)
        )"""
    )


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {0: _migrate_0_to_1, 1: _migrate_1_to_2}
"""``MIGRATIONS[v]`` upgrades a database at ``user_version == v`` to ``v + 1`` (inside a transaction).

To change the schema: bump :data:`SCHEMA_VERSION`, add the step here, and add a test that opens a
database of the previous version.
"""


def migrate(conn: sqlite3.Connection, path: object) -> None:
    """Bring the database of ``conn`` (at ``path``, for messages) to :data:`SCHEMA_VERSION`.

    Raises:
        StoreError: the database is newer than this MRO understands.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"run store {path} has schema version {version}, newer than this MRO "
            f"understands ({SCHEMA_VERSION}); upgrade MRO or use another --workspace"
        )
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read under the write lock: another process may have migrated meanwhile.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        while version < SCHEMA_VERSION:
            logger.info("run store %s: migrating schema %d -> %d", path, version, version + 1)
            MIGRATIONS[version](conn)
            version += 1
            conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def to_json(obj: Any, what: str) -> str:
    """``obj`` as JSON text; ValueError naming ``what`` when it is not JSON-serializable."""
    try:
        return json.dumps(obj, sort_keys=True)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} must be JSON-serializable (plain dicts, lists, numbers, strings): {e}") from e


def from_json(text: str | None, default: Any = None) -> Any:
    """JSON text decoded (``default`` for SQL NULL)."""
    return default if text is None else json.loads(text)


def filtered(sql: str, args: list[Any], conditions: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """``sql`` plus ``AND <condition>`` for each condition whose value is not None."""
    for cond, value in conditions.items():
        if value is not None:
            sql += f" AND {cond}"
            args.append(value)
    return sql, args


class Database:
    """One SQLite file in WAL mode, migrated on open; the plumbing under the run store.

    Holds one connection per process (opened with ``check_same_thread=False``, guarded by a
    re-entrant lock); a connection inherited through ``fork`` is kept referenced, never used or
    closed, and the child opens its own.

    The file is watched: an open connection keeps a deleted or replaced file alive, so its writes
    would succeed into a file nobody reads. Every write first checks that ``path`` still names the
    file that was opened (device and inode; one ``stat``) and raises :class:`StoreGone` if not.
    Reads are not checked: they keep showing the file that was opened (a replacement cannot be
    followed safely anyway: SQLite leaves the old file's ``-wal`` beside the new one).

    Read-only mode (an archived workspace, a read-only mount, a file without write permission):
    opened with SQLite's ``mode=ro`` (or, where even the ``-shm`` index cannot be created,
    ``immutable=1``), never migrated; reads work, every write raises :class:`ReadOnlyStore`.

    Args:
        path: the database file.
        busy_timeout: seconds to wait for another writer's lock.
        readonly: True opens read-only; False read-write only; None (default) read-write, falling
            back to read-only when the file exists but cannot be opened for writing.
    """

    def __init__(self, path: str | os.PathLike[str], busy_timeout: float, readonly: bool | None = None) -> None:
        self.path = Path(path)
        self.busy_timeout = float(busy_timeout)
        self.readonly = bool(readonly)
        self._fallback_readonly = readonly is None
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._owner_pid = -1
        self._inherited: list[sqlite3.Connection] = []  # kept open on purpose (see the docstring)
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file opened
        with self._lock:
            self._connection()

    # -- connection ------------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        if self.readonly:
            return self._open_readonly()
        try:
            return self._open_readwrite()
        except StoreError as e:
            low = str(e).lower()
            if not (self._fallback_readonly and self.path.is_file()
                    and ("readonly" in low or "read-only" in low or "unable to open" in low)):
                raise
            logger.info("run store %s cannot be opened for writing (%s); opening it read-only", self.path, e)
            self.readonly = True
            return self._open_readonly()

    def _open_readonly(self) -> sqlite3.Connection:
        """A read-only connection: ``mode=ro`` when SQLite can use (or create) the ``-shm`` index,
        else ``immutable=1`` (then changes still in a ``-wal`` file are not visible)."""
        if not self.path.is_file():
            raise StoreError(
                f"{self.path.parent} is read-only and holds no run store; pass a writable --workspace"
            )
        uri = self.path.resolve().as_uri()
        conn, err = None, None
        for query in ("?mode=ro", "?mode=ro&immutable=1"):
            try:
                conn = sqlite3.connect(uri + query, uri=True, timeout=self.busy_timeout, isolation_level=None,
                                       check_same_thread=False)
                conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            except sqlite3.Error as e:
                err = e
                if conn is not None:
                    conn.close()
                conn = None
                continue
            if "immutable" in query and Path(f"{self.path}-wal").exists():
                logger.info("run store %s opened read-only and immutable: changes still in its -wal file "
                            "are not visible", self.path)
            break
        if conn is None:
            assert err is not None
            raise self._error(err, "open (read-only)") from err
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"run store {self.path} has schema version {version}, newer than this MRO "
                    f"understands ({SCHEMA_VERSION}); upgrade MRO or use another --workspace"
                )
            if version < READABLE_FROM or (version < SCHEMA_VERSION and Path(f"{self.path}-wal").exists()):
                why = (f"its latest changes are in {self.path.name}-wal, which cannot be replayed in a read-only folder"
                       if Path(f"{self.path}-wal").exists() else f"it has schema version {version}, which cannot be upgraded there")
                raise StoreError(
                    f"run store {self.path} is read-only and {why}; copy the workspace to a writable folder"
                )
        except sqlite3.Error as e:
            conn.close()
            raise self._error(e, "open (read-only)") from e
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_readwrite(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as e:
            raise self._error(e, "open") from e
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"run store {self.path}: could not switch to WAL mode (got {mode!r})")
            conn.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; safe in WAL
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn, self.path)
        except sqlite3.Error as e:
            conn.close()
            raise self._error(e, "open") from e
        except BaseException:
            conn.close()
            raise
        return conn

    def _connection(self) -> sqlite3.Connection:
        pid = os.getpid()
        if self._conn is None or self._owner_pid != pid:
            if self._conn is not None:
                # Closing a connection inherited through fork can corrupt the parent's view of
                # the WAL; keep it referenced and open a fresh one.
                self._inherited.append(self._conn)
            self._conn = self._open()
            self._owner_pid = pid
            self._identity = self._current_identity()
        return self._conn

    def _current_identity(self) -> tuple[int, int] | None:
        """(device, inode) of the file at ``path`` now; None when there is none."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StoreError(f"run store {self.path}: cannot stat it: {e.strerror or e}; check the workspace folder") from e
        return (st.st_dev, st.st_ino)

    def _gone(self) -> StoreGone | None:
        """Why the file this instance opened is no longer the one at ``path`` (None when it is)."""
        now = self._current_identity()
        if now == self._identity:
            return None
        if now is None:
            return StoreGone(
                f"run store {self.path} was deleted while this process used it; its writes would be "
                "lost, so it stops (checkpoints on disk are intact; resume the run in a restored store)"
            )
        return StoreGone(
            f"run store {self.path} was replaced by another file while this process used it; "
            "stopping instead of writing into the old one (resume the run in the new store)"
        )

    def _error(self, e: sqlite3.Error, action: str) -> StoreError:
        msg = str(e).strip() or type(e).__name__
        low = msg.lower()
        if "full" in low:
            hint = "free some disk space or use another --workspace"
        elif "readonly" in low or "read-only" in low or "unable to open" in low:
            hint = "pass a writable folder (--workspace)"
        elif "locked" in low or "busy" in low:
            hint = f"another process held the write lock for more than {self.busy_timeout:g} s"
        elif "not a database" in low or "malformed" in low:
            hint = "this file is not an MRO run store (or it is damaged); use another --workspace"
        else:
            hint = "check the workspace folder"
        return StoreError(f"run store {self.path}: cannot {action}: {msg}; {hint}")

    @contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        """One short write transaction, taking the write lock up front."""
        with self._lock:
            conn = self._connection()
            self.check_writable()
            gone = self._gone()
            if gone is not None:
                raise gone
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise self._error(e, action) from e
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # the failed COMMIT may already have rolled back; the original error wins
                # Any SQLite failure (locked, disk full, "database disk image is malformed" on a file
                # damaged mid-run) is one line; an IntegrityError stays for the callers, which turn
                # a foreign-key failure into RunNotFound.
                if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
                    raise self._error(exc, action) from exc
                raise

    @contextmanager
    def _read(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                yield conn
            except sqlite3.Error as e:
                raise self._error(e, action) from e

    def check_writable(self) -> None:
        """Raise :class:`ReadOnlyStore` (one line) when this store was opened read-only.

        Launchers call it before any work, so a search on a read-only workspace is refused at once.
        """
        if self.readonly:
            raise ReadOnlyStore(
                f"workspace {self.path.parent} is read-only (opened for reading only): runs cannot be "
                "started or changed here; copy it to a writable folder or pass another --workspace"
            )

    def close(self) -> None:
        """Close this instance's connection (a later call reopens it)."""
        with self._lock:
            if self._conn is not None and self._owner_pid == os.getpid():
                self._conn.close()
            self._conn = None

    # -- diagnostics -----------------------------------------------------------------------------
    def journal_mode(self) -> str:
        """The SQLite journal mode in use (``"wal"``)."""
        with self._read("read the journal mode") as conn:
            return str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()

    def schema_version(self) -> int:
        """The schema version recorded in the database (``PRAGMA user_version``)."""
        with self._read("read the schema version") as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
