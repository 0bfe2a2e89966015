"""Background jobs: real subprocesses started, cancelled (gracefully and by force) and reaped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mro_core.cancel import JobCancelled
from mro_core.runs.job import cancel_requested, check_cancelled, graceful_termination, keep_alive, running_job
from mro_core.runs.launcher import JobManager, cancel_job, job_alive, mro_command, spawn, start_job, tail
from mro_core.runs.store import RunStore


from conftest import wait_for as _wait_for  # noqa: E402


# A well-behaved job: stops at a safe point on SIGTERM. It also starts a grandchild, which must go
# down with the process group.
GRACEFUL = r"""
import subprocess, sys, time
from mro_core.runs.job import check_cancelled, running_job
from mro_core.runs.store import RunStore
store, rid = RunStore(sys.argv[1]), sys.argv[2]
with running_job(store, rid, heartbeat_interval=0.2):
    child = subprocess.Popen(["sleep", "30"])
    store.log_event(rid, "log", None, {"grandchild": child.pid})
    epoch = 0
    while True:
        time.sleep(0.01)
        store.heartbeat(rid, epoch=epoch)
        epoch += 1
        check_cancelled()
print("job: exited cleanly", flush=True)
"""

# A job that ignores SIGTERM: only SIGKILL stops it.
STUBBORN = r"""
import signal, sys, time
from mro_core.runs.store import RunStore
signal.signal(signal.SIGTERM, signal.SIG_IGN)
store, rid = RunStore(sys.argv[1]), sys.argv[2]
store.mark_running(rid)
store.log_event(rid, "log", None, "ready")
while True:
    time.sleep(0.01)
"""


def _dead_pid_of_launcher() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _python(script: str, store: RunStore, rid: str) -> list[str]:
    return [sys.executable, "-c", script, str(store.workspace), rid]


# ------------------------------------------------------------------------------------------------
# Starting
# ------------------------------------------------------------------------------------------------
def test_start_job_runs_the_mro_module(store: RunStore) -> None:
    assert mro_command(["eval", 3]) == [sys.executable, "-m", "mro_core", "eval", "3"]
    rid = store.create_run("v", "search", {})
    pid = start_job(["--version"], store, rid)
    rec = store.get_run(rid)
    assert rec.pid == pid and rec.status == "queued"
    log = Path(rec.log_path)
    assert log == store.workspace / "logs" / f"{rid}.log"
    _wait_for(lambda: not job_alive(pid), what="the job to exit")
    assert "0.1.0" in tail(log, 5) and "start:" in tail(log, 5)
    # It exited without reporting: nobody reaped it here, but the run no longer reads as active.
    assert store.get_run(rid).effective_status == "interrupted"


def test_spawn_refuses_an_active_run(store: RunStore) -> None:
    rid = store.create_run("x", "search", {})
    store.mark_running(rid)  # this very process, alive
    with pytest.raises(ValueError, match=f"run {rid} is already running.*cancel it first"):
        spawn([sys.executable, "-c", "pass"], store, rid)
    with pytest.raises(ValueError, match="needs a command"):
        spawn([], store, rid)


def test_spawn_failure_marks_the_run_failed(store: RunStore, tmp_path: Path) -> None:
    rid = store.create_run("x", "search", {})
    with pytest.raises(FileNotFoundError):
        spawn([str(tmp_path / "no-such-program")], store, rid)
    rec = store.get_run(rid)
    assert rec.status == "failed" and "could not start the job" in rec.error


# ------------------------------------------------------------------------------------------------
# Cancelling
# ------------------------------------------------------------------------------------------------
def test_cancel_graceful(store: RunStore) -> None:
    rid = store.create_run("g", "search", {})
    proc = spawn(_python(GRACEFUL, store, rid), store, rid)
    try:
        _wait_for(lambda: store.events(rid, kind="log"), what="the job to start")
        grandchild = store.events(rid, kind="log")[0].payload["grandchild"]
        assert store.get_run(rid).effective_status == "running" and job_alive(grandchild)
        t0 = time.monotonic()
        assert cancel_job(store, rid, timeout=5, process=proc) == "cancelled"
        assert time.monotonic() - t0 < 4  # it stopped on SIGTERM, no SIGKILL needed
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    rec = store.get_run(rid)
    assert rec.status == "cancelled" and rec.error == "cancelled by SIGTERM"  # written by the job
    assert proc.returncode == 0 and "job: exited cleanly" in tail(rec.log_path, 3)
    _wait_for(lambda: not job_alive(grandchild), what="the grandchild to go with the group")


def test_cancel_kills_a_job_that_ignores_sigterm(store: RunStore) -> None:
    manager = JobManager(store)
    rid = store.create_run("s", "search", {})
    pid = manager.spawn(_python(STUBBORN, store, rid), rid)
    _wait_for(lambda: store.events(rid, kind="log"), what="the job to start")
    t0 = time.monotonic()
    assert manager.cancel(rid, timeout=0.3) == "cancelled"
    assert 0.3 <= time.monotonic() - t0 < 5
    assert not job_alive(pid)
    rec = store.get_run(rid)
    assert rec.status == "cancelled" and "ignored SIGTERM" in rec.error and "killed" in rec.error
    [info] = manager.jobs()
    assert info.returncode == -signal.SIGKILL and not info.alive


def test_cancel_finished_or_dead_runs(store: RunStore) -> None:
    done = store.create_run("d", "search", {})
    store.finish(done, "done")
    assert cancel_job(store, done) == "done"
    queued = store.create_run("q", "search", {})  # never launched
    assert cancel_job(store, queued) == "cancelled"  # owned by this live process: not signalled
    assert store.get_run(queued).error == "cancelled before its job started"
    orphan = store.create_run("o", "search", {})
    store.update_run(orphan, pid=_dead_pid_of_launcher())  # its launcher died before starting it
    assert cancel_job(store, orphan) == "cancelled"
    assert store.get_run(orphan).error == "cancelled; the job was not running"


# ------------------------------------------------------------------------------------------------
# JobManager reaping
# ------------------------------------------------------------------------------------------------
def test_manager_reaps_and_reports_crashes(store: RunStore) -> None:
    manager = JobManager(store)
    bad_cli = store.create_run("cli", "search", {})
    crash = store.create_run("crash", "search", {})
    killed = store.create_run("killed", "search", {})
    manager.start(["no-such-command"], bad_cli)
    manager.spawn([sys.executable, "-c", "import sys; print('about to fail'); sys.exit(3)"], crash)
    manager.spawn([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"], killed)
    _wait_for(lambda: all(not j.alive for j in manager.jobs()), what="all three jobs to exit")
    assert {j.run_id: j.returncode for j in manager.jobs()} == {bad_cli: 2, crash: 3, killed: -signal.SIGKILL}
    rec = store.get_run(bad_cli)
    assert rec.status == "failed" and "code 2" in rec.error and "invalid choice" in rec.error
    rec = store.get_run(crash)
    assert rec.status == "failed" and rec.error.endswith("code 3 without reporting: about to fail")
    rec = store.get_run(killed)
    assert rec.status == "interrupted" and "SIGKILL" in rec.error
    assert not manager.is_running(crash)
    manager.forget(crash)
    assert {j.run_id for j in manager.jobs()} == {bad_cli, killed}


def test_manager_leaves_reported_status_alone(store: RunStore) -> None:
    manager = JobManager(store)
    rid = store.create_run("ok", "search", {})
    script = (
        "import sys\nfrom mro_core.runs.job import running_job\nfrom mro_core.runs.store import RunStore\n"
        "s = RunStore(sys.argv[1])\nwith running_job(s, sys.argv[2]):\n"
        "    s.update_run(sys.argv[2], result={'best': '011'})\n"
    )
    manager.spawn(_python(script, store, rid), rid)
    _wait_for(lambda: not manager.is_running(rid), what="the job to finish")
    rec = store.get_run(rid)
    assert (rec.status, rec.result, rec.error, rec.progress) == ("done", {"best": "011"}, None, 1.0)


# ------------------------------------------------------------------------------------------------
# Job side, in process
# ------------------------------------------------------------------------------------------------
def test_running_job_cancel_in_process(store: RunStore) -> None:
    before = signal.getsignal(signal.SIGTERM)
    rid = store.create_run("x", "search", {})
    reached_end = False
    with running_job(store, rid, heartbeat_interval=0.05) as term:
        assert store.get_run(rid).status == "running"
        os.kill(os.getpid(), signal.SIGTERM)  # handled: only sets the flag
        _wait_for(lambda: term.requested, what="the SIGTERM flag")
        assert cancel_requested()
        check_cancelled()  # the safe point raises; running_job records it and swallows it
        reached_end = True
    assert not reached_end
    rec = store.get_run(rid)
    assert rec.status == "cancelled" and rec.error == "cancelled by SIGTERM"
    assert signal.getsignal(signal.SIGTERM) == before
    check_cancelled()  # a no-op outside any graceful_termination block
    assert not cancel_requested()


def test_running_job_failure_is_recorded(store: RunStore) -> None:
    rid = store.create_run("x", "search", {})
    with pytest.raises(ValueError, match="boom"):
        with running_job(store, rid, heartbeat_interval=0.05):
            raise ValueError("boom\nwith a second line")
    rec = store.get_run(rid)
    assert rec.status == "failed" and rec.error == "ValueError: boom"


def test_graceful_termination_second_signal_raises_at_once() -> None:
    with graceful_termination() as term:
        term.request(signal.SIGTERM)
        with pytest.raises(JobCancelled, match="signalled twice"):
            os.kill(os.getpid(), signal.SIGTERM)
            _wait_for(lambda: False, timeout=2, what="the handler to raise")


def test_keep_alive_heartbeats(store: RunStore) -> None:
    rid = store.create_run("x", "search", {})
    store.mark_running(rid)
    first = store.get_run(rid).heartbeat
    with keep_alive(store, rid, interval=0.02):
        _wait_for(lambda: store.get_run(rid).heartbeat > first, what="a heartbeat")
    with pytest.raises(ValueError, match="positive"):
        with keep_alive(store, rid, interval=0):
            pass


# ------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------
def test_tail(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    assert tail(log, 5) == "" and tail(None) == ""
    log.write_text("".join(f"line {i}\n" for i in range(5000)))
    assert tail(log, 3) == "line 4997\nline 4998\nline 4999"
    assert tail(log, 0) == ""
    log.write_bytes(b"a\nb\xff\n")
    assert tail(log, 10) == "a\nb\ufffd"


def test_job_alive() -> None:
    assert job_alive(os.getpid())
    assert not job_alive(None) and not job_alive(-1)
