"""A job's log file, read from the end: the last lines, and the job's own last error line.

A background job's stdout and stderr go to ``<workspace>/logs/<run_id>.log`` (appended to on every
start, each start marked by a ``--- <time> start: <command>`` line from the launcher). Jobs print
their fatal error as ``mro: error: <one line>`` before exiting, so when a job could not record its
end in the store (a full disk, a store deleted under it), its log still says why: the store's
reader uses :func:`last_error` to report such a run as ``failed`` with that reason. Torch-free and
store-free, so both the store and the launcher can import it.
"""

from __future__ import annotations

import os

ERROR_PREFIX = "mro: error: "
"""How a job's fatal error line starts (the CLI's and the worker's ``main`` print it)."""

START_MARK = "--- "
"""How the launcher's start line begins (followed by the time and ``start: <command>``)."""


def tail(log_path: str | os.PathLike[str] | None, n_lines: int = 50) -> str:
    """The last ``n_lines`` lines of a log file ("" if it does not exist yet).

    Reads backwards in blocks, so it is cheap on large logs. Undecodable bytes are replaced.
    """
    if log_path is None or n_lines <= 0:
        return ""
    try:
        fh = open(log_path, "rb")
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return ""
    with fh:
        fh.seek(0, os.SEEK_END)
        pos = fh.tell()
        data = b""
        block = 8192
        while pos > 0 and data.count(b"\n") <= n_lines:
            step = min(block, pos)
            pos -= step
            fh.seek(pos)
            data = fh.read(step) + data
    lines = data.decode("utf-8", errors="replace").splitlines()
    return "\n".join(lines[-n_lines:])


def last_error(log_path: str | os.PathLike[str] | None, n_lines: int = 20) -> str | None:
    """The job's own last ``mro: error:`` message in its log, from its latest start only.

    Looks at the last ``n_lines`` lines, newest first, and stops at the launcher's start line, so
    an error of an earlier attempt (a run resumed since) is never reported for the latest one.

    Returns:
        The message after the prefix, or None when the latest attempt printed none.
    """
    for line in reversed(tail(log_path, n_lines).splitlines()):
        if line.startswith(ERROR_PREFIX):
            return line[len(ERROR_PREFIX):].strip() or None
        if line.startswith(START_MARK) and " start: " in line:
            return None
    return None
