"""The MRO search, the paper's Table 1: prior-guided one-shot NAS with rank regularization.

Per epoch:

1. Sample n masks per step: uniformly over non-empty masks during the warm-up epochs (and
   throughout in the ``no_prior_guidance`` ablation), afterwards from the prior's mask
   distribution (``mro_core.prior.sample_prior_masks``) computed from the previous epoch's edge
   statistics.
2. Per step: per-mask task losses through shared path vectors; the objective is
   ``sum(losses) + rank_weight * R`` with R the rank regularizer (``mro_core.ranking``): the
   paper's pairwise hinge with the prior detached (trains the supernet) and a differentiable
   surrogate of Eq. (2) with the losses detached (trains alpha, beta, gamma and the GAT),
   per ``rank_target``. Gradient norms of the active paths feed the statistics.
3. ``update_prior``: refresh the statistics (cos, attention variance on held batches, gradient
   variance from the steps), keep the learned parameters, log p, the statistics, alpha/beta/gamma,
   the epoch's hard rank loss and Spearman rho to the run store, checkpoint atomically.

After the last epoch, selection: shared-weight evaluation of all masks (<= 4096) or of the
sampled masks plus the prior's most likely masks, the Pareto front of (validation metric,
MFLOPs), and the picks of :mod:`mro_core.pareto`; optionally a stand-alone fine-tune of a pick.

Ablations (Table 5): ``no_prior_guidance`` (uniform sampling throughout, prior still learned and
reported), ``no_mrg_prior`` (a learnable per-path logit prior instead of the graph, rank
regularization kept), ``no_rank_reg`` (MRG prior, no rank loss: alpha/beta/gamma and the GAT stay
at their initial values, the prior moves only with the statistics).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from mro_core import metrics as M
from mro_core.checkpoint import Checkpoint, check_compatible, load_checkpoint, save_checkpoint
from mro_core.cancel import JobCancelled
from mro_core.config import ModelConfig, SearchConfig, TrainConfig, to_dict
from mro_core.data.base import MultimodalDataset, iter_batches
from mro_core.flops import flops_table
from mro_core.model.supernet import Supernet
from mro_core.pareto import pareto_front, select_picks
from mro_core.paths import MAX_EXHAUSTIVE_MASKS, Mask, PathSpace
from mro_core.prior import (
    EdgeStats,
    LogitPrior,
    MRGPrior,
    PathPrior,
    inclusion_probs,
    prior_score,
    sample_prior_masks,
)
from mro_core.ranking import RunningMaskLoss, hard_rank_loss, rank_regularizer, spearman_rho
from mro_core.train import (
    evaluate_masks,
    make_optimizer,
    optimizer_to,
    resolve_device,
    restore_rng,
    rng_state,
    run_epoch,
    sample_uniform_masks,
    train_supernet,
    valid_summary,
)

log = logging.getLogger(__name__)

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

    def to_dict(self) -> dict[str, Any]:
        return {"picks": self.picks, "pareto": self.pareto, "history": self.history,
                "checkpoint": self.checkpoint, "finetune": self.finetune}


def build_prior(space: PathSpace, cfg: SearchConfig, seed: int) -> PathPrior:
    """The MRG prior, or the per-path logit prior of the ``no_mrg_prior`` ablation."""
    if cfg.ablation == "no_mrg_prior":
        return LogitPrior(space)
    torch.manual_seed(seed)
    return MRGPrior(space)


# ------------------------------------------------------------------------------------ the loop
def run_search(
    ds: MultimodalDataset,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    cfg: SearchConfig,
    *,
    out: str | Path,
    data_desc: dict | None = None,
    store: Any = None,
    run_id: str | None = None,
    resume: bool = False,
    progress: bool = False,
    on_epoch: Callable[[dict], None] | None = None,
    distributed: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> SearchResult | None:
    """Run (or resume) a search; checkpoint each epoch to ``out``; report to ``store`` if given.

    Args:
        store: a :class:`mro_core.store.RunStore` (or None); only it links the job to the UIs.
        resume: continue from ``out`` when it exists (same RNG streams: the result equals an
            uninterrupted run with the same seed).
        distributed: one rank of a torchrun job: the supernet in DDP, a DistributedSampler shard
            per rank (``batch_size`` is global), the prior's gradients averaged over ranks with
            ``all_reduce``; every rank samples the same masks. Rank 0 alone writes the store and
            checkpoints and runs the selection; the other ranks return None.
        should_stop: asked between steps and after each saved epoch; True stops the search with
            :class:`~mro_core.cancel.JobCancelled` (the job side passes its SIGTERM flag, so the
            search knows nothing about processes).

    Raises:
        JobCancelled: when ``should_stop()`` turns true (the job side passes its SIGTERM flag), at the next
            step; the last finished epoch's checkpoint is on disk, so a resume loses nothing.
    """
    from mro_core import distributed as dist_

    out = Path(out)
    ctx, device = dist_.setup(resolve_device(train_cfg.device), enabled=distributed, batch_size=train_cfg.batch_size)
    if not ctx.is_main:
        store = None
    space = PathSpace(model_cfg.modalities)
    torch.manual_seed(train_cfg.seed)
    rng = np.random.default_rng(train_cfg.seed)
    model = Supernet(model_cfg)
    prior = build_prior(space, cfg, train_cfg.seed)
    stats = EdgeStats(space)
    running = RunningMaskLoss()
    optimizer = make_optimizer(model, train_cfg)
    optimizer.add_param_group({"params": list(prior.parameters()), "lr": cfg.prior_lr, "weight_decay": 0.0})
    ckpt = Checkpoint(model_cfg, train_cfg, {}, data=data_desc or {},
                      extra={"search_config": to_dict(cfg), "run_id": run_id, "kind": "search"})
    z_prev = torch.zeros(space.num_paths, 3)
    history: list[dict] = []
    if resume and out.exists():
        prev = load_checkpoint(out)
        check_compatible(prev.model_config, ds.modalities, ds.input_dims, ds.task)
        if prev.extra.get("search_config") != to_dict(cfg) or to_dict(prev.model_config) != to_dict(model_cfg):
            raise ValueError(f"cannot resume: {out} was written by a search with other settings")
        model.load_state_dict(prev.state_dict)
        optimizer.load_state_dict(prev.optimizer)
        restore_rng(rng, prev.rng)
        ps = prev.prior or {}
        prior.load_state_dict(ps["state"])
        stats.load_state_dict(ps["stats_state"])
        running.load_state_dict(ps["running"])
        z_prev = ps["z_prev"].float()
        history = list(prev.history)
        ckpt.epoch = prev.epoch
        log.info("resuming search %s after epoch %d", out, prev.epoch)
    model.to(device)
    prior.to(device)
    optimizer_to(optimizer, device)

    split = ds.splits["train"]
    runner = dist_.wrap_ddp(model, ctx, device) if ctx.enabled else model
    rank_cfg = replace(train_cfg, batch_size=train_cfg.batch_size // ctx.world_size)
    use_rank = cfg.ablation != "no_rank_reg"
    if ckpt.epoch == 0:  # initial prior: statistics of the untrained model on a few batches
        _record_static_stats(model, ds, stats, cfg, device)
        z_prev = stats.normalised().float()

    def save(epoch_done: int) -> None:
        if not ctx.is_main:
            return
        ckpt.epoch = epoch_done
        ckpt.history = history
        ckpt.state_dict = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        ckpt.optimizer = optimizer.state_dict()
        ckpt.rng = rng_state(rng)
        ckpt.prior = _prior_payload(prior, stats, running, z_prev, history)
        save_checkpoint(ckpt, out)

    # SIGTERM is handled by the caller, which passes `should_stop`; checked between steps
    for epoch in range(ckpt.epoch, train_cfg.epochs):
        t0 = time.perf_counter()
        guided = epoch >= cfg.warmup_epochs and cfg.ablation != "no_prior_guidance"
        p_now = prior.probs(z_prev.to(device)).detach().cpu()
        step_hard, step_rho = [], []

        def sample(n: int) -> list[Mask]:
            if should_stop is not None and should_stop():
                raise JobCancelled("cancelled by SIGTERM; resume continues after the last saved epoch")
            if guided:
                return sample_prior_masks(p_now, n, rng, rho=cfg.rho, eps=cfg.eps)
            return sample_uniform_masks(space, n, rng)

        def extra_loss(losses: torch.Tensor, masks: list[Mask]) -> torch.Tensor:
            scores = prior_score(prior.probs(z_prev.to(device)), masks)
            targets = running.update(masks, losses.detach().cpu().numpy())
            step_hard.append(hard_rank_loss(scores.detach().cpu(), targets, cfg.rank_loss))
            step_rho.append(spearman_rho(scores.detach().cpu(), targets))
            if not use_rank:
                return losses.sum() * 0.0
            reg = rank_regularizer(losses, scores, torch.as_tensor(targets, dtype=torch.float32),
                                   loss=cfg.rank_loss, target=cfg.rank_target, temperature=cfg.temperature)
            return cfg.rank_weight * reg

        def after_backward(masks: list[Mask]) -> None:
            if ctx.enabled:  # DDP averaged the supernet's gradients; the prior is ours to average
                import torch.distributed as tdist

                for q in prior.parameters():
                    if q.grad is not None:
                        tdist.all_reduce(q.grad)
                        q.grad /= ctx.world_size
            stats.record_grad_norms(model, {i for m in masks for i, b in enumerate(m) if b})

        def on_step(step: int, total: int, masks: list[Mask], losses: np.ndarray) -> None:
            if store is not None and run_id is not None and step % 10 == 0:
                store.heartbeat(run_id, epoch=epoch, progress=(epoch + (step + 1) / total) / train_cfg.epochs)

        stats.reset(keep_grad_history=True)
        shard = dist_.shard_indices(len(split), ctx, seed=train_cfg.seed, epoch=epoch) if ctx.enabled else None
        loss = run_epoch(runner, split, optimizer, rank_cfg, rng, device=device, sample_masks=sample, indices=shard,
                         extra_loss=extra_loss, on_step=on_step, after_backward=after_backward)
        # update_prior: refresh the statistics from this epoch's model, keep learned parameters
        _record_static_stats(model, ds, stats, cfg, device)
        z_prev = stats.normalised().float()
        valid = valid_summary(model, ds, train_cfg, device)
        rec = prior.to_record(stats)
        event = {
            "epoch": epoch + 1, "train_loss": loss, "valid_loss": valid.get("loss"),
            "valid": valid, "sampling": "prior" if guided else "uniform",
            "hard_rank": float(np.mean(step_hard)) if step_hard else None,
            "spearman": float(np.mean(step_rho)) if step_rho else None,
            "p": rec["p"], "alpha": rec.get("alpha"), "beta": rec.get("beta"), "gamma": rec.get("gamma"),
            "stats": rec.get("raw") or {}, "rho": cfg.rho, "seconds": time.perf_counter() - t0,
        }
        history.append(event)
        save(epoch + 1)
        if store is not None and run_id is not None:
            store.log_event(run_id, "epoch", epoch + 1, event)
            store.heartbeat(run_id, epoch=epoch + 1, progress=(epoch + 1) / train_cfg.epochs)
        log.info("epoch %d/%d (%s): loss %.4f, valid %.4f, rho %.3f", epoch + 1, train_cfg.epochs,
                 event["sampling"], loss, valid.get("loss", float("nan")), event["spearman"] or 0.0)
        if on_epoch is not None:
            on_epoch(event)
        if should_stop is not None and should_stop():
            raise JobCancelled(f"cancelled by SIGTERM after epoch {epoch + 1} (saved)")

    dist_.barrier(ctx)
    if not ctx.is_main:
        dist_.shutdown(ctx)
        return None
    result = select(model, prior, stats, z_prev, ds, train_cfg, cfg, device, running)
    if cfg.finetune_epochs > 0:
        result.finetune = finetune_pick(ds, model_cfg, train_cfg, cfg, result.picks, out, data_desc)
    ckpt.mask_table = result.rows
    ckpt.flops = result.flops_meta
    ckpt.extra["result"] = {"picks": result.picks, "finetune": result.finetune}
    save(train_cfg.epochs)
    result.history = history
    result.checkpoint = str(out)
    if store is not None and run_id is not None:
        store.put_masks(run_id, result.rows, "valid", "supernet")
    dist_.shutdown(ctx)
    return result


# ----------------------------------------------------------------------------------- selection
def candidate_masks(space: PathSpace, p: torch.Tensor, running: RunningMaskLoss, cfg: SearchConfig,
                    rng: np.random.Generator) -> list[Mask]:
    """All masks when there are <= 4096; else the sampled masks, ``top_n`` draws from the prior,
    the single-path masks and the full mask."""
    if space.num_masks <= MAX_EXHAUSTIVE_MASKS:
        return space.all_masks()
    seen = {tuple(int(c) for c in bits) for bits in running.state_dict()["mean"]}
    seen |= set(sample_prior_masks(p, cfg.top_n, rng, rho=cfg.rho, eps=cfg.eps))
    seen |= set(space.iter_single_path_masks()) | {space.full_mask()}
    return sorted(seen)


def prior_mode(p: torch.Tensor, space: PathSpace, cfg: SearchConfig) -> Mask:
    """The most likely mask under the prior's sampling distribution: paths with inclusion
    probability > 1/2 (the single most likely path when none is)."""
    pi = inclusion_probs(p.detach().cpu().double(), space.k, cfg.rho, cfg.eps)
    bits = tuple(int(v > 0.5) for v in pi.tolist())
    if not any(bits):
        top = int(torch.argmax(pi))
        bits = tuple(int(i == top) for i in range(space.num_paths))
    return bits


def select(model: Supernet, prior: PathPrior, stats: EdgeStats, z: torch.Tensor, ds: MultimodalDataset,
           train_cfg: TrainConfig, cfg: SearchConfig, device: torch.device, running: RunningMaskLoss) -> SearchResult:
    """Shared-weight evaluation of the candidates, Pareto front and picks (test numbers added)."""
    space = model.space
    p = prior.probs(z.to(device)).detach().cpu()
    masks = candidate_masks(space, p, running, cfg, np.random.default_rng(train_cfg.seed + 1))
    rows = evaluate_masks(model, ds.splits["valid"], masks, batch_size=train_cfg.eval_batch_size, device=device)
    table = flops_table(model.cpu(), ds.seq_lens, masks)
    model.to(device)
    scores = prior_score(p, masks).tolist()
    for r, s in zip(rows, scores):
        r["mflops"] = table["mflops"][r["mask"]]
        r["paths"] = r["mask"].count("1")
        r["prior_score"] = float(s)
    metric, hib = M.primary_metric(ds.task)
    picks = select_picks(rows, metric, hib, budget_mflops=cfg.budget_mflops,
                         prior_mask=PathSpace.to_bits(prior_mode(p, space, cfg)))
    chosen = sorted({v["mask"] for v in picks.values() if "mask" in v})
    test_rows = evaluate_masks(model, ds.splits["test"], [space.parse(m) for m in chosen],
                               batch_size=train_cfg.eval_batch_size, device=device)
    by_mask = {r["mask"]: {k: v for k, v in r.items() if k != "mask"} for r in test_rows}
    for v in picks.values():
        if "mask" in v:
            v["test"] = by_mask[v["mask"]]
            v["paths"] = list(space.active_names(space.parse(v["mask"])))
    front = pareto_front(rows, metric, hib).front
    meta = {k: table[k] for k in ("seq_lens", "parts", "convention")} | {"mflops": table["mflops"]}
    return SearchResult(picks, front, rows, [], "", flops_meta=meta)


def finetune_pick(ds: MultimodalDataset, model_cfg: ModelConfig, train_cfg: TrainConfig, cfg: SearchConfig,
                  picks: dict[str, dict], out: Path, data_desc: dict | None) -> dict:
    """Continue training the chosen subnet alone (``budget`` pick, else ``best``) from the shared
    weights for ``finetune_epochs``; report its metrics before and after, valid and test."""
    name = "budget" if "mask" in picks.get("budget", {}) else "best"
    mask = PathSpace(model_cfg.modalities).parse(picks[name]["mask"])
    path = out.with_name(out.stem + f".finetune-{PathSpace.to_bits(mask)}.pt")
    tcfg = replace(train_cfg, epochs=cfg.finetune_epochs, masks_per_step=1)
    shared = load_checkpoint(out) if out.exists() else None
    ck = train_supernet(ds, model_cfg, tcfg, out=path, data_desc=data_desc, fixed_mask=mask,
                        init_state=shared.state_dict if shared else None, table=False)
    from mro_core.checkpoint import build_model

    model = build_model(ck).to(resolve_device(train_cfg.device))
    after = {s: {k: v for k, v in evaluate_masks(model, ds.splits[s], [mask], device=resolve_device(train_cfg.device))[0].items()
                 if k != "mask"} for s in ("valid", "test")}
    before = {k: v for k, v in picks[name].items() if k not in ("test", "paths")}
    return {"pick": name, "mask": PathSpace.to_bits(mask), "epochs": cfg.finetune_epochs, "shared_valid": before,
            "shared_test": picks[name].get("test"), "finetuned_valid": after["valid"],
            "finetuned_test": after["test"], "checkpoint": str(path)}


def _record_static_stats(model: Supernet, ds: MultimodalDataset, stats: EdgeStats, cfg: SearchConfig,
                         device: torch.device) -> None:
    """cos and attention variance on the first validation batches (no grad, eval mode)."""
    was = model.training
    model.eval()
    with torch.no_grad():
        for i, batch in enumerate(iter_batches(ds.splits["valid"], 128)):
            if i >= cfg.attention_batches:
                break
            batch = batch.to(device)
            stats.record_embeddings(model, batch)
            stats.record_attention(model, batch)
    model.train(was)


def _prior_payload(prior: PathPrior, stats: EdgeStats, running: RunningMaskLoss, z_prev: torch.Tensor,
                   history: list[dict]) -> dict:
    """Checkpoint record of the prior: what the dashboard shows plus what resume restores."""
    rec = prior.to_record(stats)
    keys = ("epoch", "p", "alpha", "beta", "gamma", "stats", "spearman", "hard_rank")
    return {
        "kind": rec["kind"], "paths": rec["paths"], "p": rec["p"],
        "alpha": rec.get("alpha"), "beta": rec.get("beta"), "gamma": rec.get("gamma"),
        "stats": rec.get("raw") or {}, "normalised": rec.get("normalised"),
        "history": [{k: h.get(k) for k in keys} for h in history],
        "state": {k: v.detach().cpu() for k, v in prior.state_dict().items()},
        "stats_state": stats.state_dict(),
        "running": running.state_dict(),
        "z_prev": z_prev.detach().cpu(),
    }
