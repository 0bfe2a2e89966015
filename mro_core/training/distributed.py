"""Data-parallel training with PyTorch's own engine: torchrun + DistributedDataParallel.

``torchrun --nproc-per-node N -m mro_core train ... --distributed`` starts N processes; each
joins the process group from torchrun's environment (gloo on CPU, nccl on CUDA), wraps the
supernet in DDP with ``find_unused_parameters=True`` (the paths of inactive masks get no gradient,
and DDP must be told so), and reads its shard of each epoch from ``DistributedSampler``. Every
rank draws the same masks each step because every rank starts the same seeded generator and
consumes it identically; gradients are averaged by DDP. Only rank 0 writes checkpoints and the
run store.

With a per-rank batch of ``B / N`` this is the same computation as one process with batch B over
the same sample order (the union of the ranks' s-th batches is the single process's s-th batch),
up to floating-point summation order; a test checks it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np
import torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: ``rank`` of ``world_size``, and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    enabled: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: torch.device) -> DistContext:
    """Join the process group torchrun set up (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``...).

    Raises:
        ValueError: ``--distributed`` outside torchrun.
    """
    import torch.distributed as dist

    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise ValueError("--distributed needs torchrun: `torchrun --nproc-per-node N -m mro_core train ... --distributed`")
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", 0))
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(local)
        dist.init_process_group(backend=backend)
    log.info("distributed: rank %d of %d (%s)", rank, world, dist.get_backend())
    return DistContext(rank, world, local, True)


def setup(device: torch.device, *, enabled: bool, batch_size: int) -> tuple[DistContext, torch.device]:
    """Join the process group when ``enabled``; this rank's device; check the global batch splits.

    Raises:
        ValueError: outside torchrun, or a batch size the number of processes does not divide.
    """
    ctx = init_distributed(device) if enabled else DistContext()
    if ctx.enabled and device.type == "cuda":
        device = torch.device("cuda", ctx.local_rank)
    if batch_size % ctx.world_size:
        raise ValueError(f"--batch-size {batch_size} must divide by the number of processes ({ctx.world_size})")
    return ctx, device


def shard_indices(n: int, ctx: DistContext, *, seed: int, epoch: int) -> np.ndarray:
    """This rank's sample order for ``epoch`` from ``DistributedSampler`` (shuffled, seeded)."""
    from torch.utils.data import DistributedSampler

    sampler = DistributedSampler(range(n), num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True,
                                 seed=seed, drop_last=False)
    sampler.set_epoch(epoch)
    return np.fromiter(iter(sampler), dtype=np.int64)


def wrap_ddp(model: torch.nn.Module, ctx: DistContext, device: torch.device) -> torch.nn.Module:
    """DDP with ``find_unused_parameters=True``: inactive paths produce no gradient."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index if device.index is not None else ctx.local_rank] if device.type == "cuda" else None
    return DDP(model, device_ids=ids, find_unused_parameters=True)


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        import torch.distributed as dist

        dist.barrier()


def shutdown(ctx: DistContext) -> None:
    if ctx.enabled:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
