"""Which search code a shown artefact came from: the one line the dashboard warns with.

The checkpoint open on Explore / Graph / Pareto, the shipped ``results/table5.csv`` on Compare and
``results/ground_truth_k3.csv`` on Learn each record the search code version that made them
(:func:`mro_core.experiments.results.recorded_version`). When it is not this installation's
version, the page shows :func:`mro_core.provenance.describe`'s sentence once, as a warning.
"""

from __future__ import annotations

import functools
from pathlib import Path

from mro_core.experiments.results import manifest_version, recorded_version
from mro_core.provenance import UNKNOWN, describe


def _name(path: Path) -> str:
    """``results/table5.csv`` style: the folder and the file, never a temporary absolute path."""
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def file_warning(path: str | Path, what: str | None = None) -> str | None:
    """The warning for a result file (or checkpoint) on disk; None when it came from this search code
    or when there is no such file (nothing is shown, so nothing is claimed)."""
    p = Path(path)
    try:
        recorded = recorded_version(p)
    except (OSError, ValueError):
        return None
    return describe(recorded, what or _name(p))


def checkpoint_warning(recorded: str | None, path: str | Path) -> str | None:
    """The warning for an already loaded checkpoint (its own ``code_version``, else the manifest's
    entry, as :func:`recorded_version` reads it) without loading the file again."""
    p = Path(path)
    if not recorded or recorded == UNKNOWN:
        try:
            recorded = _manifest_version(str(p.resolve()), p.stat().st_mtime) or recorded
        except (OSError, ValueError):
            pass
    return describe(recorded, _name(p))


@functools.lru_cache(maxsize=16)
def _manifest_version(path: str, mtime: float) -> str | None:
    del mtime  # part of the key only: hashing a checkpoint once per file version, not once per rerun
    return manifest_version(Path(path))
