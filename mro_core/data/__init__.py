"""Data sources, all loading into :class:`~mro_core.data.base.MultimodalDataset`.

``load_dataset(name, data_path, ...)`` is the one entry point used by the CLI and the dashboard.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mro_core.data.base import Batch, DataError, MultimodalDataset, Split, iter_batches, make_batch

DATASETS = ("synthetic", "npz", "mosei", "mosi", "meld", "mfeat")

__all__ = [
    "DATASETS",
    "Batch",
    "DataError",
    "MultimodalDataset",
    "Split",
    "describe_source",
    "iter_batches",
    "load_dataset",
    "make_batch",
]


def load_dataset(
    name: str,
    data_path: str | Path | None = None,
    *,
    synthetic: Any = None,
    aligned: bool = True,
    window: int = 5,
    split_seed: int | None = None,
    seed: int | None = None,
) -> MultimodalDataset:
    """Load a dataset by source name.

    Args:
        name: one of :data:`DATASETS`.
        data_path: file or folder for the file-based sources (not used by ``synthetic`` and the
            built-in ``mfeat``).
        synthetic: a :class:`~mro_core.config.SyntheticConfig` (default config when None).
        aligned: MOSEI/MOSI: read the word-aligned file (else the unaligned one).
        window: MELD: utterances of dialogue context per sample.
        split_seed: MELD: seeds the validation dialogues carved from train; its own fixed seed
            (default :data:`~mro_core.data.meld.DEFAULT_SPLIT_SEED`), independent of the training
            seed, so runs with different training seeds are scored on the same validation set.
        seed: older name of ``split_seed`` (checkpoints written before it record ``seed``); used
            only when ``split_seed`` is None.

    Raises:
        DataError: unknown source, missing path, or a file the loader cannot use.
    """
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; choose one of {list(DATASETS)}")
    if name == "synthetic":
        from mro_core.config import SyntheticConfig
        from mro_core.data.synthetic import make_synthetic

        return make_synthetic(synthetic or SyntheticConfig())
    if name == "mfeat":  # built in (UCI Multiple Features, shipped in the package)
        if data_path is not None:
            raise DataError(f"dataset 'mfeat' is built in and reads no file (got --data-path {data_path}); "
                            "drop --data-path, or use --dataset npz for a converted copy")
        from mro_core.data.mfeat import load_mfeat

        return load_mfeat()
    if data_path is None:
        raise DataError(f"dataset {name!r} needs --data-path (a file or the folder holding it)")
    p = Path(data_path).expanduser()
    if not p.exists():
        raise DataError(f"data path does not exist: {p}; check --data-path")
    if name == "npz":
        from mro_core.data.npz import load_npz

        return load_npz(p)
    if name in ("mosei", "mosi"):
        from mro_core.data.mosei import load_mosei

        return load_mosei(p, name=name, aligned=aligned)
    from mro_core.data.meld import DEFAULT_SPLIT_SEED, load_meld

    if split_seed is None:
        split_seed = DEFAULT_SPLIT_SEED if seed is None else seed
    return load_meld(p, window=window, split_seed=split_seed)


def describe_source(name: str, data_path: str | Path | None, **options: Any) -> dict[str, Any]:
    """A JSON-able record of where a dataset came from (stored in checkpoints and runs)."""
    d: dict[str, Any] = {"name": name, "data_path": str(data_path) if data_path else None}
    d.update({k: v for k, v in options.items() if v is not None})
    return d
