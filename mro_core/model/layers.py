"""Building blocks of a cross-modal path: positions, cross attention, feed-forward, the layer.

Reads top to bottom: helpers -> attention -> MLP -> layer.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


# ---------------------------------------------------------------------------------- helpers
def sinusoidal_positions(max_len: int, d: int) -> Tensor:
    """Fixed sine/cosine positions (Vaswani et al.), ``(max_len, d)``."""
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]  # (L, 1)
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(max_len, d)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div[: d // 2])
    return pe


def first_real_positions(valid: Tensor) -> Tensor:
    """Per-sample position indices ``(B, L)`` counting from each row's first valid step.

    ``pos[b, t] = max(t - first_b, 0)`` with ``first_b`` the index of row b's first True in
    ``valid (B, L)`` (0 for a row without one). Positions then depend on the sample alone, not on
    how much leading padding it or its batch-mates carry: a left-padded (MulT) sample gets the
    same positions as the same steps right-padded (MMSA), and cutting all-padding columns off a
    batch (:func:`~mro_core.data.base.make_batch`) changes nothing. Steps inside the real span
    keep their true offset even if a step in between is all-zero (and so masked), so timing is
    kept; padded steps get some position too, but they are never attended to nor pooled.
    """
    L = valid.shape[1]
    first = valid.to(torch.uint8).argmax(dim=1)  # (B,): first True (0 when the row has none)
    steps = torch.arange(L, device=valid.device)[None, :]  # (1, L)
    return (steps - first[:, None]).clamp_min(0)  # (B, L)


def masked_mean(x: Tensor, valid: Tensor) -> Tensor:
    """Mean of ``x (B, L, d)`` over the valid steps of ``valid (B, L)`` -> ``(B, d)``."""
    w = valid.to(x.dtype).unsqueeze(-1)  # (B, L, 1)
    return (x * w).sum(1) / w.sum(1).clamp_min(1.0)


# -------------------------------------------------------------------------------- attention
class CrossAttention(nn.Module):
    r"""Multi-head cross attention: the target's steps query the source's steps.

    .. math::
        \mathrm{Attn}(X_t, X_s) = \mathrm{softmax}\Big(\frac{(X_t W_q)(X_s W_k)^\top}{\sqrt{d_h}}
            + M\Big)(X_s W_v)\, W_o

    with :math:`M = -\infty` on padded source steps. Uses PyTorch's fused
    ``scaled_dot_product_attention``; :meth:`attention_weights` recomputes the weights explicitly
    for the Modal Relation Graph's attention-variance statistic (not used in the hot path).

    Args:
        d: model width.
        num_heads: heads (``d`` must divide by it).
        dropout: dropout on the output projection.

    Shapes:
        - target ``(B, Lt, d)``, source ``(B, Ls, d)``, source_valid ``(B, Ls)`` bool
        - output ``(B, Lt, d)``
    """

    def __init__(self, d: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d % num_heads:
            raise ValueError(f"'d' (got {d}) must be divisible by 'num_heads' (got {num_heads})")
        self.d, self.num_heads, self.dh = d, num_heads, d // num_heads
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)  # keys and values in one matmul
        self.o = nn.Linear(d, d)
        self.drop = nn.Dropout(dropout)

    def _heads(self, x: Tensor) -> Tensor:
        B, L, _ = x.shape
        return x.view(B, L, self.num_heads, self.dh).transpose(1, 2)  # (B, H, L, dh)

    def _qkv(self, target: Tensor, source: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        q = self._heads(self.q(target))  # (B, H, Lt, dh)
        k, v = self.kv(source).chunk(2, dim=-1)
        return q, self._heads(k), self._heads(v)  # (B, H, Ls, dh) each

    def forward(self, target: Tensor, source: Tensor, source_valid: Tensor) -> Tensor:
        q, k, v = self._qkv(target, source)
        bias = source_valid[:, None, None, :]  # (B, 1, 1, Ls): True = attend
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)  # (B, H, Lt, dh)
        B, H, Lt, dh = y.shape
        y = y.transpose(1, 2).reshape(B, Lt, H * dh)  # (B, Lt, d)
        return self.drop(self.o(y))

    def attention_weights(self, target: Tensor, source: Tensor, source_valid: Tensor) -> Tensor:
        """Softmax attention weights ``(B, H, Lt, Ls)``, zero on padded source steps."""
        q, k, _ = self._qkv(target, source)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.dh)  # (B, H, Lt, Ls)
        scores = scores.masked_fill(~source_valid[:, None, None, :], float("-inf"))
        return scores.softmax(-1)

    def __repr__(self) -> str:
        return f"CrossAttention(d={self.d}, heads={self.num_heads})"


# ------------------------------------------------------------------------------------- MLP
class FeedForward(nn.Module):
    """``Linear(d, ff_mult*d) -> GELU -> Linear(ff_mult*d, d) -> Dropout``."""

    def __init__(self, d: int, ff_mult: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(d, ff_mult * d)
        self.fc2 = nn.Linear(ff_mult * d, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.fc2(F.gelu(self.fc1(x))))


# ----------------------------------------------------------------------------------- layer
class CrossModalLayer(nn.Module):
    r"""One pre-LayerNorm cross-modal transformer layer (MulT style).

    .. math::
        h &= x_t + \mathrm{Attn}(\mathrm{LN}_q(x_t), \mathrm{LN}_{kv}(x_s)) \\
        y &= h + \mathrm{FFN}(\mathrm{LN}_f(h))

    The source sequence is normalised once per layer and only the target stream is updated, so
    stacking layers refines the target's view of the source.

    Args:
        d: model width; num_heads: heads; ff_mult: FFN width multiple; dropout: dropout rate.
    """

    def __init__(self, d: int, num_heads: int, ff_mult: int, dropout: float) -> None:
        super().__init__()
        self.ln_q = nn.LayerNorm(d)
        self.ln_kv = nn.LayerNorm(d)
        self.attn = CrossAttention(d, num_heads, dropout)
        self.ln_f = nn.LayerNorm(d)
        self.ff = FeedForward(d, ff_mult, dropout)

    def forward(self, target: Tensor, source: Tensor, source_valid: Tensor) -> Tensor:
        h = target + self.attn(self.ln_q(target), self.ln_kv(source), source_valid)
        return h + self.ff(self.ln_f(h))

    def attention_weights(self, target: Tensor, source: Tensor, source_valid: Tensor) -> Tensor:
        return self.attn.attention_weights(self.ln_q(target), self.ln_kv(source), source_valid)


class PathStack(nn.Module):
    """The ``layers_per_path`` layers of one path, a final LayerNorm, masked-mean pooling.

    Shapes:
        - target ``(B, Lt, d)``, target_valid ``(B, Lt)``, source ``(B, Ls, d)``, source_valid ``(B, Ls)``
        - output ``(B, d)``: the path vector
    """

    def __init__(self, d: int, num_heads: int, ff_mult: int, dropout: float, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            CrossModalLayer(d, num_heads, ff_mult, dropout) for _ in range(num_layers)
        )
        self.ln_out = nn.LayerNorm(d)

    def forward(self, target: Tensor, target_valid: Tensor, source: Tensor, source_valid: Tensor) -> Tensor:
        h = target
        for layer in self.layers:
            h = layer(h, source, source_valid)
        return masked_mean(self.ln_out(h), target_valid)

    def attention_weights(self, target: Tensor, source: Tensor, source_valid: Tensor) -> list[Tensor]:
        """Per layer ``(B, H, Lt, Ls)`` attention weights for this input."""
        out, h = [], target
        for layer in self.layers:
            out.append(layer.attention_weights(h, source, source_valid))
            h = layer(h, source, source_valid)
        return out
