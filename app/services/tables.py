"""The paper's comparison tables (Table 5, Table 4) and per-epoch curves, from runs' results,
configs and epoch events. Pure functions over run records; no store access, no Streamlit."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

from app.services.runs import flat_metrics, baseline_rows, run_config, run_label, run_result
from app.services.metrics_view import finite_or_none
from mro_core.config import PRIOR_TRAINED
from mro_core.pareto import PICKS  # noqa: F401 - re-exported: the picks in the order results list them

NO_VALUE = "\u2014"
"""A cell that has no value for its row (a baseline's mask, a method without a rank loss)."""
RANK_LOSS_LABELS = {"l0": "L0", "l1": "L1", "l2": "L2", "linf": "L\u221e"}
"""Display names of :data:`mro_core.config.RANK_LOSSES`."""
ABLATION_LABELS = {
    "none": "MRO",
    "no_prior_guidance": "w/o prior guidance",
    "no_mrg_prior": "w/o MRG prior",
    "no_rank_reg": "w/o rank regularization",
    "uniform": "uniform one-shot",
    "random_search": "random search",
}




def metric_cells(row: Mapping[str, Any] | None, task: str) -> dict:
    row = row or {}
    if task == "classification":
        return {"MAE": finite_or_none(row.get("sent_mae")), "Corr": finite_or_none(row.get("sent_corr")),
                "Acc-7": finite_or_none(row.get("acc7", row.get("acc"))),
                "Acc-2": finite_or_none(row.get("sent_acc2")), "F1": finite_or_none(row.get("f1"))}
    return {"MAE": finite_or_none(row.get("mae")), "Corr": finite_or_none(row.get("corr")), "Acc-7": finite_or_none(row.get("acc7")),
            "Acc-2": finite_or_none(row.get("acc2")), "F1": finite_or_none(row.get("f1"))}


def run_task(rec: Any, default: str = "regression") -> str:
    cfg = run_config(rec)
    task = cfg.get("task")
    if task is None and isinstance(cfg.get("model"), Mapping):
        task = cfg["model"].get("task")
    if task in ("regression", "classification"):
        return task
    picks = run_result(rec).get("picks") or {}
    for p in picks.values() if isinstance(picks, Mapping) else []:
        if isinstance(p, Mapping) and "mae" in p:
            return "regression"
        if isinstance(p, Mapping) and "acc" in p:
            return "classification"
    return default


def final_spearman(rec: Any, events: Sequence[Mapping[str, Any]]) -> float | None:
    """Spearman rho of the prior vs performance ranking: the run's result, else the last epoch event."""
    res = run_result(rec)
    v = finite_or_none(res.get("spearman"))
    if v is not None:
        return v
    for e in reversed(events):
        pl = e.get("payload") if isinstance(e.get("payload"), Mapping) else {}
        v = finite_or_none(pl.get("spearman"))
        if v is not None:
            return v
    return None


def pick_of(picks: Any, pick: str) -> tuple[Mapping | None, str]:
    """The run's pick ``pick`` and the name it was found under: runs made before the parsimonious
    pick existed have none, and fall back to their ``best`` (the rule's answer when nothing cheaper
    is within one standard error), so older runs still fill a table."""
    if not isinstance(picks, Mapping):
        return None, pick
    if pick == "parsimonious" and not isinstance(picks.get(pick), Mapping) and isinstance(picks.get("best"), Mapping):
        return picks["best"], "best"
    p = picks.get(pick)
    return (p if isinstance(p, Mapping) else None), pick


def table5_rows(runs: Sequence[Any], pick: str = "best") -> list[dict]:
    """Paper Table 5 layout: Model, Subnet Mask, MAE, Corr, Acc-7, Acc-2, F1, MFLOPs, and From
    (where the row comes from).

    Each run contributes its baselines (once per distinct name) and its pick ``pick``.
    """
    rows, seen_baselines = [], set()
    for rec in runs:
        task = run_task(rec)
        for b in baseline_rows(rec):
            if b["name"] in seen_baselines:
                continue
            seen_baselines.add(b["name"])
            rows.append({"Model": str(b["name"]), "Subnet Mask": str(b.get("mask") or NO_VALUE),
                         **metric_cells(b, task), "MFLOPs": finite_or_none(b.get("mflops")),
                         "From": f"baseline stored with run {run_label(rec)}"})
    for rec in runs:
        task = run_task(rec)
        p, used = pick_of(run_result(rec).get("picks") or {}, pick)
        cfg = run_config(rec)
        abl = ABLATION_LABELS.get(str(cfg.get("ablation", "none")), str(cfg.get("ablation")))
        model = f"{abl}: {getattr(rec, 'name', '') or rec.id}"
        src = f"run {run_label(rec)}: its {used!r} pick" + (" (made before the parsimonious pick)" if used != pick else "")
        if not isinstance(p, Mapping):
            rows.append({"Model": model, "Subnet Mask": "", **metric_cells(None, task), "MFLOPs": None,
                         "From": src + " (none: the run has not finished)"})
            continue
        p = flat_metrics(p)
        rows.append({"Model": model, "Subnet Mask": str(p.get("mask", "")), **metric_cells(p, task),
                     "MFLOPs": finite_or_none(p.get("mflops")), "From": src})
    return rows


def rank_loss_label(cfg: Mapping[str, Any]) -> str:
    """The rank loss a run's method trained its prior with; a dash for the methods that have no
    rank regularization (uniform one-shot, random search, w/o rank regularization): their config
    still holds a ``rank_loss``, but nothing used it."""
    if str(cfg.get("ablation", "none")) not in PRIOR_TRAINED:
        return NO_VALUE
    loss = str(cfg.get("rank_loss", ""))
    return RANK_LOSS_LABELS.get(loss, loss)


def table4_rows(runs: Sequence[Any], events_by_run: Mapping[str, Sequence[Mapping[str, Any]]],
                pick: str = "best") -> list[dict]:
    """Paper Table 4 layout: Loss Function (:func:`rank_loss_label`), Attention Mask, Acc-7, Acc-2,
    F1, Rank Corr (rho)."""
    rows = []
    for rec in runs:
        task = run_task(rec)
        cfg = run_config(rec)
        found, _ = pick_of(run_result(rec).get("picks") or {}, pick)
        p = flat_metrics(found) if found is not None else {}
        cells = metric_cells(p, task)
        rows.append({
            "Run": run_label(rec),
            "Loss Function": rank_loss_label(cfg),
            "Attention Mask": str(p.get("mask", "")),
            "Acc-7": cells["Acc-7"], "Acc-2": cells["Acc-2"], "F1": cells["F1"],
            "Rank Corr (\u03c1)": final_spearman(rec, events_by_run.get(rec.id, ())),
        })
    return rows


def epoch_curves(run_label_: str, events: Sequence[Mapping[str, Any]]) -> list[dict]:
    """Long-format rows ``{run, epoch, series, value}`` of train/valid loss and Spearman rho."""
    out = []
    for e in events:
        pl = e.get("payload") if isinstance(e.get("payload"), Mapping) else {}
        ep = finite_or_none(e.get("epoch", pl.get("epoch")))
        if ep is None:
            continue
        for key in ("train_loss", "valid_loss", "spearman"):
            v = finite_or_none(pl.get(key))
            if v is not None:
                out.append({"run": run_label_, "epoch": int(ep), "series": key, "value": v})
    return out


def percent_cells(rows: list[dict], columns: Iterable[str]) -> list[dict]:
    """Fractions -> percentages (2 decimals) in ``columns``, as the paper's tables print them."""
    cols = set(columns)
    out = []
    for r in rows:
        r = dict(r)
        for c in cols:
            v = r.get(c)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                r[c] = round(100.0 * float(v), 2)
        out.append(r)
    return out


TABLE_RUN_COLUMNS = {"model": "Model", "mask": "Subnet Mask", "mae": "MAE", "corr": "Corr", "acc7": "Acc-7",
                     "acc2": "Acc-2", "f1": "F1", "mflops": "MFLOPs", "rho": "Rank Corr (\u03c1)"}


def suite_rows(rows: Sequence[Mapping[str, Any]], source: str) -> list[dict]:
    """Rows of ``mro table --suite table5`` (a table run's result, or its CSV) in the page's layout,
    each with ``From`` = ``source``. Missing metrics stay empty; ``-`` masks (baselines) show a dash."""
    out = []
    for r in rows:
        row = {}
        for k, head in TABLE_RUN_COLUMNS.items():
            v = r.get(k)
            row[head] = (str(v) if v not in (None, "", "-") else NO_VALUE) if k in ("model", "mask") else finite_or_none(v)
        row["From"] = source
        out.append(row)
    return out


def latest_table5_run(runs: Iterable[Any]) -> Any | None:
    """The newest finished ``mro table --suite table5`` run among ``runs`` (kind ``table``)."""
    for r in runs:
        res = run_result(r)
        if res.get("suite") == "table5" and isinstance(res.get("rows"), list):
            return r
    return None
