"""``mro provenance FILE...``: which search code made each checkpoint or result file, and whether
it is this installation's (:mod:`mro_core.provenance`)."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from mro_core.cli.common import UsageError, print_json


def recorded_version(path: Path) -> str | None:
    """The search code version ``path`` records: a checkpoint's field, a CSV's ``code_version``
    column (its rows must agree), or a text file's stamp line; ``None`` when it records none."""
    from mro_core.provenance import read_stamp

    if not path.is_file():
        raise UsageError(f"no such file: {path}; name a checkpoint (.pt) or a result file (.md, .csv, .html, .json)")
    if path.suffix == ".pt":
        from mro_core.training.checkpoint import load_checkpoint

        return load_checkpoint(path).code_version
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise UsageError(f"{path} is neither a checkpoint (.pt) nor a text result file") from None
    if path.suffix == ".csv":
        versions = {r.get("code_version") or "unknown" for r in csv.DictReader(text.splitlines())}
        if len(versions) > 1:
            return "mixed:" + ",".join(sorted(versions))
        if versions:
            return versions.pop()
    return read_stamp(text)


def note_if_stale(ckpt, path: str | Path) -> None:
    """One ``mro: note:`` line on stderr when a checkpoint came from other search code."""
    import sys

    from mro_core.provenance import describe

    note = describe(ckpt.code_version, str(path))
    if note:
        print(f"mro: note: {note}", file=sys.stderr)


def cmd_provenance(a: argparse.Namespace) -> int:
    from mro_core.provenance import code_version, describe

    rows = []
    for name in a.files:
        v = recorded_version(Path(name))
        rows.append({"file": name, "code_version": v or "unknown", "current": describe(v, name) is None,
                     "note": describe(v, name)})
    if a.json:
        print_json({"code_version": code_version(), "files": rows})
    else:
        print(f"this installation's search code: {code_version()}")
        for r in rows:
            print(f"{r['file']}: this search code" if r["current"] else r["note"])
    return 1 if a.check and not all(r["current"] for r in rows) else 0
