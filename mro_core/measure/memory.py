"""Peak memory of one supernet training step at a real file's shapes (``mro bench --memory``).

The question it answers: does a training step on unaligned MOSEI (text 50, audio 500, vision 375
steps, BERT/COVAREP/Facet dims 768/74/35; :mod:`mro_core.data.settings`) at batch 64 with the
``mosei`` preset fit a 24 GB machine on CPU? Worst case on purpose: every step is real (no padding
to cut), and the step trains ``masks_per_step`` masks whose union is the full mask, so all k(k-1)
paths run forward and backward, with AdamW's state.

How it is measured:

* CPU: the step runs in a fresh spawned process; the figure is that process's peak resident set
  size (``ru_maxrss``), which includes Python, torch, the model, the optimizer state, the batch
  and the step's activations and gradients. ``step_mb`` is the rise of the peak during the steps
  over the peak before them (model, optimizer and batch already built).
* CUDA: ``torch.cuda.max_memory_allocated`` over the steps (tensors only, not the CUDA context).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["MemoryResult", "GIB", "measure_train_step_memory", "run_memory_bench"]

GIB = 1024**3
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # so the child imports this tree
DEFAULT_LIMIT_GB = 24.0


@dataclass
class MemoryResult:
    """Peak memory of a training step (MiB unless named otherwise)."""

    device: str
    setting: str
    batch_size: int
    seq_lens: list[int]
    input_dims: list[int]
    d_model: int
    layers_per_path: int
    masks_per_step: int
    paths_run: int
    params: int
    baseline_mb: float
    peak_mb: float
    step_mb: float
    cuda_peak_mb: float | None
    seconds_per_step: float
    limit_gb: float
    fits: bool
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _maxrss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024.0 if sys.platform != "darwin" else r / 1024.0**2  # Linux kB, macOS bytes


def measure_train_step_memory(
    model_cfg: Any,
    seq_lens: tuple[int, ...] | list[int],
    *,
    batch_size: int = 64,
    masks_per_step: int = 4,
    steps: int = 1,
    device: str = "cpu",
    setting: str = "",
    limit_gb: float = DEFAULT_LIMIT_GB,
    seed: int = 0,
) -> MemoryResult:
    """Build the supernet, one all-valid batch and AdamW, run ``steps`` training steps in THIS
    process, and report its memory. Call it in a fresh process for a clean CPU figure
    (:func:`run_memory_bench` does).
    """
    import numpy as np
    import torch

    from mro_core.config import TrainConfig
    from mro_core.data.base import Batch
    from mro_core.model.supernet import Supernet
    from mro_core.training.train import train_step

    torch.manual_seed(seed)
    dev = torch.device(device)
    model = Supernet(model_cfg).to(dev)
    space = model.space
    g = torch.Generator().manual_seed(seed)
    x = {m: torch.randn(batch_size, L, D, generator=g) for m, L, D in zip(model_cfg.modalities, seq_lens,
                                                                          model_cfg.input_dims)}
    v = {m: torch.ones(batch_size, L, dtype=torch.bool) for m, L in zip(model_cfg.modalities, seq_lens)}
    y = (torch.rand(batch_size, generator=g) * 6 - 3) if model_cfg.task == "regression" else \
        torch.randint(0, model_cfg.out_dim, (batch_size,), generator=g)
    batch = Batch(x, v, y).to(dev)
    rng = np.random.default_rng(seed)
    masks = [space.full_mask()]  # the union runs every path: the worst case of a step
    while len(masks) < masks_per_step:
        m = tuple(int(b) for b in rng.integers(0, 2, space.num_paths))
        if any(m):
            masks.append(m)
    tcfg = TrainConfig(batch_size=batch_size, masks_per_step=masks_per_step, device=dev.type)
    opt = torch.optim.AdamW(model.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
    baseline = _maxrss_mb()
    t0 = time.perf_counter()
    for _ in range(steps):
        train_step(model, batch, masks, opt, tcfg, device=dev)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    seconds = (time.perf_counter() - t0) / steps
    peak = _maxrss_mb()
    cuda_peak = torch.cuda.max_memory_allocated(dev) / 1024**2 if dev.type == "cuda" else None
    used = cuda_peak if cuda_peak is not None else peak
    return MemoryResult(
        device=str(dev), setting=setting, batch_size=batch_size, seq_lens=[int(s) for s in seq_lens],
        input_dims=list(model_cfg.input_dims), d_model=model_cfg.d_model,
        layers_per_path=model_cfg.layers_per_path, masks_per_step=len(masks), paths_run=space.num_paths,
        params=sum(p.numel() for p in model.parameters()), baseline_mb=round(baseline, 1),
        peak_mb=round(peak, 1), step_mb=round(max(peak - baseline, 0.0), 1),
        cuda_peak_mb=None if cuda_peak is None else round(cuda_peak, 1),
        seconds_per_step=round(seconds, 3), limit_gb=limit_gb, fits=used * 1024**2 < limit_gb * GIB,
        note=("process peak RSS (ru_maxrss) incl. Python, torch, model, AdamW state, batch, activations"
              if cuda_peak is None else "torch.cuda.max_memory_allocated over the step (tensors only)"),
    )


def _measure(dataset: str, aligned: bool, batch_size: int, preset: str, device: str, steps: int,
             limit_gb: float, seq_lens: list[int] | None = None, d_model: int | None = None) -> MemoryResult:
    from mro_core.config import get_preset, model_config_for
    from mro_core.data.settings import feature_setting

    fs = feature_setting(dataset, aligned=aligned)
    p = get_preset(preset)
    over = {"d_model": d_model} if d_model else {}
    cfg = model_config_for(p, modalities=fs.modalities, input_dims=fs.input_dims, task="regression", **over)
    seq = seq_lens or list(fs.seq_lens)
    name = f"{dataset} {'aligned' if aligned else 'unaligned'}, preset {preset}"
    return measure_train_step_memory(cfg, seq, batch_size=batch_size, masks_per_step=p.train.masks_per_step,
                                     steps=steps, device=device, setting=name, limit_gb=limit_gb)


def run_memory_bench(
    dataset: str = "mosei",
    *,
    aligned: bool = False,
    batch_size: int = 64,
    preset: str = "mosei",
    device: str = "cpu",
    steps: int = 1,
    limit_gb: float = DEFAULT_LIMIT_GB,
    seq_lens: list[int] | None = None,
    d_model: int | None = None,
    fresh_process: bool = True,
    timeout_s: float = 1800.0,
) -> dict[str, Any]:
    """Peak memory of a training step at ``dataset``'s real shapes; a JSON-able dict.

    Args:
        fresh_process: measure in a spawned process (clean ``ru_maxrss``); False runs here.
        seq_lens, d_model: overrides (tests use small ones).
    """
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1 (got {batch_size})")
    kw = dict(dataset=dataset, aligned=aligned, batch_size=batch_size, preset=preset, device=device,
              steps=steps, limit_gb=limit_gb, seq_lens=seq_lens, d_model=d_model)
    if not fresh_process:
        return _measure(**kw).to_dict()
    # a fresh interpreter (not multiprocessing): works from any caller, its ru_maxrss is clean
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")]))}
    try:
        out = subprocess.run([sys.executable, "-m", "mro_core.measure.memory", json.dumps(kw)], capture_output=True,
                             text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"memory measurement did not finish in {timeout_s:.0f} s") from None
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"memory measurement failed: {last}")
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":  # the fresh process of run_memory_bench
    print(json.dumps(_measure(**json.loads(sys.argv[1])).to_dict()))
