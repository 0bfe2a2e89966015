"""The run store under faults (issue 14): damaged files, damaged rows, a store deleted or replaced
under a job, read-only workspaces, and jobs whose end could not be recorded."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mro_core.cancel import JobCancelled
from mro_core.cli import main
from conftest import wait_for as _wait_for
from mro_core.runs.job import running_job
from mro_core.runs.launcher import spawn, tail
from mro_core.runs.records import DamagedRow, ReadOnlyStore, StoreError, StoreGone
from mro_core.runs.store import RunStore


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()  # reaped: the pid no longer exists
    return p.pid


def _one_error_line(err: str) -> list[str]:
    return [line for line in err.strip().splitlines() if line.startswith("mro: error:")]


# ------------------------------------------------------------------------------------------------
# 2b. Every SQLite failure is one StoreError line
# ------------------------------------------------------------------------------------------------
def _damage(db: Path) -> None:
    """Overwrite the pages after the header in place (same inode): 'database disk image is malformed'."""
    with open(db, "r+b") as f:
        f.seek(4096)
        f.write(b"\xff" * 8192)


def test_a_store_damaged_mid_run_is_a_one_line_store_error(tmp_path: Path, capsys) -> None:
    ws = tmp_path / "ws"
    s = RunStore(ws)
    for _ in range(3):
        s.create_run("a", "search", {"pad": "x" * 3000})
    s.close()
    s = RunStore(ws)
    _damage(s.path)
    with pytest.raises(StoreError, match=r"cannot create a run: database disk image is malformed") as e:
        s.create_run("b", "search", {})
    assert len(str(e.value).splitlines()) == 1 and not isinstance(e.value, sqlite3.Error)
    rc = main(["runs", "list", "--workspace", str(ws)])
    err = capsys.readouterr().err
    assert rc == 2 and len(_one_error_line(err)) == 1 and "malformed" in err and "Traceback" not in err


class _FailingFinish:
    """A store whose ``finish`` cannot write (the disk filled up, the store was deleted)."""

    def __init__(self, store: RunStore) -> None:
        self._store = store

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def finish(self, *a, **kw):
        raise StoreError("run store X: cannot update a run: database or disk is full; free some disk space")


def test_the_jobs_own_error_wins_over_a_store_that_cannot_record_it(store: RunStore, caplog) -> None:
    rid = store.create_run("r", "search", {})
    failing = _FailingFinish(store)
    with caplog.at_level(logging.ERROR), pytest.raises(ValueError, match="the real cause"):
        with running_job(failing, rid, heartbeat_interval=60):  # type: ignore[arg-type]
            raise ValueError("the real cause")
    assert "could not record failed" in caplog.text and "disk is full" in caplog.text
    # a cancel that cannot be recorded is not swallowed: the job exits with the store's error
    rid2 = store.create_run("r2", "search", {})
    with pytest.raises(StoreError, match="disk is full"):
        with running_job(failing, rid2, heartbeat_interval=60):  # type: ignore[arg-type]
            raise JobCancelled("cancelled by SIGTERM")


# ------------------------------------------------------------------------------------------------
# 5c. A store deleted or replaced under a job is noticed at the next write
# ------------------------------------------------------------------------------------------------
def _remove_db(ws: Path) -> None:
    for name in ("mro.sqlite", "mro.sqlite-wal", "mro.sqlite-shm"):
        (ws / name).unlink(missing_ok=True)


def test_a_deleted_store_stops_writes(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    s = RunStore(ws)
    rid = s.create_run("r", "search", {})
    _remove_db(ws)
    with pytest.raises(StoreGone, match=r"mro.sqlite was deleted while this process used it"):
        s.update_run(rid, progress=0.5)
    with pytest.raises(StoreGone, match="was deleted"):
        s.log_event(rid, "epoch", 1, {})


def test_a_replaced_store_stops_writes(tmp_path: Path) -> None:
    ws, other = tmp_path / "ws", tmp_path / "other"
    s = RunStore(ws)
    rid = s.create_run("old", "search", {})
    o = RunStore(other)
    o.create_run("new", "search", {})
    o.close()
    os.replace(other / "mro.sqlite", ws / "mro.sqlite")
    with pytest.raises(StoreGone, match="was replaced by another file"):
        s.update_run(rid, progress=0.5)
    assert s.get_run(rid).progress == 0.0  # reads keep showing the file that was opened


def test_the_heartbeat_thread_stops_the_job_when_the_store_goes(store: RunStore) -> None:
    rid = store.create_run("r", "search", {})
    with pytest.raises(StoreGone, match="was deleted"):
        with running_job(store, rid, heartbeat_interval=0.05) as term:
            _remove_db(store.workspace)
            assert _wait_for(lambda: term.requested, timeout=5, what="the heartbeat thread noticing")
            term.check()  # the job's next safe point: JobCancelled(reason) -> cannot be recorded
    assert "was deleted" in term._reason()


JOB_UNTIL_GONE = r"""
import sys, time
from mro_core.runs.job import running_job
from mro_core.runs.store import RunStore
store, rid = RunStore(sys.argv[1]), sys.argv[2]
try:
    with running_job(store, rid, heartbeat_interval=0.05) as term:
        for epoch in range(1, 10_000):
            store.log_event(rid, "epoch", epoch, {"loss": 1.0 / epoch})
            time.sleep(0.02)
            term.check()
except Exception as e:
    print(f"mro: error: {e}", file=sys.stderr, flush=True)
    sys.exit(2)
"""


def test_a_background_job_whose_store_is_deleted_exits_loudly(store: RunStore) -> None:
    rid = store.create_run("r", "search", {})
    proc = spawn([sys.executable, "-c", JOB_UNTIL_GONE, str(store.workspace), rid], store, rid)
    log = store.get_run(rid).log_path
    _wait_for(lambda: store.events(rid, kind="epoch"), timeout=20, what="the job's first epoch event")
    _remove_db(store.workspace)
    assert proc.wait(timeout=20) == 2
    last = tail(log, 1)
    assert last.startswith("mro: error: run store") and "was deleted" in last, last
    assert RunStore(store.workspace).list_runs() == []  # a fresh store: nothing was written into the void


@pytest.mark.slow
def test_a_search_whose_store_is_deleted_exits_2_naming_it(tmp_path: Path) -> None:
    """The real worker (TINY search): the store deleted after epoch 1 -> exit 2, the log says why."""
    from mro_core.runs.api import create_search_run, worker_command
    from mro_core.runs.request import SearchRequest, prepare

    s = RunStore(tmp_path / "ws")
    req = SearchRequest(n_train=32, n_valid=16, n_test=16, epochs=40, warmup=0, d_model=8, device="cpu")
    rid = create_search_run(s, prepare(req))
    proc = spawn(worker_command(s, rid), s, rid)
    log = s.get_run(rid).log_path
    _wait_for(lambda: s.events(rid, kind="epoch"), timeout=120, what="epoch 1")
    _remove_db(s.workspace)
    assert proc.wait(timeout=120) == 2
    last = tail(log, 1)
    assert last.startswith("mro: error: run store") and "was deleted" in last, tail(log, 20)


# ------------------------------------------------------------------------------------------------
# 5b. One damaged row is reported and skipped
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("column, value, match", [
    ("config", "{bad", "bad JSON in its 'config' column"),
    ("artifacts", "[1, 2]", "a JSON list where an object belongs in its 'artifacts' column"),
    ("result", "nan]", "bad JSON in its 'result' column"),
    ("status", "bogus", "unknown status 'bogus'"),
    ("heartbeat", "soon", "'soon' where a number belongs in its 'heartbeat' column"),
])
def test_a_damaged_run_row_is_skipped_and_named(store: RunStore, caplog, column, value, match) -> None:
    a = store.create_run("a", "search", {"x": 1})
    b = store.create_run("b", "search", {"x": 2})
    con = sqlite3.connect(store.path)
    con.execute(f"UPDATE runs SET {column} = ? WHERE id = ?", (value, a))
    con.commit()
    con.close()
    damaged: list[str] = []
    assert [r.id for r in store.list_runs(damaged=damaged)] == [b] and damaged == [a]
    assert f"run {a} has a damaged {column} column; skipped" in caplog.text
    with pytest.raises(DamagedRow, match=match) as e:
        store.get_run(a)
    assert isinstance(e.value, StoreError) and "`mro runs list` shows the others" in str(e.value)


def test_damaged_event_and_mask_rows_are_skipped(store: RunStore, caplog) -> None:
    rid = store.create_run("a", "search", {})
    store.log_event(rid, "epoch", 1, {"loss": 1.0})
    store.log_event(rid, "epoch", 2, {"loss": 0.5})
    store.put_masks(rid, [{"mask": "011", "mae": 0.5}, {"mask": "111", "mae": 0.4}], "valid", "supernet")
    con = sqlite3.connect(store.path)
    con.execute("UPDATE events SET payload = '{bad' WHERE run_id = ? AND epoch = 1", (rid,))
    con.execute("UPDATE masks SET metrics = '[' WHERE run_id = ? AND mask = '011'", (rid,))
    con.commit()
    con.close()
    assert [e.epoch for e in store.events(rid)] == [2]
    assert [m["mask"] for m in store.masks(rid)] == ["111"]
    assert "1 damaged event row(s)" in caplog.text and "1 damaged mask row(s)" in caplog.text


def test_the_cli_lists_around_a_damaged_row(store: RunStore, capsys) -> None:
    a = store.create_run("damaged-one", "search", {})
    b = store.create_run("good-one", "search", {})
    store.log_event(b, "epoch", 1, {"loss": 1.0})
    store.log_event(b, "epoch", 2, {"loss": 0.5})
    con = sqlite3.connect(store.path)
    con.execute("UPDATE runs SET config = '{bad' WHERE id = ?", (a,))
    con.execute("UPDATE events SET payload = '{bad' WHERE run_id = ? AND epoch = 1", (b,))
    con.commit()
    con.close()
    ws = str(store.workspace)
    assert main(["runs", "list", "--workspace", ws]) == 0
    cap = capsys.readouterr()
    assert "good-one" in cap.out and "damaged-one" not in cap.out
    assert f"skipped 1 damaged run(s): {a}" in cap.err and "Traceback" not in cap.err
    assert main(["runs", "list", "--workspace", ws, "--json"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [b]  # still one JSON document
    assert main(["runs", "show", a, "--workspace", ws]) == 2
    err = _one_error_line(capsys.readouterr().err)
    assert len(err) == 1 and f"run {a} in" in err[0] and "is damaged (bad JSON in its 'config' column)" in err[0]
    assert main(["runs", "show", b, "--workspace", ws, "--json"]) == 0
    assert [e["epoch"] for e in json.loads(capsys.readouterr().out)["events"]] == [2]


# ------------------------------------------------------------------------------------------------
# 5a. A read-only workspace opens read-only
# ------------------------------------------------------------------------------------------------
def _fill(ws: Path) -> tuple[str, str]:
    s = RunStore(ws)
    a = s.create_run("first", "search", {"x": 1}, total_epochs=2)
    s.log_event(a, "epoch", 1, {"loss": 1.0})
    s.finish(a, "done", result={"picks": {}})
    b = s.create_run("second", "search", {"x": 2})
    s.finish(b, "interrupted", error="killed")
    s.close()
    return a, b


@pytest.fixture
def ro_workspace(tmp_path: Path):
    """A workspace with two runs on a tmpfs remounted read-only; skipped where mounting is not allowed."""
    d = tmp_path / "fs"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(d)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({(r.stderr or r.stdout).strip()[:80]}); needs root")
    try:
        ids = _fill(d / "ws")
        subprocess.run(["mount", "-o", "remount,ro", str(d)], check=True, capture_output=True)
        yield d / "ws", ids
    finally:
        if subprocess.run(["umount", str(d)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(d)], check=False)  # still busy: detach lazily


def test_a_read_only_mount_opens_read_only(ro_workspace) -> None:
    ws, (a, b) = ro_workspace
    s = RunStore(ws)
    assert s.readonly is True
    assert [r.id for r in s.list_runs()] == [b, a] and s.get_run(a).result == {"picks": {}}
    assert [e.epoch for e in s.events(a)] == [1] and s.reconcile() == []
    with pytest.raises(ReadOnlyStore, match=r"is read-only \(opened for reading only\)"):
        s.create_run("new", "search", {})
    with pytest.raises(StoreError, match="is read-only and holds no run store"):
        RunStore(ws.parent)


def test_the_cli_and_the_dashboard_read_a_read_only_workspace(ro_workspace, capsys) -> None:
    from app.services.runs import list_runs, run_table_rows

    ws, (a, b) = ro_workspace
    assert main(["runs", "list", "--workspace", str(ws)]) == 0
    out = capsys.readouterr().out
    assert "first" in out and "second" in out
    assert main(["runs", "show", a, "--workspace", str(ws)]) == 0
    assert "done" in capsys.readouterr().out
    store = RunStore(ws)
    assert [r["id"] for r in run_table_rows(store, list_runs(store))] == [b, a]
    for argv in (["search", "--epochs", "1", "--warmup", "0", "--workspace", str(ws)],
                 ["runs", "resume", b, "--workspace", str(ws)],
                 ["runs", "cancel", b, "--workspace", str(ws)]):
        assert main(argv) == 2, argv
        cap = capsys.readouterr()
        err = _one_error_line(cap.err)
        assert len(err) == 1 and "is read-only" in err[0] and "Traceback" not in cap.err and cap.out == "", argv


def test_readonly_on_request_refuses_writes_and_submissions(tmp_path: Path) -> None:
    from mro_core.runs.api import submit_search
    from mro_core.runs.request import SearchRequest

    a, b = _fill(tmp_path / "ws")
    s = RunStore(tmp_path / "ws", readonly=True)
    assert s.readonly and [r.id for r in s.list_runs()] == [b, a]
    with pytest.raises(ReadOnlyStore):
        s.update_run(a, name="x")
    with pytest.raises(ReadOnlyStore):  # refused before the data is read or a run is created
        submit_search(s, SearchRequest(dataset="npz", data_path=str(tmp_path / "missing.npz")))
    assert len(RunStore(tmp_path / "ws").list_runs()) == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_a_read_only_file_opens_read_only(tmp_path: Path) -> None:
    a, b = _fill(tmp_path / "ws")
    (tmp_path / "ws" / "mro.sqlite").chmod(0o444)
    s = RunStore(tmp_path / "ws")
    assert s.readonly and [r.id for r in s.list_runs()] == [b, a]


# ------------------------------------------------------------------------------------------------
# 2b. The next reader tells the truth about a job that could not record its end
# ------------------------------------------------------------------------------------------------
def _dead_job(store: RunStore, log_lines: list[str]) -> str:
    rid = store.create_run("r", "search", {})
    log = store.workspace / "logs" / f"{rid}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("".join(line + "\n" for line in log_lines))
    store.add_artifacts(rid, {"log": str(log)})
    store.update_run(rid, status="running", pid=_dead_pid(), heartbeat=time.time())
    return rid


START = "--- 2026-12-01 10:00:00 start: python -m mro_core.runs.worker --run-id X"


def test_a_dead_job_whose_log_ends_with_its_error_reads_failed(store: RunStore, capsys) -> None:
    from app.services.runs import list_runs, run_table_rows

    full = _dead_job(store, [START, "INFO epoch 1/3", "Traceback ...", "OSError: disk full",
                             "mro: error: cannot write /ws/a/search.pt: disk full (No space left on device)"])
    silent = _dead_job(store, [START, "INFO epoch 1/3"])
    earlier = _dead_job(store, [START, "mro: error: an earlier attempt's error", START, "INFO epoch 4/9"])
    rec = store.get_run(full)
    assert rec.status == "running" and rec.effective_status == "failed" and store.effective_status(full) == "failed"
    assert rec.effective_error.startswith("cannot write /ws/a/search.pt: disk full (No space left on device)")
    assert "the store could not record it" in rec.effective_error
    for rid in (silent, earlier):  # no error line in the latest attempt: interrupted, with why
        rec = store.get_run(rid)
        assert rec.effective_status == "interrupted" and "stopped without reporting" in rec.effective_error
    rows = {r["id"]: r for r in run_table_rows(store, list_runs(store))}
    assert rows[full]["status"] == "failed" and "disk full" in rows[full]["error"]
    assert main(["runs", "show", full, "--workspace", str(store.workspace)]) == 0
    out = capsys.readouterr().out
    assert ": failed," in out and "error: cannot write /ws/a/search.pt: disk full" in out
    assert sorted(store.reconcile()) == sorted([full, silent, earlier])
    rec = store.get_run(full)
    assert rec.status == "failed" and "disk full" in rec.error  # persisted as read


FULL_AT_THE_END = r"""
import sys
from mro_core.runs.job import running_job
from mro_core.runs.records import StoreError
from mro_core.runs.store import RunStore
store, rid = RunStore(sys.argv[1]), sys.argv[2]

def full(*a, **kw):
    raise StoreError(f"run store {store.path}: cannot update a run: database or disk is full; free some disk space")

try:
    with running_job(store, rid, heartbeat_interval=60):
        store.finish = full  # from now on the disk is full: nothing more can be recorded
        raise OSError(28, "No space left on device", "/ws/r/search.pt")
except Exception as e:  # what the worker's and the CLI's main() do
    print(f"mro: error: {e}", file=sys.stderr, flush=True)
    sys.exit(2)
"""


def test_a_background_job_that_cannot_record_its_failure_reads_failed(store: RunStore) -> None:
    rid = store.create_run("r", "search", {})
    proc = spawn([sys.executable, "-c", FULL_AT_THE_END, str(store.workspace), rid], store, rid)
    assert proc.wait(timeout=30) == 2
    rec = store.get_run(rid)
    assert rec.status == "running"  # what the store holds: the job could not write its end
    assert rec.effective_status == "failed", tail(rec.log_path, 10)
    assert rec.effective_error.startswith("[Errno 28] No space left on device: '/ws/r/search.pt'")
    assert "could not record failed" in tail(rec.log_path, 10)  # the job logged the second failure
