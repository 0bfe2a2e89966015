"""Published reference points (``mro_core.data.references``) for runs on CMU-MOSEI / MOSI.

Shown beside MRO's own numbers on Pareto (horizontal lines: the sources give no MFLOPs) and Compare
(rows of their own), only for runs on mosei / mosi, and always with the note that the settings
differ (features, model size, tuning, seeds): reference points, never a ranking (issue 11, item 6).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from mro_core.data.references import SETTINGS_NOTE, reference_points

from app.services.runs import run_config

REFERENCE_DATASETS = ("mosei", "mosi")
__all__ = ["REFERENCE_DATASETS", "SETTINGS_NOTE", "reference_lines", "reference_rows", "references_for", "run_setting"]


def run_setting(rec: Any) -> tuple[str, bool] | None:
    """``(dataset, aligned)`` of a run on mosei / mosi, else None."""
    cfg = run_config(rec)
    ds = str(cfg.get("dataset") or "").lower()
    if ds not in REFERENCE_DATASETS:
        return None
    req = cfg.get("request") if isinstance(cfg.get("request"), Mapping) else {}
    return ds, not bool(req.get("unaligned", False))


def references_for(runs: Iterable[Any]) -> list[dict]:
    """The reference rows of every (dataset, aligned) setting among ``runs`` (none for other data)."""
    settings = list(dict.fromkeys(s for s in (run_setting(r) for r in runs) if s is not None))
    out = []
    for ds, aligned in settings:
        for ref in reference_points(ds, aligned=aligned):
            out.append({**ref, "label": f"{ref['label']}, {ds.upper()}" if len(settings) > 1 else ref["label"]})
    return out


def reference_lines(refs: Iterable[Mapping[str, Any]], metric: str) -> list[dict]:
    """``{"label", "value", "url"}`` for each reference that reports ``metric`` (MRO's key and units)."""
    return [{"label": r["label"], "value": float(r["metrics"][metric]), "url": r.get("source_url", "")}
            for r in refs if isinstance(r.get("metrics"), Mapping) and metric in r["metrics"]]


def reference_rows(refs: Iterable[Mapping[str, Any]]) -> list[dict]:
    """Table 5-like rows of the references (MRO's columns; MFLOPs unknown), with their source."""
    rows = []
    for r in refs:
        m = r.get("metrics") or {}
        rows.append({"Model": r["label"], "MAE": m.get("mae"), "Corr": m.get("corr"), "Acc-7": m.get("acc7"),
                     "Acc-2": m.get("acc2"), "F1": m.get("f1"), "MFLOPs": None,
                     "From": f"{r.get('source_title', '')} ({r.get('source_url', '')})"})
    return rows
