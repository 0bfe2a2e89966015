"""What a search is asked to do: :class:`SearchRequest`, and the configs and data it resolves to.

A request is plain data (every field JSON-able), written by the CLI from its flags and by the
dashboard from its form. :func:`prepare` turns it into what the search runs on (preset, configs,
the loaded dataset); the front door (:mod:`mro_core.runs.api`) calls it *before* a run is created,
so a request that cannot run is refused with a one-line message and nothing starts, and the job
calls it again in its own process. Precedence of settings: request > preset > defaults, field by
field (``None`` means "the preset's value").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from mro_core.config import (
    PAPER_LITERAL,
    ModelConfig,
    Preset,
    SearchConfig,
    SyntheticConfig,
    TrainConfig,
    get_benchmark,
    get_preset,
    model_config_for,
    to_dict,
)
from mro_core.data import MultimodalDataset, describe_source, load_dataset


class RequestError(ValueError):
    """A request that cannot run; the message is one line naming the field and the fix."""


class SearchRefused(ValueError):
    """Raised by the front door when a request cannot run; nothing was created or started.

    The message is the one line the CLI prints after ``mro: error:``.
    """


@dataclass(frozen=True)
class SearchRequest:
    """A search (or, for ``mro train`` / ``mro table``, the data and training part of one).

    Field names are the CLI flags with ``_`` for ``-``; ``None`` takes the preset's (or the
    generator's) default.

    Attributes:
        dataset: one of :data:`mro_core.data.DATASETS`.
        data_path: file or folder of a file-based source.
        unaligned: MOSEI/MOSI: read the unaligned file.
        window: MELD: utterances of context per sample.
        split_seed: MELD: seed of the validation dialogues carved from train, independent of
            ``seed`` (default :data:`mro_core.data.meld.DEFAULT_SPLIT_SEED`).
        benchmark: synthetic data: a named benchmark (:data:`mro_core.config.BENCHMARKS`) the
            other generator fields override.
        modalities, planted: synthetic data: comma-separated names / paths (``"T->V,A->T"``).
        num_keys, seq_len, min_len, extra_dims, noise, n_train, n_valid, n_test, data_seed:
            synthetic generator settings.
        preset: hyper-parameter preset (:data:`mro_core.config.PRESETS`).
        epochs, batch_size, lr, weight_decay, masks_per_step, seed, device, amp: training.
        d_model, layers_per_path, dropout: model overrides.
        warmup, warmup_until, warmup_max, uniform_mix, inclusion, grad_stat, rank_momentum,
            rank_loss, rank_target, rank_weight, rho, budget_mflops, finetune_epochs, ablation: the
            search (:class:`~mro_core.config.SearchConfig`); ``paper_literal`` starts from the
            paper's literal Table 1 settings (:data:`~mro_core.config.PAPER_LITERAL`).
        name: run name (default ``<dataset>-<ablation>-<rank loss>``).
        out: checkpoint path (default ``<workspace>/<run id>/search.pt``).
    """

    dataset: str = "synthetic"
    data_path: str | None = None
    unaligned: bool = False
    window: int = 5
    split_seed: int | None = None
    benchmark: str | None = None
    modalities: str | None = None
    planted: str | None = None
    num_keys: int | None = None
    seq_len: int | None = None
    min_len: int | None = None
    extra_dims: int | None = None
    noise: float | None = None
    n_train: int | None = None
    n_valid: int | None = None
    n_test: int | None = None
    data_seed: int | None = None
    preset: str = "demo"
    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    weight_decay: float | None = None
    masks_per_step: int | None = None
    seed: int | None = None
    device: str | None = None
    amp: str | None = None
    d_model: int | None = None
    layers_per_path: int | None = None
    dropout: float | None = None
    warmup: int | None = None
    warmup_until: float | None = None
    warmup_max: int | None = None
    uniform_mix: float | None = None
    inclusion: str | None = None
    grad_stat: str | None = None
    rank_momentum: float | None = None
    paper_literal: bool = False
    rank_loss: str | None = None
    rank_target: str | None = None
    rank_weight: float | None = None
    rho: float | None = None
    budget_mflops: float | None = None
    finetune_epochs: int | None = None
    ablation: str | None = None
    name: str | None = None
    out: str | None = None

    @classmethod
    def from_namespace(cls, ns: Any) -> SearchRequest:
        """The request of a parsed command line (attributes missing on ``ns`` keep their default)."""
        return cls(**{f.name: getattr(ns, f.name) for f in fields(cls) if hasattr(ns, f.name)})

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SearchRequest:
        """Inverse of :meth:`to_dict`; unknown keys are an error naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise RequestError(f"unknown search request field(s) {unknown}; allowed: {sorted(known)}")
        return cls(**dict(d))

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-able (stored with the run, so the job and a resume read it back)."""
        return dataclasses.asdict(self)

    # -- configs -------------------------------------------------------------------------------
    def synthetic_config(self) -> SyntheticConfig:
        """The generator settings (synthetic data only); raises ValueError on bad values."""
        base = get_benchmark(self.benchmark or "default")
        mods = base.modalities
        if self.modalities is not None:
            mods = tuple(m.strip() for m in self.modalities.split(","))
            if len(mods) < 2 or not all(mods):
                raise RequestError(f"--modalities needs at least two comma-separated names, such as 'T,A,V' "
                                   f"(got {self.modalities!r})")
        planted = None
        if self.planted is not None:
            planted = tuple(p.strip() for p in self.planted.split(",") if p.strip())
            if not planted:
                raise RequestError(f"--planted names no path (got {self.planted!r}); give paths such as "
                                   f"'{mods[0]}->{mods[1]}' or leave it out for the default")
        if planted is None:
            planted = base.planted if mods == base.modalities else (f"{mods[0]}->{mods[1]}", f"{mods[-1]}->{mods[0]}")
        if self.planted or self.modalities:
            base = replace(base, planted_weights=())
        over = {
            "num_keys": self.num_keys, "seq_len": self.seq_len, "min_len": self.min_len,
            "extra_dims": self.extra_dims, "noise": self.noise, "n_train": self.n_train,
            "n_valid": self.n_valid, "n_test": self.n_test, "seed": self.data_seed,
        }
        return replace(base, modalities=mods, planted=planted, **{k: v for k, v in over.items() if v is not None})

    def get_preset(self) -> Preset:
        return get_preset(self.preset)

    def train_config(self, preset: Preset) -> TrainConfig:
        over = {
            "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
            "masks_per_step": self.masks_per_step, "seed": self.seed, "device": self.device,
            "amp": self.amp, "weight_decay": self.weight_decay,
        }
        return replace(preset.train, **{k: v for k, v in over.items() if v is not None})

    def search_config(self, preset: Preset) -> SearchConfig:
        over = {
            "warmup_epochs": self.warmup, "rank_loss": self.rank_loss or preset.rank_loss,
            "rank_target": self.rank_target, "rank_weight": self.rank_weight, "ablation": self.ablation,
            "budget_mflops": self.budget_mflops, "finetune_epochs": self.finetune_epochs, "rho": self.rho,
            "warmup_until": self.warmup_until, "warmup_max": self.warmup_max, "uniform_mix": self.uniform_mix,
            "inclusion": self.inclusion, "grad_stat": self.grad_stat, "rank_momentum": self.rank_momentum,
        }
        over = {k: v for k, v in over.items() if v is not None}
        return SearchConfig(**({**PAPER_LITERAL, **over} if self.paper_literal else over))

    def model_config(self, preset: Preset, ds: MultimodalDataset) -> ModelConfig:
        over = {"d_model": self.d_model, "layers_per_path": self.layers_per_path, "dropout": self.dropout}
        return model_config_for(
            preset, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task,
            num_classes=ds.num_classes, aux_sentiment="sentiment" in ds.extra_targets,
            **{k: v for k, v in over.items() if v is not None},
        )

    def load_data(self) -> tuple[MultimodalDataset, dict[str, Any]]:
        """The dataset and its description (stored in checkpoints and runs).

        Raises:
            RequestError: a bad ``window``.
            DataError, ValueError: the data cannot be generated or read.
        """
        syn = self.synthetic_config() if self.dataset == "synthetic" else None
        if self.window < 1:
            raise RequestError(f"--window must be >= 1 (got {self.window})")
        from mro_core.data.meld import DEFAULT_SPLIT_SEED

        split_seed = DEFAULT_SPLIT_SEED if self.split_seed is None else self.split_seed
        ds = load_dataset(self.dataset, self.data_path, synthetic=syn, aligned=not self.unaligned,
                          window=self.window, split_seed=split_seed)
        desc = describe_source(
            self.dataset,
            str(Path(self.data_path).resolve()) if self.data_path else None,
            synthetic=to_dict(syn) if syn else None,
            aligned=None if self.dataset not in ("mosei", "mosi") else not self.unaligned,
            window=self.window if self.dataset == "meld" else None,
            split_seed=split_seed if self.dataset == "meld" else None,
        )
        return ds, desc

    def default_name(self, scfg: SearchConfig) -> str:
        return self.name or f"{self.dataset}-{scfg.ablation}-{scfg.rank_loss}"


@dataclass(frozen=True)
class PreparedSearch:
    """A request resolved: what :func:`mro_core.search.run.run_search` is called with."""

    request: SearchRequest
    preset: Preset
    train: TrainConfig
    search: SearchConfig
    model: ModelConfig | None
    data: MultimodalDataset | None
    data_desc: dict[str, Any]


def check_search_configs(request: SearchRequest) -> tuple[Preset, TrainConfig, SearchConfig]:
    """Build the preset, training and search configs; raise ValueError on anything that cannot run."""
    preset = request.get_preset()
    scfg = request.search_config(preset)
    tcfg = request.train_config(preset)
    if scfg.warmup_epochs > tcfg.epochs:
        raise RequestError(f"--warmup ({scfg.warmup_epochs}) is more than --epochs ({tcfg.epochs})")
    return preset, tcfg, scfg


def prepare(request: SearchRequest, *, load: bool = True) -> PreparedSearch:
    """Validate a request by building everything the search needs.

    The configs are built (bad values raise), then the data is opened: the synthetic generator
    checks modalities against planted paths, a file is read and validated, and the model config is
    built from what the data holds. ``load=False`` stops after the configs.

    Raises:
        RequestError, DataError, ValueError: one-line messages naming the problem.
    """
    preset, tcfg, scfg = check_search_configs(request)
    if not load:
        return PreparedSearch(request, preset, tcfg, scfg, None, None, {})
    ds, desc = request.load_data()
    mcfg = request.model_config(preset, ds)
    return PreparedSearch(request, preset, tcfg, scfg, mcfg, ds, desc)
