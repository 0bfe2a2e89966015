"""FLOPs of the fusion baselines (Concat+MLP, EmbraceNet), counted as the supernet's are.

fvcore traces the model through a positional-tensor wrapper on CPU, batch 1, every step valid, in
eval mode, and counts 1 multiply-add as 1 FLOP, per sample; so the MFLOPs columns of Table 5
compare the baselines and the supernet's masks under one convention (:mod:`mro_core.model.flops`).
Kept out of :mod:`mro_core.model.baselines`, which holds the models only.
"""

from __future__ import annotations

from typing import Sequence

from torch import Tensor, nn

from mro_core.model.flops import _count, dummy_inputs
from mro_core.model.baselines import _TensorForward


def baseline_inputs(model: nn.Module, seq_lens: Sequence[int]) -> tuple[nn.Module, tuple[Tensor, ...]]:
    """A positional-tensor wrapper of ``model`` and CPU inputs (batch 1, every step valid)."""
    cfg = model.cfg
    if len(seq_lens) != len(cfg.modalities):
        raise ValueError(f"need one sequence length per modality ({len(cfg.modalities)}), got {list(seq_lens)}")
    return _TensorForward(model), dummy_inputs(cfg, seq_lens)


def baseline_flops(model: nn.Module, seq_lens: Sequence[int]) -> int:
    """fvcore FLOPs per sample (1 multiply-add = 1 FLOP) at ``seq_lens``, eval mode, on CPU.

    The model is moved to CPU for the count and moved back afterwards; its train/eval mode is kept.
    """
    dev = next(model.parameters()).device
    wrapper, inputs = baseline_inputs(model.cpu(), seq_lens)
    try:
        return _count(wrapper, inputs)
    finally:
        model.to(dev)


__all__ = ["baseline_flops", "baseline_inputs"]
