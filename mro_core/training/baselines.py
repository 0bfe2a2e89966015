"""Stand-alone training and evaluation of the fusion baselines (Concat+MLP, EmbraceNet), on the
shared training skeleton (:class:`mro_core.training.loop.Loop`: seed, optimizer, per-epoch hook).

A baseline trains alone with the supernet's task loss (:func:`mro_core.training.train.mask_losses` on its
outputs seen as one mask), so Table 5 compares fusion against fusion under one objective. No
checkpoint and no DDP: a baseline trains in seconds to minutes and is reported, not resumed.
The third baseline, Pairwise CMT (the full mask trained alone), is
``mro_core.training.train.train_supernet(..., fixed_mask=full)``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from mro_core.model.baseline_flops import baseline_flops
from mro_core.config import ModelConfig, TrainConfig
from mro_core.data.base import Batch, MultimodalDataset, Split, iter_batches, num_batches
from mro_core.training.loop import Loop
from mro_core.model.baselines import BASELINE_NAMES, BASELINES, Availability, EmbraceNet, build_baseline
from mro_core.training.train import NonFiniteLossError, autocast_for, check_finite, mask_losses, metrics_from_outputs

log = logging.getLogger(__name__)


@torch.no_grad()
def predict_baseline(model: nn.Module, split: Split, *, batch_size: int = 256, device: torch.device | str = "cpu",
                     amp: str = "off", available: Availability = None) -> np.ndarray:
    """Eval-mode outputs ``(N, total_out)`` on ``split`` (``available``: flags ``(k,)`` only)."""
    device = torch.device(device)
    model.eval()
    outs = []
    for batch in iter_batches(split, batch_size, pin=device.type == "cuda"):
        batch = batch.to(device, non_blocking=True)
        with autocast_for(device, amp):
            outs.append(model(batch, available).float().cpu())
    return torch.cat(outs, 0).numpy()


def evaluate_baseline(model: nn.Module, split: Split, *, batch_size: int = 256,
                      device: torch.device | str = "cpu", amp: str = "off",
                      available: Availability = None) -> dict[str, float]:
    """``{"loss": task loss, **task metrics}`` of ``model`` on ``split``.

    Raises:
        NonFiniteLossError: the model produced NaN/inf outputs.
    """
    cfg = model.cfg
    out = predict_baseline(model, split, batch_size=batch_size, device=device, amp=amp, available=available)
    if not np.isfinite(out).all():
        raise NonFiniteLossError(f"{type(model).__name__} produced non-finite outputs")
    batch = Batch({}, {}, torch.as_tensor(split.labels), {k: torch.as_tensor(v) for k, v in split.extra.items()})
    res = {"loss": float(mask_losses(cfg, torch.as_tensor(out)[None], batch)[0])}
    res.update(metrics_from_outputs(cfg, out, split))
    return res


def _check_data(ds: MultimodalDataset, cfg: ModelConfig) -> None:
    if tuple(ds.modalities) != cfg.modalities or tuple(ds.input_dims) != cfg.input_dims or ds.task != cfg.task:
        raise ValueError(
            f"model config (modalities={list(cfg.modalities)}, input_dims={list(cfg.input_dims)}, "
            f"task={cfg.task}) does not match the dataset (modalities={list(ds.modalities)}, "
            f"input_dims={list(ds.input_dims)}, task={ds.task}); build it with mro_core.config.model_config_for"
        )


def train_baseline(ds: MultimodalDataset, kind: str, model_cfg: ModelConfig, train_cfg: TrainConfig, *,
                   progress: bool = False) -> dict[str, Any]:
    """Train a baseline alone with the supernet's task loss; report validation and test metrics.

    AdamW (``lr``, ``weight_decay``), ``batch_size``, ``epochs``, ``grad_clip``, ``amp``,
    ``eval_batch_size``, ``device`` and ``seed`` come from ``train_cfg`` (``masks_per_step`` does
    not apply). The loss is :func:`mro_core.training.train.mask_losses` on the outputs seen as one mask:
    L1 for regression; cross-entropy (+ L1 on the auxiliary sentiment output when the model has
    one and the data carries ``sentiment``) for classification. ``seed`` seeds the weights, the
    data order and EmbraceNet's selection generator.

    Returns:
        ``{"name", "kind", "valid", "test", "mflops", "params", "history"}``: metrics dicts from
        :func:`mro_core.training.train.metrics_from_outputs` plus ``loss``; MFLOPs per sample at
        ``ds.seq_lens``; per epoch ``{"epoch", "train_loss", "seconds", "valid_<metric>"...}``.

    Raises:
        ValueError: unknown ``kind`` or a config that does not fit the dataset.
        NonFiniteLossError: a NaN/inf training loss or evaluation output.
    """
    if kind not in BASELINES:
        raise ValueError(f"unknown baseline {kind!r}; choose one of {sorted(BASELINES)}")
    _check_data(ds, model_cfg)
    loop = Loop.start(train_cfg)
    device, rng = loop.device, loop.rng
    model = build_baseline(kind, model_cfg).to(device)
    gen = torch.Generator(device=device).manual_seed(train_cfg.seed)
    kwargs = {"generator": gen} if isinstance(model, EmbraceNet) else {}
    optimizer = loop.optimizer(model, train_cfg)
    loop.place(train_cfg)  # no DDP for the baselines: the model and its optimizer on the device
    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda" and train_cfg.amp == "fp16")
    split, history, last = ds.splits["train"], [], {}
    steps = num_batches(len(split), train_cfg.batch_size)
    ev = dict(batch_size=train_cfg.eval_batch_size, device=device, amp=train_cfg.amp)

    def train_epoch(epoch: int) -> tuple[float, float, int]:
        t0, total, n = time.perf_counter(), 0.0, 0
        model.train()
        bar = tqdm(total=steps, desc=f"{BASELINE_NAMES[kind]} {epoch + 1}/{train_cfg.epochs}",
                   disable=not progress, leave=False)
        for batch in iter_batches(split, train_cfg.batch_size, shuffle=True, rng=rng, pin=device.type == "cuda"):
            batch = batch.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with autocast_for(device, train_cfg.amp):
                loss = mask_losses(model_cfg, model(batch, **kwargs)[None], batch)  # (1,)
            check_finite(loss, f"{BASELINE_NAMES[kind]} epoch {epoch + 1}")
            scaler.scale(loss.sum()).backward()
            scaler.unscale_(optimizer)
            if train_cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), train_cfg.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            value = float(loss.detach())
            total, n = total + value * len(batch), n + len(batch)
            bar.update(1)
            bar.set_postfix(loss=f"{value:.4f}")
        bar.close()
        return t0, total, n

    def end_epoch(epoch: int, done: tuple[float, float, int]) -> None:
        t0, total, n = done
        valid = last["valid"] = evaluate_baseline(model, ds.splits["valid"], **ev)
        history.append({"epoch": epoch + 1, "train_loss": total / max(n, 1), "seconds": time.perf_counter() - t0,
                        **{f"valid_{k}": v for k, v in valid.items()}})
        log.info("%s epoch %d/%d: train loss %.4f, valid loss %.4f", BASELINE_NAMES[kind], epoch + 1,
                 train_cfg.epochs, history[-1]["train_loss"], valid["loss"])

    loop.run(train_cfg.epochs, train_epoch, end_epoch)
    test = evaluate_baseline(model, ds.splits["test"], **ev)
    return {
        "name": BASELINE_NAMES[kind],
        "kind": kind,
        "valid": last["valid"],
        "test": test,
        "mflops": baseline_flops(model, ds.seq_lens) / 1e6,
        "params": int(sum(p.numel() for p in model.parameters())),
        "history": history,
    }

__all__ = ["evaluate_baseline", "predict_baseline", "train_baseline"]
