r"""Rank regularization between the prior and the observed performance of sampled masks, Eq. (2).

For N masks sampled in one step, with prior ranks (rank 1 = highest prior score) and performance
ranks (rank 1 = lowest loss), the paper's loss is

.. math::
    \mathcal{L}_{rn} = \frac{1}{N} \sum_{i=1}^N \big|\mathrm{rank}^{prior}_i - \mathrm{rank}^{perf}_i\big|^p,
    \qquad p \in \{0, 1, 2, \infty\}

(``l0``: the fraction of positions whose ranks differ; ``linf``: the largest difference).
Hard ranks are piecewise constant, so this module keeps three roles apart:

- :func:`hard_rank_loss` is the reported value (no gradient).
- :func:`soft_rank_loss` is the differentiable surrogate that trains the PRIOR (alpha, beta,
  gamma, GAT): soft ranks of the standardised prior scores from pairwise sigmoids, against fixed
  performance ranks (from detached, e.g. running-mean, losses).
- :func:`pairwise_hinge` is the paper's pairwise form, which has no gradient to the prior
  (``sign`` is flat) and only trains the SUPERNET weights to agree with the (detached) prior.

:func:`rank_regularizer` combines the two trainable terms per ``target`` (``prior``, ``supernet``
or ``both``); :func:`spearman_rho` is the rank agreement reported every epoch.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, Sequence

import numpy as np
import torch
from scipy.stats import rankdata
from torch import Tensor

from mro_core.config import RANK_LOSSES, RANK_TARGETS
from mro_core.metrics import spearman
from mro_core.paths import Mask, PathSpace

log = logging.getLogger(__name__)

RankLoss = Literal["l0", "l1", "l2", "linf"]
RankTarget = Literal["prior", "supernet", "both"]

DEFAULT_TEMPERATURE = 0.3
"""Sigmoid temperature of the soft ranks, in units of the standardised prior score: at 0.3 two
masks one std apart are ordered with weight sigmoid(1/0.3) ~ 0.97 while the gradient is still
non-negligible; much lower and the surrogate's gradient vanishes for well-separated masks."""

STD_EPS = 1e-8
"""Added to the std when standardising prior scores, so equal scores give z = 0, not NaN."""


def _check_loss(loss: str) -> None:
    if loss not in RANK_LOSSES:
        raise ValueError(f"unknown rank loss {loss!r}; choose one of {list(RANK_LOSSES)}")


def _as_1d_numpy(x: Tensor | Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    a = x.detach().cpu().double().numpy() if isinstance(x, Tensor) else np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"'{name}' must be 1-D (one value per mask); got shape {a.shape}")
    return a


def _check_pair(a: np.ndarray, b: np.ndarray, na: str, nb: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"'{na}' and '{nb}' need one value per mask each; got {a.shape[0]} and {b.shape[0]}")


# ---------------------------------------------------------------------------------- hard ranks
def hard_ranks(scores: Tensor | Sequence[float] | np.ndarray, *, descending: bool) -> np.ndarray:
    """Ranks 1..N (float64, ties get their average rank, as scipy's ``rankdata``).

    Args:
        scores: ``(N,)``.
        descending: True: rank 1 = highest score (prior); False: rank 1 = lowest (loss).
    """
    a = _as_1d_numpy(scores, "scores")
    return rankdata(-a if descending else a, method="average")


def hard_rank_loss(
    prior_scores: Tensor | Sequence[float] | np.ndarray,
    losses: Tensor | Sequence[float] | np.ndarray,
    p: RankLoss = "l1",
) -> float:
    r"""Eq. (2) on hard ranks, for reporting (no gradient).

    .. math::
        d_i = \mathrm{rank}^{prior}_i - \mathrm{rank}^{perf}_i,\quad
        L_0 = \tfrac{1}{N}\#\{i: d_i \ne 0\},\;
        L_1 = \tfrac{1}{N}\textstyle\sum |d_i|,\;
        L_2 = \tfrac{1}{N}\textstyle\sum d_i^2,\;
        L_\infty = \max_i |d_i|

    ``l0`` is a fraction (the 1/N of Eq. (2) with :math:`0^0 = 0`), in [0, 1].

    Args:
        prior_scores: ``(N,)``, higher = more promising (rank 1).
        losses: ``(N,)``, lower = better (rank 1).
        p: ``"l0" | "l1" | "l2" | "linf"``.

    Returns:
        The loss, 0.0 for N = 0.
    """
    _check_loss(p)
    a, b = _as_1d_numpy(prior_scores, "prior_scores"), _as_1d_numpy(losses, "losses")
    _check_pair(a, b, "prior_scores", "losses")
    if a.size == 0:
        return 0.0
    d = np.abs(hard_ranks(a, descending=True) - hard_ranks(b, descending=False))
    if p == "l0":
        return float(np.mean(d > 1e-9))
    if p == "l1":
        return float(d.mean())
    if p == "l2":
        return float((d**2).mean())
    return float(d.max())


# ------------------------------------------------------------------------------- soft surrogate
def standardise(x: Tensor) -> Tensor:
    """``(x - mean) / (std + STD_EPS)`` with the population std; ``(N,) -> (N,)``."""
    return (x - x.mean()) / (x.std(unbiased=False) + STD_EPS)


def soft_ranks(scores: Tensor, temperature: float = DEFAULT_TEMPERATURE) -> Tensor:
    r"""Differentiable descending ranks (rank 1 = highest score) of standardised scores.

    .. math:: r_i = 1 + \sum_{j \ne i} \sigma\big((z_j - z_i)/\tau\big), \quad z = \mathrm{std}(s)

    As :math:`\tau \to 0` this is the hard rank for distinct scores, and ties get the average
    rank (each tied pair contributes 1/2).

    Shapes:
        scores ``(N,)`` -> ``(N,)``
    """
    if temperature <= 0:
        raise ValueError(f"'temperature' must be > 0 (got {temperature})")
    z = standardise(scores)
    diff = (z[None, :] - z[:, None]) / temperature  # (N, N): [i, j] = (z_j - z_i) / tau
    pair = torch.sigmoid(diff)
    return 1.0 + pair.sum(1) - 0.5  # the diagonal contributes sigmoid(0) = 1/2


def soft_rank_loss(
    prior_scores: Tensor,
    perf_targets: Tensor | Sequence[float] | np.ndarray,
    p: RankLoss = "l1",
    temperature: float = DEFAULT_TEMPERATURE,
) -> Tensor:
    r"""Differentiable surrogate of Eq. (2); the gradient reaches ``prior_scores`` only.

    Performance ranks :math:`\hat r` (rank 1 = lowest target) are fixed integers from the
    detached ``perf_targets`` (e.g. each mask's running-mean loss); prior ranks are
    :func:`soft_ranks`. With :math:`d_i = r_i - \hat r_i`:

    .. math::
        L_1 = \tfrac1N \textstyle\sum |d_i|, \quad L_2 = \tfrac1N \textstyle\sum d_i^2, \quad
        L_\infty = \tau \log \textstyle\sum_i e^{|d_i|/\tau}

    ``l0``: a per-position 0/1 count has no useful gradient, so it is replaced by the smooth
    fraction of discordant pairs, over the pairs with different targets (i better than j):

    .. math:: L_0 = \frac{1}{|\mathcal{P}|} \sum_{(i,j) \in \mathcal{P}} \sigma\big((z_j - z_i)/\tau\big)

    which tends to the hard fraction of discordant pairs (0 exactly when the orders agree), not to
    the per-position count of :func:`hard_rank_loss`. ``linf``'s smooth max overestimates the max
    by at most :math:`\tau \log N`.

    Args:
        prior_scores: ``(N,)`` with grad (e.g. :func:`mro_core.search.prior.prior_score`).
        perf_targets: ``(N,)`` lower = better; detached here.
        p: ``"l0" | "l1" | "l2" | "linf"``.
        temperature: :math:`\tau`, in standardised-score units (sigmoids) and rank units (smooth max).

    Returns:
        0-d tensor; zero (still attached to the graph) for N < 2.
    """
    _check_loss(p)
    if temperature <= 0:
        raise ValueError(f"'temperature' must be > 0 (got {temperature})")
    if prior_scores.dim() != 1:
        raise ValueError(f"'prior_scores' must be 1-D (one per mask); got shape {tuple(prior_scores.shape)}")
    t = _as_1d_numpy(perf_targets, "perf_targets")
    _check_pair(prior_scores.detach().float().cpu().numpy(), t, "prior_scores", "perf_targets")
    N = prior_scores.shape[0]
    if N < 2:
        return prior_scores.sum() * 0.0
    dev, dt = prior_scores.device, prior_scores.dtype
    if p == "l0":
        z = standardise(prior_scores)
        tt = torch.as_tensor(t, device=dev, dtype=dt)
        better = tt[:, None] < tt[None, :]  # (N, N): [i, j] = mask i has the lower loss
        if not bool(better.any()):
            return prior_scores.sum() * 0.0
        disc = torch.sigmoid((z[None, :] - z[:, None]) / temperature)  # [i, j] = sigma((z_j - z_i)/tau)
        return disc[better].mean()
    perf = torch.as_tensor(hard_ranks(t, descending=False), device=dev, dtype=dt)
    d = soft_ranks(prior_scores, temperature) - perf  # (N,)
    if p == "l1":
        return d.abs().mean()
    if p == "l2":
        return (d**2).mean()
    return temperature * torch.logsumexp(d.abs() / temperature, dim=0)


# ------------------------------------------------------------------------------ pairwise hinge
def pairwise_hinge(losses: Tensor, prior_scores: Tensor | Sequence[float] | np.ndarray) -> Tensor:
    r"""The paper's pairwise form with the prior DETACHED: trains the supernet weights only.

    .. math::
        R = \frac{2}{N(N-1)} \sum_{i<j} \max\big(0, (L_i - L_j)\,\mathrm{sign}(P_i - P_j)\big)

    A pair is penalised by its loss gap when the mask the prior prefers has the higher loss.
    Normalised by the number of unordered pairs so its scale does not grow with N like N^2.

    Args:
        losses: ``(N,)`` per-mask task losses with grad.
        prior_scores: ``(N,)``, detached here (``sign`` has no gradient anyway).

    Returns:
        0-d tensor; zero (attached to ``losses``) for N < 2.
    """
    if losses.dim() != 1:
        raise ValueError(f"'losses' must be 1-D (one per mask); got shape {tuple(losses.shape)}")
    P = torch.as_tensor(
        prior_scores.detach() if isinstance(prior_scores, Tensor) else np.asarray(prior_scores, dtype=np.float64),
        device=losses.device,
    ).to(losses.dtype)
    if P.shape != losses.shape:
        raise ValueError(
            f"'losses' and 'prior_scores' need one value per mask; got {tuple(losses.shape)} and {tuple(P.shape)}"
        )
    N = losses.shape[0]
    if N < 2:
        return losses.sum() * 0.0
    gap = losses[:, None] - losses[None, :]  # (N, N): L_i - L_j
    sgn = torch.sign(P[:, None] - P[None, :])  # (N, N): sign(P_i - P_j)
    iu = torch.triu_indices(N, N, offset=1, device=losses.device)
    hinge = (gap * sgn).clamp_min(0.0)[iu[0], iu[1]]  # (N(N-1)/2,)
    return hinge.mean()


# ------------------------------------------------------------------------------------ agreement
def spearman_rho(
    prior_scores: Tensor | Sequence[float] | np.ndarray, losses: Tensor | Sequence[float] | np.ndarray
) -> float:
    """Spearman's rho between the prior scores and the NEGATIVE losses (scipy).

    So +1 means the prior orders the masks exactly as their performance (high prior = low loss),
    the same convention as Eq. (2)'s ranks. 0.0 when undefined (N < 2 or a constant side).
    """
    a, b = _as_1d_numpy(prior_scores, "prior_scores"), _as_1d_numpy(losses, "losses")
    _check_pair(a, b, "prior_scores", "losses")
    if a.size < 2:
        return 0.0
    return spearman(a, -b)


# ---------------------------------------------------------------------------------- combination
def rank_regularizer(
    losses: Tensor,
    prior_scores: Tensor,
    perf_targets: Tensor | Sequence[float] | np.ndarray | None = None,
    *,
    loss: RankLoss = "l1",
    target: RankTarget = "both",
    temperature: float = DEFAULT_TEMPERATURE,
) -> Tensor:
    """The trainable rank terms for one step.

    - ``target="supernet"``: :func:`pairwise_hinge` (gradient to the supernet via ``losses``).
    - ``target="prior"``: :func:`soft_rank_loss` with ``loss`` (gradient to the prior via
      ``prior_scores``).
    - ``target="both"``: their sum; the two terms do not mix, since each detaches the other side.

    Args:
        losses: ``(N,)`` per-mask task losses with grad.
        prior_scores: ``(N,)`` prior scores with grad.
        perf_targets: ``(N,)`` performance targets for the surrogate (e.g. running-mean loss per
            mask); default: the detached ``losses``.
        loss: rank loss of the surrogate, ``l0 | l1 | l2 | linf``.
        target: ``prior | supernet | both``.
        temperature: surrogate temperature.
    """
    _check_loss(loss)
    if target not in RANK_TARGETS:
        raise ValueError(f"unknown rank target {target!r}; choose one of {list(RANK_TARGETS)}")
    if perf_targets is None:
        perf_targets = losses.detach()
    out = losses.sum() * 0.0 + prior_scores.sum() * 0.0
    if target in ("supernet", "both"):
        out = out + pairwise_hinge(losses, prior_scores)
    if target in ("prior", "both"):
        out = out + soft_rank_loss(prior_scores, perf_targets, loss, temperature)
    return out


class RunningMaskLoss:
    """Per-mask running mean of the loss, the fixed performance targets of :func:`soft_rank_loss`.

    A mask's single-batch loss is noisy; averaging every time the mask is sampled gives a steadier
    performance rank. Owns its state; :meth:`state_dict` is JSON-able.

    Args:
        momentum: 0 = plain mean over all observations; in (0, 1) = exponential moving average
            ``m <- momentum * m + (1 - momentum) * loss``.
    """

    def __init__(self, momentum: float = 0.0) -> None:
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"'momentum' must lie in [0, 1) (got {momentum})")
        self.momentum = float(momentum)
        self._mean: dict[str, float] = {}
        self._count: dict[str, int] = {}

    def update(self, masks: Sequence[Mask], losses: Tensor | Sequence[float] | np.ndarray) -> np.ndarray:
        """Fold in one step's losses; return the updated targets ``(N,)`` for these masks."""
        vals = _as_1d_numpy(losses, "losses")
        if len(masks) != vals.shape[0]:
            raise ValueError(f"{len(masks)} masks but {vals.shape[0]} losses")
        for m, v in zip(masks, vals):
            key = PathSpace.to_bits(m)
            n = self._count.get(key, 0)
            if n == 0:
                self._mean[key] = float(v)
            elif self.momentum > 0:
                self._mean[key] = self.momentum * self._mean[key] + (1 - self.momentum) * float(v)
            else:
                self._mean[key] += (float(v) - self._mean[key]) / (n + 1)
            self._count[key] = n + 1
        return np.array([self._mean[PathSpace.to_bits(m)] for m in masks])

    def get(self, mask: Mask) -> float | None:
        return self._mean.get(PathSpace.to_bits(mask))

    def state_dict(self) -> dict[str, Any]:
        return {"momentum": self.momentum, "mean": dict(self._mean), "count": dict(self._count)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.momentum = float(state["momentum"])
        self._mean = {str(k): float(v) for k, v in state["mean"].items()}
        self._count = {str(k): int(v) for k, v in state["count"].items()}

    def __len__(self) -> int:
        return len(self._mean)
