"""Processes: one job per lock (a live holder refuses the second, a dead holder's lock is taken
over) and pool workers that die with their driver, kill -9 included. Real processes throughout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mro_core.procs import Busy, exclusive, pid_alive

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def _wait_for(cond, what: str, deadline_s: float = 30.0) -> None:
    end = time.monotonic() + deadline_s
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


HOLDER = textwrap.dedent("""
    import sys, time
    from mro_core.procs import exclusive
    with exclusive(sys.argv[1], "study 'x'"):
        open(sys.argv[2], "w").close()
        time.sleep(600)
""")


def test_a_live_holder_refuses_the_second_and_a_killed_ones_lock_is_taken_over(tmp_path):
    lock, ready = tmp_path / "study_x.lock", tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock), str(ready)], env=_env())
    try:
        _wait_for(ready.exists, "the holder to take the lock")
        with pytest.raises(Busy, match=rf"study 'x' is already running \(pid {holder.pid}, lock "):
            with exclusive(lock, "study 'x'"):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with exclusive(lock, "study 'x'"):  # the dead holder's lock is no lock
        assert lock.read_text().strip() == str(os.getpid())
    with exclusive(lock, "study 'x'"):  # and it is released on leaving
        pass


DRIVER = textwrap.dedent("""
    import os, sys, time
    from mro_core.procs import worker_pool

    def hold(folder):
        open(os.path.join(folder, str(os.getpid())), "w").close()
        time.sleep(600)  # a long training step

    if __name__ == "__main__":
        with worker_pool(2) as pool:
            futs = [pool.submit(hold, sys.argv[1]) for _ in range(2)]
            [f.result() for f in futs]
""")


def test_pool_workers_die_with_a_driver_killed_with_sigkill(tmp_path):
    script, pids = tmp_path / "driver.py", tmp_path / "pids"
    script.write_text(DRIVER)
    pids.mkdir()
    driver = subprocess.Popen([sys.executable, str(script), str(pids)], env=_env())
    workers: list[int] = []
    try:
        _wait_for(lambda: len(list(pids.iterdir())) == 2, "two workers to start")
        workers = [int(p.name) for p in pids.iterdir()]
        assert all(pid_alive(w) for w in workers)
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        _wait_for(lambda: not any(pid_alive(w) for w in workers), "the orphaned workers to die", 10.0)
    finally:
        for w in workers:  # never leave a sleeper behind, even when the test fails
            if pid_alive(w):
                os.kill(w, signal.SIGKILL)
        if driver.poll() is None:
            driver.kill()
