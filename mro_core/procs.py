"""Processes: whether one is alive (the check the atomic writer and the run store share), the
one-job-at-a-time lock (:func:`exclusive`) and pool workers that die with their driver
(:func:`die_with_parent`)."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Iterator


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id exists on this machine and is not a zombie.

    Args:
        pid: process id (``None`` or non-positive reads as dead).

    Returns:
        True if ``os.kill(pid, 0)`` succeeds (or is refused for permissions) and, where ``/proc``
        exists, the process is not an exited-but-unreaped zombie.
    """
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (macOS) or it vanished in between
        return True
    # Format: "pid (comm) S ...": comm may contain spaces and parentheses, so split after the last ')'.
    state = stat.rpartition(")")[2].split()
    return not state or state[0] not in ("Z", "X")


class Busy(OSError):
    """Another live process holds the lock; the message names it and what to do (an ``OSError``,
    so every caller that reports OSErrors as one line reports this one too)."""


@contextlib.contextmanager
def exclusive(lock_path: str | Path, what: str) -> Iterator[Path]:
    """Hold an exclusive lock on ``lock_path`` for the ``with`` block, or refuse at once.

    The lock is the kernel's ``flock`` on the file, so it belongs to this process alone and ends
    with it however it ends (kill -9 included): a stale lock of a dead process is no lock, and the
    next job simply takes it. The holder writes its pid into the file, for the message.

    Args:
        lock_path: the lock file (created if missing; never removed, so two jobs always lock the
            same inode).
        what: what the lock protects, for the message (``"study 'k3'"``).

    Raises:
        Busy: a live process holds it (``"study 'k3' is already running (pid 123); ..."``).
    """
    import fcntl

    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise Busy(f"{what} is already running (pid {holder}, lock {lock_path}); wait for it to end, "
                       f"or stop it (kill {holder}) and run again to resume") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield lock_path
    finally:
        os.close(fd)  # releases the flock


_WATCHDOG_PERIOD_S = 1.0
"""How often a pool worker checks that its driver is alive (fallback of PR_SET_PDEATHSIG)."""


def die_with_parent(parent: int) -> None:
    """Make this process (a pool worker) die when the process that started it dies.

    On Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` asks the kernel to kill it the moment its
    parent exits, kill -9 included; everywhere, a daemon thread also checks every second that the
    parent pid is unchanged and ends the process otherwise (a re-parented orphan has a new parent).
    Without this, a killed ``mro study --workers N`` left workers that kept writing checkpoints
    and then slept forever at ~500 MB each. Use as the ``initializer`` of a process pool, with
    ``initargs=(os.getpid(),)`` (the driver's pid: a worker started after its driver died exits).

    The kernel's death signal follows the parent *thread* that started the worker; pools here
    are driven from the main thread, whose end is the driver's end.

    Args:
        parent: the driver's pid.
    """
    import signal
    import threading

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watchdog alone
        pass
    if os.getppid() != parent:  # the driver died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(_WATCHDOG_PERIOD_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def worker_pool(workers: int):
    """A process pool whose workers are spawned (no forked torch state) and die with this process
    (:func:`die_with_parent`): the one pool the study and the ground truth use."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=die_with_parent,
                               initargs=(os.getpid(),))
