"""Edge statistics of the Modal Relation Graph, gathered while the supernet trains.

Three numbers per directed edge (= path ``i->j``): the cosine similarity of the two modalities'
pooled embeddings, the variance of the path's gradient norm, and the variance of its attention
weights; z-scored across edges for the prior (``mro_core.search.prior``). See :class:`EdgeStats`.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from typing import Any, Iterable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mro_core.data.base import Batch
from mro_core.model.layers import masked_mean
from mro_core.paths import PathSpace

log = logging.getLogger(__name__)

STAT_NAMES = ("cos", "var_g", "var_a")
"""The three edge statistics, in the column order of :meth:`EdgeStats.raw` / :meth:`EdgeStats.normalised`."""

DEFAULT_GRAD_WINDOW = 50
"""Active steps per path kept for the gradient-norm variance (a bounded, recent window)."""

CONSTANT_REL_TOL = 1e-6
"""A statistic whose spread across edges is below this fraction of its largest magnitude is
treated as constant (all z-scores 0) instead of amplifying round-off into unit-variance noise."""


class EdgeStats:
    r"""Per-edge statistics of the Modal Relation Graph, gathered while the supernet trains.

    One instance owns all its state (no globals); call :meth:`reset` at the start of each epoch so
    the prior is refreshed from that epoch's model. Three recorders feed it:

    - :meth:`record_embeddings` (``cos``): for every sample, the masked-mean pooled projected
      embeddings :math:`\bar e_i, \bar e_j` of the two modalities (``Supernet.embed_modalities``,
      i.e. projection plus positions, exactly what the paths read), and their cosine;
      ``cos`` is the mean over all recorded samples. The batch mean of per-sample cosines is used
      rather than the cosine of batch means because the latter is dominated by the shared offset
      (bias, positions) and hides per-sample alignment. Symmetric: ``cos(i->j) = cos(j->i)``.
    - :meth:`record_grad_norms` (``var_g``): after ``backward``, the L2 norm of the gradient of all
      of a path's parameters, for each active path; ``var_g`` is the population variance
      (``ddof=0``) of the last ``grad_window`` norms of that path (observed once it has >= 2).
    - :meth:`record_attention` (``var_a``): for each path, the population variance of its attention
      weights over the valid key positions, averaged over heads and valid queries of each sample,
      then over samples (each sample weighs equally) and over the path's layers; ``var_a`` is the
      mean over recorded batches. Note the variance of a softmax over n keys scales like 1/n^2, so
      paths from a long source have small ``var_a``; the z-score across edges does not undo that.

    .. math::
        \mathrm{var}_a = \frac{1}{B H} \sum_{b,h} \frac{1}{|Q_b|} \sum_{q \in Q_b}
            \frac{1}{|K_b|} \sum_{t \in K_b} \big(a_{bhqt} - \tfrac{1}{|K_b|}\big)^2

    :meth:`normalised` z-scores each statistic across the observed edges (population std); a
    statistic that is constant across edges (spread below ``CONSTANT_REL_TOL`` of its magnitude)
    gives all zeros, and an unobserved edge gets 0, the neutral value (the mean of the observed
    edges), so it neither helps nor hurts its path.

    Args:
        space: the path space (fixes P and the edge order).
        grad_window: how many recent active steps per path enter ``var_g``.

    Shapes:
        - :meth:`raw`, :meth:`normalised`: ``(P, 3)``, columns :data:`STAT_NAMES`
          (``raw`` has NaN for unobserved edges).
    """

    def __init__(self, space: PathSpace, *, grad_window: int = DEFAULT_GRAD_WINDOW) -> None:
        if grad_window < 2:
            raise ValueError(f"'grad_window' must be >= 2 to define a variance (got {grad_window})")
        self.space = space
        self.grad_window = int(grad_window)
        self.reset()

    # ------------------------------------------------------------------------------- state
    def reset(self, *, keep_grad_history: bool = False) -> None:
        """Forget everything recorded (call once per epoch).

        Args:
            keep_grad_history: keep the gradient-norm windows (useful when epochs are short and a
                path is active in fewer than two steps per epoch).
        """
        P = self.space.num_paths
        self._cos_sum = np.zeros(P)
        self._cos_n = np.zeros(P, dtype=np.int64)
        self._att_sum = np.zeros(P)
        self._att_n = np.zeros(P, dtype=np.int64)
        if not keep_grad_history or not hasattr(self, "_grad"):
            self._grad: list[deque[float]] = [deque(maxlen=self.grad_window) for _ in range(P)]

    def state_dict(self) -> dict[str, Any]:
        """Plain lists and ints, for a checkpoint (JSON-able)."""
        return {
            "grad_window": self.grad_window,
            "cos_sum": self._cos_sum.tolist(), "cos_n": self._cos_n.tolist(),
            "att_sum": self._att_sum.tolist(), "att_n": self._att_n.tolist(),
            "grad": [list(d) for d in self._grad],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        P = self.space.num_paths
        if len(state["cos_sum"]) != P:
            raise ValueError(f"edge statistics for {len(state['cos_sum'])} paths cannot load into {P} paths")
        self.grad_window = int(state["grad_window"])
        self._cos_sum = np.asarray(state["cos_sum"], dtype=np.float64)
        self._cos_n = np.asarray(state["cos_n"], dtype=np.int64)
        self._att_sum = np.asarray(state["att_sum"], dtype=np.float64)
        self._att_n = np.asarray(state["att_n"], dtype=np.int64)
        self._grad = [deque((float(v) for v in g), maxlen=self.grad_window) for g in state["grad"]]

    # --------------------------------------------------------------------------- recorders
    @torch.no_grad()
    def record_embeddings(self, model: nn.Module, batch: Batch) -> None:
        """Accumulate the per-sample cosine of pooled embeddings for every edge (no grad)."""
        mods = self.space.modalities
        emb = model.embed_modalities(batch, range(self.space.k))
        pooled = {i: masked_mean(e.float(), batch.valid[mods[i]]) for i, e in emb.items()}  # (B, d)
        for p, path in enumerate(self.space.paths):
            c = F.cosine_similarity(pooled[path.src], pooled[path.tgt], dim=-1)  # (B,)
            self._cos_sum[p] += float(c.sum())
            self._cos_n[p] += int(c.numel())

    def record_grad_norms(self, model: nn.Module, active_paths: Iterable[int] | Mapping[int, int]) -> None:
        """After ``backward``: push each active path's gradient L2 norm into its window.

        ``active_paths`` may map each path to the number of the step's masks that used it; the
        norm is then divided by that count. The step optimises the SUM of its masks' losses, so a
        path used by c masks gets c gradient contributions: without the division ``var_g`` grows
        with how often the prior samples a path, a feedback loop that starves the paths it
        already disfavours (measured: starved paths 0.006-0.010, favoured 0.07-0.11 at epoch 6).
        Paths whose parameters have no gradient (never executed) are skipped. Call it before
        gradient clipping, which rescales every norm of the step by the same factor.
        """
        counts = dict(active_paths) if isinstance(active_paths, Mapping) else {int(x): 1 for x in active_paths}
        for p in sorted(counts):
            grads = [q.grad.detach().float().reshape(-1) for q in model.paths[p].parameters() if q.grad is not None]
            if not grads:
                continue
            self._grad[p].append(float(torch.linalg.vector_norm(torch.cat(grads))) / max(int(counts[p]), 1))

    @torch.no_grad()
    def record_attention(self, model: nn.Module, batch: Batch, paths: Iterable[int] | None = None) -> None:
        """Accumulate the attention-weight variance of ``paths`` (default all) on ``batch``.

        Runs the model in eval mode (deterministic weights, no dropout between layers) and
        restores its previous mode afterwards.
        """
        ids = list(range(self.space.num_paths)) if paths is None else sorted(set(int(x) for x in paths))
        if not ids:
            return
        mods = self.space.modalities
        sp = self.space.paths
        was_training = model.training
        model.eval()
        try:
            emb = model.embed_modalities(batch, [m for p in ids for m in (sp[p].src, sp[p].tgt)])
            for p in ids:
                s, t = sp[p].src, sp[p].tgt
                kv, qv = batch.valid[mods[s]], batch.valid[mods[t]]
                per_layer = model.paths[p].attention_weights(emb[t], emb[s], kv)
                val = torch.stack([attention_variance(w.float(), qv, kv) for w in per_layer]).mean()
                self._att_sum[p] += float(val)
                self._att_n[p] += 1
        finally:
            model.train(was_training)

    # ----------------------------------------------------------------------------- outputs
    def raw(self) -> Tensor:
        """Raw statistics ``(P, 3)`` (float64), NaN where an edge is unobserved."""
        P = self.space.num_paths
        out = np.full((P, 3), np.nan)
        seen = self._cos_n > 0
        out[seen, 0] = self._cos_sum[seen] / self._cos_n[seen]
        for p, g in enumerate(self._grad):
            if len(g) >= 2:
                out[p, 1] = float(np.var(np.asarray(g)))
        seen = self._att_n > 0
        out[seen, 2] = self._att_sum[seen] / self._att_n[seen]
        return torch.from_numpy(out)

    def observed(self) -> Tensor:
        """Bool ``(P, 3)``: which edge statistics have data."""
        return ~torch.isnan(self.raw())

    def normalised(self) -> Tensor:
        r"""Z-scored statistics ``(P, 3)`` (float32): per column, over the observed edges,

        .. math:: z_e = (x_e - \mu) / \sigma

        with the population std :math:`\sigma`; 0 for unobserved edges and for a column that is
        constant across edges (see :data:`CONSTANT_REL_TOL`).
        """
        raw = self.raw()
        missing = torch.isnan(raw).sum(0).tolist()
        if any(missing):
            log.debug("edge statistics unobserved (neutral 0): %s", dict(zip(STAT_NAMES, missing)))
        return zscore_columns(raw).float()

    def constant_stats(self) -> list[str]:
        """Names of the statistics observed on >= 2 edges whose values are the same on all of them
        (spread below :data:`CONSTANT_REL_TOL` of the magnitude, or exactly 0): their z-scores are 0."""
        raw = self.raw()
        out = []
        for c, name in enumerate(STAT_NAMES):
            v = raw[:, c][~torch.isnan(raw[:, c])]
            if v.numel() >= 2:
                sd = float(v.std(unbiased=False))
                if sd == 0.0 or sd <= CONSTANT_REL_TOL * float(v.abs().max()):
                    out.append(name)
        return out

    def to_record(self) -> dict[str, Any]:
        """JSON-able ``{"raw": {stat: [..]}, "normalised": {stat: [..]}, "paths": [..]}`` (None = unobserved)."""
        raw, z = self.raw(), self.normalised()
        return {
            "paths": list(self.space.path_names),
            "raw": {
                n: [None if math.isnan(v) else float(v) for v in raw[:, c].tolist()]
                for c, n in enumerate(STAT_NAMES)
            },
            "normalised": {n: [float(v) for v in z[:, c].tolist()] for c, n in enumerate(STAT_NAMES)},
            "grad_steps": [len(g) for g in self._grad],
        }

    def __repr__(self) -> str:
        return f"EdgeStats(paths={self.space.num_paths}, grad_window={self.grad_window})"


def attention_variance(weights: Tensor, query_valid: Tensor, key_valid: Tensor) -> Tensor:
    """Mean attention-weight variance over valid keys (see :class:`EdgeStats`), a 0-d tensor.

    Args:
        weights: ``(B, H, Lq, Lk)`` softmax weights, zero on padded keys.
        query_valid: ``(B, Lq)`` bool.
        key_valid: ``(B, Lk)`` bool.
    """
    kv = key_valid[:, None, None, :].to(weights.dtype)  # (B, 1, 1, Lk)
    n = kv.sum(-1).clamp_min(1.0)  # (B, 1, 1)
    mu = (weights * kv).sum(-1) / n  # (B, H, Lq)
    var = (((weights - mu[..., None]) ** 2) * kv).sum(-1) / n  # (B, H, Lq)
    qv = query_valid[:, None, :].to(weights.dtype)  # (B, 1, Lq)
    per_sample_head = (var * qv).sum(-1) / qv.sum(-1).clamp_min(1.0)  # (B, H)
    return per_sample_head.mean()


def zscore_columns(x: Tensor) -> Tensor:
    """Z-score each column of ``x (E, C)`` over its non-NaN entries; NaN and constant columns -> 0."""
    out = torch.zeros_like(x)
    for c in range(x.shape[1]):
        col = x[:, c]
        ok = ~torch.isnan(col)
        if int(ok.sum()) < 2:
            continue
        v = col[ok]
        mu, sd = v.mean(), v.std(unbiased=False)
        if float(sd) <= CONSTANT_REL_TOL * float(v.abs().max()) or float(sd) == 0.0:
            continue
        out[ok, c] = (v - mu) / sd
    return out


# ------------------------------------------------------------------------------------- priors
