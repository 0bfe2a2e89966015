"""Published reference points for CMU-MOSEI / MOSI, to show beside MRO's own numbers.

The figures live in ``references.json`` next to this module, each row with its exact source
(repository, file, commit, URL), feature set, aligned or not, and the Acc-2 convention. They are
copied *as printed* by the source; :func:`reference_points` converts them to MRO's units (fractions
for accuracies and F1, plain MAE and Pearson r, as :func:`mro_core.metrics.regression_metrics`
returns them) under MRO's metric keys, so a dashboard can place them on the same axes.

Only numbers that could be read from their source are kept; a model whose published figure could
not be checked is left out rather than quoted from memory. Today the rows are MMSA's re-runs
(``thuiar/MMSA`` ``results/result-stat.md``): MulT, Self-MM, CENet, TETFN, MISA, TFN, LMF on both
datasets, BERT text features, each in its Aligned / Unaligned data setting.

Settings differ from MRO's (features, model size, tuning, seeds): these are reference points,
never a ranking. :data:`SETTINGS_NOTE` says so in words a UI can show.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

from mro_core.data.base import DataError

__all__ = ["METRIC_KEYS", "SETTINGS_NOTE", "reference_points", "reference_sources"]

METRIC_KEYS = ("acc2", "f1", "acc2_has0", "f1_has0", "acc7", "acc5", "mae", "corr")
"""MRO's metric keys the reference rows carry (``acc2``/``f1``: non-0 convention)."""

SETTINGS_NOTE = (
    "Published reference points (source per point). Their settings differ from this run's: "
    "features (BERT text in MMSA's files), model size, tuning and seeds. Compare with care."
)

_PERCENT = {"acc2", "f1", "acc2_has0", "f1_has0", "acc7", "acc5"}
_X100 = {"mae", "corr"}  # MMSA prints MAE and Corr multiplied by 100


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    text = resources.files("mro_core.data").joinpath("references.json").read_text(encoding="utf-8")
    return json.loads(text)


def reference_sources() -> dict[str, dict[str, Any]]:
    """Source id -> its record (title, URL, commit, scale, column mapping, conventions)."""
    return {k: dict(v) for k, v in _load()["sources"].items()}


def _convert(printed: dict[str, str], columns: dict[str, str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for col, key in columns.items():
        if col not in printed:
            continue
        v = float(printed[col])
        out[key] = v / 100.0 if key in _PERCENT or key in _X100 else v
    return out


def reference_points(dataset: str, *, aligned: bool | None = None) -> list[dict[str, Any]]:
    """Reference rows for ``dataset`` (``mosei`` or ``mosi``; others have none: ``[]``).

    Args:
        aligned: keep only aligned (True) or unaligned (False) rows; both when None.

    Returns:
        One dict per row: ``model``, ``dataset``, ``aligned``, ``features``, ``source`` (id),
        ``source_title``, ``source_url``, ``acc2_convention``, ``label`` (short text for a
        marker, e.g. ``"MulT (MMSA re-run, unaligned)"``), ``metrics`` (MRO keys and units:
        ``acc2``/``f1`` non-0, ``acc2_has0``/``f1_has0``, ``acc7``, ``acc5``, ``mae``, ``corr``),
        ``printed`` (as the source prints them) and ``note`` (:data:`SETTINGS_NOTE`).
    """
    if not isinstance(dataset, str):
        raise DataError(f"dataset must be a name such as 'mosei' (got {type(dataset).__name__})")
    doc = _load()
    out = []
    for row in doc["rows"]:
        if row["dataset"] != dataset.lower() or (aligned is not None and row["aligned"] != aligned):
            continue
        src = doc["sources"][row["source"]]
        out.append({
            "model": row["model"],
            "dataset": row["dataset"],
            "aligned": row["aligned"],
            "features": row["features"],
            "source": row["source"],
            "source_title": src["title"],
            "source_url": src["url"],
            "acc2_convention": src["acc2_convention"],
            "label": f"{row['model']} ({src['short']}, {'aligned' if row['aligned'] else 'unaligned'})",
            "metrics": _convert(row["printed"], src["columns"]),
            "printed": dict(row["printed"]),
            "note": SETTINGS_NOTE,
        })
    return out
