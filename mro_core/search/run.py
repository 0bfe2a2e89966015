"""The MRO search, the paper's Table 1: prior-guided one-shot NAS with rank regularization.

Per epoch:

1. Sample n masks per step: uniformly over non-empty masks during the warm-up epochs (and
   throughout in the ``no_prior_guidance`` ablation), afterwards from the prior's mask
   distribution (``mro_core.search.prior.sample_prior_masks``) computed from the previous epoch's edge
   statistics.
2. Per step: per-mask task losses through shared path vectors; the objective is
   ``sum(losses) + rank_weight * R`` with R the rank regularizer (``mro_core.search.ranking``): the
   paper's pairwise hinge with the prior detached (trains the supernet) and a differentiable
   surrogate of Eq. (2) with the losses detached (trains alpha, beta, gamma and the GAT),
   per ``rank_target``. Gradient norms of the active paths feed the statistics.
3. ``update_prior``: refresh the statistics (cos, attention variance on held batches, gradient
   variance from the steps), keep the learned parameters, log p, the statistics, alpha/beta/gamma,
   the epoch's hard rank loss and Spearman rho to the run store, checkpoint atomically.

After the last epoch, selection: shared-weight evaluation of all masks (<= 4096) or of the
sampled masks plus the prior's most likely masks, the Pareto front of (validation metric,
MFLOPs), and the picks of :mod:`mro_core.pareto`; optionally a stand-alone fine-tune of a pick.

Methods (Table 5 and the study, ``SearchConfig.ablation``):

- ``none`` (Full MRO): uniform warm-up, then prior-guided sampling; the MRG prior trained by the
  rank surrogate; candidates at k >= 5 from the prior's most probable masks.
- ``no_prior_guidance``: uniform sampling and uniform candidates throughout; the prior is still
  trained and reported (its rank measure), but guides nothing.
- ``no_mrg_prior``: a learnable per-path logit prior instead of the graph; rank loss kept.
- ``no_rank_reg``: the MRG prior guides sampling but has no rank loss: alpha, beta, gamma and the
  GAT keep their initial values, so the prior moves only with the edge statistics (a
  "statistics-only" prior, not an untrained uniform one).
- ``uniform`` (uniform one-shot): uniform sampling, no prior at all, uniform candidates.
- ``random_search``: a uniformly trained supernet; candidates drawn uniformly over the path count,
  then over the subsets of that size (sparse masks are as likely as dense ones).

At k <= 4 every method evaluates all masks, so methods differ only in how training was spread
over the paths; at k >= 5 the candidate set is where guidance can matter.

Defaults differ from the paper's literal Table 1 where a seeded study showed the literal setting
hurting (docs/design.md, "Search defaults"); :data:`PAPER_LITERAL` restores it
(``mro search --paper-literal``).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from mro_core import metrics as M
from mro_core.cancel import JobCancelled
from mro_core.training.checkpoint import Checkpoint, load_checkpoint
from mro_core.config import (  # noqa: F401 - PAPER_LITERAL and SearchConfig re-exported (``search.PAPER_LITERAL``)
    GUIDED,
    PAPER_LITERAL,
    PRIOR_TRAINED,
    ModelConfig,
    SearchConfig,
    TrainConfig,
    to_dict,
)
from mro_core.data.base import MultimodalDataset, iter_batches, num_batches
from mro_core.model.flops import part_flops
from mro_core.training.loop import Loop
from mro_core.model.supernet import Supernet
from mro_core.paths import Mask, PathSpace
from mro_core.search.prior import EdgeStats, LogitPrior, MRGPrior, PathPrior, mask_scores, sample_prior_masks
from mro_core.search.ranking import RunningMaskLoss, hard_rank_loss, rank_regularizer, spearman_rho
from mro_core.search.selection import (  # noqa: F401 - re-exported: the selection lived here before
    EVAL_SET_SEED,
    SearchResult,
    Selection,
    candidate_masks,
    evaluate_epoch,
    finish_selection,
    fixed_eval_masks,
    prior_mode,
    sample_by_path_count,
    sampling_probs,
)
from mro_core.training.train import (
    evaluate_masks,
    mean_baseline_loss,
    resolve_device,
    run_epoch,
    sample_uniform_masks,
    train_supernet,
    valid_summary,
)

log = logging.getLogger(__name__)

def build_prior(space: PathSpace, cfg: SearchConfig, seed: int) -> PathPrior:
    """The MRG prior, or the per-path logit prior of the ``no_mrg_prior`` ablation."""
    independent = cfg.inclusion == "sigmoid"
    if cfg.ablation == "no_mrg_prior":
        return LogitPrior(space, independent=independent)
    torch.manual_seed(seed)
    return MRGPrior(space, independent=independent)


# ------------------------------------------------------------------------------------ the loop
def in_warmup(epoch: int, history: list[dict], cfg: SearchConfig, epochs: int, mean_loss: float) -> bool:
    """Whether epoch ``epoch`` (0-based) still samples uniformly (see ``SearchConfig.warmup_*``).

    Decided from the logged history alone, so a resumed run takes the same decisions.
    """
    if epoch < cfg.warmup_epochs:
        return True
    if cfg.warmup_until <= 0:
        return False
    cap = cfg.warmup_max or max(epochs // 2, cfg.warmup_epochs)
    learned = any((h.get("valid_loss") or float("inf")) <= cfg.warmup_until * mean_loss for h in history)
    return not learned and epoch < cap


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

    After every epoch the candidate masks are evaluated on the validation split with the shared
    weights and written to the store (so a running search's subnets are visible), the picks are
    logged (with the epoch's hit of the planted mask, when the data has one), and the prior's
    rank agreement is measured on a fixed mask set (all masks at k <= 4, else a fixed seeded
    sample): Spearman rho and Kendall tau of the prior scores against the validation losses.

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
    out = Path(out)
    loop = Loop.start(train_cfg, distributed=distributed, out=out)
    ctx, device, rng = loop.ctx, loop.device, loop.rng
    if not ctx.is_main:
        store = None
    space = PathSpace(model_cfg.modalities)
    model = Supernet(model_cfg)
    prior = build_prior(space, cfg, train_cfg.seed)
    stats = EdgeStats(space)
    running = RunningMaskLoss(momentum=cfg.rank_momentum)
    optimizer = loop.optimizer(model, train_cfg)
    optimizer.add_param_group({"params": list(prior.parameters()), "lr": cfg.prior_lr, "weight_decay": 0.0})
    ckpt = loop.ckpt = Checkpoint(model_cfg, train_cfg, {}, data=data_desc or {},
                                  extra={"search_config": to_dict(cfg), "run_id": run_id, "kind": "search"})
    z_prev = torch.zeros(space.num_paths, 3)
    history: list[dict] = []
    prev = loop.previous(ds, resume=resume)
    if prev is not None:
        if prev.extra.get("search_config") != to_dict(cfg) or to_dict(prev.model_config) != to_dict(model_cfg):
            raise ValueError(f"cannot resume: {out} was written by a search with other settings")
        loop.restore(prev, strict=True)
        ps = prev.prior or {}
        prior.load_state_dict(ps["state"])
        stats.load_state_dict(ps["stats_state"])
        running.load_state_dict(ps["running"])
        z_prev = ps["z_prev"].float()
        history = list(prev.history)
        log.info("resuming search %s after epoch %d", out, prev.epoch)
    parts = part_flops(model, ds.seq_lens)  # fvcore once; every mask's MFLOPs is a sum of parts
    model.train()  # part_flops traced the parts in eval mode
    prior.to(device)
    rank_cfg = loop.place(train_cfg)

    split = ds.splits["train"]
    use_rank = cfg.ablation in PRIOR_TRAINED
    mean_loss = mean_baseline_loss(ds)
    planted = PathSpace.to_bits(space.parse(list(ds.planted_paths))) if ds.planted_paths else None
    eval_set = fixed_eval_masks(space, cfg.eval_masks)
    per_epoch = num_batches(len(split), train_cfg.batch_size) * train_cfg.masks_per_step
    metric = M.primary_metric(ds.task)[0]
    # statistics found constant across edges (e.g. var_a with one token per modality): they carry
    # no information about the paths; warned once per search, listed in the log and the result
    constant_seen: dict[str, None] = dict.fromkeys(s for h in history for s in h.get("constant_stats") or [])

    def check_constant() -> None:
        for name in stats.constant_stats():
            if name not in constant_seen:
                constant_seen[name] = None
                log.warning("edge statistic %s is constant across all %d edges (e.g. attention variance is 0 "
                            "when each modality has one token): it carries no information about the paths",
                            name, space.num_paths)

    if ckpt.epoch == 0:  # initial prior: statistics of the untrained model on a few batches
        _record_static_stats(model, ds, stats, cfg, device)
        z_prev = stats.normalised().float()
        check_constant()
    evaluated: Selection | None = None

    def save(epoch_done: int) -> None:
        loop.save(epoch_done, lambda: {"history": history,
                                       "prior": _prior_payload(prior, stats, running, z_prev, history)})

    # SIGTERM is handled by the caller, which passes `should_stop`; checked between steps
    def train_epoch(epoch: int) -> dict:
        nonlocal z_prev
        t0 = time.perf_counter()
        warm = in_warmup(epoch, history, cfg, train_cfg.epochs, mean_loss)
        guided = not warm and cfg.ablation in GUIDED
        p_now = prior.probs(z_prev.to(device)).detach().cpu()
        step_hard, step_rho, sampled = [], [], []
        path_exec = [0]

        def sample(n: int) -> list[Mask]:
            if should_stop is not None and should_stop():
                raise JobCancelled("cancelled by SIGTERM; resume continues after the last saved epoch")
            masks = [_draw(space, p_now, rng, cfg) if guided else sample_uniform_masks(space, 1, rng)[0]
                     for _ in range(n)]
            sampled.extend(masks)
            path_exec[0] += sum(any(m[i] for m in masks) for i in range(space.num_paths))
            return masks

        def extra_loss(losses: torch.Tensor, masks: list[Mask]) -> torch.Tensor:
            scores = mask_scores(prior.probs(z_prev.to(device)), masks, cfg.inclusion)
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
            uses = Counter(i for m in masks for i, b in enumerate(m) if b)
            stats.record_grad_norms(model, uses if cfg.grad_stat == "per_use" else list(uses))

        def on_step(step: int, total: int, masks: list[Mask], losses: np.ndarray) -> None:
            if store is not None and run_id is not None and step % 10 == 0:
                store.heartbeat(run_id, epoch=epoch, progress=(epoch + (step + 1) / total) / train_cfg.epochs)

        stats.reset(keep_grad_history=True)
        loss = run_epoch(loop.runner, split, optimizer, rank_cfg, rng, device=device, sample_masks=sample,
                         indices=loop.shard(len(split), epoch),
                         extra_loss=extra_loss, on_step=on_step, after_backward=after_backward)
        # update_prior: refresh the statistics from this epoch's model, keep learned parameters
        _record_static_stats(model, ds, stats, cfg, device)
        z_prev = stats.normalised().float()
        check_constant()
        return {"t0": t0, "loss": loss, "guided": guided, "step_hard": step_hard, "step_rho": step_rho,
                "sampled": sampled, "path_exec": path_exec[0]}

    def end_epoch(epoch: int, done: dict) -> None:
        nonlocal evaluated
        t0, loss, guided = done["t0"], done["loss"], done["guided"]
        step_hard, step_rho = done["step_hard"], done["step_rho"]
        p_new = prior.probs(z_prev.to(device)).detach().cpu()
        evaluated = evaluate_epoch(model, p_new, ds, train_cfg, cfg, device, parts, done["sampled"], eval_set,
                                   rng_seed=train_cfg.seed * 1000 + epoch, per_epoch=per_epoch)
        valid = next(({k: v for k, v in r.items() if k not in ("mask", "mflops", "paths", "prior_score")}
                      for r in evaluated.rows if r["mask"] == PathSpace.to_bits(space.full_mask())), None)
        if valid is None:
            valid = valid_summary(model, ds, train_cfg, device)
        rec = prior.to_record(stats)
        prev_exec = history[-1].get("path_executions", 0) if history else 0
        event = {
            "epoch": epoch + 1, "train_loss": loss, "valid_loss": valid.get("loss"),
            "valid": valid, "sampling": "prior" if guided else "uniform",
            "hard_rank": float(np.mean(step_hard)) if step_hard else None,
            "spearman": float(np.mean(step_rho)) if step_rho else None,
            "rank_spearman": evaluated.rank.get("spearman"), "rank_kendall": evaluated.rank.get("kendall"),
            "pick": evaluated.picks["best"]["mask"], "prior_mode": evaluated.prior_mode,
            "pick_valid": evaluated.picks["best"].get(metric),
            "parsimonious": evaluated.picks["parsimonious"]["mask"],
            "parsimonious_valid": evaluated.picks["parsimonious"].get(metric),
            "se": evaluated.picks["parsimonious"].get("se"),
            "hit": None if planted is None else evaluated.picks["best"]["mask"] == planted,
            "parsimonious_hit": None if planted is None else evaluated.picks["parsimonious"]["mask"] == planted,
            "constant_stats": list(constant_seen),
            "prior_hit": None if planted is None or evaluated.prior_mode is None else evaluated.prior_mode == planted,
            "candidates": len(evaluated.candidates), "path_executions": prev_exec + done["path_exec"],
            "p": rec["p"], "alpha": rec.get("alpha"), "beta": rec.get("beta"), "gamma": rec.get("gamma"),
            "stats": rec.get("raw") or {}, "rho": cfg.rho, "seconds": time.perf_counter() - t0,
        }
        history.append(event)
        save(epoch + 1)
        if store is not None and run_id is not None:
            store.put_masks(run_id, evaluated.rows, "valid", "supernet")
            store.log_event(run_id, "epoch", epoch + 1, event)
            store.heartbeat(run_id, epoch=epoch + 1, progress=(epoch + 1) / train_cfg.epochs)
        log.info("epoch %d/%d (%s): loss %.4f, full-mask valid loss %.4f, best %s (valid %s %.4f), parsimonious %s "
                 "(valid %s %.4f, 1 SE %.4f), prior rho %s", epoch + 1, train_cfg.epochs, event["sampling"], loss,
                 valid.get("loss", float("nan")), event["pick"], metric, event["pick_valid"], event["parsimonious"],
                 metric, event["parsimonious_valid"], event["se"], event["rank_spearman"])
        if on_epoch is not None:
            on_epoch(event)
        if should_stop is not None and should_stop():
            raise JobCancelled(f"cancelled by SIGTERM after epoch {epoch + 1} (saved)")

    if not loop.run(train_cfg.epochs, train_epoch, end_epoch):
        return None
    if evaluated is None:  # resumed after the last epoch: evaluate the final model once
        p_new = prior.probs(z_prev.to(device)).detach().cpu()
        evaluated = evaluate_epoch(model, p_new, ds, train_cfg, cfg, device, parts, [], eval_set,
                                   rng_seed=train_cfg.seed * 1000 + train_cfg.epochs - 1, per_epoch=per_epoch)
    result = finish_selection(model, evaluated, ds, train_cfg, device)
    result.flops_meta = {"seq_lens": [int(L) for L in ds.seq_lens], "parts": parts,
                         "convention": "fvcore: 1 multiply-add = 1 FLOP, per sample",
                         "mflops": {r["mask"]: r["mflops"] for r in result.rows}}
    result.first_hit = first_hit(history)
    result.warnings = [f"edge statistic {n} was constant across edges (no information about the paths)"
                       for n in constant_seen]
    if cfg.finetune_epochs > 0:
        result.finetune = finetune_pick(ds, model_cfg, train_cfg, cfg, result.picks, out, data_desc)
    ckpt.mask_table = result.rows
    ckpt.flops = result.flops_meta
    ckpt.extra["result"] = {"picks": result.picks, "finetune": result.finetune, "first_hit": result.first_hit,
                            "warnings": result.warnings}
    save(train_cfg.epochs)
    result.history = history
    result.checkpoint = str(out)
    if store is not None and run_id is not None:
        store.put_masks(run_id, result.rows, "valid", "supernet")
    loop.close()
    return result


def _draw(space: PathSpace, p: torch.Tensor, rng: np.random.Generator, cfg: SearchConfig) -> Mask:
    """One guided draw: uniform with probability ``uniform_mix``, else from the prior."""
    if cfg.uniform_mix > 0 and rng.random() < cfg.uniform_mix:
        return sample_uniform_masks(space, 1, rng)[0]
    return sample_prior_masks(p, 1, rng, rho=cfg.rho, eps=cfg.eps, inclusion=cfg.inclusion, top=cfg.top_inclusion)[0]


def first_hit(history: list[dict]) -> dict | None:
    """Epoch and path executions at which the ``best`` pick first equalled the planted mask."""
    for h in history:
        if h.get("hit"):
            return {"epoch": h["epoch"], "path_executions": h.get("path_executions")}
    return None


def finetune_pick(ds: MultimodalDataset, model_cfg: ModelConfig, train_cfg: TrainConfig, cfg: SearchConfig,
                  picks: dict[str, dict], out: Path, data_desc: dict | None) -> dict:
    """Continue training the chosen subnet alone from the shared weights for ``finetune_epochs``;
    report its metrics before and after, valid and test. The chosen subnet is the pick a table
    reports by default: ``budget`` when a budget was given and met, else ``parsimonious``, else
    ``best``."""
    name = next(n for n in ("budget", "parsimonious", "best") if "mask" in picks.get(n, {}))
    mask = PathSpace(model_cfg.modalities).parse(picks[name]["mask"])
    path = out.with_name(out.stem + f".finetune-{PathSpace.to_bits(mask)}.pt")
    tcfg = replace(train_cfg, epochs=cfg.finetune_epochs, masks_per_step=1)
    shared = load_checkpoint(out) if out.exists() else None
    ck = train_supernet(ds, model_cfg, tcfg, out=path, data_desc=data_desc, fixed_mask=mask,
                        init_state=shared.state_dict if shared else None, table=False)
    from mro_core.training.checkpoint import build_model

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
