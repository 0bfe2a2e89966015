"""The weight-sharing CMT supernet: one cross-modal stack per directed path, switched by a mask.

For a mask m over the P = k(k-1) paths, with path vectors :math:`z_p(x)` (the target sequence after
the path's layers, masked-mean pooled):

.. math::
    \\hat y(x; m) = \\mathrm{Head}\\Big(\\frac{1}{|m|} \\sum_{p: m_p = 1} z_p(x)\\Big)

Path vectors do not depend on the mask, so one batch's vectors, computed once for the union of
the masks at hand, serve every mask (:meth:`Supernet.path_features` then
:meth:`Supernet.head_for_masks`). Inactive paths are never executed: no compute, no parameter
touched, no gradient. Projections run only for modalities some active path reads.
"""

from __future__ import annotations

import copy
from typing import Iterable, Sequence

import torch
from torch import Tensor, nn

from mro_core.config import ModelConfig
from mro_core.data.base import Batch
from mro_core.model.layers import PathStack, first_real_positions, sinusoidal_positions
from mro_core.paths import Mask, PathSpace


class ModalityEmbed(nn.Module):
    """Per-modality input projection ``Linear(D_m, d)`` plus fixed sinusoidal positions.

    With ``valid`` given, positions count from each sample's first real step
    (:func:`~mro_core.model.layers.first_real_positions`), so a prediction does not depend on the
    padding side of the file nor on the batch it is in. Without ``valid`` (a tracer's call with
    every step real) positions are ``0..L-1``, which is the same thing for an all-valid row. The
    position table is a non-persistent buffer: checkpoints do not store it.
    """

    def __init__(self, in_dim: int, d: int, max_len: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_dim, d)
        self.register_buffer("pos", sinusoidal_positions(max_len, d), persistent=False)

    def forward(self, x: Tensor, valid: Tensor | None = None) -> Tensor:  # (B, L, D_m) -> (B, L, d)
        L = x.shape[1]
        if L > self.pos.shape[0]:
            raise ValueError(
                f"sequence of length {L} exceeds max_len={self.pos.shape[0]}; raise ModelConfig.max_len"
            )
        if valid is None:
            return self.proj(x) + self.pos[:L]
        return self.proj(x) + self.pos[first_real_positions(valid)]  # (B, L, d)


class Head(nn.Module):
    """Shared task head: ``LayerNorm -> Linear -> GELU -> Dropout -> Linear``."""

    def __init__(self, d: int, hidden: int, out: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(d), nn.Linear(d, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, out)
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class Supernet(nn.Module):
    """Pairwise Cross-Modal Transformer with every directed path, each switched by a mask bit.

    Args:
        cfg: the architecture (:class:`~mro_core.config.ModelConfig`).

    Shapes:
        - batch.x[m] ``(B, L_m, D_m)``, batch.valid[m] ``(B, L_m)``
        - :meth:`path_features` -> ``(B, P, d)`` (zeros for paths not computed)
        - :meth:`forward` -> ``(B, out)``; :meth:`head_for_masks` -> ``(M, B, out)``
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.space = PathSpace(cfg.modalities)
        d = cfg.d_model
        self.embed = nn.ModuleList(ModalityEmbed(D, d, cfg.max_len) for D in cfg.input_dims)
        self.paths = nn.ModuleList(
            PathStack(d, cfg.num_heads, cfg.ff_mult, cfg.dropout, cfg.layers_per_path)
            for _ in self.space.paths
        )
        self.head = Head(d, cfg.head_width, cfg.total_out, cfg.dropout)

    # ------------------------------------------------------------------------------------
    def embed_modalities(self, batch: Batch, which: Iterable[int]) -> dict[int, Tensor]:
        """Projected + positioned sequences ``(B, L_m, d)`` for the modality indices ``which``."""
        mods = self.cfg.modalities
        return {i: self.embed[i](batch.x[mods[i]], batch.valid[mods[i]]) for i in sorted(set(which))}

    def path_features(self, batch: Batch, path_ids: Iterable[int]) -> Tensor:
        """Path vectors ``(B, P, d)`` for ``path_ids``; the other paths' slots are zero.

        Only the listed paths and the modalities they read are executed.
        """
        ids = sorted(set(int(p) for p in path_ids))
        paths = self.space.paths
        mods = self.cfg.modalities
        emb = self.embed_modalities(batch, [m for p in ids for m in (paths[p].src, paths[p].tgt)])
        B = batch.y.shape[0]
        dev = next(iter(emb.values())).device if emb else batch.y.device
        dtype = next(iter(emb.values())).dtype if emb else torch.float32
        vecs = [torch.zeros(B, self.cfg.d_model, device=dev, dtype=dtype)] * len(paths)
        for p in ids:
            src, tgt = paths[p].src, paths[p].tgt
            vecs[p] = self.paths[p](emb[tgt], batch.valid[mods[tgt]], emb[src], batch.valid[mods[src]])
        return torch.stack(vecs, dim=1)  # (B, P, d)

    def mask_weights(self, masks: Sequence[Mask], device: torch.device | str) -> Tensor:
        """Row-normalised ``(M, P)`` fusion weights: 1/|m| on the active paths of each mask."""
        w = torch.tensor([list(m) for m in masks], dtype=torch.float32, device=device)
        if (w.sum(1) == 0).any():
            raise ValueError("the all-zero mask is not a subnet")
        return w / w.sum(1, keepdim=True)

    def head_for_masks(self, feats: Tensor, masks: Sequence[Mask]) -> Tensor:
        """Head outputs ``(M, B, out)`` for every mask from one set of path vectors ``(B, P, d)``."""
        w = self.mask_weights(masks, feats.device).to(feats.dtype)  # (M, P)
        fused = torch.einsum("mp,bpd->mbd", w, feats)  # (M, B, d): mean of active path vectors
        M, B, d = fused.shape
        return self.head(fused.reshape(M * B, d)).view(M, B, -1)

    def forward(self, batch: Batch, mask: Mask | None = None, *, masks: Sequence[Mask] | None = None) -> Tensor:
        """Output ``(B, out)`` of the subnet ``mask`` (validated; all-zero is an error), or, with
        ``masks=``, ``(M, B, out)`` for many masks (:meth:`forward_many`; the entry point that
        DistributedDataParallel wraps)."""
        if masks is not None:
            return self.forward_many(batch, masks)
        if mask is None:
            raise ValueError("forward() needs a mask (or masks=[...])")
        mask = self.space.validate(mask)
        active = [i for i, b in enumerate(mask) if b]
        feats = self.path_features(batch, active)
        return self.head_for_masks(feats, [mask])[0]

    def forward_many(self, batch: Batch, masks: Sequence[Mask]) -> Tensor:
        """Outputs ``(M, B, out)`` for many masks, computing each needed path once."""
        masks = [self.space.validate(m) for m in masks]
        union = {i for m in masks for i, b in enumerate(m) if b}
        return self.head_for_masks(self.path_features(batch, union), masks)

    # ------------------------------------------------------------------------------------
    def extract_subnet(self, mask: Mask) -> "Subnet":
        """A plain static model equal to this supernet under ``mask`` (weights copied)."""
        return Subnet(self, self.space.validate(mask))

    def path_parameters(self, path_id: int) -> list[nn.Parameter]:
        return list(self.paths[path_id].parameters())

    def __repr__(self) -> str:
        c = self.cfg
        return (
            f"Supernet(modalities={list(c.modalities)}, paths={self.space.num_paths}, d={c.d_model}, "
            f"heads={c.num_heads}, layers_per_path={c.layers_per_path}, ff_mult={c.ff_mult}, "
            f"out={c.total_out}, params={sum(p.numel() for p in self.parameters()):,})"
        )


class Subnet(nn.Module):
    """A fixed subnet: only the active paths and the projections they read, no mask argument.

    ``forward(*xs, *valids)`` takes the k feature tensors then the k validity masks, in modality
    order (positional tensors so that tracers such as fvcore's can call it).
    """

    def __init__(self, supernet: Supernet, mask: Mask) -> None:
        super().__init__()
        self.cfg = supernet.cfg
        self.mask = tuple(mask)
        sp = supernet.space
        self.active = [i for i, b in enumerate(mask) if b]
        self.route = [(sp.paths[i].src, sp.paths[i].tgt) for i in self.active]
        used = sorted({m for pair in self.route for m in pair})
        self.embed = nn.ModuleDict({str(m): copy.deepcopy(supernet.embed[m]) for m in used})
        self.paths = nn.ModuleList(copy.deepcopy(supernet.paths[i]) for i in self.active)
        self.head = copy.deepcopy(supernet.head)

    def forward(self, *tensors: Tensor) -> Tensor:
        k = len(self.cfg.modalities)
        xs, valids = tensors[:k], tensors[k:]
        emb = {int(m): e(xs[int(m)], valids[int(m)]) for m, e in self.embed.items()}
        vecs = [
            stack(emb[t], valids[t], emb[s], valids[s]) for stack, (s, t) in zip(self.paths, self.route)
        ]
        fused = torch.stack(vecs, 0).mean(0)  # (B, d)
        return self.head(fused)

    def batch_inputs(self, batch: Batch) -> tuple[Tensor, ...]:
        mods = self.cfg.modalities
        return tuple(batch.x[m] for m in mods) + tuple(batch.valid[m] for m in mods)
