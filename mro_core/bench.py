"""``mro bench``: speed figures as ratios measured within one run (never absolute timings).

Each figure compares two measurements taken in the same process on the same machine, so it
travels between machines far better than seconds do:

(a) all-masks evaluation / one full-mask evaluation, same validation set (demo model)
    -- shared path vectors make evaluating all 2^P - 1 masks cost about one full pass;
(b) each single-path subnet's forward / the full mask's (mosei preset), and the Pearson
    correlation of forward time with fvcore MFLOPs over all masks -- compute falls with the mask;
(c) a training step with 4 sampled masks / a full-mask step (mosei preset) -- n masks per step
    cost one pass over the union of their paths plus n head passes;
(d) full-mask forward and training-step GMAC/s at the mosei preset, batch 64, / ``torch.matmul``
    GMAC/s on a comparable shape -- how close the model runs to the machine's matmul speed.
A training step is counted as 3x the forward MACs (forward + two backward matmuls).
"""

from __future__ import annotations

import platform
import statistics
import time
from typing import Any, Callable

import numpy as np
import torch

from mro_core.config import SyntheticConfig, TrainConfig, get_preset, model_config_for
from mro_core.data.base import Batch
from mro_core.flops import flops_table
from mro_core.model.supernet import Supernet
from mro_core.paths import PathSpace
from mro_core.train import make_optimizer, predict_masks, resolve_device, sample_uniform_masks, train_step

TARGETS = {
    "a_all_masks_eval_over_full_eval": "<= 1.5",
    "b_single_path_forward_over_full_max": "<= 0.25",
    "b_time_vs_mflops_pearson": ">= 0.95",
    "c_train_step_4_masks_over_full_step": "<= 1.2",
    "d_forward_gmacs_over_matmul": ">= 0.5",
    "d_train_step_gmacs_over_matmul": ">= 0.35",
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timeit(fn: Callable[[], Any], device: torch.device, *, repeats: int, warmup: int = 1) -> float:
    """Median wall seconds of ``fn`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def paired_ratio(num: Callable[[], Any], den: Callable[[], Any], device: torch.device, *, repeats: int) -> float:
    """Median of ``time(num) / time(den)`` over interleaved pairs (drift hits both sides alike)."""
    num(), den()
    ratios = []
    for _ in range(repeats):
        a = timeit(num, device, repeats=1, warmup=0)
        b = timeit(den, device, repeats=1, warmup=0)
        ratios.append(a / b)
    return statistics.median(ratios)


def _mosei_model(device: torch.device, batch: int, seed: int = 0) -> tuple[Supernet, Batch, list[int]]:
    p = get_preset("mosei")
    cfg = model_config_for(p, modalities=p.flops_modalities, input_dims=p.flops_input_dims, task="regression")
    torch.manual_seed(seed)
    model = Supernet(cfg).to(device)
    L = p.flops_seq_len
    g = torch.Generator().manual_seed(seed)
    x = {m: torch.randn(batch, L, D, generator=g) for m, D in zip(cfg.modalities, cfg.input_dims)}
    v = {m: torch.ones(batch, L, dtype=torch.bool) for m in cfg.modalities}
    y = torch.rand(batch, generator=g) * 6 - 3
    return model, Batch(x, v, y).to(device), [L] * len(cfg.modalities)


def bench_all_masks(device: torch.device, repeats: int) -> dict[str, float]:
    from mro_core.data.synthetic import make_synthetic

    ds = make_synthetic(SyntheticConfig(n_train=8, n_valid=600, n_test=8))
    p = get_preset("demo")
    model = Supernet(model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task)).to(device)
    space = model.space
    split = ds.splits["valid"]
    every = space.all_masks()
    ratio = paired_ratio(lambda: predict_masks(model, split, every, device=device),
                         lambda: predict_masks(model, split, [space.full_mask()], device=device),
                         device, repeats=repeats)
    return {"a_all_masks_eval_over_full_eval": ratio, "a_num_masks": float(space.num_masks)}


@torch.no_grad()
def bench_mask_scaling(device: torch.device, repeats: int, batch: int) -> dict[str, float]:
    model, b, seq = _mosei_model(device, batch)
    model.eval()
    space = model.space
    mflops = flops_table(model.cpu(), seq)["mflops"]
    model.to(device)
    masks = space.all_masks()
    for m in masks[:3]:
        model(b, m)  # warm-up
    runs: dict[str, list[float]] = {PathSpace.to_bits(m): [] for m in masks}
    for _ in range(repeats):  # rounds over all masks, so load drift spreads evenly; min per mask
        for m in masks:
            runs[PathSpace.to_bits(m)].append(timeit(lambda m=m: model(b, m), device, repeats=1, warmup=0))
    times = {k: min(v) for k, v in runs.items()}
    full = times[PathSpace.to_bits(space.full_mask())]
    singles = [times[PathSpace.to_bits(m)] / full for m in space.iter_single_path_masks()]
    keys = sorted(times)
    r = float(np.corrcoef([times[k] for k in keys], [mflops[k] for k in keys])[0, 1])
    return {"b_single_path_forward_over_full_max": max(singles),
            "b_single_path_forward_over_full_mean": float(np.mean(singles)),
            "b_time_vs_mflops_pearson": r}


def bench_train_step(device: torch.device, repeats: int, batch: int) -> dict[str, float]:
    model, b, _ = _mosei_model(device, batch)
    cfg = TrainConfig(batch_size=batch, masks_per_step=4, device=device.type)
    opt = make_optimizer(model, cfg)
    full = [model.space.full_mask()]
    rng = np.random.default_rng(0)
    ratio = paired_ratio(
        lambda: train_step(model, b, sample_uniform_masks(model.space, 4, rng), opt, cfg, device=device),
        lambda: train_step(model, b, full, opt, cfg, device=device),
        device, repeats=max(repeats, 5))
    return {"c_train_step_4_masks_over_full_step": ratio}


def bench_throughput(device: torch.device, repeats: int, batch: int = 64) -> dict[str, float]:
    model, b, seq = _mosei_model(device, batch)
    macs = flops_table(model.cpu(), seq, [model.space.full_mask()])["mflops"]["1" * model.space.num_paths] * 1e6 * batch
    model.to(device)
    full = model.space.full_mask()
    cfg = TrainConfig(batch_size=batch, device=device.type)
    opt = make_optimizer(model, cfg)
    model.eval()
    with torch.no_grad():
        t_fwd = timeit(lambda: model(b, full), device, repeats=repeats)
    t_step = timeit(lambda: train_step(model, b, [full], opt, cfg, device=device), device, repeats=repeats)
    d = model.cfg.d_model
    # comparable matmul: the FFN's first layer at this batch, (B*L, d) @ (d, ff_mult*d)
    A = torch.randn(batch * seq[0], d, device=device)
    W = torch.randn(d, model.cfg.ff_mult * d, device=device)
    t_mm = timeit(lambda: torch.matmul(A, W), device, repeats=max(repeats * 5, 10))
    mm_gmacs = A.shape[0] * d * W.shape[1] / t_mm / 1e9
    fwd_gmacs = macs / t_fwd / 1e9
    step_gmacs = 3 * macs / t_step / 1e9
    return {"d_forward_gmacs_over_matmul": fwd_gmacs / mm_gmacs,
            "d_train_step_gmacs_over_matmul": step_gmacs / mm_gmacs,
            "d_matmul_gmacs": mm_gmacs, "d_forward_gmacs": fwd_gmacs}


def _saved_activation_bytes(fn: Callable[[], torch.Tensor]) -> int:
    """Bytes of the tensors autograd keeps for backward during ``fn`` (the training activations)."""
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return total


def bench_k_scaling(device: torch.device, repeats: int, batch: int = 32) -> dict[str, Any]:
    """Full-mask training-step time and memory for k = 2..5 modalities (demo width, synthetic
    shapes), as ratios to k = 2; the path count grows as k(k-1)."""
    p = get_preset("demo")
    rows = []
    for k in range(2, 6):
        mods = tuple("TAVDE"[:k])
        cfg = model_config_for(p, modalities=mods, input_dims=(17,) * k, task="regression")
        torch.manual_seed(0)
        model = Supernet(cfg).to(device)
        g = torch.Generator().manual_seed(0)
        L = p.flops_seq_len
        b = Batch({m: torch.randn(batch, L, 17, generator=g) for m in mods},
                  {m: torch.ones(batch, L, dtype=torch.bool) for m in mods}, torch.zeros(batch)).to(device)
        tcfg = TrainConfig(batch_size=batch, device=device.type)
        opt = make_optimizer(model, tcfg)
        full = model.space.full_mask()
        t = timeit(lambda: train_step(model, b, [full], opt, tcfg, device=device), device, repeats=repeats)
        params = sum(q.numel() * q.element_size() for q in model.parameters())
        act = _saved_activation_bytes(lambda: model(b, full).sum())
        rows.append({"k": k, "paths": model.space.num_paths, "step_s": t, "param_mb": params / 2**20,
                     "optimizer_mb": 2 * params / 2**20, "activation_mb": act / 2**20})
    t0, m0 = rows[0]["step_s"], rows[0]["param_mb"] * 3 + rows[0]["activation_mb"]
    for r in rows:  # memory: weights + AdamW's two moments + saved activations
        r["step_ratio"] = r.pop("step_s") / t0
        r["memory_ratio"] = (r["param_mb"] * 3 + r["activation_mb"]) / m0
    return {"k_scaling": rows}


def run_bench(*, quick: bool = False, device: str = "cpu") -> dict[str, Any]:
    """Run every figure; returns ``{"figures": {name: {value, target, note}}, "machine": ...}``."""
    dev = resolve_device(device)
    reps = 2 if quick else 5
    raw: dict[str, float] = {}
    raw.update(bench_all_masks(dev, reps))
    raw.update(bench_mask_scaling(dev, reps if not quick else 1, batch=16 if quick else 32))
    raw.update(bench_train_step(dev, reps, batch=16 if quick else 32))
    raw.update(bench_throughput(dev, reps, batch=64))
    notes = {
        "a_all_masks_eval_over_full_eval": f"{int(raw['a_num_masks'])} masks vs the full mask, demo model",
        "b_single_path_forward_over_full_max": "slowest single-path subnet / full mask, mosei preset",
        "b_time_vs_mflops_pearson": "forward time vs fvcore MFLOPs over all masks",
        "c_train_step_4_masks_over_full_step": "4 uniform masks (shared union pass) / full-mask step",
        "d_forward_gmacs_over_matmul": f"full-mask forward {raw['d_forward_gmacs']:.1f} GMAC/s vs matmul {raw['d_matmul_gmacs']:.1f}",
        "d_train_step_gmacs_over_matmul": "training step (3x forward MACs) vs matmul",
    }
    figures = {k: {"value": raw[k], "target": TARGETS[k], "note": notes[k]} for k in TARGETS}
    return {
        "figures": figures,
        **bench_k_scaling(dev, reps),
        "raw": raw,
        "machine": {"device": str(dev), "torch": torch.__version__, "threads": torch.get_num_threads(),
                    "cpu": platform.processor() or platform.machine(),
                    "gpu": torch.cuda.get_device_name(0) if dev.type == "cuda" else None},
        "quick": quick,
    }
