"""Supernet quality: does the shared-weight ranking of masks agree with stand-alone training?

The one-shot idea stands or falls on this: weight-sharing supernets often rank architectures
poorly (near-zero Kendall tau in a 32-architecture space in Yu et al., ICLR 2020). We train each
mask of a set alone (same data, epochs and seed as the supernet), evaluate it on the validation
split, and report Kendall tau between the shared-weight metric and the stand-alone metric, next to
the tau of two trivial rankers that need no training at all (by MFLOPs, by path count). A supernet
that does not beat them is not telling you anything about its masks.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from mro_core import metrics as M
from mro_core.training.checkpoint import Checkpoint, dataset_for
from mro_core.paths import Mask, PathSpace
from mro_core.training.train import train_supernet

log = logging.getLogger(__name__)


def default_mask_set(space: PathSpace, planted: Sequence[str] | None, n: int, rng: np.random.Generator) -> list[Mask]:
    """A varied set of ``n`` masks: the single-path masks, the full mask, the planted mask and
    each planted-minus-one (when known), then random masks until there are ``n``."""
    chosen: list[Mask] = list(space.iter_single_path_masks()) + [space.full_mask()]
    if planted:
        pm = space.parse(list(planted))
        chosen.append(pm)
        for i, b in enumerate(pm):
            if b and sum(pm) > 1:
                chosen.append(tuple(0 if j == i else v for j, v in enumerate(pm)))
    seen = list(dict.fromkeys(chosen))
    while len(seen) < n and len(seen) < space.num_masks:
        m = tuple(int(x) for x in rng.integers(0, 2, space.num_paths))
        if any(m) and m not in seen:
            seen.append(m)
    return seen[:max(n, 2)]


def supernet_quality(
    ckpt: Checkpoint,
    *,
    masks: Sequence[Mask] | None = None,
    n_masks: int = 12,
    epochs: int | None = None,
    workdir: str | Path,
    data_path: str | None = None,
    dataset: str | None = None,
    progress: bool = False,
) -> dict:
    """Train each mask alone and compare rankings (see the module docstring).

    Returns:
        ``{"masks": [{mask, shared, standalone, mflops, paths}], "metric", "kendall_tau",
        "spearman_rho", "tau_by_mflops", "tau_by_path_count", "epochs"}``.
    """
    if not ckpt.mask_table:
        raise ValueError("the checkpoint has no per-mask table; it must come from `mro train` or `mro search`")
    ds = dataset_for(ckpt, data_path, dataset)
    space = PathSpace(ckpt.model_config.modalities)
    table = {r["mask"]: r for r in ckpt.mask_table}
    rng = np.random.default_rng(ckpt.train_config.seed)
    masks = list(masks) if masks else default_mask_set(space, ds.planted_paths, n_masks, rng)
    masks = [m for m in masks if PathSpace.to_bits(m) in table]
    if len(masks) < 3:
        raise ValueError("need at least 3 masks present in the checkpoint's table")
    metric, hib = M.primary_metric(ckpt.model_config.task)
    tcfg = replace(ckpt.train_config, epochs=epochs or ckpt.train_config.epochs)
    workdir = Path(workdir)
    rows = []
    for m in masks:
        bits = PathSpace.to_bits(m)
        log.info("stand-alone training of %s (%d epochs)", bits, tcfg.epochs)
        alone = train_supernet(ds, ckpt.model_config, tcfg, out=workdir / f"alone-{bits}.pt", fixed_mask=m,
                               table=False, progress=progress)
        rows.append({"mask": bits, "paths": sum(m), "mflops": table[bits]["mflops"],
                     "shared": table[bits][metric], "standalone": alone.history[-1][f"valid_{metric}"]})
    sign = 1.0 if hib else -1.0  # rank correlations on "goodness"
    shared = [sign * r["shared"] for r in rows]
    alone = [sign * r["standalone"] for r in rows]
    return {
        "metric": metric,
        "higher_is_better": hib,
        "epochs": tcfg.epochs,
        "masks": rows,
        "kendall_tau": M.kendall(shared, alone),
        "spearman_rho": M.spearman(shared, alone),
        # trivial rankers: more compute / more paths = better
        "tau_by_mflops": M.kendall([r["mflops"] for r in rows], alone),
        "tau_by_path_count": M.kendall([r["paths"] for r in rows], alone),
    }
