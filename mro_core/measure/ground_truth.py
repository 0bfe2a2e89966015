"""Stand-alone ground truth: every mask trained alone, so rankings and regrets can be exact.

For a dataset small enough to enumerate (k <= 4), each non-empty mask is trained as its own
network (``train_supernet(..., fixed_mask=m)``: same data, epochs, batch size and learning rate as
the supernet, one mask per step) for each seed, then evaluated on the validation and test splits.
One CSV row per (mask, seed). The CSV is the checkpoint of the whole job: a restarted job skips
the pairs already written, and each training resumes from its own per-epoch checkpoint, so a kill
loses at most one epoch per worker.

From the table (:func:`ranking_report`): exact Kendall tau and NDCG@5 of any ranking (the
supernet's shared-weight validation metric, the prior's scores, MFLOPs) against the stand-alone
validation metric averaged over seeds; and a method's **regret**, the stand-alone test metric of
its pick minus that of the best stand-alone mask (chosen on validation, never on test).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from mro_core.procs import exclusive, worker_pool
from mro_core.rowlog import RowLog, pending, read_rows

log = logging.getLogger(__name__)

METRIC_KEYS = ("loss", "mae", "corr", "acc7", "acc2", "f1", "acc")


@dataclass(frozen=True)
class GroundTruthJob:
    """What to train: a data spec (``mro_core.data.load_dataset`` arguments), the model and
    training configs as dicts (``mro_core.config.to_dict``), where checkpoints go."""

    data: dict
    model: dict
    train: dict
    workdir: str


def _load(job: GroundTruthJob):
    from mro_core.config import ModelConfig, SyntheticConfig, TrainConfig, from_dict
    from mro_core.data import load_dataset

    d = dict(job.data)
    syn = from_dict(SyntheticConfig, d.pop("synthetic")) if d.get("synthetic") else None
    ds = load_dataset(d.pop("name"), d.pop("data_path", None), synthetic=syn, **d)
    return ds, from_dict(ModelConfig, job.model), from_dict(TrainConfig, job.train)


def train_one(job: GroundTruthJob, mask_bits: str, seed: int, threads: int = 1) -> dict:
    """Train ``mask_bits`` alone with ``seed``; its validation and test metrics as one row."""
    import torch

    from mro_core.model.flops import flops_table
    from mro_core.paths import PathSpace
    from mro_core.training.train import evaluate_masks, resolve_device, train_supernet

    torch.set_num_threads(threads)
    ds, model_cfg, tcfg = _load(job)
    tcfg = replace(tcfg, seed=seed, masks_per_step=1)
    space = PathSpace(model_cfg.modalities)
    mask = space.parse(mask_bits)
    out = Path(job.workdir) / f"alone-{mask_bits}-s{seed}.pt"
    t0 = time.perf_counter()
    ck = train_supernet(ds, model_cfg, tcfg, out=out, fixed_mask=mask, table=False, progress=False, resume=True)
    from mro_core.training.checkpoint import build_model

    device = resolve_device(tcfg.device)
    model = build_model(ck).to(device).eval()
    row: dict[str, Any] = {"mask": mask_bits, "seed": seed, "paths": sum(mask), "epochs": tcfg.epochs}
    for split in ("valid", "test"):
        r = evaluate_masks(model, ds.splits[split], [mask], batch_size=tcfg.eval_batch_size, device=device)[0]
        row.update({f"{split}_{k}": r[k] for k in METRIC_KEYS if k in r})
    row["mflops"] = flops_table(model.cpu(), ds.seq_lens, [mask])["mflops"][mask_bits]
    row["seconds"] = round(time.perf_counter() - t0, 2)
    out.unlink(missing_ok=True)  # the CSV row is the record; the weights are not needed again
    return row


def run_ground_truth(job: GroundTruthJob, masks: Sequence[str], seeds: Sequence[int], out: str | Path,
                     *, workers: int = 1) -> list[dict]:
    """Train every (mask, seed) not yet in ``out`` and append its row; returns all rows.

    Workers are separate processes (spawned, one torch thread each); the parent alone writes the
    CSV, one flushed line per finished pair, so the file is always a valid partial table.
    """
    out = Path(out)
    Path(job.workdir).mkdir(parents=True, exist_ok=True)
    what = f"a ground truth into {out}"
    # one job per table and per workdir (its checkpoints are named by mask and seed only)
    with exclusive(out.with_name(f".{out.name}.lock"), what), \
            exclusive(Path(job.workdir) / ".ground_truth.lock", f"a ground truth in {job.workdir}"):
        todo = pending(out, [(m, s) for s in seeds for m in masks], _key)
        log.info("ground truth: %d of %d (mask, seed) pairs to train", len(todo), len(masks) * len(seeds))
        with RowLog(out, _key) as rows:
            if workers <= 1:
                for m, s in todo:
                    rows.write(train_one(job, m, s))
            else:
                with worker_pool(workers) as pool:
                    futs = [pool.submit(train_one, job, m, s) for m, s in todo]
                    for fut in as_completed(futs):
                        rows.write(fut.result())
    return read_rows(out, _key)


def _key(r: Mapping[str, Any]) -> tuple[str, int]:
    return (str(r["mask"]), int(r["seed"]))


# ------------------------------------------------------------------------------------ analysis
def mean_by_mask(rows: Sequence[Mapping], key: str) -> dict[str, float]:
    """Mean of column ``key`` over seeds, per mask."""
    acc: dict[str, list[float]] = {}
    for r in rows:
        acc.setdefault(str(r["mask"]), []).append(float(r[key]))
    return {m: float(np.mean(v)) for m, v in acc.items()}


def ndcg_at(pred_goodness: Mapping[str, float], true_goodness: Mapping[str, float], n: int = 5) -> float:
    """NDCG@n of the order given by ``pred_goodness`` (higher = better) with graded relevance
    from ``true_goodness`` (scikit-learn's ``ndcg_score``; relevances shifted to be >= 0)."""
    from sklearn.metrics import ndcg_score

    masks = sorted(set(pred_goodness) & set(true_goodness))
    t = np.array([true_goodness[m] for m in masks])
    p = np.array([pred_goodness[m] for m in masks])
    return float(ndcg_score((t - t.min())[None], p[None], k=n))


def ranking_report(truth_valid: Mapping[str, float], rankers: Mapping[str, Mapping[str, float]],
                   *, higher_is_better: bool, n: int = 5) -> dict[str, dict]:
    """Kendall tau and NDCG@n of each ranker against the stand-alone validation metric.

    Args:
        truth_valid: stand-alone validation metric per mask (mean over seeds).
        rankers: name -> {mask: score}, each score already oriented so higher = predicted better.
        higher_is_better: orientation of ``truth_valid``.
    """
    from mro_core.metrics import kendall

    sign = 1.0 if higher_is_better else -1.0
    good = {m: sign * v for m, v in truth_valid.items()}
    out = {}
    for name, scores in rankers.items():
        masks = sorted(set(scores) & set(good))
        out[name] = {"kendall_tau": kendall([scores[m] for m in masks], [good[m] for m in masks]),
                     f"ndcg@{n}": ndcg_at(scores, good, n), "masks": len(masks)}
    return out


def regret(rows: Sequence[Mapping], pick: str, metric: str = "mae", higher_is_better: bool = False) -> float:
    """Stand-alone test ``metric`` of ``pick`` minus that of the best stand-alone mask, the best
    being chosen by the stand-alone VALIDATION metric (means over seeds). >= 0 when the pick is
    worse; can be < 0 when validation and test disagree."""
    valid = mean_by_mask(rows, f"valid_{metric}")
    test = mean_by_mask(rows, f"test_{metric}")
    best = (max if higher_is_better else min)(valid, key=valid.get)
    d = test[pick] - test[best]
    return float(-d if higher_is_better else d)
