"""Checkpoints: config + weights + training state + per-mask evaluation table, saved atomically.

A checkpoint is a plain dict of primitives and tensors, so it loads with
``torch.load(weights_only=True)``: loading one never runs code from the file. It carries a format
name and version, the resolved model / training configs, where the data came from, the weights,
and optionally the optimizer state, RNG states (to resume with the same streams), the
Modal Relation Graph prior, the per-mask table (shared-weight metrics and MFLOPs) and history.

Integrity: a checkpoint stores a CRC-32 of every weight tensor's bytes (``checksums``), and a load
recomputes them, so a byte flipped on disk or in a copy is one :class:`CheckpointError` naming the
tensor instead of a model that loads and then predicts nonsense. Checkpoints written before the
checksums still load; for every checkpoint, a weight that is NaN or infinite is refused too.
"""

from __future__ import annotations

import pickle
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from mro_core.config import ModelConfig, TrainConfig, from_dict, to_dict
from mro_core.provenance import UNKNOWN, code_version

FORMAT = "mro-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a usable MRO checkpoint; the message says why and what to do."""


@dataclass
class Checkpoint:
    """Everything a checkpoint holds (see the module docstring)."""

    model_config: ModelConfig
    train_config: TrainConfig
    state_dict: dict[str, torch.Tensor]
    data: dict[str, Any] = field(default_factory=dict)
    epoch: int = 0
    history: list[dict] = field(default_factory=list)
    mask_table: list[dict] | None = None
    flops: dict[str, Any] | None = None
    optimizer: dict | None = None
    rng: dict | None = None
    prior: dict | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    code_version: str | None = None
    """The search code that made it (:mod:`mro_core.provenance`); ``None`` = this code, stamped at
    save; ``"unknown"`` when loaded from a file that recorded none."""

    @property
    def complete(self) -> bool:
        return self.epoch >= self.train_config.epochs

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "model_config": to_dict(self.model_config),
            "train_config": to_dict(self.train_config),
            "state_dict": self.state_dict,
            "checksums": {"algorithm": CHECKSUM, "tensors": tensor_checksums(self.state_dict)},
            "data": self.data,
            "epoch": self.epoch,
            "history": self.history,
            "mask_table": self.mask_table,
            "flops": self.flops,
            "optimizer": self.optimizer,
            "rng": self.rng,
            "prior": self.prior,
            "extra": self.extra,
            "code_version": self.code_version or code_version(),
        }


CHECKSUM = "crc32"


def tensor_checksum(t: torch.Tensor) -> int:
    """CRC-32 of a tensor's raw bytes (any dtype, any device; contiguous C order)."""
    raw = t.detach().to("cpu").contiguous().reshape(-1)
    if raw.numel() == 0:
        return 0
    return zlib.crc32(memoryview(raw.view(torch.uint8).numpy()))


def tensor_checksums(state_dict: dict[str, torch.Tensor]) -> dict[str, int]:
    return {k: tensor_checksum(v) for k, v in state_dict.items() if isinstance(v, torch.Tensor)}


def verify_weights(raw: dict[str, Any], path: Path) -> None:
    """Raise :class:`CheckpointError` when a weight tensor is damaged (see the module docstring)."""
    sd = raw.get("state_dict")
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise CheckpointError(f"{path}: its weights ('state_dict') are not a table of tensors; the file is damaged")
    sums = raw.get("checksums")
    if sums is not None:
        if not isinstance(sums, dict) or sums.get("algorithm") != CHECKSUM or not isinstance(sums.get("tensors"), dict):
            raise CheckpointError(f"{path}: its checksums are unreadable; the file is damaged")
        want = sums["tensors"]
        if set(want) != set(sd):
            names = sorted(set(want) ^ set(sd))[:3]
            raise CheckpointError(f"{path}: weight tensors {names} are missing or extra against its checksums; "
                                  "the file is damaged or was edited")
        for name, t in sd.items():
            if tensor_checksum(t) != want[name]:
                raise CheckpointError(f"{path}: weight tensor {name!r} does not match its checksum, so the file is "
                                      "damaged (a bad copy or disk); restore it from a copy or retrain")
    for name, t in sd.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise CheckpointError(f"{path}: weight tensor {name!r} holds NaN or infinite values; the file is damaged "
                                  "or the training diverged; restore it from a copy or retrain")


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to a temp file in the same folder, fsync, then rename over ``path``.

    A crash mid-write leaves the previous file intact. Any failure of ``torch.save`` (a full disk
    is a ``RuntimeError`` there, not an ``OSError``) is one :class:`~mro_core.atomic.WriteError`
    naming the path and the cause, with the temp file removed (see :mod:`mro_core.atomic`).
    """
    from mro_core.atomic import atomic_write

    return atomic_write(path, lambda f: torch.save(obj, f))


def save_checkpoint(ckpt: Checkpoint, path: str | Path) -> Path:
    return atomic_torch_save(ckpt.to_dict(), path)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Load and validate a checkpoint (``weights_only=True``).

    Raises:
        CheckpointError: missing, truncated, not a checkpoint, unsupported version, or a
            file that asks to run code.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no such checkpoint: {path}; train one with `mro train --out {path}`")
    try:
        raw = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "refused"
        raise CheckpointError(
            f"{path} is not a safe MRO checkpoint (weights-only load refused it: {first[:160]}); "
            "only load checkpoints written by `mro train`/`mro search`"
        ) from None
    except Exception as e:  # damaged files surface as many types (KeyError, RuntimeError, EOFError...)
        msg = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path} is not a readable checkpoint ({msg}); is it truncated or another kind of file?") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an MRO checkpoint (no '{FORMAT}' header); train one with `mro train`")
    if raw.get("version") != VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {raw.get('version')}, this mro reads version {VERSION}; "
            "retrain or use the matching mro release"
        )
    verify_weights(raw, path)
    try:
        mcfg = from_dict(ModelConfig, raw["model_config"])
        tcfg = from_dict(TrainConfig, raw["train_config"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: its config is invalid ({e})") from None
    return Checkpoint(
        model_config=mcfg,
        train_config=tcfg,
        state_dict=raw["state_dict"],
        data=raw.get("data") or {},
        epoch=int(raw.get("epoch", 0)),
        history=list(raw.get("history") or []),
        mask_table=raw.get("mask_table"),
        flops=raw.get("flops"),
        optimizer=raw.get("optimizer"),
        rng=raw.get("rng"),
        prior=raw.get("prior"),
        extra=raw.get("extra") or {},
        code_version=str(raw.get("code_version") or UNKNOWN),
    )


def build_model(ckpt: Checkpoint) -> "Supernet":  # noqa: F821
    """The supernet of a checkpoint, weights loaded; a mismatch is a :class:`CheckpointError`."""
    from mro_core.model.supernet import Supernet

    model = Supernet(ckpt.model_config)
    try:
        model.load_state_dict(ckpt.state_dict, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[0]
        raise CheckpointError(
            f"checkpoint weights do not fit its config ({first}); the file is damaged or was edited"
        ) from None
    return model


def check_compatible(
    cfg: ModelConfig, modalities: tuple[str, ...], input_dims: tuple[int, ...], task: str,
    num_classes: int | None = None,
) -> None:
    """Raise :class:`CheckpointError` when a checkpoint's model cannot read this dataset.

    Checks modalities (names and order), feature dims, task and, for classification when
    ``num_classes`` is given, that the data's class ids fit the model's head.
    """
    if tuple(cfg.modalities) != tuple(modalities):
        raise CheckpointError(
            f"checkpoint was trained on modalities {list(cfg.modalities)} but the data has "
            f"{list(modalities)}; use a checkpoint trained on this data (k={len(modalities)})"
        )
    if tuple(cfg.input_dims) != tuple(input_dims):
        raise CheckpointError(
            f"checkpoint expects feature dims {list(cfg.input_dims)} but the data has {list(input_dims)}; "
            "use a checkpoint trained on this data"
        )
    if cfg.task != task:
        raise CheckpointError(f"checkpoint is for a {cfg.task} task but the data is {task}")
    if task == "classification" and num_classes is not None and num_classes > cfg.out_dim:
        raise CheckpointError(
            f"checkpoint's head has {cfg.out_dim} classes but the data has {num_classes}; "
            "use a checkpoint trained on this data"
        )


FILE_KINDS = ("npz", "mosei", "mosi", "meld")


def data_kind(ckpt: Checkpoint, data_path: str | Path | None, dataset: str | None) -> str:
    """The dataset kind to open: ``dataset`` if named, else detected from ``data_path``, else stored.

    Detection: a ``.npz`` file is ``npz``; otherwise the checkpoint's own file kind; otherwise a
    name containing ``mosei``, ``mosi`` or ``meld``. A checkpoint trained on synthetic data never
    silently ignores ``data_path`` (that was issue 14: a wrong answer reported as the user's).
    """
    stored = (ckpt.data or {}).get("name")
    if dataset:
        kind = dataset
    elif data_path is None:
        kind = stored
    elif Path(data_path).suffix.lower() == ".npz":
        kind = "npz"
    elif stored in FILE_KINDS:
        kind = stored
    else:
        low = Path(data_path).name.lower()
        kind = next((k for k in ("mosei", "mosi", "meld") if k in low), None)
        if kind is None:
            raise CheckpointError(
                f"cannot tell what kind of data {data_path} is; pass --dataset {'|'.join(FILE_KINDS)}"
            )
    if not kind:
        raise CheckpointError("checkpoint does not record its dataset; pass --dataset and --data-path")
    if kind == "synthetic" and data_path is not None:
        raise CheckpointError(
            f"--data-path {data_path} is not used by synthetic data; pass --dataset {'|'.join(FILE_KINDS)} "
            "to evaluate on a file"
        )
    return kind


def dataset_for(
    ckpt: Checkpoint, data_path: str | Path | None = None, dataset: str | None = None,
) -> "MultimodalDataset":  # noqa: F821
    """Open the data to evaluate a checkpoint on, checked against the checkpoint.

    Without arguments, re-opens the dataset the checkpoint was trained on (synthetic data is
    regenerated from its stored config: same seed, same arrays). ``data_path`` (and ``dataset``,
    the kind, detected when not given, see :func:`data_kind`) open another file instead; it is
    loaded, never ignored.

    Raises:
        CheckpointError: the kind cannot be told, or the data does not fit the checkpoint
            (modalities, dims, task, classes).
        DataError: the file is missing or unreadable.
    """
    from mro_core.config import SyntheticConfig
    from mro_core.data import load_dataset

    d = ckpt.data or {}
    kind = data_kind(ckpt, data_path, dataset)
    same = kind == d.get("name")
    syn = from_dict(SyntheticConfig, d["synthetic"]) if kind == "synthetic" and same and d.get("synthetic") else None
    ds = load_dataset(
        kind,
        data_path if data_path is not None else (d.get("data_path") if same else None),
        synthetic=syn,
        aligned=d.get("aligned", True) if same else True,
        window=d.get("window", 5) if same else 5,
        split_seed=d.get("split_seed", d.get("seed", 0)) if same else 0,  # older checkpoints record "seed"
    )
    check_compatible(ckpt.model_config, ds.modalities, ds.input_dims, ds.task, ds.num_classes)
    return ds
