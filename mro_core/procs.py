"""Whether a process is alive: the one check the atomic writer and the run store share."""

from __future__ import annotations

import os
from pathlib import Path


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
