"""One-shot supernet training and shared-weight evaluation of masks.

A training step samples n masks, computes the path vectors of the union of their active paths
once (``Supernet.path_features``), applies the head once per mask, and back-propagates the summed
task loss in one pass. The gradient equals that of n separate passes (up to dropout), at the cost
of one pass over the union plus n cheap head passes. Paths outside the union are never executed,
so their parameters get no gradient (``grad is None``) and AdamW skips them entirely.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mro_core import metrics as M
from mro_core.training.checkpoint import Checkpoint
from mro_core.config import ModelConfig, TrainConfig, to_dict
from mro_core.data.base import Batch, MultimodalDataset, Split, iter_batches, num_batches
from mro_core.training.loop import Loop, make_optimizer, optimizer_to, resolve_device, restore_rng, rng_state  # noqa: F401
from mro_core.model.supernet import Supernet
from mro_core.paths import Mask, PathSpace

log = logging.getLogger(__name__)

MAX_EMPTY_RESAMPLES = 1000
"""Bound on re-draws of an all-zero mask (each draw is empty with probability 2^-P)."""


class NonFiniteLossError(RuntimeError):
    """A NaN/inf loss: the run stops rather than write NaN metrics."""


# ------------------------------------------------------------------------------------ devices
# resolve_device, make_optimizer, optimizer_to, rng_state, restore_rng: mro_core.training.loop (re-exported)
def autocast_for(device: torch.device, amp: str):
    """bf16/fp16 autocast on CUDA when asked; a no-op elsewhere."""
    if device.type != "cuda" or amp == "off":
        return nullcontext()
    return torch.autocast("cuda", dtype=torch.bfloat16 if amp == "bf16" else torch.float16)


# ----------------------------------------------------------------------------------- sampling
def sample_uniform_masks(space: PathSpace, n: int, rng: np.random.Generator) -> list[Mask]:
    """n masks uniform over the non-empty masks (independent fair bits, empty ones redrawn)."""
    out = []
    for _ in range(n):
        for _ in range(MAX_EMPTY_RESAMPLES):
            bits = tuple(int(b) for b in rng.integers(0, 2, size=space.num_paths))
            if any(bits):
                out.append(bits)
                break
        else:  # pragma: no cover - probability 2^(-P * 1000)
            raise RuntimeError("could not draw a non-empty mask")
    return out


# --------------------------------------------------------------------------------------- loss
def mask_losses(cfg: ModelConfig, out: Tensor, batch: Batch) -> Tensor:
    """Task loss per mask ``(M,)`` from head outputs ``(M, B, out)``.

    Regression: L1 to the target in [-3, 3]. Classification: cross-entropy, plus L1 on the
    auxiliary sentiment output when the model has one and the batch carries ``sentiment``.
    """
    out = out.float()
    if cfg.task == "regression":
        return (out[..., 0] - batch.y.float()[None]).abs().mean(1)
    C = cfg.out_dim
    Mn, B, _ = out.shape
    ce = F.cross_entropy(out[..., :C].reshape(Mn * B, C), batch.y.long().repeat(Mn), reduction="none")
    loss = ce.view(Mn, B).mean(1)
    if cfg.aux_sentiment and "sentiment" in batch.extra:
        loss = loss + (out[..., C] - batch.extra["sentiment"].float()[None]).abs().mean(1)
    return loss


def unwrap(model: torch.nn.Module) -> Supernet:
    """The supernet inside a DistributedDataParallel wrapper (or the model itself)."""
    return getattr(model, "module", model)


def compute_mask_losses(model: torch.nn.Module, batch: Batch, masks: Sequence[Mask]) -> Tensor:
    """Per-mask losses ``(M,)`` with the graph kept, sharing the union's path compute.

    Goes through ``model(batch, masks=...)`` so that a DDP wrapper sees the forward pass.
    """
    return mask_losses(unwrap(model).cfg, model(batch, masks=masks), batch)


def check_finite(losses: Tensor, where: str) -> None:
    if not torch.isfinite(losses).all():
        raise NonFiniteLossError(
            f"non-finite loss at {where} ({losses.detach().cpu().tolist()}); lower --lr or check the "
            "data for extreme values"
        )


def train_step(
    model: Supernet,
    batch: Batch,
    masks: Sequence[Mask],
    optimizer: torch.optim.Optimizer,
    cfg: TrainConfig,
    *,
    device: torch.device,
    extra_loss: Callable[[Tensor], Tensor] | None = None,
    scaler: "torch.amp.GradScaler | None" = None,
    after_backward: Callable[[], None] | None = None,
) -> np.ndarray:
    """One optimisation step over ``masks``; returns the per-mask task losses.

    Args:
        extra_loss: optional term added to the summed task loss, given the per-mask losses
            (the search adds its rank regularization here).
        after_backward: called once the gradients exist, before clipping and the step (the
            search records per-path gradient norms here).
    """
    model.train()
    optimizer.zero_grad(set_to_none=True)
    with autocast_for(device, cfg.amp):
        losses = compute_mask_losses(model, batch, masks)
    check_finite(losses, "a training step")
    total = losses.sum()
    if extra_loss is not None:
        total = total + extra_loss(losses)
    if scaler is not None:
        scaler.scale(total).backward()
        scaler.unscale_(optimizer)
    else:
        total.backward()
    if after_backward is not None:
        after_backward()
    if cfg.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(
            [p for p in model.parameters() if p.grad is not None], cfg.grad_clip
        )
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    return losses.detach().float().cpu().numpy()


# ----------------------------------------------------------------------------------- evaluate
@torch.no_grad()
def predict_masks(
    model: Supernet,
    split: Split,
    masks: Sequence[Mask],
    *,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    amp: str = "off",
    chunk: int = 512,
) -> np.ndarray:
    """Head outputs ``(M, N, out)`` of every mask on a split, with shared weights.

    Each batch's path vectors are computed once for the union of the masks and reused for all of
    them, so evaluating all 63 masks of k = 3 costs about one full-mask pass.
    """
    device = torch.device(device)
    model.eval()
    masks = [model.space.validate(m) for m in masks]
    union = {i for m in masks for i, b in enumerate(m) if b}
    outs = []
    for batch in iter_batches(split, batch_size, pin=device.type == "cuda"):
        batch = batch.to(device, non_blocking=True)
        with autocast_for(device, amp):
            feats = model.path_features(batch, union)
            per = [model.head_for_masks(feats, masks[s : s + chunk]) for s in range(0, len(masks), chunk)]
        outs.append(torch.cat(per, 0).float().cpu())
    return torch.cat(outs, 1).numpy()


def metrics_from_outputs(cfg: ModelConfig, out: np.ndarray, split: Split) -> dict[str, float]:
    """Task metrics of one mask's outputs ``(N, out)`` against the split's labels."""
    if cfg.task == "regression":
        return M.regression_metrics(out[:, 0], split.labels)
    res = M.classification_metrics(out[:, : cfg.out_dim], split.labels, num_classes=cfg.out_dim)
    if cfg.aux_sentiment and "sentiment" in split.extra:
        aux = M.sentiment_aux_metrics(out[:, cfg.out_dim], split.extra["sentiment"])
        res.update({f"sent_{k}": v for k, v in aux.items()})
    return res


def evaluate_masks(
    model: Supernet,
    split: Split,
    masks: Sequence[Mask],
    *,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
) -> list[dict]:
    """Metrics of each mask (shared weights): ``[{"mask": "011011", "loss": ..., metrics...}]``."""
    outs = predict_masks(model, split, masks, batch_size=batch_size, device=device)
    for m, out in zip(masks, outs):
        if not np.isfinite(out).all():
            raise NonFiniteLossError(f"mask {PathSpace.to_bits(m)} produced non-finite outputs")
    labels = Batch({}, {}, torch.as_tensor(split.labels), {k: torch.as_tensor(v) for k, v in split.extra.items()})
    losses = mask_losses(model.cfg, torch.as_tensor(outs), labels).tolist()  # all masks at once
    return [{"mask": PathSpace.to_bits(m), "loss": loss, **metrics_from_outputs(model.cfg, out, split)}
            for m, out, loss in zip(masks, outs, losses)]


# ---------------------------------------------------------------------------------- training
@dataclass
class EpochResult:
    epoch: int
    train_loss: float
    seconds: float
    valid: dict = field(default_factory=dict)


def run_epoch(
    model: Supernet,
    split: Split,
    optimizer: torch.optim.Optimizer,
    cfg: TrainConfig,
    rng: np.random.Generator,
    *,
    device: torch.device,
    sample_masks: Callable[[int], list[Mask]],
    extra_loss: Callable[[Tensor, list[Mask]], Tensor] | None = None,
    on_step: Callable[[int, int, list[Mask], np.ndarray], None] | None = None,
    indices: np.ndarray | None = None,
    scaler: "torch.amp.GradScaler | None" = None,
    after_backward: Callable[[list[Mask]], None] | None = None,
) -> float:
    """One pass over ``split`` (or its shard ``indices``); returns the mean per-mask loss."""
    total, count = 0.0, 0
    n = len(split) if indices is None else len(indices)
    steps = num_batches(n, cfg.batch_size)
    # ``indices`` (a distributed shard) come in their sampler's order; otherwise shuffle here
    batches = iter_batches(split, cfg.batch_size, shuffle=indices is None, rng=rng, indices=indices,
                           pin=device.type == "cuda")
    for step, batch in enumerate(batches):
        batch = batch.to(device, non_blocking=True)
        masks = sample_masks(cfg.masks_per_step)
        xl = None if extra_loss is None else (lambda losses, _m=masks: extra_loss(losses, _m))
        ab = None if after_backward is None else (lambda _m=masks: after_backward(_m))
        losses = train_step(model, batch, masks, optimizer, cfg, device=device, extra_loss=xl, scaler=scaler,
                            after_backward=ab)
        total += float(losses.sum())
        count += len(losses)
        if on_step is not None:
            on_step(step, steps, masks, losses)
    return total / max(count, 1)


def valid_summary(model: Supernet, ds: MultimodalDataset, cfg: TrainConfig, device: torch.device,
                  mask: Mask | None = None) -> dict:
    """Validation metrics of ``mask`` (default: the full mask), the per-epoch health signal."""
    mask = mask or model.space.full_mask()
    row = evaluate_masks(model, ds.splits["valid"], [mask], batch_size=cfg.eval_batch_size, device=device)[0]
    return {k: v for k, v in row.items() if k != "mask"}


def mean_baseline_loss(ds: MultimodalDataset, split: str = "valid") -> float:
    """Loss of predicting the training mean (regression) or the majority class (classification)."""
    tr, sp = ds.splits["train"], ds.splits[split]
    if ds.task == "regression":
        return float(np.abs(sp.labels - tr.labels.mean()).mean())
    counts = np.bincount(tr.labels.astype(np.int64), minlength=ds.num_classes or 0)
    p = np.clip(counts / counts.sum(), 1e-12, 1)
    return float(-np.log(p[sp.labels.astype(np.int64)]).mean())


# --------------------------------------------------------------------------- the whole training
def mask_table_for(model: Supernet, ds: MultimodalDataset, cfg: TrainConfig, device: torch.device) -> tuple[list[dict], dict]:
    """Shared-weight validation metrics and MFLOPs of every mask (k <= 4), or of the single-path
    masks plus the full mask when there are too many masks to enumerate."""
    from mro_core.model.flops import flops_table
    from mro_core.paths import MAX_EXHAUSTIVE_MASKS

    space = model.space
    if space.num_masks <= MAX_EXHAUSTIVE_MASKS:
        masks = space.all_masks()
    else:
        masks = list(space.iter_single_path_masks()) + [space.full_mask()]
    rows = evaluate_masks(model, ds.splits["valid"], masks, batch_size=cfg.eval_batch_size, device=device)
    table = flops_table(model, ds.seq_lens, masks)
    for r in rows:
        r["mflops"] = table["mflops"][r["mask"]]
        r["paths"] = int(r["mask"].count("1"))
    model.to(device)
    return rows, table


def train_supernet(
    ds: MultimodalDataset,
    model_cfg: ModelConfig,
    cfg: TrainConfig,
    *,
    out: "str | os.PathLike[str]",
    data_desc: dict | None = None,
    resume: bool = False,
    progress: bool = True,
    on_epoch: Callable[[EpochResult], None] | None = None,
    fixed_mask: Mask | None = None,
    init_state: dict | None = None,
    table: bool = True,
    distributed: bool = False,
) -> Checkpoint:
    """Train the supernet with uniform mask sampling; checkpoint every epoch (atomic write).

    Args:
        fixed_mask: train only this subnet (stand-alone training: the Pairwise CMT baseline is
            the full mask; fine-tuning a pick starts from ``init_state``).
        init_state: weights to start from instead of a fresh initialisation.
        table: compute the per-mask table (metrics + MFLOPs of every mask) at the end.
        distributed: run as one rank of a torchrun job (DDP; ``cfg.batch_size`` is the global
            batch, split evenly over the ranks; only rank 0 writes).

    With ``resume=True`` and an existing ``out``, training continues after its last saved epoch
    with the saved optimizer and RNG streams, so the result equals an uninterrupted run.
    After the last epoch the checkpoint also gets the per-mask table (metrics + MFLOPs).
    """
    from tqdm import tqdm

    loop = Loop.start(cfg, distributed=distributed, out=out)
    model = Supernet(model_cfg)
    if init_state is not None:
        model.load_state_dict(init_state)
    loop.optimizer(model, cfg)
    ckpt = loop.ckpt = Checkpoint(model_cfg, cfg, {}, data=data_desc or {})
    if fixed_mask is not None:
        fixed_mask = model.space.validate(fixed_mask)
        ckpt.extra["fixed_mask"] = PathSpace.to_bits(fixed_mask)
    prev = loop.previous(ds, resume=resume)
    if prev is not None:
        if to_dict(prev.model_config) != to_dict(model_cfg):
            raise ValueError(f"--resume: {out} was trained with another model config; use a new --out")
        loop.restore(prev)
        ckpt.history = prev.history
        log.info("resuming %s after epoch %d", out, prev.epoch)
    rank_cfg = loop.place(cfg)
    device, rng, space = loop.device, loop.rng, model.space
    split = ds.splits["train"]
    steps = num_batches(len(split), cfg.batch_size)

    def train_epoch(epoch: int) -> tuple[float, float]:
        t0 = time.perf_counter()
        bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not progress or not loop.is_main,
                   leave=False)

        def on_step(step: int, total: int, masks: list, losses: np.ndarray) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{float(losses.mean()):.4f}")

        loss = run_epoch(
            loop.runner, split, loop.opt, rank_cfg, rng, device=device, indices=loop.shard(len(split), epoch),
            # a fixed subnet is one mask per step (repeating it would only scale the loss)
            sample_masks=(lambda n: [fixed_mask]) if fixed_mask is not None else (lambda n: sample_uniform_masks(space, n, rng)),
            on_step=on_step,
        )
        bar.close()
        return loss, t0

    def end_epoch(epoch: int, done: tuple[float, float]) -> None:
        loss, t0 = done
        res = EpochResult(epoch + 1, loss, time.perf_counter() - t0, valid_summary(model, ds, cfg, device, fixed_mask))
        ckpt.history.append({"epoch": res.epoch, "train_loss": res.train_loss, "seconds": res.seconds,
                             **{f"valid_{k}": v for k, v in res.valid.items()}})
        loop.save(epoch + 1)
        log.info("epoch %d/%d: train loss %.4f, valid loss (mask %s) %.4f, %.1fs", res.epoch, cfg.epochs,
                 res.train_loss, ckpt.extra.get("fixed_mask", "full"), res.valid.get("loss", float("nan")), res.seconds)
        if on_epoch is not None:
            on_epoch(res)

    if not loop.run(cfg.epochs, train_epoch, end_epoch):
        return ckpt
    if table:
        ckpt.state_dict = loop.weights()
        ckpt.mask_table, ckpt.flops = mask_table_for(model, ds, cfg, device)
        loop.write()
    loop.close()
    return ckpt
