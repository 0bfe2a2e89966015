"""Configuration dataclasses and the named presets (paper Table 3 plus a CPU demo).

Configs are frozen dataclasses passed down explicitly. Presets are data: each is a
:class:`Preset` of a :class:`ModelConfig` (architecture hyper-parameters; the data-dependent
fields ``modalities``, ``input_dims``, ``task`` and ``out_dim`` are filled from the dataset by
:func:`model_config_for`), a :class:`TrainConfig`, and the rank loss the paper used.
Command-line values override preset values field by field (see ``mro_core.cli``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

DEVICES = ("auto", "cpu", "cuda")
RANK_LOSSES = ("l0", "l1", "l2", "linf")
"""Eq. (2)'s norms of the rank loss."""
RANK_TARGETS = ("prior", "supernet", "both")
"""What the rank terms train."""
ABLATIONS = ("none", "no_prior_guidance", "no_mrg_prior", "no_rank_reg", "uniform", "random_search")
"""Search methods: Full MRO (``none``), the paper's three Table 5 ablations, and two baselines
(uniform one-shot, random search); see ``mro_core.search.run``."""


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the weight-sharing CMT supernet.

    Attributes:
        modalities: modality names in path order (from the data).
        input_dims: per-modality feature dims D_m (from the data).
        task: "regression" or "classification".
        out_dim: head outputs: 1 for regression, C for classification.
        aux_sentiment: add one extra head output, a sentiment regression in [-1, 1] (MELD).
        d_model: model width d shared by all paths.
        num_heads: attention heads per cross-modal layer (d_model must divide by it).
        layers_per_path: cross-modal layers stacked on each path.
        ff_mult: feed-forward width = ff_mult * d_model.
        dropout: dropout in attention output, feed-forward and head.
        head_hidden: hidden width of the shared head MLP (0 = d_model).
        max_len: longest sequence the sinusoidal positions cover.
    """

    modalities: tuple[str, ...] = ("T", "A", "V")
    input_dims: tuple[int, ...] = (17, 17, 17)
    task: str = "regression"
    out_dim: int = 1
    aux_sentiment: bool = False
    d_model: int = 64
    num_heads: int = 4
    layers_per_path: int = 1
    ff_mult: int = 4
    dropout: float = 0.1
    head_hidden: int = 0
    max_len: int = 4096

    def __post_init__(self) -> None:
        object.__setattr__(self, "modalities", tuple(str(m) for m in self.modalities))
        object.__setattr__(self, "input_dims", tuple(int(d) for d in self.input_dims))
        if len(self.modalities) != len(self.input_dims):
            raise ValueError(
                f"'input_dims' (got {len(self.input_dims)}) needs one entry per modality "
                f"(got {len(self.modalities)}: {list(self.modalities)})"
            )
        if self.task not in ("regression", "classification"):
            raise ValueError(f"'task' must be 'regression' or 'classification' (got {self.task!r})")
        for name in ("d_model", "num_heads", "layers_per_path", "ff_mult", "out_dim", "max_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"'{name}' must be >= 1 (got {getattr(self, name)})")
        if self.d_model % self.num_heads:
            raise ValueError(
                f"'d_model' (got {self.d_model}) must be divisible by 'num_heads' (got {self.num_heads})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"'dropout' must lie in [0, 1) (got {self.dropout})")

    @property
    def head_width(self) -> int:
        return self.head_hidden or self.d_model

    @property
    def total_out(self) -> int:
        return self.out_dim + int(self.aux_sentiment)


@dataclass(frozen=True)
class TrainConfig:
    """One-shot supernet training.

    Attributes:
        batch_size: samples per step.
        epochs: passes over the training split.
        lr: AdamW learning rate.
        weight_decay: AdamW decoupled weight decay.
        masks_per_step: n masks sampled per step; their losses are summed (one backward over the
            union of their paths, see ``Supernet.path_features``).
        grad_clip: global grad-norm clip (0 = off).
        seed: seeds the data order, mask sampling and initialisation.
        device: "auto" (CUDA when present), "cpu" or "cuda".
        amp: "off", "bf16" or "fp16" autocast on CUDA (ignored on CPU).
        eval_batch_size: batch size for evaluation.
    """

    batch_size: int = 64
    epochs: int = 10
    lr: float = 1e-3
    weight_decay: float = 1e-4
    masks_per_step: int = 4
    grad_clip: float = 1.0
    seed: int = 0
    device: str = "auto"
    amp: str = "off"
    eval_batch_size: int = 256

    def __post_init__(self) -> None:
        for name in ("batch_size", "epochs", "masks_per_step", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"'{name}' must be >= 1 (got {getattr(self, name)})")
        if self.lr <= 0:
            raise ValueError(f"'lr' must be > 0 (got {self.lr})")
        if self.device not in DEVICES:
            raise ValueError(f"'device' must be one of {list(DEVICES)} (got {self.device!r})")
        if self.amp not in ("off", "bf16", "fp16"):
            raise ValueError(f"'amp' must be one of ['off', 'bf16', 'fp16'] (got {self.amp!r})")


@dataclass(frozen=True)
class Preset:
    """A named bundle: model hyper-parameters, training settings, rank loss, FLOPs setting.

    Attributes:
        flops_input_dims / flops_seq_len: the feature dims and (aligned) sequence length at
            which ``mro flops --preset NAME`` counts without a dataset.
    """

    name: str
    model: ModelConfig
    train: TrainConfig
    rank_loss: str = "l1"
    flops_modalities: tuple[str, ...] = ("T", "A", "V")
    flops_input_dims: tuple[int, ...] = (300, 74, 35)
    flops_seq_len: int = 50
    flops_task: str = "regression"
    flops_out_dim: int = 1
    description: str = ""


PRESETS: dict[str, Preset] = {
    # Paper Table 3, CMU-MOSEI: batch 32, 40 epochs, lr 3e-5, dropout 0.4, d 256, L1 rank loss.
    # FLOPs are counted at MulT's aligned MOSEI setting: GloVe text 300-d, COVAREP audio 74-d,
    # Facet vision 35-d, 50 aligned steps; one cross-modal layer per path (DESIGN 6).
    "mosei": Preset(
        name="mosei",
        model=ModelConfig(d_model=256, num_heads=8, layers_per_path=1, ff_mult=4, dropout=0.4),
        train=TrainConfig(batch_size=32, epochs=40, lr=3e-5, masks_per_step=4),
        rank_loss="l1",
        description="paper Table 3, CMU-MOSEI",
    ),
    # Paper Table 3, MELD: batch 64, 30 epochs, lr 5e-5, dropout 0.3, d 256, L2 rank loss.
    # FLOPs setting: MMGCN's MELD features (text 600, audio 300, visual 342), a 5-utterance
    # context window, 7 emotion classes.
    "meld": Preset(
        name="meld",
        model=ModelConfig(d_model=256, num_heads=8, layers_per_path=1, ff_mult=4, dropout=0.3),
        train=TrainConfig(batch_size=64, epochs=30, lr=5e-5, masks_per_step=4),
        rank_loss="l2",
        flops_input_dims=(600, 300, 342),
        flops_seq_len=5,
        flops_task="classification",
        flops_out_dim=7,
        description="paper Table 3, MELD",
    ),
    # Small enough that training + a full search on the default synthetic benchmark finishes in
    # minutes on 2 CPU cores. d = 64 learns the planted key-value retrieval in ~10 epochs.
    "demo": Preset(
        name="demo",
        model=ModelConfig(d_model=64, num_heads=4, layers_per_path=1, ff_mult=2, dropout=0.0),
        train=TrainConfig(batch_size=64, epochs=20, lr=2e-3, masks_per_step=4),
        rank_loss="l1",
        flops_input_dims=(17, 17, 17),
        flops_seq_len=12,
        description="CPU demo on the synthetic planted-routing benchmark",
    ),
    # UCI Multiple Features (mro_core/data/mfeat.py): k = 6 views, 30 paths, one token per view
    # (the measured default), 10 classes. The demo's width; dropout 0.1 because 1200 training
    # digits overfit a d = 64 CMT without it. FLOPs at the built-in shapes (L = 1 per view).
    "mfeat": Preset(
        name="mfeat",
        model=ModelConfig(d_model=64, num_heads=4, layers_per_path=1, ff_mult=2, dropout=0.1),
        train=TrainConfig(batch_size=64, epochs=20, lr=2e-3, masks_per_step=4),
        rank_loss="l1",
        flops_modalities=("fou", "fac", "kar", "pix", "zer", "mor"),
        flops_input_dims=(76, 216, 64, 240, 47, 6),
        flops_seq_len=1,
        flops_task="classification",
        flops_out_dim=10,
        description="UCI Multiple Features: six views of handwritten digits, 10 classes",
    ),
}


def get_preset(name: str) -> Preset:
    """Look up a preset by name; unknown names list the choices."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}") from None


def model_config_for(
    preset: Preset,
    *,
    modalities: tuple[str, ...],
    input_dims: tuple[int, ...],
    task: str,
    num_classes: int | None = None,
    aux_sentiment: bool = False,
    **overrides: Any,
) -> ModelConfig:
    """The preset's architecture with the data-dependent fields filled in."""
    out_dim = 1 if task == "regression" else int(num_classes or 0)
    return replace(
        preset.model,
        modalities=tuple(modalities),
        input_dims=tuple(input_dims),
        task=task,
        out_dim=out_dim,
        aux_sentiment=aux_sentiment,
        **overrides,
    )


def to_dict(cfg: Any) -> dict[str, Any]:
    """Plain-JSON dict (tuples become lists) of a config dataclass."""
    d = dataclasses.asdict(cfg)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def from_dict(cls: type, d: Mapping[str, Any]) -> Any:
    """Inverse of :func:`to_dict`; unknown keys are an error naming the known ones."""
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(d) - set(known))
    if unknown:
        raise ValueError(f"unknown {cls.__name__} field(s) {unknown}; known: {sorted(known)}")
    kw = {}
    for k, v in d.items():
        kw[k] = tuple(v) if isinstance(v, list) else v
    return cls(**kw)


@dataclass(frozen=True)
class SyntheticConfig:
    """The planted-routing benchmark (see ``mro_core.data.synthetic``).

    Attributes:
        modalities: modality names; k = len(modalities).
        planted: planted paths as ``src->tgt`` names (default: the paper's ``011011`` mask).
        num_keys: K, size of the key alphabet; a source holds K key/value slots.
        seq_len: max sequence length per modality (>= num_keys).
        min_len: shortest sequence (lengths vary between min_len and seq_len; right padding).
        extra_dims: extra all-zero feature channels per modality (dims = 2K + 1 + extra).
        noise: std of Gaussian noise on the label (only on the label).
        planted_weights: weight of each planted path in the label (same order as ``planted``;
            empty = all 1), so that some planted paths matter less than others.
        n_train / n_valid / n_test: split sizes.
        seed: generator seed; the same seed gives the same arrays.
    """

    modalities: tuple[str, ...] = ("T", "A", "V")
    planted: tuple[str, ...] = ("T->V", "A->T", "V->T", "V->A")
    num_keys: int = 8
    seq_len: int = 12
    min_len: int = 8
    extra_dims: int = 0
    noise: float = 0.05
    planted_weights: tuple[float, ...] = ()
    n_train: int = 3000
    n_valid: int = 600
    n_test: int = 600
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "modalities", tuple(self.modalities))
        object.__setattr__(self, "planted", tuple(self.planted))
        object.__setattr__(self, "planted_weights", tuple(float(w) for w in self.planted_weights))
        if self.planted_weights and len(self.planted_weights) != len(self.planted):
            raise ValueError(f"'planted_weights' needs one weight per planted path ({len(self.planted)}), "
                             f"got {len(self.planted_weights)}")
        if any(w <= 0 for w in self.planted_weights):
            raise ValueError(f"'planted_weights' must all be > 0 (got {list(self.planted_weights)})")
        if self.num_keys < 2:
            raise ValueError(f"'num_keys' must be >= 2 (got {self.num_keys})")
        if self.min_len > self.seq_len:
            raise ValueError(f"'min_len' ({self.min_len}) must be <= 'seq_len' ({self.seq_len})")
        if self.min_len < 1:
            raise ValueError(f"'min_len' must be >= 1 (got {self.min_len})")
        if self.noise < 0:
            raise ValueError(f"'noise' must be >= 0 (got {self.noise})")
        for name in ("n_train", "n_valid", "n_test"):
            if getattr(self, name) < 1:
                raise ValueError(f"'{name}' must be >= 1 (got {getattr(self, name)})")
        if not self.planted:
            raise ValueError("'planted' needs at least one path (e.g. 'T->V')")


GUIDED = frozenset({"none", "no_mrg_prior", "no_rank_reg"})
"""Methods whose prior guides sampling (after warm-up) and the candidate set."""
PRIOR_TRAINED = frozenset({"none", "no_mrg_prior", "no_prior_guidance"})
"""Methods whose prior is trained by the rank surrogate."""
HAS_PRIOR = GUIDED | {"no_prior_guidance"}
GRAD_STATS = ("per_use", "raw")
"""How var_g is read: the gradient norm per mask use (default) or raw."""
INCLUSIONS = ("relative", "paper", "sigmoid")
"""How p becomes per-path inclusion probabilities (``mro_core.search.prior.inclusion_probs``)."""
@dataclass(frozen=True)
class SearchConfig:
    """Settings of the search beyond supernet training.

    Attributes:
        warmup_epochs: minimum epochs of uniform mask sampling before the prior guides sampling.
        warmup_until: adaptive warm-up: uniform sampling continues (after ``warmup_epochs``) until
            the full mask's validation loss is <= this fraction of the mean predictor's, so the prior
            is not fitted to an untrained supernet; 0 = off (a fixed ``warmup_epochs``).
        warmup_max: cap on the adaptive warm-up in epochs (0 = half the epochs).
        uniform_mix: after warm-up, each sampled mask is uniform with this probability, so a prior
            that has collapsed still trains (and can recover) every path; 0 = pure prior sampling.
        inclusion: how p becomes inclusion probabilities, ``relative | paper | sigmoid``
            (:func:`mro_core.search.prior.inclusion_probs`; ``sigmoid``: per-path probabilities not
            normalised per source, with a learned per-source threshold).
        top_inclusion: ``relative``: inclusion of each source's most preferred path.
        grad_stat: ``per_use``: var_g of the gradient norm divided by the number of the step's masks
            using the path; ``raw``: the plain norm (grows with how often the path is sampled).
        rank_momentum: EMA momentum of the per-mask loss targets of the surrogate (0 = all-time mean,
            which keeps the untrained epochs' losses for ever).
        rank_loss: Eq. (2)'s norm, ``l0 | l1 | l2 | linf``.
        rank_target: what the rank terms train: ``prior | supernet | both``.
        rank_weight: weight of the rank terms against the summed task loss.
        temperature: soft-rank temperature of the surrogate.
        rho: target path density of ``paper`` inclusion (uniform p includes each path w.p. rho).
        eps: exploration floor: every path's inclusion probability is clamped to [eps, 1 - eps].
        prior_lr: learning rate of alpha, beta, gamma and the GAT.
        ablation: the method, one of :data:`ABLATIONS`.
        budget_mflops: FLOPs budget of the ``budget`` pick (None: no such pick).
        finetune_epochs: train the ``budget`` pick (else ``best``) alone this many epochs (0: off).
        attention_batches: validation batches per epoch for the attention-variance statistic.
        top_n: k >= 5: the prior's most probable masks in the candidate set (and the size of the
            uniform draws of the unguided methods, plus one epoch's sampled masks).
        eval_masks: k >= 5: size of the fixed seeded mask sample of the per-epoch rank measure.
    """

    warmup_epochs: int = 3
    warmup_until: float = 0.6
    warmup_max: int = 0
    uniform_mix: float = 0.25
    inclusion: str = "relative"
    top_inclusion: float = 0.9
    grad_stat: str = "per_use"
    rank_momentum: float = 0.9
    rank_loss: str = "l1"
    rank_target: str = "prior"
    rank_weight: float = 1.0
    temperature: float = 0.3
    rho: float = 0.5
    eps: float = 0.1
    prior_lr: float = 1e-2
    ablation: str = "none"
    budget_mflops: float | None = None
    finetune_epochs: int = 0
    attention_batches: int = 2
    top_n: int = 256
    eval_masks: int = 256

    def __post_init__(self) -> None:
        if self.rank_loss not in RANK_LOSSES:
            raise ValueError(f"unknown rank loss {self.rank_loss!r}; choose one of {list(RANK_LOSSES)}")
        if self.rank_target not in RANK_TARGETS:
            raise ValueError(f"unknown rank target {self.rank_target!r}; choose one of {list(RANK_TARGETS)}")
        if self.ablation not in ABLATIONS:
            raise ValueError(f"unknown ablation {self.ablation!r}; choose one of {list(ABLATIONS)}")
        if self.inclusion not in INCLUSIONS:
            raise ValueError(f"unknown inclusion {self.inclusion!r}; choose one of {list(INCLUSIONS)}")
        if self.grad_stat not in GRAD_STATS:
            raise ValueError(f"unknown grad_stat {self.grad_stat!r}; choose one of {list(GRAD_STATS)}")
        if self.warmup_epochs < 0 or self.finetune_epochs < 0 or self.warmup_max < 0:
            raise ValueError("'warmup_epochs', 'warmup_max' and 'finetune_epochs' must be >= 0")
        if not 0.0 < self.rho <= 1.0:
            raise ValueError(f"'rho' must lie in (0, 1] (got {self.rho})")
        if not 0.0 < self.top_inclusion <= 1.0:
            raise ValueError(f"'top_inclusion' must lie in (0, 1] (got {self.top_inclusion})")
        for name in ("uniform_mix", "rank_momentum"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"'{name}' must lie in [0, 1) (got {getattr(self, name)})")
        if self.warmup_until < 0:
            raise ValueError(f"'warmup_until' must be >= 0 (got {self.warmup_until})")
        if self.top_n < 1 or self.eval_masks < 2:
            raise ValueError("'top_n' must be >= 1 and 'eval_masks' >= 2")
        if self.budget_mflops is not None and self.budget_mflops <= 0:
            raise ValueError(f"'budget_mflops' must be > 0 (got {self.budget_mflops})")


PAPER_LITERAL = {"warmup_epochs": 3, "warmup_until": 0.0, "uniform_mix": 0.0, "inclusion": "paper",
                 "grad_stat": "raw", "rank_momentum": 0.0, "rank_target": "both"}
"""The paper's Table 1 read literally (the first release's defaults): ``replace(cfg, **PAPER_LITERAL)``."""



RING5 = ("A->B", "B->C", "C->D", "D->E", "E->A")

BENCHMARKS: dict[str, SyntheticConfig] = {
    # The paper's k = 3 case, planted 011011 (T->V, A->T, V->T, V->A). At k <= 4 every mask is
    # evaluated, so search can only differ in how training was spread over the paths.
    "default": SyntheticConfig(),
    # k = 5 (20 paths, 1,048,575 masks): a planted ring; each reversed path B->A, ... is an
    # equal-cost distractor, and all modalities have one sequence length, so every path costs the
    # same and FLOPs cannot tell the ring apart. Here the candidate set is where guidance matters.
    # 4 keys and 6 steps: measured, a uniformly trained demo supernet learns it in ~5 epochs of
    # 2000 samples (valid MAE 0.64 -> 0.41) while 8 keys / 12 steps had not moved after 3 epochs.
    "ring5": SyntheticConfig(modalities=("A", "B", "C", "D", "E"), planted=RING5, num_keys=4, seq_len=6,
                             min_len=6, n_train=2000),
    # the ring with paths of unequal weight: E->A and D->E matter less.
    "ring5w": SyntheticConfig(modalities=("A", "B", "C", "D", "E"), planted=RING5, num_keys=4, seq_len=6,
                              min_len=6, n_train=2000, planted_weights=(1.0, 1.0, 1.0, 0.5, 0.25)),
}
"""Named synthetic benchmarks (``--benchmark NAME``; the dashboard's Search page lists them)."""


def get_benchmark(name: str) -> SyntheticConfig:
    """Look up a named synthetic benchmark; unknown names list the choices."""
    try:
        return BENCHMARKS[name]
    except KeyError:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {sorted(BENCHMARKS)}") from None
