"""Per-epoch history of a run's masks (``mask_epochs``, schema 2): what an ``epoch`` event snapshots,
resumes that log an epoch again, and stores of schema 1 (migrated, or read-only)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from mro_core.runs import schema as schema_mod
from mro_core.runs.records import RunNotFound
from mro_core.runs.store import RunStore


def _epoch(store: RunStore, rid: str, epoch: int, rows: list[dict], split: str = "valid") -> None:
    """What a search writes at the end of an epoch (``mro_core.search.run``)."""
    store.put_masks(rid, rows, split, "supernet")
    store.log_event(rid, "epoch", epoch, {"epoch": epoch})


def _rows(history: dict[int, list[dict]]) -> dict[int, dict[str, tuple]]:
    return {e: {r["mask"]: (r["mflops"], r["mae"]) for r in rows} for e, rows in history.items()}


def _table_rows(store: RunStore) -> int:
    con = sqlite3.connect(store.path)
    try:
        return con.execute("SELECT COUNT(*) FROM mask_epochs").fetchone()[0]
    finally:
        con.close()


def test_each_epoch_event_keeps_that_epochs_masks(tmp_path: Path) -> None:
    s = RunStore(tmp_path / "runs")
    rid = s.create_run("r", "search", {}, total_epochs=3)
    _epoch(s, rid, 1, [{"mask": "01", "mflops": 1.0, "mae": 0.9}, {"mask": "11", "mflops": 2.0, "mae": 0.8}])
    _epoch(s, rid, 2, [{"mask": "01", "mflops": 1.0, "mae": 0.7}, {"mask": "11", "mflops": 2.0, "mae": 0.5}])
    # epoch 3 evaluates other candidates: "01" is not among them, "10" is new
    _epoch(s, rid, 3, [{"mask": "10", "mflops": 1.5, "mae": 0.6}, {"mask": "11", "mflops": 2.0, "mae": 0.4}])
    assert _rows(s.mask_epochs_of(rid, "valid", "supernet")) == {
        1: {"01": (1.0, 0.9), "11": (2.0, 0.8)},
        2: {"01": (1.0, 0.7), "11": (2.0, 0.5)},
        3: {"10": (1.5, 0.6), "11": (2.0, 0.4)},  # only what epoch 3 wrote, not epoch 2's "01"
    }
    # the masks table still holds the latest value of every mask ever evaluated
    assert {r["mask"]: r["mae"] for r in s.masks(rid)} == {"01": 0.7, "10": 0.6, "11": 0.4}
    row = s.mask_epochs_of(rid, "valid", "supernet")[3][0]
    assert set(row) == {"mask", "split", "source", "mflops", "mae"} and row["split"] == "valid"


def test_a_resumed_run_logging_an_epoch_again_replaces_its_snapshot(tmp_path: Path) -> None:
    s = RunStore(tmp_path / "runs")
    rid = s.create_run("r", "search", {})
    _epoch(s, rid, 1, [{"mask": "01", "mflops": 1.0, "mae": 0.9}])
    _epoch(s, rid, 2, [{"mask": "01", "mflops": 1.0, "mae": 0.8}, {"mask": "11", "mflops": 2.0, "mae": 0.7}])
    # killed after epoch 1's checkpoint: the resumed job runs epoch 2 again, with other candidates
    _epoch(s, rid, 2, [{"mask": "11", "mflops": 2.0, "mae": 0.6}])
    assert _rows(s.mask_epochs_of(rid, "valid", "supernet")) == {1: {"01": (1.0, 0.9)}, 2: {"11": (2.0, 0.6)}}
    assert _table_rows(s) == 2
    assert [e.epoch for e in s.events(rid, kind="epoch")] == [1, 2]


def test_no_snapshot_without_fresh_masks(tmp_path: Path) -> None:
    s = RunStore(tmp_path / "runs")
    rid = s.create_run("r", "search", {})
    _epoch(s, rid, 1, [{"mask": "01", "mflops": 1.0, "mae": 0.9}])
    s.log_event(rid, "epoch", 2, {"epoch": 2})  # nothing written since epoch 1: no copy of epoch 1's rows
    s.log_event(rid, "log", 2, {"line": "x"})  # not an epoch event
    s.log_event(rid, "prior", 3, {"p": [0.5]})  # keyed, but not an epoch event
    assert list(s.mask_epochs_of(rid, "valid", "supernet")) == [1]
    # the last put_masks of a search (its final rows, after the last epoch event) is no epoch
    s.put_masks(rid, [{"mask": "01", "mflops": 1.0, "mae": 0.1}], "valid", "supernet")
    assert _rows(s.mask_epochs_of(rid, "valid", "supernet")) == {1: {"01": (1.0, 0.9)}}
    # a training run's epoch events carry no masks at all
    t = s.create_run("t", "train", {})
    s.log_event(t, "epoch", 1, {"loss": 1.0})
    assert s.mask_epochs_of(t, "valid", "supernet") == {}


def test_every_split_and_source_written_in_the_epoch_is_kept_apart(tmp_path: Path) -> None:
    s = RunStore(tmp_path / "runs")
    rid = s.create_run("r", "search", {})
    s.put_masks(rid, [{"mask": "01", "mflops": 1.0, "mae": 0.9}], "valid", "supernet")
    s.put_masks(rid, [{"mask": "01", "mflops": 1.0, "mae": 0.95}], "test", "supernet")
    s.log_event(rid, "epoch", 1, {})
    s.put_masks(rid, [{"mask": "11", "mflops": 2.0, "mae": 0.5}], "valid", "supernet")
    s.log_event(rid, "epoch", 2, {})  # the test split was not written in epoch 2
    assert _rows(s.mask_epochs_of(rid, "valid", "supernet")) == {1: {"01": (1.0, 0.9)}, 2: {"11": (2.0, 0.5)}}
    assert _rows(s.mask_epochs_of(rid, "test", "supernet")) == {1: {"01": (1.0, 0.95)}}
    assert s.mask_epochs_of(rid, "valid", "finetune") == {}


def test_history_goes_with_its_run_and_unknown_runs_are_named(tmp_path: Path) -> None:
    s = RunStore(tmp_path / "runs")
    rid = s.create_run("r", "search", {})
    _epoch(s, rid, 1, [{"mask": "01", "mflops": 1.0, "mae": 0.9}])
    s.finish(rid, "done")
    s.delete_run(rid)
    assert _table_rows(s) == 0
    with pytest.raises(RunNotFound):
        s.mask_epochs_of(rid, "valid", "supernet")


def test_damaged_snapshot_rows_are_skipped(tmp_path: Path) -> None:
    s = RunStore(tmp_path / "runs")
    rid = s.create_run("r", "search", {})
    _epoch(s, rid, 1, [{"mask": "01", "mflops": 1.0, "mae": 0.9}, {"mask": "11", "mflops": 2.0, "mae": 0.5}])
    con = sqlite3.connect(s.path)
    con.execute("UPDATE mask_epochs SET metrics = '{not json' WHERE mask = '11'")
    con.commit()
    con.close()
    assert _rows(s.mask_epochs_of(rid, "valid", "supernet")) == {1: {"01": (1.0, 0.9)}}


# ------------------------------------------------------------------------------ schema 1 stores
def _version_1_store(ws: Path) -> str:
    """A workspace as MRO wrote it before schema 2: one search run with masks and two epoch events."""
    ws.mkdir(parents=True)
    con = sqlite3.connect(ws / "mro.sqlite", isolation_level=None)
    schema_mod.MIGRATIONS[0](con)
    con.execute("PRAGMA user_version = 1")
    now = time.time()
    con.execute("INSERT INTO runs (id, name, kind, status, created, epoch, total_epochs) "
                "VALUES ('old1', 'before', 'search', 'done', ?, 2, 2)", (now,))
    for e in (1, 2):
        con.execute("INSERT INTO events (run_id, epoch, kind, keyed, payload, time) VALUES ('old1', ?, 'epoch', 1, '{}', ?)",
                    (e, now))
    con.execute("INSERT INTO masks (run_id, mask, split, source, mflops, metrics, time) "
                "VALUES ('old1', '11', 'valid', 'supernet', 2.0, ?, ?)", (json.dumps({"mae": 0.4}), now))
    con.close()
    return "old1"


def test_a_version_1_store_keeps_its_runs_and_gains_the_history_table(tmp_path: Path) -> None:
    ws = tmp_path / "runs"
    old = _version_1_store(ws)
    s = RunStore(ws)
    assert s.schema_version() == schema_mod.SCHEMA_VERSION == 2
    assert s.get_run(old).name == "before" and [r.id for r in s.list_runs()] == [old]
    assert [(r["mask"], r["mae"]) for r in s.masks(old)] == [("11", 0.4)]
    assert len(s.events(old, kind="epoch")) == 2
    assert s.mask_epochs_of(old, "valid", "supernet") == {}  # made before: no history
    con = sqlite3.connect(ws / "mro.sqlite")
    assert con.execute("SELECT name FROM sqlite_master WHERE name = 'mask_epochs'").fetchone() == ("mask_epochs",)
    con.close()
    new = s.create_run("after", "search", {})
    _epoch(s, new, 1, [{"mask": "01", "mflops": 1.0, "mae": 0.9}])
    assert list(s.mask_epochs_of(new, "valid", "supernet")) == [1]


def test_a_version_1_store_opened_read_only_reads_without_history(tmp_path: Path) -> None:
    ws = tmp_path / "runs"
    old = _version_1_store(ws)
    s = RunStore(ws, readonly=True)
    assert s.schema_version() == 1  # not migrated: the folder may be an archive
    assert s.get_run(old).name == "before"
    assert s.mask_epochs_of(old, "valid", "supernet") == {}
    s.close()
    r = RunStore.for_reading(ws)  # `mro runs list|show` reads it as it is
    assert r is not None and r.readonly and r.schema_version() == 1
