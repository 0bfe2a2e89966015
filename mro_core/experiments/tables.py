"""The paper's tables in one call each: Table 5 (baselines, ablations, Full MRO) and Table 4
(rank-loss norms), with seeds, mean and std, Markdown and CSV.

Every number is measured here on the given data: the baselines and the Pairwise CMT are trained
alone; each MRO variant is a full search (``mro_core.search.run``) whose pick (``best`` by default,
or ``budget``/``knee``/``prior``) is reported with its shared-weight TEST metrics (or the
fine-tuned ones when ``finetune_epochs > 0``). Table 4's rho is the final epoch's Spearman rho
between the prior scores and the shared-weight validation losses over a FIXED mask set (all masks
at k <= 4, a fixed seeded sample at k >= 5), comparable between variants; ``rho_step`` is the
first release's per-step figure over the 4 masks sampled each step (drawn from the prior itself in
guided variants: noisy, and not comparable between variants), kept as a secondary column.
"""

from __future__ import annotations

import csv
import io
import logging
import statistics
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Sequence

from mro_core.config import ModelConfig, SearchConfig, TrainConfig, to_dict
from mro_core.data.base import MultimodalDataset
from mro_core.metrics import REGRESSION_TABLE_HEADERS, REGRESSION_TABLE_METRICS
from mro_core.paths import PathSpace
from mro_core.provenance import code_version, stamp_line
from mro_core.search.run import run_search

log = logging.getLogger(__name__)

TABLE5_MODELS = (
    ("Concat+MLP", "baseline", "concat_mlp"),
    ("EmbraceNet", "baseline", "embracenet"),
    ("Pairwise CMT", "cmt", None),
    ("MRO w/o Prior Guidance", "search", "no_prior_guidance"),
    ("MRO w/o MRG Prior", "search", "no_mrg_prior"),
    ("MRO w/o Rank Regularization", "search", "no_rank_reg"),
    ("Full MRO", "search", "none"),
)
TABLE4_LOSSES = ("l0", "l1", "linf", "l2")  # the paper's row order
METRIC_COLUMNS = {"regression": REGRESSION_TABLE_METRICS, "classification": ("acc", "f1")}
"""Regression tables show Acc-2 and F1 in both conventions (has-0 / non-0), as MMSA does."""
HEADERS = {"mae": "MAE", "corr": "Corr", "acc7": "Acc-7", "acc2": "Acc-2", "f1": "F1", "acc": "Acc",
           "mflops": "MFLOPs", "rho": "Rank Corr (rho, fixed set)", "rho_step": "rho per step"}
HEADERS.update(REGRESSION_TABLE_HEADERS)


TRAINED_ALONE = "test, trained alone"
SHARED = "test, shared weights"


def finetuned_label(epochs: int) -> str:
    return f"test, fine-tuned alone {epochs} ep."


def _pick_metrics(res: Any, pick: str) -> tuple[str, dict, float, str]:
    """The pick's mask, its test metrics (fine-tuned ones when that pick was fine-tuned), MFLOPs,
    and which of the two the row reports (its ``split`` label)."""
    p = res.picks.get(pick) or {}
    if "mask" not in p:
        p = res.picks["best"]
        log.warning("pick %r unavailable (%s); reporting 'best'", pick, res.picks.get(pick, {}).get("error"))
    ft = res.finetune if res.finetune and res.finetune["mask"] == p["mask"] else None
    if ft and ft.get("finetuned_test"):
        return p["mask"], ft["finetuned_test"], float(p["mflops"]), finetuned_label(int(ft["epochs"]))
    return p["mask"], p["test"], float(p["mflops"]), SHARED


def _rho(res: Any) -> dict:
    """The final epoch's rank agreement: fixed-set rho (primary) and per-step rho (secondary)."""
    last = res.history[-1] if res.history else {}
    return {"rho": last.get("rank_spearman"), "rho_step": last.get("spearman")}


def _record(store: Any, name: str, config: dict, epochs: int) -> str | None:
    if store is None:
        return None
    rid = store.create_run(name, "search", config, total_epochs=epochs)
    store.mark_running(rid)
    return rid


def table5_rows(ds: MultimodalDataset, model_cfg: ModelConfig, train_cfg: TrainConfig, search_cfg: SearchConfig,
                *, seed: int, workdir: Path, pick: str = "best", store: Any = None,
                only: Sequence[str] | None = None) -> list[dict]:
    """One seed of Table 5: a row per model with Subnet Mask, the task metrics (test) and MFLOPs."""
    from mro_core.training.baselines import train_baseline
    from mro_core.model.flops import flops_of, flops_table
    from mro_core.training.train import evaluate_masks, resolve_device, train_supernet

    tcfg = replace(train_cfg, seed=seed)
    space = PathSpace(model_cfg.modalities)
    rows = []
    for name, kind, arg in TABLE5_MODELS:
        if only and name not in only:
            continue
        log.info("Table 5, seed %d: %s", seed, name)
        if kind == "baseline":
            r = train_baseline(ds, arg, model_cfg, tcfg)
            rows.append({"model": name, "mask": "-", "split": TRAINED_ALONE, **r["test"], "mflops": r["mflops"]})
        elif kind == "cmt":
            full = space.full_mask()
            ck = train_supernet(ds, model_cfg, tcfg, out=workdir / f"cmt-s{seed}.pt", fixed_mask=full,
                                table=False, progress=False)
            from mro_core.training.checkpoint import build_model

            model = build_model(ck).to(resolve_device(tcfg.device))
            test = evaluate_masks(model, ds.splits["test"], [full], device=resolve_device(tcfg.device))[0]
            mf = flops_of(flops_table(model.cpu(), ds.seq_lens, [full]), space, full)
            rows.append({"model": name, "mask": PathSpace.to_bits(full), "split": TRAINED_ALONE, **test, "mflops": mf})
        else:
            scfg = replace(search_cfg, ablation=arg)
            rid = _record(store, f"table5 {name} s{seed}", {"search": to_dict(scfg), "train": to_dict(tcfg),
                                                              "ablation": arg, "rank_loss": scfg.rank_loss}, tcfg.epochs)
            res = run_search(ds, model_cfg, tcfg, scfg, out=workdir / f"{arg}-s{seed}.pt", store=store, run_id=rid)
            if store is not None:
                store.finish(rid, "done", result=res.to_dict())
            mask, test, mf, split = _pick_metrics(res, pick)
            rows.append({"model": name, "mask": mask, "split": split, **test, "mflops": mf, **_rho(res)})
        rows[-1].pop("loss", None)
    return rows


def table4_rows(ds: MultimodalDataset, model_cfg: ModelConfig, train_cfg: TrainConfig, search_cfg: SearchConfig,
                *, seed: int, workdir: Path, pick: str = "best", store: Any = None,
                only: Sequence[str] | None = None) -> list[dict]:
    """One seed of Table 4: a row per rank-loss norm with the pick's mask, metrics and Spearman rho."""
    tcfg = replace(train_cfg, seed=seed)
    rows = []
    for loss in TABLE4_LOSSES:
        if only and loss not in only:
            continue
        log.info("Table 4, seed %d: %s", seed, loss)
        scfg = replace(search_cfg, rank_loss=loss, ablation="none")
        rid = _record(store, f"table4 {loss} s{seed}", {"search": to_dict(scfg), "train": to_dict(tcfg),
                                                        "ablation": "none", "rank_loss": loss}, tcfg.epochs)
        res = run_search(ds, model_cfg, tcfg, scfg, out=workdir / f"rank-{loss}-s{seed}.pt", store=store, run_id=rid)
        if store is not None:
            store.finish(rid, "done", result=res.to_dict())
        mask, test, mf, split = _pick_metrics(res, pick)
        test = {k: v for k, v in test.items() if k != "loss"}
        rows.append({"loss_function": {"linf": "L_inf"}.get(loss, loss.upper()), "mask": mask, "split": split, **test,
                     "mflops": mf, **_rho(res)})
    return rows


def aggregate(per_seed: Sequence[Sequence[dict]], key: str) -> list[dict]:
    """Mean and std over seeds of every numeric column; the mask is the most common one
    (all masks listed when seeds disagree)."""
    out = []
    for rows in zip(*per_seed):
        base = {key: rows[0][key]}
        masks = Counter(r["mask"] for r in rows)
        base["mask"] = masks.most_common(1)[0][0] if len(masks) == 1 else " / ".join(
            f"{m} x{c}" for m, c in masks.most_common())
        splits = Counter(str(r.get("split", "")) for r in rows)
        base["split"] = " / ".join(splits)
        for col in rows[0]:
            vals = [r[col] for r in rows if isinstance(r.get(col), (int, float)) and r.get(col) is not None]
            if col in (key, "mask", "split") or not vals:
                continue
            base[col] = statistics.fmean(vals)
            if len(vals) > 1:
                base[f"{col}_std"] = statistics.stdev(vals)
        base["seeds"] = len(rows)
        out.append(base)
    return out


def _fmt(col: str, v: Any, std: Any = None) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        pct = col.startswith(("acc", "f1"))
        s = f"{100 * v:.2f}" if pct else (f"{v:.2f}" if col == "mflops" and v >= 10 else f"{v:.3f}")
        if std is not None:
            s += f" ± {100 * std:.2f}" if pct else f" ± {std:.3f}"
        return s
    return str(v)


def render(rows: Sequence[dict], key: str, key_header: str, task: str, *, with_rho: bool) -> tuple[str, str]:
    """(Markdown, CSV) of aggregated rows. Accuracies and F1 in percent, as in the paper."""
    cols = [key, "mask", "split", *METRIC_COLUMNS[task], "mflops"] + (["rho", "rho_step"] if with_rho else [])
    heads = [key_header, "Subnet Mask" if key == "model" else "Attention Mask", "Reported on"] + [HEADERS[c] for c in cols[3:]]
    md = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for r in rows:
        md.append("| " + " | ".join(_fmt(c, r.get(c), r.get(f"{c}_std")) for c in cols) + " |")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(cols + [f"{c}_std" for c in cols[3:]] + ["seeds", "code_version"])
    for r in rows:
        w.writerow([r.get(c) for c in cols] + [r.get(f"{c}_std") for c in cols[3:]] + [r.get("seeds"), code_version()])
    return "\n".join(md) + "\n", buf.getvalue()


def run_table(suite: str, ds: MultimodalDataset, model_cfg: ModelConfig, train_cfg: TrainConfig,
              search_cfg: SearchConfig, *, seeds: Sequence[int], workdir: Path, pick: str = "best",
              store: Any = None, on_row: Callable[[dict], None] | None = None,
              only: Sequence[str] | None = None, command: str | None = None) -> dict:
    """Run a suite (``table5`` or ``table4``) over ``seeds``; returns rows, Markdown and CSV.

    The Markdown ends with :func:`mro_core.provenance.stamp_line` (the search code and
    ``command``), and every CSV row carries ``code_version``, so a shipped table says which search
    code made it."""
    if suite not in ("table5", "table4"):
        raise ValueError(f"unknown suite {suite!r}; choose table5 or table4")
    workdir.mkdir(parents=True, exist_ok=True)
    fn, key, head = (table5_rows, "model", "Model") if suite == "table5" else (table4_rows, "loss_function", "Loss Function")
    per_seed = [fn(ds, model_cfg, train_cfg, search_cfg, seed=s, workdir=workdir, pick=pick, store=store, only=only)
                for s in seeds]
    rows = aggregate(per_seed, key)
    # Table 5 also shows each search's final rho (a column the paper's Table 5 does not have)
    md, csv_text = render(rows, key, head, ds.task, with_rho=True)
    md += "\n" + stamp_line(command) + "\n"
    return {"code_version": code_version(), "suite": suite, "seeds": list(seeds), "pick": pick, "rows": rows, "per_seed": per_seed,
            "markdown": md, "csv": csv_text}
