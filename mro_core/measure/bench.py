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
Growth tables: a full-mask training step and its memory for k = 2..5 modalities, and one search
epoch (``run_search``'s own loop) for k = 2..5 and for sequence lengths 50, 200, 500.

Why the figures hold under load (a second busy process on a 2-core machine used to move the
1-path ratio from 0.19 to 0.63 and r from 0.99 to 0.50):

* **CPU time, one thread.** On CPU every measurement runs with ``torch.set_num_threads(1)`` and is
  timed with ``time.process_time()``: the CPU seconds this process spent, which do not count the
  time the scheduler gave to another process. With two threads, one descheduled thread stalls the
  other at every parallel op's barrier, and wall time then measures the neighbour, not the model.
  On CUDA, wall time after ``torch.cuda.synchronize()`` (the GPU is not shared with the CPU load).
* **Interleaved rounds.** The two sides of a ratio (or every mask of a sweep) are timed in
  alternation, A, B, A, B ..., each round in a rotated order, so slow drift hits both alike; each
  round gives one ratio.
* **Median with a spread.** A figure is the median of its per-round values; the JSON carries the
  spread too: ``iqr`` (25th-75th percentile), ``min``, ``max`` and ``n`` rounds.
"""

from __future__ import annotations

import contextlib
import logging
import platform
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch

from mro_core.config import SyntheticConfig, TrainConfig, get_preset, model_config_for
from mro_core.data.base import Batch
from mro_core.model.flops import flops_table
from mro_core.model.supernet import Supernet
from mro_core.paths import PathSpace
from mro_core.training.train import make_optimizer, predict_masks, resolve_device, sample_uniform_masks, train_step

TARGETS = {
    "a_all_masks_eval_over_full_eval": "<= 1.5",
    "b_single_path_forward_over_full_max": "<= 0.25",
    "b_time_vs_mflops_pearson": ">= 0.95",
    "c_train_step_4_masks_over_full_step": "<= 1.2",
    "d_forward_gmacs_over_matmul": ">= 0.5",
    "d_train_step_gmacs_over_matmul": ">= 0.35",
}
SEARCH_K = (2, 3, 4, 5)
SEARCH_SEQ_LENS = (50, 200, 500)


# --------------------------------------------------------------------------------- measurement
class Timer:
    """Times one call: process CPU seconds on CPU, synchronised wall seconds on CUDA."""

    def __init__(self, device: torch.device):
        self.device = device
        self.clock = time.perf_counter if device.type == "cuda" else time.process_time
        self.clock_name = "wall (cuda synchronised)" if device.type == "cuda" else "process CPU time, 1 thread"

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def __call__(self, fn: Callable[[], Any]) -> float:
        self.sync()
        t0 = self.clock()
        fn()
        self.sync()
        return self.clock() - t0


@contextlib.contextmanager
def one_thread(device: torch.device) -> Iterator[None]:
    """``torch.set_num_threads(1)`` for CPU measurements (restored afterwards)."""
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def spread(values: Sequence[float]) -> dict[str, Any]:
    """Median, interquartile range, min, max and count of per-round values."""
    v = np.asarray(values, dtype=float)
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return {"median": float(med), "iqr": [float(q1), float(q3)], "min": float(v.min()), "max": float(v.max()),
            "n": int(v.size)}


def interleaved(fns: dict[str, Callable[[], Any]], timer: Timer, *, rounds: int,
                warmup: int = 1) -> dict[str, list[float]]:
    """Seconds of every ``fns`` entry, once per round, the entries alternating (A, B, A, B ...).

    Each round starts one entry later than the previous one (A B C, B C A, C A B ...), so no
    entry always runs first after a pause or last before one.
    """
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            fns[n]()
    out: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for n in names[r % len(names):] + names[:r % len(names)]:
            out[n].append(timer(fns[n]))
    return out


def ratios(num: Sequence[float], den: Sequence[float]) -> list[float]:
    """Per-round ratios of two interleaved series."""
    return [a / b for a, b in zip(num, den)]


# ------------------------------------------------------------------------------------- models
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


# ------------------------------------------------------------------------------------ figures
def bench_all_masks(timer: Timer, rounds: int, n_valid: int = 600) -> dict[str, Any]:
    """(a) all masks vs the full mask over the same validation split."""
    from mro_core.data.synthetic import make_synthetic

    device = timer.device
    ds = make_synthetic(SyntheticConfig(n_train=8, n_valid=n_valid, n_test=8))
    p = get_preset("demo")
    model = Supernet(model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task)).to(device)
    space = model.space
    split = ds.splits["valid"]
    every = space.all_masks()
    t = interleaved({"all": lambda: predict_masks(model, split, every, device=device),
                     "full": lambda: predict_masks(model, split, [space.full_mask()], device=device)},
                    timer, rounds=rounds)
    return {"a_all_masks_eval_over_full_eval": spread(ratios(t["all"], t["full"])),
            "a_num_masks": space.num_masks}


@torch.no_grad()
def bench_mask_scaling(timer: Timer, rounds: int, batch: int) -> dict[str, Any]:
    """(b) every mask's forward, in rounds over all masks; per round the slowest single path
    over the full mask and Pearson r of time vs MFLOPs."""
    device = timer.device
    model, b, seq = _mosei_model(device, batch)
    model.eval()
    space = model.space
    mflops = flops_table(model.cpu(), seq)["mflops"]
    model.to(device)
    fns = {PathSpace.to_bits(m): (lambda m=m: model(b, m)) for m in space.all_masks()}
    t = interleaved(fns, timer, rounds=rounds)
    full = PathSpace.to_bits(space.full_mask())
    singles = [PathSpace.to_bits(m) for m in space.iter_single_path_masks()]
    keys = sorted(t)
    flops = [mflops[k] for k in keys]
    per_round_max, per_round_mean, per_round_r = [], [], []
    for r in range(rounds):
        s = [t[k][r] / t[full][r] for k in singles]
        per_round_max.append(max(s))
        per_round_mean.append(float(np.mean(s)))
        per_round_r.append(float(np.corrcoef([t[k][r] for k in keys], flops)[0, 1]))
    med = {k: float(np.median(v)) for k, v in t.items()}
    return {"b_single_path_forward_over_full_max": spread(per_round_max),
            "b_single_path_forward_over_full_mean": spread(per_round_mean),
            "b_time_vs_mflops_pearson": spread(per_round_r),
            "b_time_vs_mflops_pearson_of_medians": float(np.corrcoef([med[k] for k in keys], flops)[0, 1])}


def bench_train_step(timer: Timer, rounds: int, batch: int) -> dict[str, Any]:
    """(c) a step with 4 uniform masks vs a full-mask step (same model, alternating)."""
    device = timer.device
    model, b, _ = _mosei_model(device, batch)
    cfg = TrainConfig(batch_size=batch, masks_per_step=4, device=device.type)
    opt = make_optimizer(model, cfg)
    full = [model.space.full_mask()]
    rng = np.random.default_rng(0)
    t = interleaved({"four": lambda: train_step(model, b, sample_uniform_masks(model.space, 4, rng), opt, cfg,
                                                device=device),
                     "full": lambda: train_step(model, b, full, opt, cfg, device=device)},
                    timer, rounds=rounds)
    return {"c_train_step_4_masks_over_full_step": spread(ratios(t["four"], t["full"]))}


def bench_throughput(timer: Timer, rounds: int, batch: int = 64) -> dict[str, Any]:
    """(d) model GMAC/s over matmul GMAC/s, the three timed in alternation."""
    device = timer.device
    model, b, seq = _mosei_model(device, batch)
    macs = flops_table(model.cpu(), seq, [model.space.full_mask()])["mflops"]["1" * model.space.num_paths] * 1e6 * batch
    model.to(device)
    full = model.space.full_mask()
    cfg = TrainConfig(batch_size=batch, device=device.type)
    opt = make_optimizer(model, cfg)
    d = model.cfg.d_model
    # comparable matmul: the FFN's first layer at this batch, (B*L, d) @ (d, ff_mult*d), repeated
    # so that one timing lasts about as long as a forward (the clock's resolution stays negligible)
    A = torch.randn(batch * seq[0], d, device=device)
    W = torch.randn(d, model.cfg.ff_mult * d, device=device)
    mm_reps = 20
    mm_macs = A.shape[0] * d * W.shape[1] * mm_reps

    def forward() -> None:
        model.eval()
        with torch.no_grad():
            model(b, full)

    def step() -> None:
        model.train()
        train_step(model, b, [full], opt, cfg, device=device)

    def matmul() -> None:
        for _ in range(mm_reps):
            torch.matmul(A, W)

    t = interleaved({"forward": forward, "step": step, "matmul": matmul}, timer, rounds=rounds)
    mm = [mm_macs / s / 1e9 for s in t["matmul"]]
    fwd = [macs / s / 1e9 for s in t["forward"]]
    stp = [3 * macs / s / 1e9 for s in t["step"]]
    return {"d_forward_gmacs_over_matmul": spread(ratios(fwd, mm)),
            "d_train_step_gmacs_over_matmul": spread(ratios(stp, mm)),
            "d_matmul_gmacs": spread(mm), "d_forward_gmacs": spread(fwd)}


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


def bench_k_scaling(timer: Timer, rounds: int, batch: int = 32) -> dict[str, Any]:
    """Full-mask training-step time and memory for k = 2..5 modalities (demo width, synthetic
    shapes), as ratios to k = 2 (the k's alternate within each round); paths grow as k(k-1)."""
    device = timer.device
    p = get_preset("demo")
    rows, fns = [], {}
    for k in SEARCH_K:
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
        fns[k] = (lambda model=model, b=b, full=full, opt=opt, tcfg=tcfg:
                  train_step(model, b, [full], opt, tcfg, device=device))
        params = sum(q.numel() * q.element_size() for q in model.parameters())
        act = _saved_activation_bytes(lambda: model(b, full).sum())
        rows.append({"k": k, "paths": model.space.num_paths, "param_mb": params / 2**20,
                     "optimizer_mb": 2 * params / 2**20, "activation_mb": act / 2**20})
    t = interleaved(fns, timer, rounds=rounds)
    m0 = rows[0]["param_mb"] * 3 + rows[0]["activation_mb"]
    for r in rows:  # memory: weights + AdamW's two moments + saved activations
        s = spread(ratios(t[r["k"]], t[SEARCH_K[0]]))
        r["step_ratio"] = s["median"]
        r["step_ratio_iqr"] = s["iqr"]
        r["memory_ratio"] = (r["param_mb"] * 3 + r["activation_mb"]) / m0
    return {"k_scaling": rows}


class _EpochDone(Exception):
    """Raised from ``on_epoch`` to stop ``run_search`` before its final selection."""


def search_epoch_seconds(k: int, seq_len: int, timer: Timer, *, n_train: int, batch: int) -> float:
    """Seconds of one search epoch: ``run_search``'s own loop (sampled-mask training steps, the
    prior's rank terms, edge statistics, validation, checkpoint) on a synthetic set of k
    modalities and full-length sequences; the second epoch is timed, so set-up and the first
    epoch's warm-up are not counted."""
    from mro_core.data.synthetic import make_synthetic
    from mro_core.search.run import SearchConfig, run_search

    mods = tuple("TAVDE"[:k])
    ds = make_synthetic(SyntheticConfig(modalities=mods, planted=("A->T",), seq_len=seq_len, min_len=seq_len,
                                        n_train=n_train, n_valid=batch, n_test=2))
    p = get_preset("demo")
    mcfg = model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task)
    tcfg = TrainConfig(batch_size=batch, epochs=2, lr=p.train.lr, masks_per_step=p.train.masks_per_step,
                       device=timer.device.type, eval_batch_size=batch)
    marks: list[float] = []

    def on_epoch(_event: dict) -> None:
        timer.sync()
        marks.append(timer.clock())
        if len(marks) == 2:
            raise _EpochDone

    quiet = logging.getLogger("mro_core.search.run")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # no per-epoch log lines in the report
    with tempfile.TemporaryDirectory() as tmp:
        try:
            run_search(ds, mcfg, tcfg, SearchConfig(), out=Path(tmp) / "s.pt", on_epoch=on_epoch)
        except _EpochDone:
            pass
        finally:
            quiet.setLevel(level)
    return marks[1] - marks[0]


def bench_search_epoch(timer: Timer, rounds: int, *, n_train: int, batch: int) -> dict[str, Any]:
    """Growth of one search epoch with k (sequence length 50) and with sequence length (k = 3),
    as ratios to the smallest setting; the settings alternate within each round."""
    configs = [(k, SEARCH_SEQ_LENS[0]) for k in SEARCH_K] + [(3, L) for L in SEARCH_SEQ_LENS[1:]]
    times: dict[tuple[int, int], list[float]] = {c: [] for c in configs}
    for r in range(rounds):
        for c in configs[r % len(configs):] + configs[:r % len(configs)]:
            times[c].append(search_epoch_seconds(*c, timer, n_train=n_train, batch=batch))

    def rows(cs: list[tuple[int, int]]) -> list[dict[str, Any]]:
        out = []
        for c in cs:
            s = spread(ratios(times[c], times[cs[0]]))
            out.append({"k": c[0], "paths": c[0] * (c[0] - 1), "seq_len": c[1], "epoch_ratio": s["median"],
                        "epoch_ratio_iqr": s["iqr"], "epoch_s_median": float(np.median(times[c]))})
        return out

    return {"search_epoch_k": rows([(k, SEARCH_SEQ_LENS[0]) for k in SEARCH_K]),
            "search_epoch_seq_len": rows([(3, L) for L in SEARCH_SEQ_LENS]),
            "search_epoch_setting": {"n_train": n_train, "batch": batch, "preset": "demo",
                                     "masks_per_step": get_preset("demo").train.masks_per_step}}


# ---------------------------------------------------------------------------------------- run
def run_bench(*, quick: bool = False, device: str = "cpu") -> dict[str, Any]:
    """Run every figure; returns ``{"figures": {name: {value, spread, target, note}}, ...}``.

    ``quick`` is a smoke run (small batches, few rounds): every figure and table is produced, but
    its values are not the benchmark's.
    """
    dev = resolve_device(device)
    timer = Timer(dev)
    rounds = 3 if quick else 9
    raw: dict[str, Any] = {}
    with one_thread(dev):
        raw.update(bench_all_masks(timer, rounds, n_valid=64 if quick else 600))
        raw.update(bench_mask_scaling(timer, 2 if quick else 5, batch=4 if quick else 32))
        raw.update(bench_train_step(timer, rounds, batch=4 if quick else 32))
        raw.update(bench_throughput(timer, rounds, batch=8 if quick else 64))
        k_scaling = bench_k_scaling(timer, rounds, batch=4 if quick else 32)
        search = bench_search_epoch(timer, 1 if quick else 3, n_train=4 if quick else 64, batch=4 if quick else 16)
        threads = torch.get_num_threads()
    notes = {
        "a_all_masks_eval_over_full_eval": f"{int(raw['a_num_masks'])} masks vs the full mask, demo model",
        "b_single_path_forward_over_full_max": "slowest single-path subnet / full mask, mosei preset",
        "b_time_vs_mflops_pearson": "forward time vs fvcore MFLOPs over all masks",
        "c_train_step_4_masks_over_full_step": "4 uniform masks (shared union pass) / full-mask step",
        "d_forward_gmacs_over_matmul": (f"full-mask forward {raw['d_forward_gmacs']['median']:.1f} GMAC/s vs matmul "
                                        f"{raw['d_matmul_gmacs']['median']:.1f}"),
        "d_train_step_gmacs_over_matmul": "training step (3x forward MACs) vs matmul",
    }
    figures = {k: {"value": raw[k]["median"], "spread": raw[k], "target": TARGETS[k],
                   "note": f"{notes[k]} [IQR {raw[k]['iqr'][0]:.3f}-{raw[k]['iqr'][1]:.3f}, n={raw[k]['n']}]"}
               for k in TARGETS}
    return {
        "figures": figures,
        **k_scaling,
        **search,
        "raw": raw,
        "method": {"clock": timer.clock_name, "rounds": rounds, "order": "interleaved, rotated each round",
                   "value": "median of per-round values", "spread": "iqr = 25th-75th percentile, min, max, n"},
        "machine": {"device": str(dev), "torch": torch.__version__, "threads": threads,
                    "cpu": platform.processor() or platform.machine(),
                    "gpu": torch.cuda.get_device_name(0) if dev.type == "cuda" else None},
        "quick": quick,
    }
