"""Fusion baselines of the paper's Table 5: Concat+MLP and EmbraceNet (the models only).

Both share the CMT supernet's front end, a per-time-step ``Linear(D_m, d)`` projection of each
modality, followed by masked-mean pooling over the valid steps. Projecting before pooling costs
:math:`\\sum_m L_m D_m d` multiply-adds, the same as the supernet's input projections, so the
MFLOPs columns compare fusion against fusion, not a cheaper front end against a dearer one.
(The map is affine, so pooling first and projecting once gives exactly the same vector for only
:math:`\\sum_m D_m d`; the per-step order is kept for the comparison, not for accuracy.)

Reads top to bottom: helpers -> Concat+MLP -> EmbraceNet -> registry. Their FLOP counting is
:mod:`mro_core.model.baseline_flops`, their stand-alone training :mod:`mro_core.training.baselines`.
The third baseline, Pairwise CMT (the full mask trained alone), is
``mro_core.training.train.train_supernet(..., fixed_mask=full)``.
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mro_core.config import ModelConfig
from mro_core.data.base import Batch
from mro_core.model.layers import masked_mean

Availability = Union[Sequence[bool], Tensor, None]
"""Which modalities are present: ``k`` flags for the whole batch, a ``(B, k)`` tensor per sample,
or None (all present). Non-zero means present."""

BASELINE_CHEAP_OPS = frozenset({"aten::multinomial", "aten::gather", "aten::squeeze", "aten::ne", "aten::eq"})
"""Operators beyond :data:`mro_core.model.flops.ELEMENTWISE_OPS` that the baselines may contain, none
with a multiply-add, so fvcore rightly counts them as 0: EmbraceNet's sampling path (drawing ``c``
modality indices per sample and gathering ``c`` features, O(c k) per sample) and the comparisons
that turn ``available`` flags into masks (O(k) per sample)."""


# ------------------------------------------------------------------------------------ helpers
def _mlp(d_in: int, hidden: int, d_out: int, dropout: float) -> nn.Sequential:
    """``Linear(d_in, hidden) -> GELU -> Dropout -> Linear(hidden, d_out)``."""
    return nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, d_out))


def _batch_tensors(cfg: ModelConfig, batch: Batch) -> tuple[list[Tensor], list[Tensor]]:
    missing = [m for m in cfg.modalities if m not in batch.x or m not in batch.valid]
    if missing:
        raise ValueError(
            f"the batch has no features for modality(ies) {missing}; the model was built for "
            f"{list(cfg.modalities)} (got {sorted(batch.x)})"
        )
    return [batch.x[m] for m in cfg.modalities], [batch.valid[m] for m in cfg.modalities]


def availability_matrix(available: Availability, B: int, k: int, device: torch.device | str) -> Tensor | None:
    """``available`` as a float ``(B, k)`` 0/1 matrix (None stays None: everything present).

    Raises:
        ValueError: a wrong shape, or a sample with no modality present.
    """
    if available is None:
        return None
    a = torch.as_tensor(available, device=device)
    if a.dim() == 1:
        a = a[None].expand(B, -1)
    if a.shape != (B, k):
        raise ValueError(
            f"'available' must hold k={k} flags or a (B, k) = ({B}, {k}) tensor (got shape {tuple(a.shape)})"
        )
    a = (a != 0).to(torch.float32)
    if (a.sum(1) == 0).any():
        bad = int((a.sum(1) == 0).nonzero()[0, 0])
        raise ValueError(f"sample {bad} has no available modality; at least one must be present")
    return a


class _Encoders(nn.Module):
    """Per modality: per-step ``Linear(D_m, d)`` then masked mean -> ``(B, d)`` each."""

    def __init__(self, input_dims: Sequence[int], d: int) -> None:
        super().__init__()
        self.proj = nn.ModuleList(nn.Linear(D, d) for D in input_dims)

    def forward(self, xs: Sequence[Tensor], valids: Sequence[Tensor]) -> list[Tensor]:
        return [masked_mean(p(x), v) for p, x, v in zip(self.proj, xs, valids)]  # k x (B, d)


class _TensorForward(nn.Module):
    """Positional-tensor front for tracers (fvcore): ``forward(x_0..x_{k-1}, valid_0..valid_{k-1})``."""

    def __init__(self, model: nn.Module, **kwargs: Any) -> None:
        super().__init__()
        self.model, self.kwargs = model, kwargs
        self.train(model.training)  # so that fvcore helpers restore the model's own mode

    def forward(self, *tensors: Tensor) -> Tensor:
        k = len(self.model.cfg.modalities)
        return self.model.forward_tensors(tensors[:k], tensors[k:], **self.kwargs)


# --------------------------------------------------------------------------------- Concat+MLP
class ConcatMLP(nn.Module):
    r"""Late fusion by concatenation: pool each modality, concatenate, MLP.

    .. math::
        u_m &= \frac{1}{|V_m|}\sum_{t \in V_m} (W_m x_{m,t} + b_m) \in \mathbb{R}^d \\
        \hat y &= W_2\, \mathrm{Dropout}(\mathrm{GELU}(W_1 [u_1; \dots; u_k] + b_1)) + b_2

    with :math:`V_m` the valid steps of modality m. A missing modality (``available``) is
    zero-imputed: its :math:`u_m` is replaced by 0, the usual treatment for concatenation.
    FLOPs per sample: :math:`\sum_m L_m D_m d + k d h + h o` (``h = cfg.head_width``,
    ``o = cfg.total_out``).

    Args:
        cfg: uses ``modalities``, ``input_dims``, ``d_model`` (d), ``head_width`` (h, default d),
            ``dropout`` and ``total_out``; the attention fields are ignored.

    Shapes:
        - batch.x[m] ``(B, L_m, D_m)``, batch.valid[m] ``(B, L_m)``
        - output ``(B, total_out)``
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if not isinstance(cfg, ModelConfig):
            raise TypeError(f"ConcatMLP needs a ModelConfig (got {type(cfg).__name__})")
        self.cfg = cfg
        k, d = len(cfg.modalities), cfg.d_model
        self.encoders = _Encoders(cfg.input_dims, d)
        self.mlp = _mlp(k * d, cfg.head_width, cfg.total_out, cfg.dropout)

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward_tensors(self, xs: Sequence[Tensor], valids: Sequence[Tensor],
                        available: Availability = None) -> Tensor:
        u = torch.stack(self.encoders(xs, valids), dim=1)  # (B, k, d)
        a = availability_matrix(available, u.shape[0], u.shape[1], u.device)
        if a is not None:
            u = u.masked_fill(a[..., None] == 0, 0.0)  # zero-imputation of missing modalities
        B, k, d = u.shape
        return self.mlp(u.reshape(B, k * d))  # concat [u_1; ...; u_k] -> (B, total_out)

    def forward(self, batch: Batch, available: Availability = None) -> Tensor:
        """Outputs ``(B, total_out)``; ``available`` zero-imputes the modalities marked absent."""
        return self.forward_tensors(*_batch_tensors(self.cfg, batch), available)

    def __repr__(self) -> str:
        c = self.cfg
        return (
            f"ConcatMLP(modalities={list(c.modalities)}, d={c.d_model}, hidden={c.head_width}, "
            f"out={c.total_out}, dropout={c.dropout}, params={sum(p.numel() for p in self.parameters()):,})"
        )


# --------------------------------------------------------------------------------- EmbraceNet
class EmbraceNet(nn.Module):
    r"""EmbraceNet (Choi & Lee, Information Fusion 51:259-270, 2019; arXiv:1904.09078).

    Each modality is encoded (per-step ``Linear(D_m, d)``, masked mean), then *docked* to a common
    embracement size c; the *embracement* layer builds each of the c output features from one
    modality chosen at random, with probabilities that vanish on missing modalities:

    .. math::
        u_m &= \mathrm{MaskedMean}_t(W_m x_{m,t} + b_m), \qquad
        d_m = \mathrm{ReLU}(D_m u_m + e_m) \in \mathbb{R}^c \\
        p_m &= \frac{q_m a_m}{\sum_j q_j a_j}, \qquad
        r_i \sim \mathrm{Categorical}(p_1, \dots, p_k), \qquad
        e_i = d_{r_i, i} \quad (i = 1..c) \\
        \hat y &= \mathrm{MLP}(e)

    with :math:`a_m \in \{0, 1\}` the availability and :math:`q_m` the selection probabilities
    (uniform by default). This follows the authors' reference implementation
    (github.com/idearibosome/embracenet): Linear + ReLU docking, per-sample probabilities
    multiplied by the availabilities and renormalised, c draws with replacement, one-hot selection.

    **Evaluation differs from the original, on purpose.** The reference draws :math:`r` at test
    time too, so a prediction changes between calls. Here, in eval mode, the embracement is its
    expectation, :math:`e_i = \sum_m p_m d_{m,i}` (deterministic; the analogue of inverted
    dropout's weight scaling; exact for :math:`E[e]`, an approximation for :math:`E[\hat y]` since
    the head is non-linear). Pass ``sample=True`` to draw as in the original.

    **Randomness.** Draws use the ``generator`` passed to :meth:`forward` (training passes one
    seeded from ``TrainConfig.seed``, on the model's device) or, when None, torch's global RNG.

    Args:
        cfg: uses ``modalities``, ``input_dims``, ``d_model`` (d), ``head_width`` (h),
            ``dropout`` and ``total_out``.
        embracement_size: c, the docked and embraced width (default: ``cfg.d_model``).

    Shapes:
        - batch.x[m] ``(B, L_m, D_m)``, batch.valid[m] ``(B, L_m)``
        - available / selection_probabilities: ``(k,)`` or ``(B, k)``
        - output ``(B, total_out)``

    FLOPs per sample: :math:`\sum_m L_m D_m d + k d c + c h + h o` (selection is not a
    multiply-add).
    """

    def __init__(self, cfg: ModelConfig, *, embracement_size: int | None = None) -> None:
        super().__init__()
        if not isinstance(cfg, ModelConfig):
            raise TypeError(f"EmbraceNet needs a ModelConfig (got {type(cfg).__name__})")
        c = cfg.d_model if embracement_size is None else int(embracement_size)
        if c < 1:
            raise ValueError(f"'embracement_size' must be >= 1 (got {embracement_size})")
        self.cfg, self.embracement_size = cfg, c
        k, d = len(cfg.modalities), cfg.d_model
        self.encoders = _Encoders(cfg.input_dims, d)
        self.docking = nn.ModuleList(nn.Linear(d, c) for _ in range(k))
        self.head = _mlp(c, cfg.head_width, cfg.total_out, cfg.dropout)
        self.register_buffer("uniform", torch.full((k,), 1.0 / k), persistent=False)

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def selection_probs(self, B: int, available: Availability = None,
                        selection_probabilities: Tensor | Sequence[float] | None = None) -> Tensor:
        """Row-normalised ``(B, k)`` probabilities :math:`p`, zero on missing modalities.

        Raises:
            ValueError: wrong shapes, negative or non-finite probabilities, or a sample whose
                available modalities all have probability 0.
        """
        k, dev = len(self.cfg.modalities), self.uniform.device
        if selection_probabilities is None:
            q = self.uniform.expand(B, k)
        else:
            q = torch.as_tensor(selection_probabilities, dtype=torch.float32, device=dev)
            q = q[None].expand(B, -1) if q.dim() == 1 else q
            if q.shape != (B, k):
                raise ValueError(f"'selection_probabilities' must be (k,) or (B, k) = ({B}, {k}) "
                                 f"(got shape {tuple(q.shape)})")
            if not torch.isfinite(q).all() or (q < 0).any():
                raise ValueError("'selection_probabilities' must be finite and >= 0")
        a = availability_matrix(available, B, k, dev)
        if a is not None:
            q = q * a
        s = q.sum(1, keepdim=True)  # (B, 1)
        if selection_probabilities is not None and (s == 0).any():
            raise ValueError("a sample has probability 0 on every available modality; "
                             "give an available modality a positive selection probability")
        return q / s

    def select(self, p: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Draw the modality of each embraced feature: ``(B, k)`` probs -> ``(B, c)`` indices."""
        return torch.multinomial(p, self.embracement_size, replacement=True, generator=generator)

    def forward_tensors(
        self,
        xs: Sequence[Tensor],
        valids: Sequence[Tensor],
        available: Availability = None,
        *,
        selection_probabilities: Tensor | Sequence[float] | None = None,
        generator: torch.Generator | None = None,
        sample: bool | None = None,
    ) -> Tensor:
        u = self.encoders(xs, valids)  # k x (B, d)
        docked = torch.stack([F.relu(dock(h)) for dock, h in zip(self.docking, u)], dim=1)  # (B, k, c)
        B = docked.shape[0]
        p = self.selection_probs(B, available, selection_probabilities).to(docked.dtype)  # (B, k)
        if available is not None:  # a missing modality's features never reach the output, not even as 0 * NaN
            docked = docked.masked_fill(p[..., None] == 0, 0.0)
        draw = self.training if sample is None else sample
        if draw:
            r = self.select(p.float(), generator)  # (B, c) modality index per feature
            e = docked.gather(1, r[:, None, :]).squeeze(1)  # (B, c): e_i = d_{r_i, i}
        else:
            e = (p[..., None] * docked).sum(1)  # (B, c): E[e_i] = sum_m p_m d_{m,i}
        return self.head(e)

    def forward(
        self,
        batch: Batch,
        available: Availability = None,
        *,
        selection_probabilities: Tensor | Sequence[float] | None = None,
        generator: torch.Generator | None = None,
        sample: bool | None = None,
    ) -> Tensor:
        """Outputs ``(B, total_out)``.

        Args:
            available: modalities present (``(k,)`` or ``(B, k)``, non-zero = present); missing
                ones get selection probability 0, so the output does not depend on their features.
            selection_probabilities: :math:`q`, ``(k,)`` or ``(B, k)``, >= 0 (default uniform).
            generator: RNG of the draws (None: torch's global RNG).
            sample: draw (True) or take the expectation (False); None: draw in training mode only.
        """
        xs, valids = _batch_tensors(self.cfg, batch)
        return self.forward_tensors(xs, valids, available, selection_probabilities=selection_probabilities,
                                    generator=generator, sample=sample)

    def __repr__(self) -> str:
        c = self.cfg
        return (
            f"EmbraceNet(modalities={list(c.modalities)}, d={c.d_model}, embracement={self.embracement_size}, "
            f"hidden={c.head_width}, out={c.total_out}, dropout={c.dropout}, "
            f"params={sum(p.numel() for p in self.parameters()):,})"
        )


BASELINES: dict[str, type[nn.Module]] = {"concat_mlp": ConcatMLP, "embracenet": EmbraceNet}
BASELINE_NAMES = {"concat_mlp": "Concat+MLP", "embracenet": "EmbraceNet"}
"""Display names, as in the paper's Table 5."""


def build_baseline(kind: str, cfg: ModelConfig) -> nn.Module:
    """A baseline by registry name; unknown names list the choices."""
    if kind not in BASELINES:
        raise ValueError(f"unknown baseline {kind!r}; choose one of {sorted(BASELINES)}")
    return BASELINES[kind](cfg)


__all__ = [
    "BASELINES",
    "BASELINE_CHEAP_OPS",
    "BASELINE_NAMES",
    "ConcatMLP",
    "EmbraceNet",
    "availability_matrix",
    "build_baseline",
]
