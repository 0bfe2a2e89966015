"""Tables of a data inspection (:meth:`mro_core.data.inspect.Inspection.to_dict`) for the Search
page: what MRO makes of a file before a search starts (issue 11, item 4)."""

from __future__ import annotations

from typing import Any, Mapping


def summary(d: Mapping[str, Any]) -> str:
    """Two lines of Markdown: layout and task, then splits and planted paths."""
    aligned = "" if d.get("aligned") is None else f", {'aligned' if d['aligned'] else 'unaligned'}"
    first = (f"**{d.get('dataset')}**, layout `{d.get('layout')}`: {d.get('layout_note')}. "
             f"Task {d.get('task')}, modalities {', '.join(d.get('modalities') or [])}{aligned}.")
    splits = ", ".join(f"{s['name']} N={s['n']}" for s in d.get("splits") or [])
    missing = d.get("missing_splits") or []
    second = f"Splits: {splits}" + (f"; missing: {', '.join(missing)}" if missing else "") + "."
    if d.get("planted_paths"):
        second += f" Planted paths: {', '.join(d['planted_paths'])}."
    return first + "  \n" + second


def modality_rows(d: Mapping[str, Any]) -> list[dict]:
    """One row per split and modality: L, D, padding side and share, mean length, NaN/inf, empty."""
    rows = []
    for sp in d.get("splits") or []:
        for m in sp.get("modalities") or []:
            rows.append({"split": sp["name"], "modality": m["name"], "L": m["length"], "D": m["dim"],
                         "padding": m["padding_side"], "padded %": round(100.0 * m["padding_share"], 1),
                         "mean length": round(float(m["mean_length"]), 1), "NaN": m["nan"], "inf": m["inf"],
                         "empty samples": m["empty_samples"]})
    return rows


def label_rows(d: Mapping[str, Any]) -> list[dict]:
    """Per split: the label summary (regression: range, mean, std, outside [-3, 3]; classes: counts)."""
    rows = []
    for sp in d.get("splits") or []:
        lab = sp.get("labels") or {}
        if lab.get("kind") == "histogram":
            mean, std = lab.get("mean"), lab.get("std")
            rows.append({"split": sp["name"], "min": lab.get("min"), "max": lab.get("max"),
                         "mean": None if mean is None else round(mean, 3),
                         "std": None if std is None else round(std, 3),
                         "outside [-3, 3]": lab.get("below", 0) + lab.get("above", 0),
                         "non-finite": lab.get("nonfinite", 0)})
        elif lab.get("kind") == "classes":
            rows.append({"split": sp["name"], **{str(k): v for k, v in (lab.get("counts") or {}).items()},
                         "outside": lab.get("outside", 0)})
    return rows
