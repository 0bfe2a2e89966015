"""An append-only CSV of finished work items: the checkpoint of long resumable jobs.

The ground truth (:mod:`mro_core.measure.ground_truth`) and the study (:mod:`mro_core.experiments.study`) write one
row per finished item, flushed and fsynced, so the file is always a valid partial table and a
restarted job skips what it already has (:func:`pending`). Only the parent process writes, and one
job per file at a time (the callers hold :func:`mro_core.procs.exclusive`).

The reader is tolerant of what a crash or an older MRO could leave, because a table that can no
longer be read is a job that can no longer resume: a repeated header line (two writers once
appended to the same file), a torn last line (a kill mid-write) and rows repeated for the same key
are dropped, the first row of a key wins; :class:`RowLog` rewrites such a file clean (atomically)
before it appends. A file that is not a table at all (not UTF-8, not CSV, without the key columns)
is one :class:`RowLogError` naming the file and the fix.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from pathlib import Path
from typing import Any, Callable, Iterator

log = logging.getLogger(__name__)

TEXT_COLUMNS = frozenset({"mask", "pick", "prior_mode", "method", "pars_pick", "finetuned_pick"})
"""Columns kept as text: bit strings such as ``011011`` are not numbers (leading zeros)."""

Key = Callable[[dict], tuple]


class RowLogError(ValueError):
    """A results table that cannot be read or resumed; the message names the file and the fix."""


def _num(v: str) -> Any:
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f


def _fix(path: Path) -> str:
    return f"move {path} away or give another output path"


def _scan(path: Path, key: Key | None) -> tuple[list[str] | None, list[dict[str, str]], int]:
    """(header, clean raw rows, lines dropped) of ``path``; see the module docstring."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise RowLogError(f"{path} is not a results table (not UTF-8 text: byte 0x{e.object[e.start]:02x} at "
                          f"offset {e.start}); {_fix(path)}") from None
    except OSError as e:
        raise RowLogError(f"cannot read {path}: {e.strerror or e}") from None
    if "\0" in text:
        raise RowLogError(f"{path} is not a results table (it holds NUL bytes); {_fix(path)}")
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise RowLogError(f"{path} is not a readable CSV table ({e}); {_fix(path)}") from None
    lines = [r for r in lines if r]
    if not lines:
        return None, [], 0
    header, rows, dropped, seen = lines[0], [], 0, set()
    for i, r in enumerate(lines[1:], start=2):
        if r == header or len(r) != len(header):  # a second writer's header; a torn line
            dropped += 1
            continue
        row = dict(zip(header, r))
        if key is not None:
            try:
                k = key({c: (v if c in TEXT_COLUMNS else _num(v)) for c, v in row.items()})
            except KeyError as e:
                raise RowLogError(f"{path} is not this job's results table (no column {e}); {_fix(path)}") from None
            except (TypeError, ValueError) as e:
                raise RowLogError(f"{path}, line {i}: unreadable key ({e}); {_fix(path)}") from None
            if k in seen:
                dropped += 1
                continue
            seen.add(k)
        rows.append(row)
    return header, rows, dropped


def read_rows(path: str | Path, key: Key | None = None) -> list[dict]:
    """Rows of a CSV with numbers parsed (an absent file has none).

    Args:
        key: the identity of a row; with it, a row repeating an earlier key is dropped.

    Raises:
        RowLogError: the file is not a readable table (names the file).
    """
    path = Path(path)
    if not path.exists():
        return []
    _, rows, dropped = _scan(path, key)
    if dropped:
        log.warning("%s: ignored %d repeated or torn line(s)", path, dropped)
    return [{k: (v if k in TEXT_COLUMNS else _num(v)) for k, v in r.items()} for r in rows]


class RowLog:
    """Append rows to ``path`` (header from the first row, or the file's own); each row is flushed
    and fsynced before :meth:`write` returns. Use as a context manager.

    A file with repeated headers, torn lines or (given ``key``) repeated keys is first rewritten
    clean, atomically, so the table on disk is the one the job reads back.
    """

    def __init__(self, path: str | Path, key: Key | None = None) -> None:
        from mro_core.atomic import atomic_write_text

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        header = None
        if self.path.exists() and self.path.stat().st_size > 0:
            header, rows, dropped = _scan(self.path, key)
            if dropped:
                buf = io.StringIO(newline="")
                w = csv.DictWriter(buf, fieldnames=header)
                w.writeheader()
                w.writerows(rows)
                atomic_write_text(self.path, buf.getvalue())
                log.warning("%s: repaired: dropped %d repeated or torn line(s), kept %d row(s)",
                            self.path, dropped, len(rows))
        self._f = self.path.open("a", newline="", encoding="utf-8")
        if header is not None and self.path.stat().st_size > 0:
            with self.path.open("rb") as f:  # a torn last line without its newline: end it first
                f.seek(-1, os.SEEK_END)
                if f.read(1) not in (b"\n", b"\r"):
                    self._f.write("\n")
        self._w = None if header is None else csv.DictWriter(self._f, fieldnames=header)

    def write(self, row: dict) -> None:
        if self._w is None:
            self._w = csv.DictWriter(self._f, fieldnames=list(row))
            self._w.writeheader()
        self._w.writerow({k: row.get(k, "") for k in self._w.fieldnames})
        self._f.flush()
        os.fsync(self._f.fileno())

    def __enter__(self) -> RowLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self._f.close()


def pending(path: str | Path, items: Iterator[tuple] | list[tuple], key: Key) -> list[tuple]:
    """The ``items`` whose key is not yet a row of ``path``, in their order."""
    done = {key(r) for r in read_rows(path, key)}
    return [it for it in items if it not in done]
