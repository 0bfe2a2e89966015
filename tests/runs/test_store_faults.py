"""The run store under faults (issue 14): damaged files, damaged rows, a store deleted or replaced
under a job, read-only workspaces, and jobs whose end could not be recorded."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mro_core.cancel import JobCancelled
from mro_core.cli import main
from mro_core.runs.job import running_job
from mro_core.runs.records import StoreError
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
