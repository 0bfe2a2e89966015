"""The one dataset abstraction every source loads into, and batching for torch.

A :class:`MultimodalDataset` holds, per split, a dict of modality arrays ``[N, L, D]`` with a
boolean ``valid`` mask ``[N, L]`` per modality (True = a real time step), and the labels. Padding
masks are stored explicitly rather than as lengths because the community files pad on different
sides (MulT's pickles on the left, MMSA's on the right): loaders build ``valid`` from the lengths
when the file gives them, else from all-zero rows, and never assume a side. Positions are counted
from each sample's first valid step by the model, so the side never changes a prediction.

Batches are cut from the in-memory arrays by index (no DataLoader workers: the arrays already live
in RAM, and on 2 cores worker processes cost more than they save).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterator, Literal, Mapping, Sequence

import numpy as np

log = logging.getLogger(__name__)

Task = Literal["regression", "classification"]
SPLITS = ("train", "valid", "test")
REGRESSION_RANGE = (-3.0, 3.0)
"""Sentiment regression targets live in [-3, 3] (CMU-MOSI/MOSEI convention)."""


class DataError(ValueError):
    """A data file or array that cannot be used; the message names the problem and the fix."""


@dataclass
class Split:
    """One split: modality features, their validity masks, and labels.

    Attributes:
        features: modality name -> float32 ``[N, L_m, D_m]``.
        valid: modality name -> bool ``[N, L_m]``; at least one True per row.
        labels: ``[N]`` float32 (regression) or int64 (classification).
        extra: optional extra targets by name, e.g. ``"sentiment"`` -> float32 ``[N]`` in {-1,0,1}.
    """

    features: dict[str, np.ndarray]
    valid: dict[str, np.ndarray]
    labels: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, idx: np.ndarray) -> "Split":
        return Split(
            {m: a[idx] for m, a in self.features.items()},
            {m: a[idx] for m, a in self.valid.items()},
            self.labels[idx],
            {k: a[idx] for k, a in self.extra.items()},
        )


@dataclass
class MultimodalDataset:
    """A k-modal dataset with train/valid/test splits.

    Attributes:
        name: source name (``synthetic``, ``npz``, ``mosei``, ...).
        modalities: modality names in path order.
        task: ``"regression"`` (target in [-3, 3], L1 loss) or ``"classification"``.
        num_classes: number of classes for classification, else None.
        splits: ``"train"``, ``"valid"``, ``"test"`` -> :class:`Split`.
        planted_paths: ground-truth paths (``src->tgt``) for synthetic data, else None.
        class_names: optional class names for classification.
        meta: free-form provenance (file, layout, generator arguments).
    """

    name: str
    modalities: tuple[str, ...]
    task: Task
    splits: dict[str, Split]
    num_classes: int | None = None
    planted_paths: tuple[str, ...] | None = None
    class_names: tuple[str, ...] | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.modalities = tuple(self.modalities)
        validate_dataset(self)

    @property
    def input_dims(self) -> tuple[int, ...]:
        s = self.splits["train"]
        return tuple(int(s.features[m].shape[2]) for m in self.modalities)

    @property
    def seq_lens(self) -> tuple[int, ...]:
        s = self.splits["train"]
        return tuple(int(s.features[m].shape[1]) for m in self.modalities)

    @property
    def extra_targets(self) -> tuple[str, ...]:
        return tuple(sorted(self.splits["train"].extra))

    def summary(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.splits.items())
        dims = ", ".join(
            f"{m}[L={l},D={d}]" for m, l, d in zip(self.modalities, self.seq_lens, self.input_dims)
        )
        return f"{self.name}: {self.task}, {dims}; {sizes}"


# --------------------------------------------------------------------------------------------
def valid_from_lengths(lengths: np.ndarray, max_len: int, *, side: str = "right") -> np.ndarray:
    """Boolean ``[N, L]`` mask from lengths, for data padded on ``side`` ("right" or "left")."""
    lengths = np.clip(np.asarray(lengths).astype(np.int64).reshape(-1), 0, max_len)
    pos = np.arange(max_len)[None, :]
    if side == "right":
        return pos < lengths[:, None]
    if side == "left":
        return pos >= (max_len - lengths)[:, None]
    raise ValueError(f"side must be 'right' or 'left' (got {side!r})")


def valid_from_nonzero(x: np.ndarray) -> np.ndarray:
    """Boolean ``[N, L]``: a time step is real unless its whole feature row is zero."""
    return np.any(x != 0, axis=2)


def check_features(x: np.ndarray, *, where: str) -> None:
    """Refuse features MRO cannot read faithfully: not real numbers (complex values would be cast
    to their real part without a word), not ``[N, L, D]``, or no time step / channel at all.

    Raises:
        DataError: one line naming the array, what it holds and what is needed.
    """
    x = np.asarray(x)
    if np.iscomplexobj(x):
        raise DataError(f"{where}: features must be real numbers (got complex dtype {x.dtype}); "
                        "store the real part, the magnitude or both as channels")
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise DataError(f"{where}: features must be numeric (got dtype {x.dtype})")
    if x.ndim != 3:
        raise DataError(f"{where}: features must be 3-D [N, L, D] (got shape {list(x.shape)})")
    if x.shape[1] == 0 or x.shape[2] == 0:
        raise DataError(f"{where}: features have shape {list(x.shape)}, with no "
                        f"{'time step (L = 0)' if x.shape[1] == 0 else 'feature channel (D = 0)'}; "
                        "every sample needs L >= 1 steps of D >= 1 values")


def clean_features(x: np.ndarray, *, where: str) -> np.ndarray:
    """float32 copy with NaN/+-inf set to 0 (MulT's MOSEI audio holds -inf); logs the count.

    Raises:
        DataError: the features fail :func:`check_features`.
    """
    check_features(x, where=where)
    x = np.asarray(x, dtype=np.float32)
    bad = ~np.isfinite(x)
    n = int(bad.sum())
    if n:
        x = x.copy()
        x[bad] = 0.0
        log.warning("%s: replaced %d NaN/inf feature values with 0", where, n)
    return x


def ensure_nonempty(valid: np.ndarray) -> np.ndarray:
    """Mark step 0 valid in rows with no valid step, so attention never sees an all-masked key set.

    Such a row holds only zeros, so attending to one zero step is the neutral choice.
    """
    empty = ~valid.any(axis=1)
    if empty.any():
        valid = valid.copy()
        valid[empty, 0] = True
    return valid


def validate_dataset(ds: MultimodalDataset) -> None:
    """Check shapes, dtypes and label ranges of every split; raise :class:`DataError` if off."""
    if ds.task not in ("regression", "classification"):
        raise DataError(f"task must be 'regression' or 'classification' (got {ds.task!r})")
    if len(ds.modalities) < 2:
        raise DataError(f"need at least 2 modalities (got {list(ds.modalities)})")
    missing = [s for s in SPLITS if s not in ds.splits]
    if missing:
        raise DataError(f"{ds.name}: missing split(s) {missing}; every dataset needs {list(SPLITS)}")
    if ds.task == "classification" and (ds.num_classes is None or ds.num_classes < 2):
        raise DataError(f"{ds.name}: classification needs num_classes >= 2 (got {ds.num_classes})")
    dims: dict[str, int] = {}
    for sname in SPLITS:
        sp = ds.splits[sname]
        n = len(sp.labels)
        if n == 0:
            raise DataError(f"{ds.name}: split '{sname}' is empty; every split needs at least one sample")
        if sp.labels.ndim != 1:
            raise DataError(f"{ds.name}: {sname} labels must be 1-D [N] (got shape {sp.labels.shape})")
        for m in ds.modalities:
            if m not in sp.features:
                raise DataError(f"{ds.name}: split '{sname}' has no features for modality '{m}'")
            x, v = sp.features[m], sp.valid[m]
            if x.ndim != 3:
                raise DataError(
                    f"{ds.name}: {sname}/{m} features must be 3-D [N, L, D] (got shape {x.shape})"
                )
            if x.shape[0] != n:
                raise DataError(
                    f"{ds.name}: {sname}/{m} has {x.shape[0]} samples but there are {n} labels; "
                    "every modality needs one row per label"
                )
            if v.shape != x.shape[:2]:
                raise DataError(f"{ds.name}: {sname}/{m} valid mask shape {v.shape} != {x.shape[:2]}")
            if dims.setdefault(m, x.shape[2]) != x.shape[2]:
                raise DataError(
                    f"{ds.name}: modality '{m}' has feature dim {x.shape[2]} in '{sname}' but "
                    f"{dims[m]} in 'train'; all splits must share dims"
                )
            if not np.isfinite(x).all():
                raise DataError(f"{ds.name}: {sname}/{m} holds NaN/inf; clean it with clean_features")
        if ds.task == "regression":
            if not np.isfinite(sp.labels).all():
                raise DataError(f"{ds.name}: {sname} labels hold NaN/inf")
            lo, hi = REGRESSION_RANGE
            if sp.labels.min() < lo - 1e-6 or sp.labels.max() > hi + 1e-6:
                raise DataError(
                    f"{ds.name}: {sname} regression labels span [{sp.labels.min():.3g}, "
                    f"{sp.labels.max():.3g}] but must lie in [{lo:g}, {hi:g}]; rescale them"
                )
        else:
            lab = sp.labels
            if not np.issubdtype(lab.dtype, np.integer):
                if not np.all(np.isfinite(lab)) or not np.all(lab == np.round(lab)):
                    raise DataError(f"{ds.name}: {sname} class labels must be integers")
            if lab.min() < 0 or lab.max() >= ds.num_classes:
                raise DataError(
                    f"{ds.name}: {sname} class ids span [{int(lab.min())}, {int(lab.max())}] but "
                    f"num_classes is {ds.num_classes}; ids must lie in [0, {ds.num_classes - 1}]"
                )


# --------------------------------------------------------------------------------------------
@dataclass
class Batch:
    """A torch batch. ``x[m]``: float ``(B, L, D)``; ``valid[m]``: bool ``(B, L)``; ``y``: ``(B,)``."""

    x: dict[str, "torch.Tensor"]  # noqa: F821
    valid: dict[str, "torch.Tensor"]  # noqa: F821
    y: "torch.Tensor"  # noqa: F821
    extra: dict[str, "torch.Tensor"] = field(default_factory=dict)  # noqa: F821

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def to(self, device, non_blocking: bool = False) -> "Batch":
        return Batch(
            {m: t.to(device, non_blocking=non_blocking) for m, t in self.x.items()},
            {m: t.to(device, non_blocking=non_blocking) for m, t in self.valid.items()},
            self.y.to(device, non_blocking=non_blocking),
            {k: t.to(device, non_blocking=non_blocking) for k, t in self.extra.items()},
        )


def make_batch(split: Split, idx: Sequence[int] | np.ndarray, *, pin: bool = False) -> Batch:
    """Collate the samples ``idx`` of ``split`` into a :class:`Batch` (CPU tensors).

    Time steps that are padding in every sample of the batch are cut off, so a batch of short
    sequences does not pay for the longest one in the file. The cut depends on the batch, so
    nothing downstream may depend on a step's index in the batch: the model's positions count
    from each sample's first valid step (``mro_core.model.layers.first_real_positions``), which
    makes a sample's output the same alone, in any batch and for left or right padding.
    """
    import torch

    idx = np.asarray(idx)
    xs, vs = {}, {}
    for m, arr in split.features.items():
        v = ensure_nonempty(split.valid[m][idx])
        keep = np.flatnonzero(v.any(axis=0))
        lo, hi = int(keep[0]), int(keep[-1]) + 1
        xs[m] = torch.from_numpy(np.ascontiguousarray(arr[idx][:, lo:hi]))
        vs[m] = torch.from_numpy(np.ascontiguousarray(v[:, lo:hi]))
    y = torch.from_numpy(np.ascontiguousarray(split.labels[idx]))
    extra = {k: torch.from_numpy(np.ascontiguousarray(a[idx])) for k, a in split.extra.items()}
    b = Batch(xs, vs, y, extra)
    if pin:
        b = Batch(
            {m: t.pin_memory() for m, t in b.x.items()},
            {m: t.pin_memory() for m, t in b.valid.items()},
            b.y.pin_memory(),
            {k: t.pin_memory() for k, t in b.extra.items()},
        )
    return b


def iter_batches(
    split: Split,
    batch_size: int,
    *,
    shuffle: bool = False,
    rng: np.random.Generator | None = None,
    indices: np.ndarray | None = None,
    pin: bool = False,
) -> Iterator[Batch]:
    """Yield batches over ``split`` (or over ``indices``, e.g. a distributed shard).

    Args:
        batch_size: samples per batch (the last batch may be smaller).
        shuffle: permute the order with ``rng`` (required when shuffling: randomness is owned
            by the caller so runs are reproducible).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1 (got {batch_size})")
    order = np.arange(len(split)) if indices is None else np.asarray(indices)
    if shuffle:
        if rng is None:
            raise ValueError("shuffle=True needs an rng (np.random.Generator)")
        order = rng.permutation(order)
    for s in range(0, len(order), batch_size):
        yield make_batch(split, order[s : s + batch_size], pin=pin)


def num_batches(n: int, batch_size: int) -> int:
    return (n + batch_size - 1) // batch_size


def build_split(
    features: Mapping[str, np.ndarray],
    labels: np.ndarray,
    *,
    lengths: Mapping[str, np.ndarray] | None = None,
    extra: Mapping[str, np.ndarray] | None = None,
    where: str = "data",
) -> Split:
    """Clean features and build validity masks (from ``lengths`` if given, else non-zero rows)."""
    feats, valid = {}, {}
    for m, x in features.items():
        x = clean_features(x, where=f"{where}/{m}")  # real, [N, L, D], L and D >= 1
        feats[m] = x
        if lengths is not None and m in lengths:
            ln = np.asarray(lengths[m]).reshape(-1)
            if ln.shape[0] != x.shape[0]:
                raise DataError(
                    f"{where}/{m}: {ln.shape[0]} lengths for {x.shape[0]} samples; give one length per sample"
                )
            valid[m] = valid_from_lengths(ln, x.shape[1])
        else:
            valid[m] = valid_from_nonzero(x)
        valid[m] = ensure_nonempty(valid[m])
    return Split(feats, valid, np.asarray(labels), dict(extra or {}))
