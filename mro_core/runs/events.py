"""The run store's log: per-epoch events and evaluated masks (a part of :class:`~mro_core.runs.store.RunStore`,
kept in its own module so each stays readable). Jobs append, UIs read; see the store's docstring.

Per-epoch history of the masks: the ``masks`` table keeps only the latest values per (run, mask,
split, source), so the front a search had after epoch 3 is overwritten by epoch 4's. A search
writes its epoch as ``put_masks(...)`` then ``log_event(run, "epoch", e, ...)``; :meth:`RunLog.log_event`
therefore copies, in the event's own transaction, what the run's ``put_masks`` calls wrote since
its previous epoch event into ``mask_epochs`` under epoch ``e`` (:data:`SNAPSHOT_KIND`). The search
code needs no change, and a resumed run that logs epoch ``e`` again replaces that snapshot.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from typing import Any, Mapping, Sequence

from mro_core.runs.records import (
    LOG_EVENT_KINDS,
    Event,
    RunNotFound,
    mask_bits,
)
from mro_core.runs.schema import Database, filtered, to_json

logger = logging.getLogger("mro_core.runs.store")

_MASK_RESERVED = ("mask", "mflops", "split", "source", "time")

SNAPSHOT_KIND = "epoch"
"""The event kind whose logging snapshots the run's freshly written masks (``mask_epochs``)."""


class RunLog(Database):
    """Events and masks of runs; mixed into :class:`~mro_core.runs.store.RunStore`."""

    # -- events ----------------------------------------------------------------------------------
    def log_event(
        self, run_id: str, kind: str, epoch: int | None, payload: Any, *, replace: bool | None = None
    ) -> int:
        """Append an event; an epoch event replaces an earlier one for the same (kind, epoch).

        An ``epoch`` event (:data:`SNAPSHOT_KIND`) also snapshots, in the same transaction, the
        masks the run wrote since its previous epoch event into the per-epoch history
        (:meth:`mask_epochs_of`).

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
            snapshot = keyed and kind == SNAPSHOT_KIND
            # the previous epoch event's time, read before this one is written
            since = conn.execute("SELECT MAX(time) FROM events WHERE run_id = ? AND kind = ? AND keyed = 1",
                                 (run_id, str(kind))).fetchone()[0] if snapshot else None
            try:
                cur = conn.execute(
                    f"{verb} INTO events (run_id, epoch, kind, keyed, payload, time) VALUES (?, ?, ?, ?, ?, ?)",
                    (run_id, None if epoch is None else int(epoch), str(kind), int(keyed), data, time.time()),
                )
            except sqlite3.IntegrityError as e:  # foreign key: the run does not exist
                raise RunNotFound(run_id, self.workspace) from e
            if snapshot:
                assert epoch is not None  # keyed events carry an epoch (checked above)
                self._snapshot_masks(conn, run_id, int(epoch), since)
            return int(cur.lastrowid or 0)

    @staticmethod
    def _snapshot_masks(conn: sqlite3.Connection, run_id: str, epoch: int, since: float | None) -> None:
        """Copy the rows of the run's latest ``put_masks`` call per (split, source) into
        ``mask_epochs`` under ``epoch``, for each (split, source) written after ``since`` (the previous
        epoch event's time; None: any). A ``put_masks`` call stamps all its rows with one ``time``,
        so the rows at a group's latest time are exactly that call's rows. A group not written
        since is left out: an epoch event without fresh masks (a training run's) gets no snapshot,
        rather than a copy of an older epoch's. An existing snapshot of the epoch (a resumed run
        logging it again) is replaced, never duplicated."""
        groups = conn.execute("SELECT split, source, MAX(time) FROM masks WHERE run_id = ? GROUP BY split, source",
                              (run_id,)).fetchall()
        for split, source, latest in groups:
            if since is not None and latest <= since:
                continue
            conn.execute("DELETE FROM mask_epochs WHERE run_id = ? AND epoch = ? AND split = ? AND source = ?",
                         (run_id, epoch, split, source))
            conn.execute(
                "INSERT INTO mask_epochs (run_id, epoch, mask, split, source, mflops, metrics) "
                "SELECT run_id, ?, mask, split, source, mflops, metrics FROM masks "
                "WHERE run_id = ? AND split = ? AND source = ? AND time = ? "
                "ON CONFLICT (run_id, epoch, mask, split, source) DO UPDATE "
                "SET mflops = excluded.mflops, metrics = excluded.metrics",
                (epoch, run_id, split, source, latest),
            )

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
            metrics = _metrics_of(js)
            if metrics is None:
                bad += 1
                continue
            out.append({"mask": m, "split": sp, "source": src, "mflops": f, **metrics})
        if bad:
            logger.warning("run store %s: run %s has %d damaged mask row(s) (bad JSON); skipped", self.path, run_id, bad)
        return out

    def mask_epochs_of(self, run_id: str, split: str, source: str) -> dict[int, list[dict[str, Any]]]:
        """The run's per-epoch snapshots of its masks: ``{epoch: rows}``, epochs ascending.

        Each epoch's rows are what the run's ``put_masks`` wrote for that epoch (see the module
        docstring), in the form of :meth:`masks` (``{mask, split, source, mflops, **metrics}``,
        ordered by mask). Empty for a run made before the store kept snapshots (schema 1), for a
        run that has not finished an epoch, and for a schema-1 store opened read-only.

        Raises:
            RunNotFound: no such run.
        """
        with self._read("read per-epoch masks") as conn:
            if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise RunNotFound(run_id, self.workspace)
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'mask_epochs'").fetchone() is None:
                return {}  # a schema-1 store opened read-only (not migrated): no history
            rows = conn.execute(
                "SELECT epoch, mask, mflops, metrics FROM mask_epochs WHERE run_id = ? AND split = ? AND source = ? "
                "ORDER BY epoch, mask", (run_id, str(split), str(source))).fetchall()
        out: dict[int, list[dict[str, Any]]] = {}
        bad = 0
        for ep, m, f, js in rows:
            metrics = _metrics_of(js)
            if metrics is None:
                bad += 1
                continue
            out.setdefault(int(ep), []).append({"mask": m, "split": split, "source": source, "mflops": f, **metrics})
        if bad:
            logger.warning("run store %s: run %s has %d damaged per-epoch mask row(s) (bad JSON); skipped",
                           self.path, run_id, bad)
        return out


def _metrics_of(js: str) -> dict | None:
    """A mask row's stored metrics (a JSON object), or None when damaged."""
    try:
        metrics = json.loads(js)
    except ValueError:
        return None
    return metrics if isinstance(metrics, dict) else None
