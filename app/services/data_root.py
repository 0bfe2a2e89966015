"""Data files may only come from under the data root: no ``..``, no absolute paths, no symlink
that leads outside the root. Pickle files run code when loaded (DESIGN 8), so the dashboard never
takes a path it did not find under the root, and offers no uploads.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

DATA_SUFFIXES = (".npz", ".pkl")
MAX_LISTED_FILES = 500
"""Stop listing after this many files (a data root with a huge tree stays responsive)."""


class DataPathError(ValueError):
    """A data path the dashboard refuses; the message says why and what is allowed."""


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def resolve_data_file(root: str | os.PathLike[str], relative: str) -> Path:
    """The real path of ``relative`` under ``root``, if it is a file that stays inside the root.

    Args:
        root: the data root.
        relative: a path relative to the root, with ``/`` separators.

    Raises:
        DataPathError: empty, absolute, containing ``..``, missing, not a file, or resolving
            (through a symlink) outside the root.
    """
    text = (relative or "").strip()
    if not text:
        raise DataPathError("no data file given; pick a file under the data root")
    if "\x00" in text:
        raise DataPathError("the data path contains a NUL byte")
    if PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute() or text.startswith("~"):
        raise DataPathError(f"{text!r} is absolute; give a path relative to the data root")
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if ".." in parts:
        raise DataPathError(f"{text!r} contains '..'; only files under the data root are allowed")
    root_real = Path(root).resolve()
    candidate = root_real.joinpath(*parts)
    if not candidate.exists():
        raise DataPathError(f"{text!r} does not exist under the data root {root_real}")
    real = candidate.resolve(strict=True)
    if not _inside(real, root_real):
        raise DataPathError(f"{text!r} leads outside the data root {root_real} (through a symlink); refused")
    if not real.is_file():
        raise DataPathError(f"{text!r} is not a file")
    return real


def list_data_files(
    root: str | os.PathLike[str],
    *,
    suffixes: tuple[str, ...] = DATA_SUFFIXES,
    limit: int = MAX_LISTED_FILES,
) -> list[str]:
    """Files under ``root`` with one of ``suffixes``, as sorted root-relative POSIX paths.

    Symlinked folders are not followed; symlinked files are listed only when they resolve inside
    the root. A missing root gives an empty list.
    """
    root_real = Path(root).resolve()
    if not root_real.is_dir():
        return []
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root_real, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.lower().endswith(suffixes):
                continue
            p = Path(dirpath) / name
            try:
                real = p.resolve(strict=True)
            except OSError:
                continue
            if not _inside(real, root_real) or not real.is_file():
                continue
            out.append(p.relative_to(root_real).as_posix())
            if len(out) >= limit:
                return sorted(out)
    return sorted(out)
