"""``mro provenance FILE...``: which search code made each checkpoint or result file, and whether
it is this installation's (:mod:`mro_core.provenance`); ``mro results``: regenerate the stale
shipped artefacts (:mod:`mro_core.experiments.results`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mro_core.cli.common import print_json


def cmd_provenance(a: argparse.Namespace) -> int:
    from mro_core.experiments.results import recorded_version
    from mro_core.provenance import UNKNOWN, code_version, describe

    rows = []
    for name in a.files:
        listed = _manifest_entries(Path(name))
        if listed is not None:  # the manifest vouches for other files; it is no result of its own
            rows.append({"file": name, "code_version": None, "current": True, "manifest": listed,
                         "note": f"{name}: the manifest itself, not a result (it records the search code "
                                 f"of {listed} file(s); name those files to check them)"})
            continue
        v = recorded_version(Path(name))
        note = describe(v, name)
        rows.append({"file": name, "code_version": v or UNKNOWN, "current": note is None, "note": note})
    if a.json:
        print_json({"code_version": code_version(), "files": rows})
    else:
        print(f"this installation's search code: {code_version()}")
        for r in rows:
            print(r["note"] if r.get("manifest") is not None or not r["current"] else f"{r['file']}: this search code")
    return 1 if a.check and not all(r["current"] for r in rows) else 0


def _manifest_entries(path: Path) -> int | None:
    """How many files ``path`` records when it is a ``results/MANIFEST.json``; else ``None``."""
    import json

    from mro_core.experiments.results import MANIFEST

    if path.name != MANIFEST.name or not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or not all(isinstance(e, dict) and "code_version" in e for e in doc.values()):
        return None
    return len(doc)


def cmd_results(a: argparse.Namespace) -> int:
    from mro_core.experiments.results import recorded_version, run_steps, select, stale_outputs

    steps = select([s for s in (a.steps or "").split(",") if s])
    root = Path.cwd()
    if a.list:
        total, width = 0.0, max(len(s.name) for s in steps)
        for s in steps:
            stale = stale_outputs(s, root, recorded_version)
            total += s.minutes if stale else 0
            print(f"{s.name:{width}s} {'STALE' if stale else 'current':7s} ~{s.minutes:>4g} min  {s.command}")
        print(f"to regenerate: about {total:g} min on 2 CPU cores")
        return 0
    run_steps(steps, root, recorded_version, force=a.force)
    return 0
