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

from dataclasses import dataclass, field
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
from mro_core.search.prior import inclusion_probs, mask_scores, top_masks
from mro_core.search.ranking import spearman_rho
from mro_core.training.train import evaluate_masks, predict_masks, sample_uniform_masks

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
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"picks": self.picks, "pareto": self.pareto, "history": self.history,
                "checkpoint": self.checkpoint, "finetune": self.finetune, "first_hit": self.first_hit,
                "warnings": self.warnings}


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


PER_COUNT = 4
"""k >= 5: masks per path count added to every candidate set (half the prior's most probable masks
with exactly that many paths, half uniform ones), so that each count 1..P is represented and the
knee and budget picks choose among cheap masks too, not only among the single paths."""


def top_masks_with_count(pi: torch.Tensor, c: int, n: int) -> list[Mask]:
    """Probable masks with exactly ``c`` paths under independent bits ``pi``, best first: with the
    count fixed, a mask's probability orders as the sum of its bits' logits, so the most probable
    is the c highest-logit paths, followed by its cheapest single swaps (exactly the ``n`` most
    probable for n <= 3, since a double swap costs more than each of its two swaps)."""
    q = pi.detach().double().cpu().clamp(1e-12, 1 - 1e-12)
    logit = torch.log(q / (1 - q)).tolist()
    P = len(logit)
    order = sorted(range(P), key=lambda i: (-logit[i], i))
    on, off = order[:c], order[c:]
    out: list[Mask] = [tuple(int(i in set(on)) for i in range(P))]
    swaps = sorted(((logit[a] - logit[b], a, b) for a in on for b in off), key=lambda t: (t[0], t[1], t[2]))
    for _, a, b in swaps[: max(n - 1, 0)]:
        chosen = (set(on) - {a}) | {b}
        out.append(tuple(int(i in chosen) for i in range(P)))
    return out[:n]


def masks_per_count(space: PathSpace, pi: torch.Tensor | None, rng: np.random.Generator,
                    per_count: int = PER_COUNT) -> list[Mask]:
    """For every path count c = 1..P: ``per_count // 2`` of the prior's most probable masks with c
    paths (none without a prior) and the rest uniform subsets of size c (seeded by ``rng``)."""
    P = space.num_paths
    out: list[Mask] = []
    n_prior = per_count // 2 if pi is not None else 0
    for c in range(1, P + 1):
        if n_prior:
            out.extend(top_masks_with_count(pi, c, n_prior))
        for _ in range(per_count - n_prior):
            on = set(rng.choice(P, size=c, replace=False).tolist())
            out.append(tuple(int(i in on) for i in range(P)))
    return out


def sample_masks_stratified(space: PathSpace, n: int, seed: int = 0) -> list[Mask]:
    """``n`` distinct random masks, stratified over the path count: the counts 1..P share ``n`` as
    evenly as their sizes allow (the remainder goes to counts drawn at random; a count with fewer
    masks than its share gives them all and passes the rest on), each count's masks uniform
    subsets of that size. Seeded (``seed``): the same call gives the same masks. ``mro eval
    --sample-masks N`` for when all masks are too many.

    Raises:
        ValueError: ``n`` < 1.
    """
    from itertools import combinations
    from math import comb

    if n < 1:
        raise ValueError(f"the number of masks to sample must be >= 1 (got {n})")
    P = space.num_paths
    rng = np.random.default_rng(seed)
    sizes = {c: comb(P, c) for c in range(1, P + 1)}
    share = dict.fromkeys(sizes, 0)
    left, open_ = min(n, sum(sizes.values())), [c for c in sizes]
    while left > 0 and open_:
        base, extra = divmod(left, len(open_))
        lucky = set(rng.choice(open_, size=extra, replace=False).tolist()) if extra else set()
        for c in list(open_):
            add = min(base + (c in lucky), sizes[c] - share[c])
            share[c] += add
            left -= add
            if share[c] == sizes[c]:
                open_.remove(c)
    out: list[Mask] = []
    for c in sizes:
        if 2 * share[c] >= sizes[c]:  # most of the count: enumerate it (share <= n, so it is small)
            every = [tuple(int(i in on) for i in range(P)) for on in map(set, combinations(range(P), c))]
            out.extend(every[i] for i in sorted(rng.choice(len(every), size=share[c], replace=False).tolist()))
            continue
        seen: dict[Mask, None] = {}
        while len(seen) < share[c]:
            on = set(rng.choice(P, size=c, replace=False).tolist())
            seen.setdefault(tuple(int(i in on) for i in range(P)))
        out.extend(seen)
    return out


def candidate_masks(space: PathSpace, pi: torch.Tensor | None, sampled: list[Mask], cfg: SearchConfig,
                    rng: np.random.Generator, per_epoch: int) -> list[Mask]:
    """All masks when there are <= 4096. Otherwise the single-path masks and the full mask, plus:
    guided methods, the prior's ``top_n`` most probable masks and the epoch's sampled masks; the
    unguided ones, ``top_n + per_epoch`` uniform draws (random search: uniform over the path
    count), the same budget; and for every method :func:`masks_per_count` (every path count
    covered; the prior's share for guided methods), drawn from its own stream after the rest."""
    if space.num_masks <= MAX_EXHAUSTIVE_MASKS:
        return space.all_masks()
    seen = dict.fromkeys([*space.iter_single_path_masks(), space.full_mask()])
    guided = cfg.ablation in GUIDED and pi is not None
    if guided:
        seen.update(dict.fromkeys(top_masks(pi, cfg.top_n)))
        seen.update(dict.fromkeys(sampled))
    elif cfg.ablation == "random_search":
        seen.update(dict.fromkeys(sample_by_path_count(space, cfg.top_n + per_epoch, rng)))
    else:
        seen.update(dict.fromkeys(sample_uniform_masks(space, cfg.top_n + per_epoch, rng)))
    count_rng = np.random.default_rng(int(rng.integers(2**63)))  # after the draws above: they stay as before
    seen.update(dict.fromkeys(masks_per_count(space, pi if guided else None, count_rng)))
    return list(seen)


def per_sample_metric(task: str, out: np.ndarray, labels: np.ndarray, out_dim: int) -> np.ndarray:
    """Each sample's share of the primary metric ``(N,)``: ``|pred - label|`` for regression (their
    mean is the MAE), 1/0 correct for classification (their mean is the accuracy)."""
    if task == "regression":
        return np.abs(out[:, 0].astype(np.float64) - np.asarray(labels, dtype=np.float64).reshape(-1))
    return (out[:, :out_dim].argmax(1) == np.asarray(labels).reshape(-1).astype(np.int64)).astype(np.float64)


def metric_standard_error(model: Supernet, split: Any, mask: Mask, *, batch_size: int,
                          device: torch.device) -> float:
    """Standard error of one mask's primary metric over the split's samples: the standard deviation
    of the per-sample values (:func:`per_sample_metric`) over sqrt(N), ``scipy.stats.sem`` (ddof 1)."""
    from scipy.stats import sem

    out = predict_masks(model, split, [mask], batch_size=batch_size, device=device)[0]
    vals = per_sample_metric(model.cfg.task, out, split.labels, model.cfg.out_dim)
    return float(sem(vals)) if len(vals) > 1 else 0.0


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
    scores = mask_scores(p, masks, cfg.inclusion).tolist()
    for r, m, sc in zip(rows, masks, scores):
        r["mflops"] = mask_flops(space, parts, m) / 1e6
        r["paths"] = sum(m)
        r["prior_score"] = float(sc)
    by_mask = {r["mask"]: r for r in rows}
    metric, hib = M.primary_metric(ds.task)
    cand_bits = [PathSpace.to_bits(m) for m in cands]
    mode_bits = PathSpace.to_bits(mode) if mode else None
    cand_rows = [by_mask[b] for b in cand_bits]
    best = select_picks(cand_rows, metric, hib)["best"]
    se = metric_standard_error(model, ds.splits["valid"], space.parse(best["mask"]),
                               batch_size=train_cfg.eval_batch_size, device=device)
    picks = select_picks(cand_rows, metric, hib, budget_mflops=cfg.budget_mflops, best_se=se)
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
    "masks_per_count",
    "metric_standard_error",
    "per_sample_metric",
    "prior_mode",
    "sample_by_path_count",
    "sample_masks_stratified",
    "sampling_probs",
    "top_masks_with_count",
]
