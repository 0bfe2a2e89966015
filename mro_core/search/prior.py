r"""The Modal Relation Graph (MRG) prior over cross-modal paths, Eq. (1) of the paper.

Nodes are the k modalities; the directed edge ``i->j`` is the path ``i->j`` (the target j attends
to the source i). Each edge carries three statistics gathered during supernet training
(:class:`EdgeStats`): the cosine similarity of the two modalities' pooled embeddings, the variance
of the path's gradient norm and the variance of its attention weights. A learnable linear mix of
the (normalised) statistics is the edge score, a graph attention layer turns the scores into one
probability per path, normalised over the outgoing paths of each source (:class:`MRGPrior`):

.. math::
    s_{ij} &= \alpha\,\mathrm{cos}_{ij} + \beta\,\mathrm{Var}_g(i,j) + \gamma\,\mathrm{Var}_a(i,j)\\
    p_{i\to j} &= \frac{\exp \mathrm{GAT}(s_{ij})}{\sum_{k\neq i} \exp \mathrm{GAT}(s_{ik})}

From p to a distribution over masks (:func:`inclusion_probs`, :func:`sample_prior_masks`): each
path is included independently with probability :math:`\pi_{ij} = \mathrm{clamp}((k-1)\,p_{ij}\,
\rho, \epsilon, 1-\epsilon)`, so a uniform p gives every path the target density :math:`\rho`. A
mask's prior score is :math:`\sum_{(i,j) \in m} p_{ij}` (:func:`prior_score`), higher = more
promising. :class:`LogitPrior` is the ``no_mrg_prior`` ablation: one learnable logit per path, the
same per-source softmax, no graph and no statistics.

Limit of Eq. (1), kept on purpose: a softmax over a source's outgoing paths cannot say "both of
these paths matter"; raising one path's p lowers its siblings'. The inclusion probabilities
scale p by (k-1) so a source with a flat distribution still includes each of its paths with
probability rho.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Literal, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from mro_core.search.edge_stats import (  # re-exported: the prior's statistics live in their own module
    CONSTANT_REL_TOL,
    DEFAULT_GRAD_WINDOW,
    STAT_NAMES,
    EdgeStats,
    attention_variance,
    zscore_columns,
)

__all__ = [
    "CONSTANT_REL_TOL", "DEFAULT_GRAD_WINDOW", "STAT_NAMES", "EdgeStats", "LogitPrior", "MRGPrior", "PathPrior",
    "PriorSamplingError", "attention_variance", "inclusion_probs", "mask_log_prob", "mask_scores", "prior_score",
    "sample_prior_masks", "top_masks",
    "zscore_columns",
]
from mro_core.config import INCLUSIONS
from mro_core.paths import Mask, PathSpace

log = logging.getLogger(__name__)

DEFAULT_RHO = 0.5
"""Target path density: with a uniform p each path is included with this probability."""

DEFAULT_EPS = 1e-3
"""Inclusion probabilities are clamped to [eps, 1 - eps] so no path is ever certain or impossible."""

NODE_EMB_STD = 0.1
"""Initial std of the learned node embeddings: small, so the initial prior is driven by the edge
statistics rather than by random node features (with std 1 some seeds start near one-hot)."""

DEFAULT_MAX_TRIES = 1000
"""Bound on re-draws of an empty mask in :func:`sample_prior_masks`."""

Conv = Literal["gatv2", "gat"]


class PriorSamplingError(RuntimeError):
    """No non-empty mask was drawn within the allowed number of tries."""


# -------------------------------------------------------------------------------------- helpers
def _source_softmax(logits: Tensor, k: int) -> Tensor:
    """Softmax over each source's k-1 outgoing paths; ``(P,) -> (P,)``.

    Paths are ordered by source then target, so the outgoing paths of source i are the
    contiguous slice ``[i*(k-1), (i+1)*(k-1))`` and a reshape to ``(k, k-1)`` groups them.
    """
    return logits.view(k, k - 1).softmax(-1).reshape(-1)


def _source_sums(p: Tensor, k: int) -> Tensor:
    """Per-source totals ``(k,)`` of a per-path vector ``(P,)``."""
    return p.view(k, k - 1).sum(-1)


def _k_from_num_paths(num_paths: int) -> int:
    """Invert P = k(k-1); an error when P is not of that form."""
    k = int(round((1 + math.sqrt(1 + 4 * num_paths)) / 2))
    if k < 2 or k * (k - 1) != num_paths:
        raise ValueError(
            f"a path vector must have k(k-1) entries for some k >= 2 (2, 6, 12, 20, ...); got {num_paths}"
        )
    return k


def _masks_tensor(masks: Sequence[Mask] | Tensor, num_paths: int, device: torch.device, dtype: torch.dtype) -> Tensor:
    m = masks if isinstance(masks, Tensor) else torch.tensor([list(x) for x in masks], dtype=dtype)
    m = m.to(device=device, dtype=dtype)
    if m.dim() != 2 or m.shape[1] != num_paths:
        raise ValueError(f"masks must be (M, {num_paths}) (one bit per path); got shape {tuple(m.shape)}")
    return m


# ---------------------------------------------------------------------------------- statistics
class PathPrior(nn.Module):
    """Base of the path priors: ``probs(stats) -> (P,)``, each source's outgoing p summing to 1.

    Subclasses implement :meth:`probs`; :meth:`forward` is the same call. Everything a prior needs
    to be restored lives in its ``state_dict`` (plain tensors).
    """

    def __init__(self, space: PathSpace, *, independent: bool = False) -> None:
        super().__init__()
        self.space = space
        # ``sigmoid`` inclusion: a learned per-source offset t_i (init 0) turns the per-source
        # softmax into independent per-path probabilities (see :meth:`independent_probs`)
        self.source_offsets = nn.Parameter(torch.zeros(space.k)) if independent else None

    def probs(self, stats: Tensor | None = None) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement probs(stats)")

    def independent_probs(self, p: Tensor) -> Tensor:
        r"""Per-path probabilities NOT normalised per source (``sigmoid`` inclusion), ``(P,) -> (P,)``:

        .. math:: q_{i\to j} = \sigma\big(\log((k-1)\,p_{i\to j}) + t_i\big)

        i.e. a sigmoid of the GAT's (or the logits') edge score, log p up to its per-source
        normaliser, against a learned per-source threshold t_i. A uniform p with t = 0 gives 1/2 per
        path; t_i -> -inf is "source i feeds nothing", and any subset of a source's paths is the
        set above the threshold for some p and t_i, so hubs, sinks and silent modalities can all be
        the prior's top mask. Without offsets (other inclusions) ``p`` is returned unchanged.
        """
        if self.source_offsets is None:
            return p
        k = self.space.k
        logit = torch.log(((k - 1) * p).clamp_min(1e-30)) + self.source_offsets.to(p.dtype).repeat_interleave(k - 1)
        return torch.sigmoid(logit)

    def forward(self, stats: Tensor | None = None) -> Tensor:
        return self.probs(stats)

    def mix_weights(self) -> dict[str, float] | None:
        """``{"alpha", "beta", "gamma"}`` when the prior has them, else None."""
        return None

    @torch.no_grad()
    def to_record(self, stats: EdgeStats | None = None) -> dict[str, Any]:
        """JSON-able snapshot for the run store: p per path, the mix weights, the statistics."""
        z = stats.normalised() if stats is not None else torch.zeros(self.space.num_paths, 3)
        p = self.probs(z.to(self._device())).detach().cpu()
        rec: dict[str, Any] = {"kind": type(self).__name__, "paths": list(self.space.path_names),
                               "p": [float(v) for v in p.tolist()]}
        w = self.mix_weights()
        rec.update(w if w is not None else {"alpha": None, "beta": None, "gamma": None})
        if stats is not None:
            s = stats.to_record()
            rec["raw"], rec["normalised"] = s["raw"], s["normalised"]
        return rec

    def _device(self) -> torch.device:
        for t in self.parameters():
            return t.device
        return torch.device("cpu")


class MRGPrior(PathPrior):
    r"""Modal Relation Graph prior, Eq. (1): edge scores from the statistics, a GAT, p per path.

    .. math::
        s_{ij} = \alpha z^{\cos}_{ij} + \beta z^{g}_{ij} + \gamma z^{a}_{ij}, \qquad
        p_{i\to j} = \frac{1}{H} \sum_h a^{(h)}_{j \to i}

    where :math:`a^{(h)}_{j\to i}` are the attention coefficients of a torch-geometric ``GATv2Conv``
    (default; ``GATConv`` with ``conv="gat"``) with ``edge_dim=1`` and edge attribute
    :math:`s_{ij}`, run on the REVERSED edges (``j -> i`` for path ``i -> j``) without self loops.
    A GAT normalises its coefficients over each node's incoming edges, so on the reversed graph
    they are exactly a softmax over the outgoing paths of each source i: Eq. (1) literally
    (https://arxiv.org/abs/2105.14491 for GATv2). A mean of per-head distributions is again a
    distribution; it is renormalised per source only against round-off. The GAT's output features
    are not used, so it has no output bias (it would get no gradient).

    Node features are learned embeddings ``(k, node_dim)``: the modalities' semantics already
    enter through ``cos``, and a learned table keeps the prior independent of the data batch.
    ``GATConv`` scores are ``LeakyReLU(a_s W x_j + a_d W x_i + c s_ij)``: the source's own term
    ``a_d W x_i`` is constant within its softmax and only matters through the LeakyReLU kink, so its
    gradient is often exactly zero; ``GATv2Conv`` applies the nonlinearity per feature first and has
    no such dead weight, hence the default.

    With ``path_bias=True`` a learnable per-path bias b (init 0) is added in log space and each
    source renormalised, :math:`p \propto \exp(\log p^{GAT} + b)` per source, so the per-source
    softmax of Eq. (1) still holds; it lets the prior express per-path preferences that the three
    statistics cannot (a superset of :class:`LogitPrior`). It does not lift the one-winner-per-source
    limit of a softmax. Off by default (literal Eq. (1)).

    For k = 2 each source has a single outgoing path and p = 1 for both paths (no gradient).

    Args:
        space: the path space (k >= 2).
        node_dim: width of the learned node embeddings.
        hidden: GAT channels per head.
        heads: GAT attention heads.
        conv: ``"gatv2"`` (``GATv2Conv``) or ``"gat"`` (``GATConv``).
        path_bias: add the per-path bias described above.
        init_mix: initial (alpha, beta, gamma).
        seed: when given, parameters are initialised from this seed inside a forked torch RNG
            (the global RNG is left untouched); else from the global torch RNG.

    Shapes:
        - stats ``(P, 3)`` normalised statistics (:meth:`EdgeStats.normalised`)
        - :meth:`probs` -> ``(P,)``; :meth:`edge_scores` -> ``(P,)``
    """

    def __init__(
        self,
        space: PathSpace,
        *,
        node_dim: int = 8,
        hidden: int = 8,
        heads: int = 1,
        conv: Conv = "gatv2",
        path_bias: bool = False,
        init_mix: tuple[float, float, float] = (1.0, 1.0, 1.0),
        seed: int | None = None,
        independent: bool = False,
    ) -> None:
        super().__init__(space, independent=independent)
        from torch_geometric.nn import GATConv, GATv2Conv  # deferred: slow to import, only the prior needs it

        for name, v in (("node_dim", node_dim), ("hidden", hidden), ("heads", heads)):
            if v < 1:
                raise ValueError(f"'{name}' must be >= 1 (got {v})")
        if conv not in ("gatv2", "gat"):
            raise ValueError(f"unknown conv {conv!r}; choose 'gatv2' (GATv2Conv) or 'gat' (GATConv)")
        if len(init_mix) != 3:
            raise ValueError(f"'init_mix' needs (alpha, beta, gamma) (got {init_mix!r})")
        self.node_dim, self.hidden, self.heads, self.conv_kind = node_dim, hidden, heads, conv
        k = space.k
        self.alpha = nn.Parameter(torch.tensor(float(init_mix[0])))
        self.beta = nn.Parameter(torch.tensor(float(init_mix[1])))
        self.gamma = nn.Parameter(torch.tensor(float(init_mix[2])))
        self.node_emb = nn.Parameter(torch.empty(k, node_dim))
        cls = GATv2Conv if conv == "gatv2" else GATConv
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.gat = cls(node_dim, hidden, heads=heads, edge_dim=1, add_self_loops=False, bias=False)
            nn.init.normal_(self.node_emb, std=NODE_EMB_STD)
        self.path_bias = nn.Parameter(torch.zeros(space.num_paths)) if path_bias else None
        # reversed edges: for path i->j the GAT edge is j -> i, so softmax groups = path sources
        rev = [[p.tgt for p in space.paths], [p.src for p in space.paths]]
        self.register_buffer("edge_index", torch.tensor(rev, dtype=torch.long), persistent=False)

    def reset_parameters(self) -> None:
        """Mix weights back to 1, node embeddings N(0, NODE_EMB_STD^2), GAT re-initialised, bias 0."""
        with torch.no_grad():
            for t in (self.alpha, self.beta, self.gamma):
                t.fill_(1.0)
            nn.init.normal_(self.node_emb, std=NODE_EMB_STD)
            if self.path_bias is not None:
                self.path_bias.zero_()
        self.gat.reset_parameters()

    def mix_weights(self) -> dict[str, float]:
        return {n: float(getattr(self, n).detach()) for n in ("alpha", "beta", "gamma")}

    def edge_scores(self, stats: Tensor) -> Tensor:
        """Composite edge scores ``s = alpha*cos + beta*var_g + gamma*var_a``, ``(P,)``."""
        P = self.space.num_paths
        if stats.shape != (P, 3):
            raise ValueError(f"stats must be ({P}, 3) = (paths, [cos, var_g, var_a]); got {tuple(stats.shape)}")
        w = torch.stack([self.alpha, self.beta, self.gamma])  # (3,)
        return stats.to(w.dtype) @ w  # (P,)

    def gat_attention(self, stats: Tensor) -> Tensor:
        """Per-head GAT attention coefficients ``(P, H)`` on the reversed edges, in path order."""
        s = self.edge_scores(stats)
        _, (ei, att) = self.gat(self.node_emb, self.edge_index, edge_attr=s[:, None], return_attention_weights=True)
        assert torch.equal(ei, self.edge_index), "the GAT reordered the edges; p would be misassigned"
        return att  # (P, H)

    def probs(self, stats: Tensor | None = None) -> Tensor:
        """p per path ``(P,)``; each source's outgoing paths sum to 1. ``stats=None`` = all zeros."""
        k = self.space.k
        if stats is None:
            stats = torch.zeros(self.space.num_paths, 3, device=self.node_emb.device)
        p = self.gat_attention(stats.to(self.node_emb.device)).mean(-1)  # (P,): mean over heads
        if self.path_bias is not None:
            return self.independent_probs(_source_softmax(torch.log(p.clamp_min(1e-30)) + self.path_bias, k))
        return self.independent_probs(p / _source_sums(p, k).repeat_interleave(k - 1))  # round-off only

    def extra_repr(self) -> str:
        return (
            f"k={self.space.k}, paths={self.space.num_paths}, conv={self.conv_kind}, node_dim={self.node_dim}, "
            f"hidden={self.hidden}, heads={self.heads}, path_bias={self.path_bias is not None}"
        )


class LogitPrior(PathPrior):
    r"""The ``no_mrg_prior`` ablation: a learnable logit per path, softmax per source.

    .. math:: p_{i\to j} = \frac{\exp \theta_{ij}}{\sum_{k \ne i} \exp \theta_{ik}}

    Same interface as :class:`MRGPrior`; ``stats`` is ignored. Logits start at 0 (uniform p).

    Args:
        space: the path space.
    """

    def __init__(self, space: PathSpace, *, independent: bool = False) -> None:
        super().__init__(space, independent=independent)
        self.logits = nn.Parameter(torch.zeros(space.num_paths))

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.logits.zero_()

    def probs(self, stats: Tensor | None = None) -> Tensor:
        return self.independent_probs(_source_softmax(self.logits, self.space.k))

    def extra_repr(self) -> str:
        return f"k={self.space.k}, paths={self.space.num_paths}"


# -------------------------------------------------------------------------- mask distribution

DEFAULT_TOP_INCLUSION = 0.9
"""``relative`` inclusion: probability of each source's most preferred path."""


def inclusion_probs(p: Tensor, k: int, rho: float = DEFAULT_RHO, eps: float = DEFAULT_EPS, *,
                    mode: str = "paper", top: float = DEFAULT_TOP_INCLUSION) -> Tensor:
    r"""Independent inclusion probability of each path.

    - ``paper``: :math:`\pi_{ij} = \mathrm{clamp}((k-1)\,p_{ij}\,\rho, \epsilon, 1-\epsilon)`; a uniform
      p gives every path probability rho. A source's paths share one unit of p, so at k = 3 and
      rho = 0.5 its two paths' probabilities sum to 1 and "both paths of V" is at most a 1/4 draw.
    - ``relative``: :math:`\pi_{ij} = \mathrm{clamp}(t\, p_{ij} / \max_{j'} p_{ij'}, \epsilon, 1-\epsilon)`
      with t = ``top``: each source's favourite path is drawn with probability t and the others in
      proportion to their p, so a source whose two paths both matter (p = 1/2 each) includes both
      with probability t each. A uniform p gives every path t (rho is not used).
    - ``sigmoid``: :math:`\pi_{ij} = \mathrm{clamp}(q_{ij}, \epsilon, 1-\epsilon)` where ``p`` already
      holds the prior's independent per-path probabilities q (:meth:`PathPrior.independent_probs`,
      not normalised per source), so a source may include none, one or all of its paths.

    Args:
        p: ``(P,)`` path probabilities (any float tensor).
        k: number of modalities.
        rho: target path density in (0, 1] (``paper``).
        eps: clamp margin in (0, 0.5).
        mode: ``paper`` or ``relative``.
        top: ``relative``: inclusion of each source's most preferred path, in (0, 1].
    """
    if not 0.0 < rho <= 1.0:
        raise ValueError(f"'rho' (target path density) must lie in (0, 1] (got {rho})")
    if not 0.0 < eps < 0.5:
        raise ValueError(f"'eps' must lie in (0, 0.5) (got {eps})")
    if k < 2:
        raise ValueError(f"'k' must be >= 2 (got {k})")
    if mode == "paper":
        return ((k - 1) * p * rho).clamp(eps, 1.0 - eps)
    if mode == "sigmoid":
        return p.clamp(eps, 1.0 - eps)
    if mode != "relative":
        raise ValueError(f"unknown inclusion {mode!r}; choose one of {list(INCLUSIONS)}")
    if not 0.0 < top <= 1.0:
        raise ValueError(f"'top' must lie in (0, 1] (got {top})")
    peak = p.view(k, k - 1).amax(-1).clamp_min(1e-30).repeat_interleave(k - 1)  # (P,): source max
    return (top * p / peak).clamp(eps, 1.0 - eps)


def mask_log_prob(pi: Tensor, masks: Sequence[Mask] | Tensor) -> Tensor:
    r"""Log-probability of each mask under independent path bits,
    :math:`\sum_i m_i \log \pi_i + (1 - m_i) \log(1 - \pi_i)`; ``(M,)``."""
    m = _masks_tensor(masks, pi.shape[0], pi.device, pi.dtype)
    return m @ torch.log(pi) + (1 - m) @ torch.log1p(-pi)


def top_masks(pi: Tensor, n: int) -> list[Mask]:
    """The ``n`` most probable non-empty masks under independent bits with probabilities ``pi``,
    most probable first (exact k-best enumeration).

    The mode sets each bit to ``pi > 1/2``; every other mask is the mode with a set of bits
    flipped, costing the sum of their ``|logit(pi)|``. The k cheapest flip sets come from the
    classic best-first walk over flips sorted by cost (each set spawns "add the next flip" and
    "move the last flip one further"), which visits every set once, in order of cost.
    """
    import heapq

    q = pi.detach().double().cpu().clamp(1e-12, 1 - 1e-12)
    mode = (q > 0.5).to(torch.int64).tolist()
    cost = torch.log(q / (1 - q)).abs().tolist()
    order = sorted(range(len(cost)), key=lambda i: cost[i])
    out: list[Mask] = []
    heap: list[tuple[float, tuple[int, ...]]] = [(0.0, ())]
    while heap and len(out) < n:
        c, flips = heapq.heappop(heap)
        bits = list(mode)
        for j in flips:
            bits[order[j]] ^= 1
        if any(bits):
            out.append(tuple(bits))
        last = flips[-1] if flips else -1
        if last + 1 < len(order):
            heapq.heappush(heap, (c + cost[order[last + 1]], flips + (last + 1,)))
            if flips:
                heapq.heappush(heap, (c - cost[order[last]] + cost[order[last + 1]], flips[:-1] + (last + 1,)))
    return out


def prior_score(p: Tensor, masks: Sequence[Mask] | Tensor) -> Tensor:
    """Prior score of each mask, the sum of p over its active paths; ``(M,)``, differentiable in p.

    Args:
        p: ``(P,)`` path probabilities.
        masks: M masks, as tuples of bits or a ``(M, P)`` 0/1 tensor.
    """
    m = _masks_tensor(masks, p.shape[0], p.device, p.dtype)
    return m @ p  # (M,)


def mask_scores(p: Tensor, masks: Sequence[Mask] | Tensor, inclusion: str) -> Tensor:
    """The score that ranks masks for the rank terms and the rank measure, ``(M,)``: the sum of p
    (:func:`prior_score`), except for ``sigmoid`` inclusion, where it is the mask's log-probability
    under the prior's own independent bits (:func:`mask_log_prob`): a sum of probabilities never
    prefers leaving a path out, and the per-source offsets would get no gradient from it."""
    if inclusion == "sigmoid":
        return mask_log_prob(p.clamp(1e-6, 1 - 1e-6), masks)
    return prior_score(p, masks)


def sample_prior_masks(
    p: Tensor | np.ndarray,
    n: int,
    rng: np.random.Generator,
    *,
    rho: float = DEFAULT_RHO,
    eps: float = DEFAULT_EPS,
    max_tries: int = DEFAULT_MAX_TRIES,
    inclusion: str = "paper",
    top: float = DEFAULT_TOP_INCLUSION,
) -> list[Mask]:
    """Draw n masks with independent path bits of probability :func:`inclusion_probs`; empty masks
    are redrawn (each mask at most ``max_tries`` draws). Reproducible for a seeded ``rng``.

    Args:
        p: ``(P,)`` path probabilities, P = k(k-1).
        n: number of masks.
        rng: the caller's numpy generator (its state advances).
        rho, eps, inclusion, top: see :func:`inclusion_probs` (``inclusion`` is its ``mode``).
        max_tries: bound on draws per mask.

    Raises:
        PriorSamplingError: when a mask is still empty after ``max_tries`` draws.
    """
    if n < 0:
        raise ValueError(f"'n' must be >= 0 (got {n})")
    if max_tries < 1:
        raise ValueError(f"'max_tries' must be >= 1 (got {max_tries})")
    pt = torch.as_tensor(p.detach().cpu() if isinstance(p, Tensor) else np.asarray(p), dtype=torch.float64)
    k = _k_from_num_paths(int(pt.numel()))
    pi = inclusion_probs(pt.reshape(-1), k, rho, eps, mode=inclusion, top=top).numpy()
    out: list[Mask] = []
    for _ in range(n):
        for _ in range(max_tries):
            bits = rng.random(pi.shape[0]) < pi
            if bits.any():
                out.append(tuple(int(b) for b in bits))
                break
        else:
            raise PriorSamplingError(
                f"drew {max_tries} empty masks in a row (inclusion probabilities {np.round(pi, 6).tolist()}, "
                f"rho={rho}, eps={eps}); raise rho or eps, or max_tries"
            )
    return out
