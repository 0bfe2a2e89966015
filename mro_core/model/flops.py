"""FLOPs of subnets, counted by fvcore on the actual modules, per sample, as MFLOPs.

Convention: fvcore's, one multiply-add = one FLOP (``torch.utils.flop_counter`` counts two).
fvcore 0.1.5 has no handle for ``aten::scaled_dot_product_attention`` and would count it as 0
with only a warning; :func:`sdpa_flop_jit` registers one:

.. math::
    \\mathrm{FLOPs}(\\mathrm{SDPA}) = B\\,H\\,L_q\\,L_k\\,(d_{qk} + d_v)

(the two matmuls ``QK^T`` and ``AV``; softmax and scaling are elementwise and, as everywhere in
fvcore, not counted). Any other operator that fvcore skips must be elementwise or shape-only:
:data:`ELEMENTWISE_OPS` lists the ones this model is allowed to contain, and
:func:`uncounted_compute_ops` reports the rest (a test fails on any).

A mask's cost is additive over its parts: the projections of the modalities its active paths
read, each active path's stack, and the shared head (mean fusion is elementwise). The per-mask
table is therefore built from one fvcore count per part (:func:`flops_table`), which a test checks
against counting the extracted subnet whole, mask by mask. Counting always runs on CPU, batch 1.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import torch
from torch import nn

from mro_core.model.supernet import Subnet, Supernet
from mro_core.paths import Mask, PathSpace

log = logging.getLogger(__name__)

ELEMENTWISE_OPS = frozenset(
    {
        "aten::add", "aten::add_", "aten::sub", "aten::mul", "aten::div", "aten::gelu",
        "aten::sum", "aten::mean", "aten::clamp_min", "aten::unsqueeze", "aten::to",
        "aten::slice", "aten::expand", "aten::stack", "aten::chunk", "aten::split",
        "aten::dropout", "aten::masked_fill", "aten::softmax", "aten::view", "aten::reshape",
        "aten::transpose", "aten::contiguous", "aten::select", "aten::type_as",
        "aten::argmax",  # first real step per row, for positions (O(B L))
    }
)
"""Operators fvcore does not count that carry no matmul-scale compute (O(size) at most)."""


def sdpa_flop_jit(inputs: list[Any], outputs: list[Any]) -> int:
    """fvcore handle for ``aten::scaled_dot_product_attention``: MACs of QK^T plus AV."""
    from fvcore.nn.jit_handles import get_shape

    q, k, v = (get_shape(inputs[i]) for i in range(3))
    *batch, lq, dqk = q
    lk, dv = k[-2], v[-1]
    n = 1
    for b in batch:
        n *= b
    return n * lq * lk * (dqk + dv)


def _analysis(module: nn.Module, inputs: tuple) -> "Any":
    from fvcore.nn import FlopCountAnalysis

    a = FlopCountAnalysis(module, inputs)
    a.set_op_handle("aten::scaled_dot_product_attention", sdpa_flop_jit)
    a.unsupported_ops_warnings(False)
    a.uncalled_modules_warnings(False)
    return a


def _count(module: nn.Module, inputs: tuple) -> int:
    was = module.training
    module.eval()
    try:
        with torch.no_grad():
            return int(_analysis(module, inputs).total())
    finally:
        module.train(was)


def dummy_inputs(cfg: Any, seq_lens: Sequence[int], batch: int = 1) -> tuple[torch.Tensor, ...]:
    """CPU inputs ``(x_0..x_{k-1}, valid_0..valid_{k-1})`` with every step valid."""
    xs = tuple(torch.randn(batch, L, D) for L, D in zip(seq_lens, cfg.input_dims))
    vs = tuple(torch.ones(batch, L, dtype=torch.bool) for L in seq_lens)
    return xs + vs


def subnet_flops(model: Supernet, mask: Mask, seq_lens: Sequence[int]) -> int:
    """fvcore FLOPs per sample of the extracted subnet ``mask`` at ``seq_lens`` (CPU, batch 1)."""
    sub = model.extract_subnet(mask).cpu()
    return _count(sub, dummy_inputs(model.cfg, seq_lens))


def uncounted_compute_ops(module: nn.Module, inputs: tuple) -> dict[str, int]:
    """Operators fvcore skipped that are not in :data:`ELEMENTWISE_OPS` (should be empty)."""
    with torch.no_grad():
        a = _analysis(module.eval(), inputs)
        a.total()  # runs the trace; unsupported_ops() is only known afterwards
        skipped = a.unsupported_ops()
    return {op: n for op, n in skipped.items() if op not in ELEMENTWISE_OPS}


def part_flops(model: Supernet, seq_lens: Sequence[int]) -> dict[str, Any]:
    """fvcore FLOPs per sample of each part: ``embed`` [k], ``paths`` [P], ``head``."""
    cfg, space = model.cfg, model.space
    if len(seq_lens) != space.k:
        raise ValueError(f"need one sequence length per modality ({space.k}), got {list(seq_lens)}")
    model = model.cpu() if next(model.parameters()).device.type != "cpu" else model
    d = cfg.d_model
    xs = dummy_inputs(cfg, seq_lens)
    embed = [_count(model.embed[i], (xs[i],)) for i in range(space.k)]
    h = [torch.randn(1, L, d) for L in seq_lens]
    v = [torch.ones(1, L, dtype=torch.bool) for L in seq_lens]
    paths = [_count(model.paths[i], (h[p.tgt], v[p.tgt], h[p.src], v[p.src])) for i, p in enumerate(space.paths)]
    head = _count(model.head, (torch.randn(1, d),))
    return {"embed": embed, "paths": paths, "head": head}


def mask_flops(space: PathSpace, parts: dict[str, Any], mask: Mask) -> int:
    """FLOPs of ``mask`` from the per-part counts: used projections + active paths + head."""
    active = space.active_paths(mask)
    used = {m for p in active for m in (p.src, p.tgt)}
    return sum(parts["embed"][m] for m in used) + sum(parts["paths"][p] for p, b in enumerate(mask) if b) + parts["head"]


def flops_table(model: Supernet, seq_lens: Sequence[int], masks: Sequence[Mask] | None = None) -> dict[str, Any]:
    """MFLOPs per mask (bit string -> float), with the parts and lengths they were counted at.

    Args:
        masks: masks to include (default: all non-empty masks, when there are <= 4096).
    """
    parts = part_flops(model, seq_lens)
    space = model.space
    masks = space.all_masks() if masks is None else masks
    return {
        "seq_lens": [int(L) for L in seq_lens],
        "parts": parts,
        "mflops": {PathSpace.to_bits(m): mask_flops(space, parts, m) / 1e6 for m in masks},
        "convention": "fvcore: 1 multiply-add = 1 FLOP, per sample",
    }


def flops_of(table: dict[str, Any], space: PathSpace, mask: Mask) -> float:
    """MFLOPs of ``mask`` from a cached table (computed from its parts if not listed)."""
    bits = PathSpace.to_bits(mask)
    if bits in table["mflops"]:
        return float(table["mflops"][bits])
    return mask_flops(space, table["parts"], mask) / 1e6


def analytic_flops(cfg: Any, mask: Mask, seq_lens: Sequence[int]) -> int:
    """Closed-form count in fvcore's convention (a cross-check for the traced count).

    Per path ``s->t`` and layer: ``Lt d^2`` (Q) + ``Ls 2d^2`` (K, V) + ``Lt d^2`` (O) +
    ``2 Lt Ls d`` (SDPA) + ``2 Lt d f`` (FFN, f = ff_mult d) + LayerNorms ``5 d (2 Lt + Ls)``;
    per path also the output LayerNorm ``5 Lt d``. Projections ``L_m D_m d`` for used modalities;
    head ``5 d + d h + h o``. Biases and elementwise ops are not counted (fvcore convention).
    """
    space = PathSpace(cfg.modalities)
    d, f, h, o = cfg.d_model, cfg.ff_mult * cfg.d_model, cfg.head_width, cfg.total_out
    total, used = 0, set()
    for p in space.active_paths(mask):
        Lt, Ls = seq_lens[p.tgt], seq_lens[p.src]
        used |= {p.src, p.tgt}
        layer = Lt * d * d + Ls * 2 * d * d + Lt * d * d + 2 * Lt * Ls * d + 2 * Lt * d * f + 5 * d * (2 * Lt + Ls)
        total += cfg.layers_per_path * layer + 5 * Lt * d
    total += sum(seq_lens[m] * cfg.input_dims[m] * d for m in used)
    return total + 5 * d + d * h + h * o


__all__ = [
    "ELEMENTWISE_OPS",
    "Subnet",
    "analytic_flops",
    "flops_of",
    "flops_table",
    "mask_flops",
    "part_flops",
    "sdpa_flop_jit",
    "subnet_flops",
    "uncounted_compute_ops",
]
