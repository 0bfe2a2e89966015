"""Selection of a search: which masks are evaluated (candidates), the shared-weight evaluation of
an epoch (validation metrics, MFLOPs, prior scores, the picks and the prior's rank agreement), and
the final picks with their test metrics and the Pareto front.

Split from :mod:`mro_core.search.run` (which re-exports every name here) so that the search module
holds the training loop and this one what is done with the trained supernet. Candidate sets per
method (``SearchConfig.ablation``): all masks at k <= 4; at k >= 5 the single-path masks and the
full mask plus, for guided methods, the prior's most probable masks and the epoch's sampled ones,
for the unguided ones the same budget of uniform draws (random search: uniform over the path count).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mro_core import metrics as M
from mro_core.config import GUIDED, HAS_PRIOR, SearchConfig, TrainConfig
from mro_core.data.base import MultimodalDataset
from mro_core.model.flops import mask_flops
from mro_core.model.supernet import Supernet
from mro_core.pareto import pareto_front, select_picks
from mro_core.paths import MAX_EXHAUSTIVE_MASKS, Mask, PathSpace
from mro_core.search.prior import inclusion_probs, prior_score, top_masks
from mro_core.search.ranking import spearman_rho
from mro_core.training.train import evaluate_masks, sample_uniform_masks

EVAL_SET_SEED = 20261201
"""Seed of the fixed mask sample of the per-epoch rank measure at k >= 5 (the same for every run
and method, so the figure is comparable between them)."""


@dataclass
class SearchResult:
    """What a finished search reports (also stored as the run's result)."""

    picks: dict[str, dict]
    pareto: list[dict]
    rows: list[dict]
    history: list[dict]
    checkpoint: str
    finetune: dict | None = None
    flops_meta: dict | None = None
    first_hit: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"picks": self.picks, "pareto": self.pareto, "history": self.history,
                "checkpoint": self.checkpoint, "finetune": self.finetune, "first_hit": self.first_hit}


@dataclass
class Selection:
    """One evaluation of the candidates: rows (valid metrics, MFLOPs, prior score), picks, the
    prior's mode and its rank agreement on the fixed mask set."""

    rows: list[dict]
    candidates: list[str]
    picks: dict[str, dict]
    prior_mode: str | None
    rank: dict


def fixed_eval_masks(space: PathSpace, n: int) -> list[Mask]:
    """The rank measure's mask set: all masks at k <= 4, else ``n`` distinct masks drawn with a
    fixed seed (:data:`EVAL_SET_SEED`), the same for every run."""
    if space.num_masks <= MAX_EXHAUSTIVE_MASKS:
        return space.all_masks()
    rng = np.random.default_rng(EVAL_SET_SEED)
    seen: dict[Mask, None] = {}
    while len(seen) < n:
        seen.setdefault(sample_uniform_masks(space, 1, rng)[0])
    return list(seen)


def sample_by_path_count(space: PathSpace, n: int, rng: np.random.Generator) -> list[Mask]:
    """Random search's draws: a path count uniform over 1..P, then a subset of that size."""
    P = space.num_paths
    out = []
    for _ in range(n):
        c = int(rng.integers(1, P + 1))
        on = set(rng.choice(P, size=c, replace=False).tolist())
        out.append(tuple(int(i in on) for i in range(P)))
    return out


def candidate_masks(space: PathSpace, pi: torch.Tensor | None, sampled: list[Mask], cfg: SearchConfig,
                    rng: np.random.Generator, per_epoch: int) -> list[Mask]:
    """All masks when there are <= 4096. Otherwise the single-path masks and the full mask, plus:
    guided methods, the prior's ``top_n`` most probable masks and the epoch's sampled masks; the
    unguided ones, ``top_n + per_epoch`` uniform draws (random search: uniform over the path
    count), the same budget."""
    if space.num_masks <= MAX_EXHAUSTIVE_MASKS:
        return space.all_masks()
    seen = dict.fromkeys([*space.iter_single_path_masks(), space.full_mask()])
    if cfg.ablation in GUIDED and pi is not None:
        seen.update(dict.fromkeys(top_masks(pi, cfg.top_n)))
        seen.update(dict.fromkeys(sampled))
    elif cfg.ablation == "random_search":
        seen.update(dict.fromkeys(sample_by_path_count(space, cfg.top_n + per_epoch, rng)))
    else:
        seen.update(dict.fromkeys(sample_uniform_masks(space, cfg.top_n + per_epoch, rng)))
    return list(seen)


def sampling_probs(p: torch.Tensor, space: PathSpace, cfg: SearchConfig) -> torch.Tensor:
    """Per-path inclusion probabilities of the prior's mask distribution (``(P,)``)."""
    return inclusion_probs(p.detach().cpu().double(), space.k, cfg.rho, cfg.eps, mode=cfg.inclusion,
                           top=cfg.top_inclusion)


def prior_mode(p: torch.Tensor, space: PathSpace, cfg: SearchConfig) -> Mask:
    """The most likely non-empty mask under the prior's sampling distribution."""
    return top_masks(sampling_probs(p, space, cfg), 1)[0]


def evaluate_epoch(model: Supernet, p: torch.Tensor, ds: MultimodalDataset, train_cfg: TrainConfig,
                   cfg: SearchConfig, device: torch.device, parts: dict, sampled: list[Mask],
                   eval_set: list[Mask], *, rng_seed: int, per_epoch: int) -> Selection:
    """Shared-weight validation metrics of the candidates and the rank set, in one pass of path
    features (``evaluate_masks``); the picks among the candidates."""
    space = model.space
    has_prior = cfg.ablation in HAS_PRIOR
    pi = sampling_probs(p, space, cfg) if has_prior else None
    cands = candidate_masks(space, pi, sampled, cfg, np.random.default_rng(rng_seed), per_epoch)
    mode = prior_mode(p, space, cfg) if has_prior else None
    extra = [m for m in dict.fromkeys([*eval_set, *([mode] if mode else [])]) if m not in set(cands)]
    masks = cands + extra
    rows = evaluate_masks(model, ds.splits["valid"], masks, batch_size=train_cfg.eval_batch_size, device=device)
    scores = prior_score(p, masks).tolist()
    for r, m, sc in zip(rows, masks, scores):
        r["mflops"] = mask_flops(space, parts, m) / 1e6
        r["paths"] = sum(m)
        r["prior_score"] = float(sc)
    by_mask = {r["mask"]: r for r in rows}
    metric, hib = M.primary_metric(ds.task)
    cand_bits = [PathSpace.to_bits(m) for m in cands]
    mode_bits = PathSpace.to_bits(mode) if mode else None
    picks = select_picks([by_mask[b] for b in cand_bits], metric, hib, budget_mflops=cfg.budget_mflops)
    if mode_bits:
        picks["prior"] = dict(by_mask[mode_bits])
    rank: dict = {}
    if has_prior:
        ev = [by_mask[PathSpace.to_bits(m)] for m in eval_set]
        sc, ls = [r["prior_score"] for r in ev], [r["loss"] for r in ev]
        rank = {"spearman": spearman_rho(sc, ls), "kendall": M.kendall(sc, [-x for x in ls]), "masks": len(ev)}
    return Selection(rows, cand_bits, picks, mode_bits, rank)


def finish_selection(model: Supernet, sel: Selection, ds: MultimodalDataset, train_cfg: TrainConfig,
                     device: torch.device) -> SearchResult:
    """The final picks with their TEST metrics, the Pareto front of the candidates."""
    space = model.space
    metric, hib = M.primary_metric(ds.task)
    picks = {k: dict(v) for k, v in sel.picks.items()}
    chosen = sorted({v["mask"] for v in picks.values() if "mask" in v})
    test_rows = evaluate_masks(model, ds.splits["test"], [space.parse(m) for m in chosen],
                               batch_size=train_cfg.eval_batch_size, device=device)
    by_mask = {r["mask"]: {k: v for k, v in r.items() if k != "mask"} for r in test_rows}
    for v in picks.values():
        if "mask" in v:
            v["test"] = by_mask[v["mask"]]
            v["paths"] = list(space.active_names(space.parse(v["mask"])))
    cand = set(sel.candidates)
    front = pareto_front([r for r in sel.rows if r["mask"] in cand], metric, hib).front
    return SearchResult(picks, front, sel.rows, [], "")


__all__ = [
    "EVAL_SET_SEED",
    "SearchResult",
    "Selection",
    "candidate_masks",
    "evaluate_epoch",
    "finish_selection",
    "fixed_eval_masks",
    "prior_mode",
    "sample_by_path_count",
    "sampling_probs",
]
