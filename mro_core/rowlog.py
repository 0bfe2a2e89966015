"""An append-only CSV of finished work items: the checkpoint of long resumable jobs.

The ground truth (:mod:`mro_core.measure.ground_truth`) and the study (:mod:`mro_core.experiments.study`) write one
row per finished item, flushed and fsynced, so the file is always a valid partial table and a
restarted job skips what it already has (:func:`done_keys`). Only the parent process writes.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, Callable, Iterator

TEXT_COLUMNS = frozenset({"mask", "pick", "prior_mode", "method"})
"""Columns kept as text: bit strings such as ``011011`` are not numbers (leading zeros)."""


def _num(v: str) -> Any:
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f


def read_rows(path: str | Path) -> list[dict]:
    """Rows of a CSV with numbers parsed (an absent file has none)."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [{k: (v if k in TEXT_COLUMNS else _num(v)) for k, v in r.items()} for r in csv.DictReader(f)]


class RowLog:
    """Append rows to ``path`` (header from the first row, or the file's own); each row is flushed
    and fsynced before :meth:`write` returns. Use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        header = None
        if self.path.exists() and self.path.stat().st_size > 0:
            with self.path.open(newline="") as f:
                header = next(csv.reader(f))
        self._f = self.path.open("a", newline="")
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


def pending(path: str | Path, items: Iterator[tuple] | list[tuple], key: Callable[[dict], tuple]) -> list[tuple]:
    """The ``items`` whose key is not yet a row of ``path``, in their order."""
    done = {key(r) for r in read_rows(path)}
    return [it for it in items if it not in done]
