"""What MRO makes of a data file, shown before a long run (``mro data inspect``, the dashboard).

:func:`inspect_path` reads a file (or the folder holding it) the way the loaders do, but leniently:
what the loaders refuse as content (a missing split, labels outside [-3, 3], NaN/inf values) is
reported as a warning here, so a user sees *why* a file would fail or mislead. What makes a file
unreadable stays a :class:`~mro_core.data.base.DataError` with a one-line message: a missing,
unreadable, empty or unknown file, a layout the loaders do not know, or splits that disagree in
modalities or feature dims. :func:`inspect_dataset` inspects an already loaded dataset (e.g. the
synthetic benchmark).

Per split it reports N; per modality the padded length L, feature dim D, the padding side
(``none``, ``right``, ``left``, ``both`` or ``mixed`` over samples), the share of padded steps,
steps padded inside a sample's real span, NaN / inf counts as stored in the file, and samples with
no real step; the label distribution (a histogram over [-3, 3] in 0.5 steps for regression, class
counts for classification); planted paths when the file has them; and warnings.

Padding is found as the loaders find it: from the lengths when the file gives them (MMSA's
unaligned ``audio_lengths`` / ``vision_lengths``, ``.npz`` ``<split>_<m>_len``, MELD's windows),
else a step is padding when its whole feature row is zero (after NaN/inf -> 0).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from mro_core.data.base import REGRESSION_RANGE, SPLITS, DataError, MultimodalDataset, valid_from_lengths

__all__ = [
    "Inspection", "ModalityInfo", "SplitInfo", "format_inspection", "inspect_dataset", "inspect_path",
    "inspect_source",
]

HIST_EDGES = tuple(float(e) for e in np.linspace(-3.0, 3.0, 13))
"""Bin edges of the regression label histogram: 12 bins of width 0.5 over [-3, 3]."""

LAYOUTS = {
    "mult": "MulT pickle (yaohungt/Multimodal-Transformer): zero padding on the left, labels [N, 1, 1]",
    "mmsa": "MMSA pickle (thuiar/MMSA): zero padding on the right, audio/vision lengths when unaligned",
    "mmgcn": "MELD, MMGCN's 10-tuple (T, A, V): dialogue context windows, right padding",
    "dialoguernn": "MELD, DialogueRNN's 9-tuple (T, A, sentiment labels): context windows, right padding",
    "npz": "generic .npz: right padding where <split>_<m>_len is given, else all-zero rows are padding",
    "synthetic": "planted-routing benchmark (generated): right padding",
    "mfeat": "UCI Multiple Features (built in): six views, fixed stratified 60/20/20 split, z-scored on train",
}
"""Layout name -> what it means for padding and labels."""


# ------------------------------------------------------------------------------------ records
@dataclass
class ModalityInfo:
    """One modality of one split.

    Attributes:
        name: modality name.
        length: padded length L (steps per sample in the file).
        dim: feature dim D.
        padding_side: ``none`` (no padding), ``right``, ``left``, ``both`` (every padded sample
            on both sides) or ``mixed`` (samples differ).
        sides: samples by padding side: ``none``, ``right``, ``left``, ``both``, ``empty``.
        padding_share: share of all steps that are padding, in [0, 1].
        interior_padding: padded steps inside a sample's real span (a real all-zero step, read as
            padding by the non-zero rule).
        mean_length: mean real steps per sample.
        nan, inf: NaN and +-inf values in the file (the loaders set them to 0).
        empty_samples: samples with no real step.
        all_zero: every value is zero (after NaN/inf -> 0).
        padding_from: ``lengths`` (given by the file) or ``zero rows``.
    """

    name: str
    length: int
    dim: int
    padding_side: str
    sides: dict[str, int]
    padding_share: float
    interior_padding: int
    mean_length: float
    nan: int
    inf: int
    empty_samples: int
    all_zero: bool
    padding_from: str


@dataclass
class SplitInfo:
    """One split: its size, modalities and label distribution.

    ``labels`` for regression: ``{"kind": "histogram", "edges", "counts", "below", "above",
    "nonfinite", "zeros", "min", "max", "mean", "std"}``; for classification: ``{"kind":
    "classes", "counts": {class name: n}, "outside": n}``.
    """

    name: str
    n: int
    modalities: list[ModalityInfo]
    labels: dict[str, Any]


@dataclass
class Inspection:
    """What MRO makes of a data source (JSON-able via :meth:`to_dict`)."""

    path: str | None
    dataset: str
    layout: str
    layout_note: str
    task: str
    modalities: list[str]
    splits: list[SplitInfo]
    aligned: bool | None = None
    num_classes: int | None = None
    class_names: list[str] | None = None
    planted_paths: list[str] | None = None
    missing_splits: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def split(self, name: str) -> SplitInfo:
        for s in self.splits:
            if s.name == name:
                return s
        raise KeyError(f"no split {name!r} (have {[s.name for s in self.splits]})")


# ------------------------------------------------------------------------------------ analysis
def _sides(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sample: has a real step, first and last real step (``[N]`` each)."""
    L = valid.shape[1]
    any_ = valid.any(axis=1)
    first = np.where(any_, valid.argmax(axis=1), 0)
    last = np.where(any_, L - 1 - valid[:, ::-1].argmax(axis=1), -1)
    return any_, first, last


def modality_info(name: str, x: np.ndarray, valid: np.ndarray, *, nan: int, inf: int,
                  padding_from: str) -> ModalityInfo:
    """Padding and value statistics of one modality ``x [N, L, D]`` with real steps ``valid [N, L]``
    (before any step is forced valid)."""
    n, L = valid.shape
    any_, first, last = _sides(valid)
    lead, trail = any_ & (first > 0), any_ & (last < L - 1)
    sides = {
        "none": int((any_ & ~lead & ~trail).sum()),
        "right": int((trail & ~lead).sum()),
        "left": int((lead & ~trail).sum()),
        "both": int((lead & trail).sum()),
        "empty": int((~any_).sum()),
    }
    padded = [s for s in ("right", "left", "both") if sides[s]]
    side = "none" if not padded else padded[0] if len(padded) == 1 else "mixed"
    span = np.clip(last - first + 1, 0, None)
    real = valid.sum(axis=1)
    finite_nonzero = bool(np.any((x != 0) & np.isfinite(x))) if x.size else False
    return ModalityInfo(
        name=name, length=int(L), dim=int(x.shape[2]), padding_side=side, sides=sides,
        padding_share=float(1.0 - valid.mean()) if valid.size else 0.0,
        interior_padding=int((span - real).sum()), mean_length=float(real.mean()) if n else 0.0,
        nan=int(nan), inf=int(inf), empty_samples=sides["empty"], all_zero=not finite_nonzero,
        padding_from=padding_from,
    )


def label_info(labels: np.ndarray, task: str, num_classes: int | None = None,
               class_names: tuple[str, ...] | list[str] | None = None) -> dict[str, Any]:
    """Label distribution: a histogram over [-3, 3] (regression) or class counts."""
    y = np.asarray(labels).reshape(-1)
    if task == "classification":
        ids = y.astype(np.int64, copy=False)
        C = int(num_classes or (int(ids.max()) + 1 if ids.size else 0))
        names = list(class_names) if class_names else [str(c) for c in range(C)]
        inside = (ids >= 0) & (ids < C)
        counts = np.bincount(ids[inside], minlength=C)
        return {"kind": "classes", "counts": {names[c]: int(counts[c]) for c in range(C)},
                "outside": int((~inside).sum())}
    y = y.astype(np.float64)
    fin = y[np.isfinite(y)]
    lo, hi = REGRESSION_RANGE
    inside = fin[(fin >= lo) & (fin <= hi)]
    counts, _ = np.histogram(inside, bins=np.asarray(HIST_EDGES))
    stats = {k: (float(f(fin)) if fin.size else None) for k, f in
             (("min", np.min), ("max", np.max), ("mean", np.mean), ("std", np.std))}
    return {"kind": "histogram", "edges": list(HIST_EDGES), "counts": [int(c) for c in counts],
            "below": int((fin < lo).sum()), "above": int((fin > hi).sum()),
            "nonfinite": int(y.size - fin.size), "zeros": int((fin == 0).sum()), **stats}


def _warnings(ins: Inspection) -> list[str]:
    out = [f"split '{s}' is missing; MRO needs train, valid and test, so training will refuse this file"
           for s in ins.missing_splits]
    lo, hi = REGRESSION_RANGE
    for sp in ins.splits:
        for m in sp.modalities:
            where = f"{sp.name}/{m.name}"
            if m.all_zero:
                out.append(f"{where}: every value is zero; this modality carries no information")
            elif m.empty_samples:
                out.append(f"{where}: {m.empty_samples} of {sp.n} samples have no real step (all zero)")
            if m.nan or m.inf:
                out.append(f"{where}: {m.nan} NaN and {m.inf} inf values; the loader sets them to 0")
        lab = sp.labels
        if lab["kind"] == "histogram":
            bad = lab["below"] + lab["above"]
            if bad:
                out.append(
                    f"{sp.name}: {bad} labels outside [{lo:g}, {hi:g}] (span [{lab['min']:.3g}, "
                    f"{lab['max']:.3g}]); the loader refuses them: rescale to [{lo:g}, {hi:g}]"
                )
            if lab["nonfinite"]:
                out.append(f"{sp.name}: {lab['nonfinite']} labels are NaN/inf; the loader refuses them")
        else:
            if lab["outside"]:
                out.append(f"{sp.name}: {lab['outside']} class ids outside [0, {ins.num_classes - 1}]")
            absent = [c for c, k in lab["counts"].items() if k == 0]
            if absent:
                out.append(f"{sp.name}: no sample of class(es) {', '.join(absent)}")
    return out


def _finish(ins: Inspection) -> Inspection:
    ins.warnings = _warnings(ins)
    return ins


# ------------------------------------------------------------------------------------ sources
def _check_agreement(splits: Mapping[str, Mapping[str, np.ndarray]], fname: str) -> None:
    """Every split has the same modalities with the same feature dims, else :class:`DataError`."""
    names = list(splits)
    ref = names[0]
    for s in names[1:]:
        a, b = list(splits[ref]), list(splits[s])
        if a != b:
            raise DataError(
                f"{fname}: splits disagree in modalities: '{ref}' has {a} but '{s}' has {b}; "
                "every split needs the same modalities"
            )
        for m in a:
            da, db = splits[ref][m].shape[2], splits[s][m].shape[2]
            if da != db:
                raise DataError(
                    f"{fname}: splits disagree in feature dims: modality '{m}' has D={da} in "
                    f"'{ref}' but D={db} in '{s}'; every split needs the same dims"
                )


def _raw_split_info(name: str, feats: Mapping[str, np.ndarray], lengths: Mapping[str, np.ndarray],
                    labels: np.ndarray, task: str, fname: str, num_classes: int | None = None) -> SplitInfo:
    mods = []
    for m, x in feats.items():
        if x.shape[0] != labels.shape[0]:
            raise DataError(
                f"{fname}: {name}/{m} has {x.shape[0]} samples but there are {labels.shape[0]} labels; "
                "every modality needs one row per label"
            )
        x = np.asarray(x)
        finite = np.isfinite(x)
        nan = int(np.isnan(x).sum())
        inf = int(x.size - finite.sum() - nan)
        if m in lengths:
            valid = valid_from_lengths(np.asarray(lengths[m]).reshape(-1), x.shape[1])
        else:
            valid = np.any((x != 0) & finite, axis=2)
        mods.append(modality_info(m, x, valid, nan=nan, inf=inf,
                                  padding_from="lengths" if m in lengths else "zero rows"))
    return SplitInfo(name, int(labels.shape[0]), mods, label_info(labels, task, num_classes))


def _inspect_npz(path: Path) -> Inspection:
    from mro_core.data import npz

    with npz.open_npz(path) as z:
        mods, task = npz.header(z, path)
        present = [s for s in SPLITS if any(k.startswith(f"{s}_") for k in z.files)]
        if not present:
            raise DataError(f"{path.name}: no split arrays (keys like 'train_<modality>', 'train_label')")
        keys = {s: [m for m in mods if f"{s}_{m}" in z.files] for s in present}
        for s in present[1:]:
            if keys[s] != keys[present[0]]:
                raise DataError(
                    f"{path.name}: splits disagree in modalities: '{present[0]}' has {keys[present[0]]} "
                    f"but '{s}' has {keys[s]}; every split needs all of {list(mods)}"
                )
        raw = {s: npz.split_arrays(z, s, mods, path) for s in present}
        _check_agreement({s: r[0] for s, r in raw.items()}, path.name)
        num_classes = None
        if task == "classification":
            num_classes = int(z["num_classes"]) if "num_classes" in z.files else int(
                max(int(np.nanmax(r[2])) for r in raw.values() if r[2].size)) + 1
        planted = npz.planted_paths(z, mods, path)
    splits = [_raw_split_info(s, *raw[s], task, path.name, num_classes) for s in present]
    with_len = any(r[1] for r in raw.values())
    return _finish(Inspection(
        path=str(path), dataset="npz", layout="npz",
        layout_note=LAYOUTS["npz"] + ("; this file gives lengths" if with_len else "; this file gives no lengths"),
        task=task, modalities=list(mods), splits=splits, num_classes=num_classes,
        planted_paths=list(planted) if planted else None,
        missing_splits=[s for s in SPLITS if s not in present],
    ))


def _inspect_mosei(data: Any, path: Path, name: str) -> Inspection:
    from mro_core.data import mosei

    present = [s for s in SPLITS if s in data]
    if not present:
        raise DataError(
            f"{path.name}: no 'train', 'valid' or 'test' split (keys: {sorted(map(str, data))[:8]}); "
            "is this a MOSEI/MOSI feature file?"
        )
    if not isinstance(data[present[0]], Mapping):
        raise DataError(f"{path.name}: '{present[0]}' should be a dict (got {type(data[present[0]]).__name__})")
    layout = mosei.detect_layout(data[present[0]], f"{path.name}:{present[0]}")
    raw = {s: mosei.split_arrays(data[s], f"{path.name}:{s}", layout) for s in present}
    _check_agreement({s: r[0] for s, r in raw.items()}, path.name)
    splits = [_raw_split_info(s, *raw[s], "regression", path.name) for s in present]
    lens = {m.length for m in splits[0].modalities}
    aligned = len(lens) == 1 and not any(r[1] for r in raw.values())
    return _finish(Inspection(
        path=str(path), dataset=name, layout=layout, layout_note=LAYOUTS[layout], task="regression",
        modalities=list(mosei.MODALITIES), splits=splits, aligned=aligned,
        missing_splits=[s for s in SPLITS if s not in present],
    ))


def inspect_dataset(ds: MultimodalDataset, *, path: str | Path | None = None,
                    nonfinite: Mapping[str, Mapping[str, Mapping[str, int]]] | None = None) -> Inspection:
    """Inspect a loaded dataset (its arrays are already clean, so NaN/inf counts come from
    ``nonfinite`` [split][modality] -> {"nan", "inf"} when the loader recorded them)."""
    nonfinite = nonfinite if nonfinite is not None else ds.meta.get("nonfinite", {})
    layout = str(ds.meta.get("layout") or ("synthetic" if ds.name == "synthetic" else ds.name))
    splits = []
    for s, sp in ds.splits.items():
        mods = []
        for m in ds.modalities:
            bad = (nonfinite.get(s) or {}).get(m) or {}
            # build_split marks step 0 real in a row without one: undo it to count such rows
            valid = sp.valid[m] & ~((sp.valid[m].sum(1) == 1) & ~np.any(sp.features[m] != 0, axis=(1, 2)))[:, None]
            mods.append(modality_info(m, sp.features[m], valid, nan=bad.get("nan", 0), inf=bad.get("inf", 0),
                                      padding_from="lengths"))
        splits.append(SplitInfo(s, len(sp), mods, label_info(sp.labels, ds.task, ds.num_classes, ds.class_names)))
    return _finish(Inspection(
        path=str(path) if path else ds.meta.get("file"), dataset=ds.name, layout=layout,
        layout_note=LAYOUTS.get(layout, layout), task=ds.task, modalities=list(ds.modalities),
        splits=splits, num_classes=ds.num_classes,
        class_names=list(ds.class_names) if ds.class_names else None,
        planted_paths=list(ds.planted_paths) if ds.planted_paths else None,
        missing_splits=[s for s in SPLITS if s not in ds.splits],
    ))


# ------------------------------------------------------------------------------------ entry
def _check_file(path: Path) -> None:
    if not path.exists():
        raise DataError(f"data path does not exist: {path}; give a data file or the folder holding it")
    if not os.access(path, os.R_OK):
        raise DataError(f"cannot read {path} (permission denied); check its permissions")
    if path.is_file() and path.stat().st_size == 0:
        raise DataError(f"{path.name} is empty (0 bytes); give a .npz, MOSEI/MOSI or MELD feature file")


def _resolve_folder(folder: Path, dataset: str | None, aligned: bool | None) -> tuple[Path, str | None]:
    """The data file in ``folder`` and the dataset it belongs to."""
    from mro_core.data import meld, mosei

    tries: list[tuple[str, Any]] = []
    if dataset in (None, "meld"):
        tries.append(("meld", lambda: meld.find_file(folder)))
    for name in (("mosei", "mosi") if dataset is None else (dataset,) if dataset in ("mosei", "mosi") else ()):
        for al in ((True, False) if aligned is None else (aligned,)):
            tries.append((name, lambda n=name, a=al: mosei.find_file(folder, n, a)))
    if dataset in (None, "npz"):
        found = sorted(folder.glob("*.npz"))
        if len(found) == 1:
            return found[0], "npz"
    for name, find in tries:
        try:
            return find(), name
        except DataError:
            continue
    raise DataError(
        f"no known data file in {folder} (MELD_features_raw*.pkl, *_data*.pkl, aligned_50.pkl, "
        "unaligned_50.pkl or one .npz); give the file itself"
    )


def inspect_path(path: str | Path, dataset: str | None = None, *, aligned: bool | None = None,
                 window: int = 5, split_seed: int | None = None) -> Inspection:
    """Inspect a data file (or its folder) as MRO would read it.

    Args:
        path: a ``.npz``, a MOSEI/MOSI pickle (MulT or MMSA layout), a MELD feature pickle, or a
            folder holding one.
        dataset: ``npz``, ``mosei``, ``mosi`` or ``meld`` (detected from the file when None;
            ``mosi`` vs ``mosei`` only names the result).
        aligned: MOSEI/MOSI folders: which file to look for (both when None).
        window, split_seed: MELD: context window and validation-split seed, as for loading.

    Raises:
        DataError: missing, unreadable, empty or unknown file; a layout the loaders do not know;
            splits that disagree in modalities or feature dims.
    """
    from mro_core.data import DATASETS
    from mro_core.data.meld import DEFAULT_SPLIT_SEED, meld_from_tuple
    from mro_core.data.safe_pickle import load_pickle

    if dataset is not None and dataset not in DATASETS:
        raise DataError(f"unknown dataset {dataset!r}; choose one of {list(DATASETS)}")
    if dataset == "synthetic":
        raise DataError("synthetic data has no file; inspect it with inspect_dataset(make_synthetic(cfg))")
    path = Path(path).expanduser()
    _check_file(path)
    if path.is_dir():
        path, dataset = _resolve_folder(path, dataset, aligned)
        _check_file(path)
    if dataset == "npz" or (dataset is None and path.suffix.lower() == ".npz"):
        return _inspect_npz(path)
    if dataset is None and path.suffix.lower() not in (".pkl", ".pickle", ".p"):
        raise DataError(
            f"{path.name}: unknown data file type '{path.suffix or '(none)'}'; give a .npz or a .pkl "
            "feature file, or say which with --dataset"
        )
    try:
        data = load_pickle(path)
    except PermissionError:
        raise DataError(f"cannot read {path} (permission denied); check its permissions") from None
    if dataset == "meld" or (dataset is None and isinstance(data, (tuple, list))):
        ds = meld_from_tuple(data, path, window=window,
                             split_seed=DEFAULT_SPLIT_SEED if split_seed is None else split_seed)
        return inspect_dataset(ds, path=path)
    if isinstance(data, Mapping):
        if dataset is None:  # names only: MOSI's folder or file says "mosi" (and not "mosei")
            parts = [p.lower() for p in path.parts[-3:]]
            dataset = "mosi" if any("mosi" in p and "mosei" not in p for p in parts) else "mosei"
        return _inspect_mosei(data, path, dataset)
    raise DataError(
        f"{path.name}: unknown content (a {type(data).__name__}); expected a MOSEI/MOSI dict of splits "
        "or a MELD feature tuple"
    )


def inspect_source(name: str, data_path: str | Path | None = None, *, synthetic: Any = None,
                   aligned: bool | None = None, window: int = 5, split_seed: int | None = None) -> Inspection:
    """One call for any source, with :func:`~mro_core.data.load_dataset`'s arguments (what the
    dashboard's Search page has at hand): ``synthetic`` is generated from its config, file
    sources are read with :func:`inspect_path`."""
    if name in ("synthetic", "mfeat"):  # generated, or built in: no file to read
        from mro_core.data import load_dataset

        return inspect_dataset(load_dataset(name, synthetic=synthetic))
    if data_path is None:
        raise DataError(f"dataset {name!r} needs a data path (a file or the folder holding it)")
    return inspect_path(data_path, name, aligned=aligned, window=window, split_seed=split_seed)


# ------------------------------------------------------------------------------------ text
def format_inspection(ins: Inspection) -> str:
    """Plain-text report (what ``mro data inspect`` prints)."""
    lines = [f"{ins.path or ins.dataset}", f"  dataset {ins.dataset}, layout {ins.layout}: {ins.layout_note}"]
    extra = f", aligned: {'yes' if ins.aligned else 'no'}" if ins.aligned is not None else ""
    lines.append(f"  task {ins.task}, modalities {', '.join(ins.modalities)}{extra}")
    lines.append("  splits: " + ", ".join(f"{s.name} N={s.n}" for s in ins.splits)
                 + (f"; missing: {', '.join(ins.missing_splits)}" if ins.missing_splits else ""))
    if ins.planted_paths:
        lines.append(f"  planted paths: {', '.join(ins.planted_paths)}")
    head = f"  {'split':6} {'mod':5} {'L':>5} {'D':>5}  {'padding':7} {'pad %':>6} {'mean len':>8} {'NaN':>6} {'inf':>6} {'empty':>6}"
    lines += ["", head]
    for sp in ins.splits:
        for m in sp.modalities:
            lines.append(f"  {sp.name:6} {m.name:5} {m.length:5d} {m.dim:5d}  {m.padding_side:7} "
                         f"{100 * m.padding_share:6.1f} {m.mean_length:8.1f} {m.nan:6d} {m.inf:6d} {m.empty_samples:6d}")
    lines.append("")
    hist = [sp for sp in ins.splits if sp.labels["kind"] == "histogram"]
    if hist:
        edges = hist[0].labels["edges"]
        lines.append("  labels: counts per 0.5-wide bin from -3 to 3 (column = bin start), outside, exactly 0")
        lines.append(f"  {'split':6} " + " ".join(f"{e:>5g}" for e in edges[:-1]) + f" {'<-3':>5} {'>3':>5} {'=0':>5}  mean ± std")
        for sp in hist:
            lab = sp.labels
            ms = f"{lab['mean']:.3f} ± {lab['std']:.3f}" if lab["mean"] is not None else "no finite label"
            lines.append(f"  {sp.name:6} " + " ".join(f"{c:5d}" for c in lab["counts"])
                         + f" {lab['below']:5d} {lab['above']:5d} {lab['zeros']:5d}  {ms}")
    for sp in ins.splits:
        if sp.labels["kind"] == "classes":
            lines.append(f"  {sp.name} classes: " + ", ".join(f"{k} {v}" for k, v in sp.labels["counts"].items()))
    lines.append("")
    if ins.warnings:
        lines.append("  warnings:")
        lines += [f"    - {w}" for w in ins.warnings]
    else:
        lines.append("  warnings: none")
    return "\n".join(lines)
