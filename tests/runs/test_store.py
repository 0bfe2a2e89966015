"""The run store: schema, roundtrips, upserts, liveness, errors, and real multi-process writers."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from mro_core.runs import schema as schema_mod
from mro_core.runs import store as store_mod
from mro_core.runs.records import RunNotFound, RunRecord, StoreError, pid_alive
from mro_core.runs.schema import SCHEMA_VERSION
from mro_core.runs.store import RunStore


from conftest import wait_for as _wait_for  # noqa: E402


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()  # reaped: the pid no longer exists
    return p.pid


# ------------------------------------------------------------------------------------------------
# Schema
# ------------------------------------------------------------------------------------------------
def test_schema_wal_and_reopen(tmp_path: Path) -> None:
    ws = tmp_path / "runs"
    s = RunStore(ws)
    assert s.path == ws / "mro.sqlite" and s.path.exists()
    assert s.journal_mode() == "wal"
    assert s.schema_version() == SCHEMA_VERSION
    rid = s.create_run("a", "search", {"lr": 0.1})
    s.close()
    con = sqlite3.connect(ws / "mro.sqlite")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "events", "masks"} <= tables
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent
    con.close()
    assert RunStore(ws).get_run(rid).config == {"lr": 0.1}


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    ws = tmp_path / "runs"
    RunStore(ws).close()
    con = sqlite3.connect(ws / "mro.sqlite")
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StoreError, match=r"schema version 99, newer"):
        RunStore(ws)


def test_migration_hook_runs_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "runs"
    rid = RunStore(ws).create_run("old", "train", {})
    calls = []

    def step(conn: sqlite3.Connection) -> None:
        calls.append(1)
        conn.execute("ALTER TABLE runs ADD COLUMN note TEXT")

    monkeypatch.setattr(schema_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(schema_mod.MIGRATIONS, SCHEMA_VERSION, step)
    s = RunStore(ws)
    assert s.schema_version() == SCHEMA_VERSION + 1 and calls == [1]
    assert s.get_run(rid).name == "old"
    RunStore(ws)
    assert calls == [1]


# ------------------------------------------------------------------------------------------------
# Runs
# ------------------------------------------------------------------------------------------------
def test_run_roundtrip(store: RunStore) -> None:
    cfg = {"preset": "demo", "epochs": 3, "nested": {"a": [1, 2]}}
    rid = store.create_run("first", "search", cfg, total_epochs=3)
    assert len(rid) == 8 and int(rid, 16) >= 0
    rec = store.get_run(rid)
    assert isinstance(rec, RunRecord)
    assert (rec.name, rec.kind, rec.config, rec.status, rec.total_epochs) == ("first", "search", cfg, "queued", 3)
    assert rec.pid == os.getpid()  # the creator owns a new run until a job takes it
    assert rec.progress == 0.0 and rec.artifacts == {} and rec.result is None
    assert rec.effective_status == "queued" and rec.is_active

    store.update_run(rid, checkpoint="runs/x.pt", artifacts={"table": "t.csv"}, result={"best": "011011"})
    store.add_artifacts(rid, {"log": Path("runs/logs/x.log")})
    rec = store.get_run(rid)
    assert rec.checkpoint == os.path.abspath("runs/x.pt") and rec.result == {"best": "011011"}
    assert rec.artifacts == {"table": "t.csv", "log": "runs/logs/x.log"} and rec.log_path == "runs/logs/x.log"


def test_lifecycle(store: RunStore) -> None:
    rid = store.create_run("r", "train", {}, total_epochs=4)
    store.mark_running(rid)  # this process's pid
    rec = store.get_run(rid)
    assert rec.status == "running" and rec.pid is not None and rec.started and rec.heartbeat
    store.heartbeat(rid, epoch=1, progress=0.5)
    rec = store.get_run(rid)
    assert (rec.epoch, rec.progress, rec.effective_status) == (1, 0.5, "running")
    store.finish(rid, "done", result={"acc": 0.9})
    rec = store.get_run(rid)
    assert (rec.status, rec.progress, rec.result, rec.error) == ("done", 1.0, {"acc": 0.9}, None)
    assert rec.finished >= rec.started and not rec.is_active


def test_list_runs_newest_first_and_by_kind(store: RunStore) -> None:
    a = store.create_run("a", "search", {})
    b = store.create_run("b", "train", {})
    c = store.create_run("c", "search", {})
    assert [r.id for r in store.list_runs()] == [c, b, a]
    assert [r.id for r in store.list_runs(kind="search")] == [c, a]
    assert [r.id for r in store.list_runs(limit=1)] == [c]
    with pytest.raises(ValueError, match="unknown run kind 'nas'.*search, train, table"):
        store.list_runs(kind="nas")


def test_invalid_input(store: RunStore) -> None:
    with pytest.raises(ValueError, match="unknown run kind"):
        store.create_run("x", "bogus", {})
    with pytest.raises(ValueError, match="JSON-serializable"):
        store.create_run("x", "search", {"obj": object()})
    rid = store.create_run("x", "search", {})
    with pytest.raises(ValueError, match=r"cannot update run column\(s\) \['id'\]"):
        store.update_run(rid, id="other")
    with pytest.raises(ValueError, match="unknown run status 'paused'"):
        store.update_run(rid, status="paused")
    with pytest.raises(ValueError, match=r"progress must be a fraction in \[0, 1\]"):
        store.heartbeat(rid, progress=1.5)
    with pytest.raises(ValueError, match="terminal status"):
        store.finish(rid, "running")


def test_unknown_run_raises_run_not_found(store: RunStore) -> None:
    calls = [
        lambda: store.get_run("nope"),
        lambda: store.update_run("nope", progress=0.1),
        lambda: store.heartbeat("nope"),
        lambda: store.mark_running("nope"),
        lambda: store.finish("nope", "done"),
        lambda: store.log_event("nope", "epoch", 1, {}),
        lambda: store.events("nope"),
        lambda: store.put_masks("nope", [{"mask": "01"}], "valid", "supernet"),
        lambda: store.masks("nope"),
        lambda: store.delete_run("nope"),
    ]
    for call in calls:
        with pytest.raises(RunNotFound) as info:
            call()
        assert isinstance(info.value, KeyError)
        assert "no run 'nope'" in str(info.value) and "mro runs list" in str(info.value)


def test_delete_run_cascades_and_refuses_active(store: RunStore) -> None:
    rid = store.create_run("x", "search", {})
    store.log_event(rid, "epoch", 0, {"loss": 1.0})
    store.put_masks(rid, [{"mask": "011", "mflops": 1.0}], "valid", "supernet")
    store.mark_running(rid)
    with pytest.raises(ValueError, match="still running.*cancel it first"):
        store.delete_run(rid)
    store.delete_run(rid, force=True)
    with pytest.raises(RunNotFound):
        store.get_run(rid)
    other = store.create_run("y", "search", {})
    assert store.events(other) == [] and store.masks(other) == []  # no orphans leaked into new runs


# ------------------------------------------------------------------------------------------------
# Events and masks
# ------------------------------------------------------------------------------------------------
def test_epoch_events_upsert(store: RunStore) -> None:
    rid = store.create_run("x", "search", {})
    for e in range(5):
        store.log_event(rid, "epoch", e, {"loss": float(e)})
    first_ids = {ev.epoch: ev.id for ev in store.events(rid)}
    # A resumed run re-logs epoch 3: replaced, not duplicated, and visible to since_id pollers.
    new_id = store.log_event(rid, "epoch", 3, {"loss": 30.0})
    evs = store.events(rid, kind="epoch")
    assert sorted(ev.epoch for ev in evs) == [0, 1, 2, 3, 4]
    assert {ev.epoch: ev.payload["loss"] for ev in evs}[3] == 30.0
    assert new_id > max(first_ids.values())
    assert [ev.epoch for ev in store.events(rid, since_id=max(first_ids.values()))] == [3]
    # Log lines are never replaced, even with the same epoch; other kinds are keyed separately.
    store.log_event(rid, "log", 3, "one")
    store.log_event(rid, "log", 3, "two")
    store.log_event(rid, "prior", 3, {"p": [0.5]})
    assert [ev.payload for ev in store.events(rid, kind="log")] == ["one", "two"]
    assert len(store.events(rid, kind="epoch")) == 5 and len(store.events(rid)) == 8
    assert [ev.id for ev in store.events(rid)] == sorted(ev.id for ev in store.events(rid))


def test_masks_upsert_and_filters(store: RunStore) -> None:
    rid = store.create_run("x", "search", {})
    n = store.put_masks(
        rid, [{"mask": "011011", "mflops": 1.5, "acc": 0.5}, {"mask": (1, 1, 1, 1, 1, 1), "mflops": 3.0, "acc": 0.6}],
        "valid", "supernet",
    )
    assert n == 2
    store.put_masks(rid, [{"mask": [0, 1, 1, 0, 1, 1], "mflops": 1.5, "acc": 0.7, "f1": 0.4}], "valid", "supernet")
    store.put_masks(rid, [{"mask": "011011", "mflops": 1.5, "acc": 0.8}], "test", "supernet")
    store.put_masks(rid, [{"mask": "011011", "mflops": 1.5, "acc": 0.9}], "valid", "finetune")
    rows = store.masks(rid, split="valid", source="supernet")
    assert rows == [
        {"mask": "011011", "split": "valid", "source": "supernet", "mflops": 1.5, "acc": 0.7, "f1": 0.4},
        {"mask": "111111", "split": "valid", "source": "supernet", "mflops": 3.0, "acc": 0.6},
    ]
    assert len(store.masks(rid)) == 4 and len(store.masks(rid, split="test")) == 1
    assert [r["acc"] for r in store.masks(rid, source="finetune")] == [0.9]
    with pytest.raises(ValueError, match="bit string"):
        store.put_masks(rid, [{"mask": "01x"}], "valid", "supernet")
    with pytest.raises(ValueError, match="no 'mask' key"):
        store.put_masks(rid, [{"acc": 1.0}], "valid", "supernet")
    with pytest.raises(ValueError, match=r"\['split'\] are reserved"):
        store.put_masks(rid, [{"mask": "01", "split": "x"}], "valid", "supernet")
    assert len(store.masks(rid)) == 4  # a rejected batch writes nothing


# ------------------------------------------------------------------------------------------------
# Liveness
# ------------------------------------------------------------------------------------------------
def test_dead_pid_reads_interrupted(store: RunStore) -> None:
    rid = store.create_run("x", "search", {})
    store.mark_running(rid, pid=_dead_pid())
    rec = store.get_run(rid)
    assert rec.status == "running" and rec.effective_status == "interrupted" and not rec.is_active
    assert store.effective_status(rid) == "interrupted"
    assert store.reconcile() == [rid]
    rec = store.get_run(rid)
    assert rec.status == "interrupted" and "without reporting" in rec.error
    assert store.reconcile() == []


def test_zombie_reads_dead() -> None:
    p = subprocess.Popen(["true"])  # exits at once but stays a zombie until waited for
    try:
        _wait_for(lambda: not pid_alive(p.pid), what="the zombie to read as dead")
    finally:
        p.wait()
    assert pid_alive(p.pid) is False and pid_alive(None) is False and pid_alive(0) is False


def test_stale_heartbeat_reads_interrupted(store: RunStore) -> None:
    rid = store.create_run("x", "search", {})
    store.mark_running(rid)  # our own pid: alive
    assert store.get_run(rid).effective_status == "running"
    store.update_run(rid, heartbeat=time.time() - store.stale_after - 5)
    assert store.get_run(rid).effective_status == "interrupted"
    store.heartbeat(rid)
    assert store.get_run(rid).effective_status == "running"


def test_queued_never_launched_goes_stale(store: RunStore, monkeypatch: pytest.MonkeyPatch) -> None:
    rid = store.create_run("x", "search", {})
    assert store.get_run(rid).effective_status == "queued"
    later = time.time() + store.stale_after + 5
    monkeypatch.setattr(store_mod, "time", SimpleNamespace(time=lambda: later))
    assert store.get_run(rid).effective_status == "interrupted"


def test_terminal_status_is_kept(store: RunStore) -> None:
    rid = store.create_run("x", "search", {})
    store.mark_running(rid, pid=_dead_pid())
    store.finish(rid, "failed", error="boom")
    assert store.get_run(rid).effective_status == "failed"


# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------
def test_unwritable_workspace(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    bad = tmp_path / "afile" / "runs"
    with pytest.raises(StoreError, match=r"cannot use run workspace .*afile/runs") as info:
        RunStore(bad)
    assert isinstance(info.value, OSError) and "\n" not in str(info.value)


def test_not_a_database(tmp_path: Path) -> None:
    ws = tmp_path / "runs"
    ws.mkdir()
    (ws / "mro.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match=r"mro\.sqlite.*not an MRO run store"):
        RunStore(ws)


def test_full_disk_is_a_clear_error(store: RunStore) -> None:
    rid = store.create_run("x", "search", {})
    conn = store._connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the database may not grow: "disk full"
    with pytest.raises(StoreError, match=r"mro\.sqlite: cannot log an event: database or disk is full") as info:
        store.log_event(rid, "log", None, "x" * 200_000)
    assert "\n" not in str(info.value)
    store.heartbeat(rid)  # the connection is still usable afterwards


# ------------------------------------------------------------------------------------------------
# Concurrency
# ------------------------------------------------------------------------------------------------
def test_threads_share_one_instance(store: RunStore) -> None:
    rid = store.create_run("x", "search", {})
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(50):
                store.log_event(rid, "log", None, {"t": t, "i": i})
                store.heartbeat(rid, epoch=i)
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == [] and len(store.events(rid)) == 200


WRITER = r"""
import sys
from mro_core.runs.store import RunStore
store = RunStore(sys.argv[1])
rid, n = sys.argv[2], int(sys.argv[3])
store.mark_running(rid)
for i in range(n):
    store.log_event(rid, "epoch", i, {"i": i, "pad": "x" * 200})
    store.heartbeat(rid, epoch=i, progress=(i + 1) / n)
store.finish(rid, "done", result={"n": n})
"""


def test_concurrent_writer_processes(store: RunStore) -> None:
    n_events, n_procs = 200, 3
    ids = [store.create_run(f"w{i}", "search", {"i": i}, total_epochs=n_events) for i in range(n_procs)]
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(store.workspace), rid, str(n_events)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for rid in ids
    ]
    seen: dict[str, dict[int, int]] = {rid: {} for rid in ids}
    last_id = {rid: 0 for rid in ids}
    polls = 0
    deadline = time.monotonic() + 30
    while True:
        runs = {r.id: r for r in store.list_runs()}  # reads race the writers on purpose
        for rid in ids:
            for ev in store.events(rid, since_id=last_id[rid]):
                seen[rid][ev.epoch] = ev.payload["i"]
                last_id[rid] = ev.id
        polls += 1
        if all(p.poll() is not None for p in procs) and all(runs[rid].status == "done" for rid in ids):
            break
        assert time.monotonic() < deadline, "writers did not finish in 30 s"
        time.sleep(0.005)
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err.decode()
        assert b"locked" not in err and err == b"", err.decode()
    for rid in ids:
        # One final read catches what arrived after the last poll; nothing lost, nothing doubled.
        for ev in store.events(rid, since_id=last_id[rid]):
            seen[rid][ev.epoch] = ev.payload["i"]
        evs = store.events(rid)
        assert len(evs) == n_events and sorted(ev.epoch for ev in evs) == list(range(n_events))
        assert seen[rid] == {i: i for i in range(n_events)}
        rec = store.get_run(rid)
        assert (rec.status, rec.epoch, rec.progress, rec.result) == ("done", n_events - 1, 1.0, {"n": n_events})
    assert polls > 1


def test_a_copied_workspace_finds_its_own_checkpoints(tmp_path):
    """Checkpoints inside the workspace are stored relative to it; an absolute path written by an
    older MRO that no longer exists is found under the workspace the store now lives in."""
    import shutil
    import sqlite3

    ws = tmp_path / "ws"
    s = RunStore(ws)
    new, old = s.create_run("new", "search", {}), s.create_run("old", "search", {})
    for rid in (new, old):
        (ws / rid).mkdir()
        (ws / rid / "search.pt").write_bytes(b"x")
    s.update_run(new, checkpoint=str(ws / new / "search.pt"))
    outside = tmp_path / "elsewhere.pt"
    s.update_run(old, checkpoint=str(outside))
    assert s.get_run(old).checkpoint == str(outside)  # outside the workspace: kept as given
    s.close()
    con = sqlite3.connect(ws / "mro.sqlite")
    assert con.execute("SELECT checkpoint FROM runs WHERE id = ?", (new,)).fetchone()[0] == f"{new}/search.pt"
    con.execute("UPDATE runs SET checkpoint = ? WHERE id = ?", (str(ws.resolve() / old / "search.pt"), old))
    con.commit()
    con.close()
    shutil.copytree(ws, tmp_path / "copy")
    shutil.rmtree(ws)
    c = RunStore.for_reading(tmp_path / "copy")
    assert c.get_run(new).checkpoint == str(tmp_path / "copy" / new / "search.pt")
    assert c.get_run(old).checkpoint == str(tmp_path / "copy" / old / "search.pt")
    c.close()
