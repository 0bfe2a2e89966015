"""Atomic file writes: every output (checkpoints, data files, table artifacts) goes through here.

A writer writes to ``.NAME.<pid>.tmp`` in the target's folder, fsyncs, then renames it over the
target, so a crash mid-write leaves the previous file intact. *Any* failure of the underlying
writer is a write failure: torch reports a full disk as a ``RuntimeError`` (``unexpected pos``),
numpy as an ``OSError``, so the writer catches every ``Exception``, removes its temp file (a 2 MB
leftover on a full disk keeps the disk full) and raises one :class:`WriteError` naming the path and
the likely cause. Temp files left by writers that were killed (their pid is dead) are removed on
the next write to the same folder. :func:`check_output_path` lets commands refuse an unusable
``--out`` before hours of training rather than after.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path
from typing import BinaryIO, Callable

from mro_core.procs import pid_alive

__all__ = ["WriteError", "atomic_write", "atomic_write_text", "check_output_path", "clean_stale_temps", "temp_path"]

_LOW_SPACE = 1 << 20  # below 1 MiB free, an unexplained writer failure is reported as a full disk
_CAUSES = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.EISDIR: "it is a directory",
    errno.ENOTDIR: "a parent is a file, not a directory",
    errno.EEXIST: "a parent is a file, not a directory",  # mkdir over a file
}


class WriteError(OSError):
    """An output that could not be written; one line naming the path, the cause and the fix.

    A subclass of :class:`OSError` so every caller that already reports OSErrors as user errors
    (exit code 2) reports this one too.
    """

    def __str__(self) -> str:  # OSError's str would prefix "[Errno ...]"
        return str(self.args[0]) if self.args else "write failed"


def temp_path(path: Path) -> Path:
    """The temp file this process writes ``path`` through."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def clean_stale_temps(folder: Path, name: str | None = None) -> list[Path]:
    """Remove ``.NAME.<pid>.tmp`` files in ``folder`` whose writer process is gone.

    Args:
        folder: the folder to clean.
        name: only temps of this target file name (default: every target).

    Returns:
        The removed paths. A temp of a live process (including this one) is never touched.
    """
    pat = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.tmp$")
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for p in entries:
        m = pat.match(p.name)
        if not m or (name is not None and m["name"] != name):
            continue
        pid = int(m["pid"])
        if pid == os.getpid() or pid_alive(pid):
            continue
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _cause(e: BaseException, folder: Path) -> str:
    """A short human cause for a failed write: disk full, permission, ... or the error's first line."""
    code = getattr(e, "errno", None)
    if code in _CAUSES:
        return _CAUSES[code]
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if free is not None and free < _LOW_SPACE:
        return f"disk full ({free} bytes free)"
    text = getattr(e, "strerror", None) or str(e).strip()
    first = text.splitlines()[0][:160] if text else type(e).__name__
    return f"{type(e).__name__}: {first}" if not isinstance(e, OSError) else first


def write_error(path: Path, e: BaseException) -> WriteError:
    """The one-line :class:`WriteError` for a failed write of ``path``."""
    cause = _cause(e, path.parent if path.parent.exists() else Path("."))
    return WriteError(f"cannot write {path}: {cause}; check free disk space and permissions")


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(f)`` on a temp file next to ``path``, fsync, and rename it over ``path``.

    Raises:
        WriteError: the folder cannot be created, the writer failed in any way (disk full,
            permission, a ``RuntimeError`` from torch) or the rename failed. The temp file is
            removed first.
    """
    path = Path(path)
    tmp = temp_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
        clean_stale_temps(path.parent, path.name)
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except Exception as e:  # noqa: BLE001 - any writer failure is a write failure (see module doc)
        err = write_error(path, e)  # before the temp goes: a full disk is only full while it exists
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise err from None
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """:func:`atomic_write` of UTF-8 text."""
    return atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def check_output_path(path: str | Path) -> Path:
    """Refuse an output path that cannot be written, before any work is done; create nothing.

    The check is a check: it leaves no folder behind (the write itself creates missing folders
    later), so a command refused afterwards for another reason has changed nothing. It removes
    temps of dead writers of ``path`` (so a resume starts with their space back) and probes the
    nearest existing folder by creating and removing a temp file. Missing folders directly under
    the filesystem root are refused: ``--out /nonexistent/dir/x.pt`` is a typo, not a request to
    create ``/nonexistent``.

    Raises:
        WriteError: ``path`` is a directory, a parent is a file, the nearest existing folder is
            not writable, or the missing folders would start at the filesystem root.
    """
    path = Path(path)
    if path.is_dir():
        raise WriteError(f"cannot write {path}: it is a directory; give a file path such as {path / 'out.pt'}")
    folder = Path(os.path.abspath(path)).parent
    missing: list[Path] = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    if not folder.is_dir():
        raise WriteError(f"cannot write {path}: a parent is a file, not a directory ({folder}); give another path")
    if missing and folder.parent == folder:
        raise WriteError(f"cannot write {path}: folder {missing[-1]} does not exist and would be created at the "
                         f"filesystem root; check the path, or create {missing[0]} first")
    probe = temp_path(folder / (path.name + ".probe"))
    try:
        if not missing:
            clean_stale_temps(folder, path.name)  # a killed writer's temp may be what fills the disk
        with open(probe, "wb"):
            pass
        probe.unlink()
    except Exception as e:  # noqa: BLE001
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass
        raise write_error(path, e) from None
    return path
