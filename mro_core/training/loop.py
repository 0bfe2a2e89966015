"""The one training skeleton: seed, optimizer, resume, optional DDP, per-epoch hook, checkpoint,
barrier. Supernet training (``mro_core.training.train.train_supernet``), the search
(``mro_core.search.run.run_search``) and the stand-alone baselines
(``mro_core.training.baselines.train_baseline``) all run through :class:`Loop`; what differs between
them (how a step samples masks, what an epoch logs, what else the checkpoint holds) stays with them.

Why one skeleton: results are reproducible only when every run consumes its random streams in
the same order, and resume equals an uninterrupted run only when the checkpoint holds every
stream. Written once, that order cannot drift between the three trainings:

1. :meth:`Loop.start`: join the process group (``distributed``), then ``torch.manual_seed(seed)``,
   then the numpy generator ``default_rng(seed)`` that draws masks and the data order.
2. The caller builds its model(s) (consuming torch's stream), then :meth:`Loop.optimizer`.
3. :meth:`Loop.previous` / :meth:`Loop.restore`: weights, optimizer and both RNG streams from the
   checkpoint at ``out``, so the run continues after its last saved epoch.
4. :meth:`Loop.place`: model and optimizer state on the device, DDP around the model.
5. :meth:`Loop.run`: per epoch, ``train_epoch`` on every rank and ``end_epoch`` (evaluate,
   :meth:`Loop.save`, report) on rank 0 alone; then the barrier, and ranks other than 0 leave.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np
import torch

from mro_core.training import distributed as dist_
from mro_core.training.checkpoint import Checkpoint, check_compatible, load_checkpoint, save_checkpoint
from mro_core.config import TrainConfig
from mro_core.data.base import MultimodalDataset

log = logging.getLogger(__name__)

T = TypeVar("T")


# ------------------------------------------------------------------------------------ devices
def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but no CUDA device is available; use --device auto or cpu")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r}; choose auto, cpu or cuda")
    return torch.device(name)


# -------------------------------------------------------------------------------- optimizer
def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


def optimizer_to(optimizer: torch.optim.Optimizer, device: torch.device) -> None:
    """Move a (CPU-loaded) optimizer state next to its parameters; ``step`` counters stay put."""
    for st in optimizer.state.values():
        for k, v in st.items():
            if isinstance(v, torch.Tensor) and k != "step":
                st[k] = v.to(device)


# ------------------------------------------------------------------------------- RNG streams
def rng_state(rng: np.random.Generator) -> dict:
    """Checkpointable RNG streams: numpy's generator and torch's CPU (and CUDA) generators."""
    st = {"numpy": rng.bit_generator.state, "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def restore_rng(rng: np.random.Generator, st: dict) -> None:
    rng.bit_generator.state = st["numpy"]
    torch.set_rng_state(st["torch"])
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


# ------------------------------------------------------------------------------- the skeleton
@dataclass
class Loop:
    """One training run's process context, random streams, model, optimizer and checkpoint.

    Attributes:
        ctx / device: this rank in the process group (a single process when not distributed).
        rng: the numpy generator of masks and data order (seeded with ``seed``).
        out: the checkpoint path (None: nothing is saved, as for the baselines).
        ckpt: the checkpoint being written (its ``epoch`` is the last finished epoch).
        model / opt / runner: set by :meth:`optimizer` (the model and its AdamW) and
            :meth:`place` (``runner``: the model in DDP when distributed, else the model itself).
    """

    ctx: dist_.DistContext
    device: torch.device
    rng: np.random.Generator
    seed: int
    out: Path | None = None
    ckpt: Checkpoint | None = None
    model: torch.nn.Module | None = None
    opt: torch.optim.Optimizer | None = None
    runner: torch.nn.Module | None = None

    @classmethod
    def start(cls, cfg: TrainConfig, *, distributed: bool = False, out: "str | Path | None" = None) -> "Loop":
        """Join the process group (when ``distributed``; ``cfg.batch_size`` must divide over the
        ranks), then seed torch's global RNG and the numpy generator with ``cfg.seed``, in this order."""
        ctx, device = dist_.setup(resolve_device(cfg.device), enabled=distributed, batch_size=cfg.batch_size)
        torch.manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed)
        return cls(ctx, device, rng, cfg.seed, None if out is None else Path(out))

    @property
    def is_main(self) -> bool:
        return self.ctx.is_main

    @property
    def first_epoch(self) -> int:
        """The first epoch (0-based) still to train: 0, or the resumed checkpoint's epoch."""
        return self.ckpt.epoch if self.ckpt is not None else 0

    def optimizer(self, model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
        """AdamW over ``model``'s parameters (``lr``, ``weight_decay``); callers may add groups."""
        self.model, self.opt = model, make_optimizer(model, cfg)
        return self.opt

    def previous(self, ds: MultimodalDataset, *, resume: bool) -> Checkpoint | None:
        """The checkpoint at ``out`` to continue from (``resume`` and it exists), checked against
        the data; None to start fresh. The caller checks its own settings before :meth:`restore`."""
        if not resume or self.out is None or not self.out.exists():
            return None
        prev = load_checkpoint(self.out)
        check_compatible(prev.model_config, ds.modalities, ds.input_dims, ds.task)
        return prev

    def restore(self, prev: Checkpoint, *, strict: bool = False) -> None:
        """Weights, optimizer state and both RNG streams from ``prev``; training continues after
        ``prev.epoch``. ``strict``: the optimizer and RNG states must be there (a search's are)."""
        self.model.load_state_dict(prev.state_dict)
        if strict or prev.optimizer:
            self.opt.load_state_dict(prev.optimizer)
        if strict or prev.rng:
            restore_rng(self.rng, prev.rng)
        self.ckpt.epoch = prev.epoch

    def place(self, cfg: TrainConfig) -> TrainConfig:
        """Model and optimizer state on the device, the model in DDP when distributed; returns the
        per-rank config (``batch_size`` is global and split evenly over the ranks)."""
        self.model.to(self.device)
        optimizer_to(self.opt, self.device)
        self.runner = dist_.wrap_ddp(self.model, self.ctx, self.device) if self.ctx.enabled else self.model
        return replace(cfg, batch_size=cfg.batch_size // self.ctx.world_size)

    def shard(self, n: int, epoch: int) -> np.ndarray | None:
        """This rank's sample order for ``epoch`` when distributed; None: the epoch shuffles with ``rng``."""
        return dist_.shard_indices(n, self.ctx, seed=self.seed, epoch=epoch) if self.ctx.enabled else None

    def weights(self) -> dict[str, torch.Tensor]:
        """The model's state on CPU (what a checkpoint stores)."""
        return {k: v.detach().cpu() for k, v in self.model.state_dict().items()}

    def save(self, epoch: int, fields: Callable[[], dict[str, Any]] | None = None) -> None:
        """Rank 0: checkpoint after ``epoch``, written atomically to ``out``: weights, optimizer,
        both RNG streams, then the :class:`~mro_core.training.checkpoint.Checkpoint` fields that
        ``fields()`` returns (called after the streams are taken, so nothing it computes can
        shift what is saved)."""
        if not self.is_main:
            return
        self.ckpt.epoch = epoch
        self.ckpt.state_dict = self.weights()
        self.ckpt.optimizer = self.opt.state_dict()
        self.ckpt.rng = rng_state(self.rng)
        for k, v in (fields() if fields is not None else {}).items():
            setattr(self.ckpt, k, v)
        self.write()

    def write(self) -> None:
        """Write the checkpoint as it stands (atomically)."""
        save_checkpoint(self.ckpt, self.out)

    def run(self, epochs: int, train_epoch: Callable[[int], T], end_epoch: Callable[[int, T], None]) -> bool:
        """Epochs ``first_epoch .. epochs - 1``: ``train_epoch(epoch)`` on every rank, then
        ``end_epoch(epoch, its result)`` on rank 0 (evaluate, :meth:`save`, report); then the
        barrier. Returns True on rank 0; the other ranks have left the process group."""
        for epoch in range(self.first_epoch, epochs):
            result = train_epoch(epoch)
            if self.is_main:  # only rank 0 evaluates and writes
                end_epoch(epoch, result)
        dist_.barrier(self.ctx)
        if not self.is_main:
            dist_.shutdown(self.ctx)
            return False
        return True

    def close(self) -> None:
        """Leave the process group (a no-op when not distributed)."""
        dist_.shutdown(self.ctx)


__all__ = ["Loop", "make_optimizer", "optimizer_to", "resolve_device", "restore_rng", "rng_state"]
