"""The generic k-modal ``.npz`` format (DESIGN 8), read and written.

Keys of one ``.npz`` file:

* ``modalities``: array of names, in path order (k >= 2).
* ``task``: ``"regression"`` (labels float in [-3, 3]) or ``"classification"`` (int class ids).
* ``num_classes``: int, classification only (else inferred as max id + 1).
* For each split in ``train``, ``valid``, ``test``:
  ``<split>_<modality>`` float ``[N, L, D]``; optional ``<split>_<modality>_len`` int ``[N]``
  (right padding; without it, all-zero rows are padding); ``<split>_label`` ``[N]``.
* Optional ``planted_paths``: array of ``src->tgt`` names (ground truth of synthetic data).

Files are read with ``allow_pickle=False``: an ``.npz`` can hold no code.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np

from mro_core.data.base import SPLITS, DataError, MultimodalDataset, build_split, check_features
from mro_core.paths import MaskError, PathSpace


def _key(z: "np.lib.npyio.NpzFile", key: str, path: Path) -> np.ndarray:
    if key not in z.files:
        raise DataError(f"{path.name}: missing key '{key}' (the npz format is described in the README)")
    try:
        return z[key]
    except ValueError as e:  # object arrays need pickle, which we refuse
        raise DataError(f"{path.name}: key '{key}' cannot be read without pickle ({e}); store plain arrays") from None


def _memory_cap() -> int:
    """The most bytes one array may declare: this machine's RAM (``MRO_MAX_ARRAY_BYTES`` overrides)."""
    env = os.environ.get("MRO_MAX_ARRAY_BYTES")
    if env:
        return int(env)
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 64 << 30


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024:
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def _check_declared_sizes(z: "np.lib.npyio.NpzFile", path: Path) -> None:
    """Refuse arrays whose declared size cannot be in the file, before numpy allocates them.

    numpy allocates an array from its ``.npy`` header's shape and only then reads the data, so a
    broken or hostile header (say shape ``[10**9, 10**9, 4]``) costs petabytes before any read
    fails. Each member's declared bytes must fit in the member's uncompressed size, that size must
    be reachable from its compressed size (deflate expands at most ~1032x) and below the machine's
    memory. Raises :class:`DataError` (one line) otherwise.
    """
    cap = _memory_cap()
    for info in z.zip.infolist():
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        try:
            with z.zip.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    shape, _, dtype = np.lib.format._read_array_header(f, version)  # 3.0: no public reader
                header_len = f.tell()
        except Exception as e:  # noqa: BLE001 - any header failure is a broken file
            msg = " ".join(str(e).split())[:160] or type(e).__name__
            raise DataError(f"{path.name}: '{key}' has a broken array header ({msg}); is the file damaged?") from None
        declared = math.prod(int(d) for d in shape) * int(dtype.itemsize)
        room = info.file_size - header_len
        if declared > room or info.file_size > 1100 * info.compress_size + 4096 or declared > cap:
            if declared > cap:
                why = f"more than this machine's memory ({_human(cap)})"
            elif declared > room:
                why = f"but the file holds {max(room, 0)} bytes for it"
            else:
                why = f"and its zip entry claims {info.file_size} bytes from {info.compress_size} compressed"
            raise DataError(
                f"{path.name}: '{key}' declares shape {list(shape)} of {dtype} ({_human(declared)}), "
                f"{why}; the file is damaged or not an MRO dataset"
            )
def open_npz(path: str | Path) -> "np.lib.npyio.NpzFile":
    """``np.load`` without pickle; a missing or unreadable file is a :class:`DataError`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such data file: {path}; give --data-path the .npz file")
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{path.name} is not a readable .npz file ({e}); is it truncated?") from None
    try:
        _check_declared_sizes(z, path)
    except DataError:
        z.close()
        raise
    return z


def header(z: "np.lib.npyio.NpzFile", path: Path) -> tuple[tuple[str, ...], str]:
    """The file's modality names and task, checked."""
    mods = tuple(str(m) for m in _key(z, "modalities", path).reshape(-1))
    task = str(_key(z, "task", path).reshape(()))
    if task not in ("regression", "classification"):
        raise DataError(f"{path.name}: task must be 'regression' or 'classification' (got {task!r})")
    return mods, task


def split_arrays(
    z: "np.lib.npyio.NpzFile", s: str, mods: tuple[str, ...], path: Path
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Split ``s``'s raw arrays: features by modality (NaN/inf kept), lengths where given, labels
    ``[N]`` (values not checked). Keys, shapes, dtypes and length ranges are checked."""
    feats = {m: _key(z, f"{s}_{m}", path) for m in mods}
    lengths = {m: z[f"{s}_{m}_len"] for m in mods if f"{s}_{m}_len" in z.files}
    labels = _key(z, f"{s}_label", path).reshape(-1)
    for m, x in feats.items():
        if x.ndim != 3:
            raise DataError(f"{path.name}: '{s}_{m}' must be [N, L, D] (got shape {x.shape})")
        if not np.issubdtype(x.dtype, np.number):
            raise DataError(f"{path.name}: '{s}_{m}' must be numeric (got dtype {x.dtype})")
        check_features(x, where=f"{path.name}: '{s}_{m}'")
    for m, ln in lengths.items():
        ln = ln.reshape(-1)
        if ln.size and (ln.min() < 0 or ln.max() > feats[m].shape[1]):
            raise DataError(
                f"{path.name}: '{s}_{m}_len' must lie in [0, {feats[m].shape[1]}] "
                f"(got [{ln.min()}, {ln.max()}])"
            )
    return feats, lengths, labels


def planted_paths(z: "np.lib.npyio.NpzFile", mods: tuple[str, ...], path: Path) -> tuple[str, ...] | None:
    """The file's ``planted_paths`` in canonical ``src->tgt`` spelling, or None."""
    if "planted_paths" not in z.files:
        return None
    names = [str(p) for p in z["planted_paths"].reshape(-1)]
    try:
        space = PathSpace(mods)
        return tuple(space.path_names[space.path_index(p)] for p in names)
    except (MaskError, ValueError) as e:
        raise DataError(f"{path.name}: planted_paths: {e}") from None


def load_npz(path: str | Path) -> MultimodalDataset:
    """Load and validate a generic ``.npz`` dataset.

    Raises:
        DataError: missing file or key, wrong shapes, mismatched sample counts, bad labels.
    """
    path = Path(path)
    z = open_npz(path)
    with z:
        mods, task = header(z, path)
        splits = {}
        for s in SPLITS:
            feats, lengths, labels = split_arrays(z, s, mods, path)
            if task == "classification":
                if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
                    raise DataError(f"{path.name}: '{s}_label' must hold integer class ids")
                labels = labels.astype(np.int64)
            else:
                labels = labels.astype(np.float32)
            splits[s] = build_split(feats, labels, lengths=lengths, where=f"{path.name}:{s}")
        num_classes = None
        if task == "classification":
            if "num_classes" in z.files:
                num_classes = int(z["num_classes"])
            else:
                num_classes = int(max(int(sp.labels.max()) for sp in splits.values())) + 1
        planted = planted_paths(z, mods, path)
    try:
        return MultimodalDataset(
            name="npz",
            modalities=mods,
            task=task,  # type: ignore[arg-type]
            splits=splits,
            num_classes=num_classes,
            planted_paths=planted,
            meta={"file": str(path)},
        )
    except ValueError as e:
        raise DataError(f"{path.name}: {e}") from None


def save_npz(ds: MultimodalDataset, path: str | Path) -> Path:
    """Write ``ds`` in the generic format (lengths are saved for right-padded data).

    The write is atomic (:func:`mro_core.atomic.atomic_write`); a failed write is one
    :class:`~mro_core.atomic.WriteError` and leaves no temp file.
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "modalities": np.array(ds.modalities),
        "task": np.array(ds.task),
    }
    if ds.num_classes is not None:
        arrays["num_classes"] = np.array(ds.num_classes)
    if ds.planted_paths:
        arrays["planted_paths"] = np.array(ds.planted_paths)
    for s, sp in ds.splits.items():
        for m in ds.modalities:
            arrays[f"{s}_{m}"] = sp.features[m]
            v = sp.valid[m]
            lengths = v.sum(axis=1)
            # lengths describe right padding only; other layouts keep their zero rows instead
            if np.array_equal(v, np.arange(v.shape[1])[None, :] < lengths[:, None]):
                arrays[f"{s}_{m}_len"] = lengths.astype(np.int64)
        arrays[f"{s}_label"] = sp.labels
    from mro_core.atomic import atomic_write

    return atomic_write(path, lambda f: np.savez_compressed(f, **arrays))
