"""Starting a run is one atomic claim (issue 14, items 6 and 8): of two processes starting or
resuming the same run at the same moment, exactly one wins; a queued run is never let through twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mro_core.cli import main
from mro_core.runs.launcher import cancel_job, spawn
from mro_core.runs.records import RunBusy
from mro_core.runs.store import RunStore

ROOT = Path(__file__).resolve().parents[2]

# Each racer sleeps until the start of slot i, then claims run i: the two racers hit the same run
# within about a millisecond of each other, 20 times.
RACER = r"""
import sys, time
from mro_core.runs.records import RunBusy
from mro_core.runs.store import RunStore
ws, start_at, slot, how, ids = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5].split(",")
store = RunStore(ws)
store.list_runs()  # connection open before the race
if how == "spawn":
    from mro_core.runs.launcher import spawn
for i, rid in enumerate(ids):
    go = start_at + i * slot
    if go - time.time() > 0.003:
        time.sleep(go - time.time() - 0.003)
    while time.time() < go:  # spin the last few ms: both racers leave within microseconds
        pass
    t = time.time()
    try:
        if how == "claim":
            store.claim_run(rid)
            print(rid, "ok", t, flush=True)
        else:
            proc = spawn(["sleep", "20"], store, rid)
            print(rid, "ok", t, proc.pid, flush=True)
    except RunBusy as e:
        print(rid, "busy", t, flush=True)
"""


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _race(store: RunStore, ids: list[str], how: str, slot: float) -> tuple[list[str], list[int]]:
    """Two racer processes over ``ids``; their output lines and pids."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    start_at = time.time() + 1.5  # both processes are up by then (they only import the store)
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(store.workspace), str(start_at), str(slot), how,
                               ",".join(ids)], stdout=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    return [line for out in outs for line in out.splitlines()], [p.pid for p in procs]


def test_two_processes_claiming_the_same_runs_never_both_win(store: RunStore) -> None:
    ids = []
    for i in range(20):
        rid = store.create_run(f"r{i}", "search", {})
        if i % 2:
            store.update_run(rid, pid=_dead_pid())  # queued, its launcher died: reads interrupted
        else:
            store.finish(rid, "interrupted", error="killed")
        ids.append(rid)
    lines, pids = _race(store, ids, "claim", slot=0.05)
    wins = {rid: [ln for ln in lines if ln.startswith(rid + " ok")] for rid in ids}
    assert all(len(w) == 1 for w in wins.values()), lines  # exactly one winner per run
    assert len(lines) == 2 * len(ids)  # and the other racer was told busy
    for rid in ids:
        rec = store.get_run(rid)
        assert rec.status == "queued" and rec.pid in pids and rec.error is None


def test_two_launchers_spawning_the_same_runs_start_one_job_each(store: RunStore) -> None:
    ids = []
    for i in range(5):
        rid = store.create_run(f"r{i}", "search", {})
        store.finish(rid, "interrupted", error="killed")
        ids.append(rid)
    lines, _ = _race(store, ids, "spawn", slot=0.1)
    children = []
    try:
        for rid in ids:
            wins = [ln.split() for ln in lines if ln.startswith(rid + " ok")]
            assert len(wins) == 1, lines
            child = int(wins[0][3])
            children.append(child)
            assert store.get_run(rid).pid == child  # the store names the one job that runs
    finally:
        for pid in children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_spawn_does_not_let_a_queued_run_through(store: RunStore) -> None:
    rid = store.create_run("q", "search", {})
    other = subprocess.Popen(["sleep", "30"])  # another launcher owns it, alive
    try:
        store.update_run(rid, pid=other.pid, heartbeat=time.time())
        with pytest.raises(RunBusy, match=f"run {rid} is already queued \\(pid {other.pid}\\): another process"):
            spawn(["true"], store, rid)
        legacy = store.create_run("legacy", "search", {})
        store.update_run(legacy, pid=None, heartbeat=time.time())  # an old store's never-launched run
        with pytest.raises(RunBusy, match="already queued"):
            spawn(["true"], store, legacy)
    finally:
        other.kill()
        other.wait()
    proc = spawn(["true"], store, rid)  # its owner died: the run reads interrupted and can start
    proc.wait()


def test_the_creator_starts_its_own_new_run_but_a_second_start_is_refused(store: RunStore) -> None:
    rid = store.create_run("mine", "search", {})
    proc = spawn(["sleep", "20"], store, rid)
    try:
        assert store.get_run(rid).pid == proc.pid
        with pytest.raises(RunBusy, match="already queued"):
            spawn(["true"], store, rid)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_a_job_whose_run_was_taken_or_cancelled_does_not_start(store: RunStore) -> None:
    rid = store.create_run("x", "search", {})
    store.finish(rid, "interrupted")
    store.claim_run(rid, owner=_dead_pid())  # claimed by a process that is not us nor our parent
    with pytest.raises(RunBusy, match="another process claimed it; this job does not start"):
        store.mark_running(rid)
    store.update_run(rid, pid=os.getpid())
    assert cancel_job(store, rid) == "cancelled"  # queued: marked cancelled, our pid not signalled
    with pytest.raises(RunBusy, match="cancelled before its job started"):
        store.mark_running(rid)
    assert store.get_run(rid).status == "cancelled"


def test_a_cancel_between_claim_and_start_stops_the_job(store: RunStore, monkeypatch) -> None:
    rid = store.create_run("x", "search", {})
    real_popen = subprocess.Popen

    def popen_then_cancel(*a, **kw):
        proc = real_popen(*a, **kw)
        assert cancel_job(store, rid) == "cancelled"  # the user cancels while the job starts
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen_then_cancel)
    with pytest.raises(RunBusy, match="was cancelled or claimed by another process before its job started"):
        spawn(["sleep", "20"], store, rid)
    rec = store.get_run(rid)
    assert rec.status == "cancelled" and rec.error == "cancelled before its job started"


def test_cli_resume_of_a_run_held_by_another_process_is_one_line(store: RunStore, capsys) -> None:
    rid = store.create_run("x", "search", {"argv": ["runs", "list"]})
    holder = subprocess.Popen(["sleep", "30"])
    try:
        for status in ("queued", "running"):
            store.update_run(rid, status=status, pid=holder.pid, heartbeat=time.time())
            assert main(["runs", "resume", rid, "--workspace", str(store.workspace)]) == 2
            cap = capsys.readouterr()
            err = [ln for ln in cap.err.splitlines() if ln.startswith("mro: error:")]
            assert len(err) == 1 and f"is already {status} (pid {holder.pid}): another process started it" in err[0]
            assert cap.out == "" and "Traceback" not in cap.err
    finally:
        holder.kill()
        holder.wait()


def test_a_foreground_job_claims_its_run_a_launched_one_only_takes_what_it_was_handed(
        store: RunStore, monkeypatch) -> None:
    from mro_core.runs.job import running_job
    from mro_core.runs.records import LAUNCHED_RUN_ENV

    rid = store.create_run("x", "search", {})
    store.finish(rid, "cancelled", error="cancelled before its job started")
    monkeypatch.setenv(LAUNCHED_RUN_ENV, rid)  # a job spawned for this run, which was cancelled meanwhile
    with pytest.raises(RunBusy, match="cancelled before its job started"):
        with running_job(store, rid, heartbeat_interval=60):
            pytest.fail("the body must not run")
    monkeypatch.delenv(LAUNCHED_RUN_ENV)  # the same run resumed in the foreground: claimed, then run
    with running_job(store, rid, heartbeat_interval=60):
        assert store.get_run(rid).status == "running"
    assert store.get_run(rid).status == "done"
    holder = subprocess.Popen(["sleep", "30"])
    try:
        store.update_run(rid, status="running", pid=holder.pid, heartbeat=time.time())
        with pytest.raises(RunBusy, match="another process started it"):
            with running_job(store, rid, heartbeat_interval=60):
                pytest.fail("the body must not run beside another job")
    finally:
        holder.kill()
        holder.wait()
