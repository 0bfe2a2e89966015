"""CMU-MOSEI and CMU-MOSI from the community's preprocessed pickles (DESIGN 8).

Modalities are ``("T", "A", "V")`` (text, audio, vision) in that order; the task is regression on
the sentiment score, which both datasets give in [-3, 3] (checked, never clipped). Two layouts are
read and told apart by their keys:

**MulT** (``yaohungt/Multimodal-Transformer``, ``src/dataset.py``): the file is
``<data>_data.pkl`` (word-aligned) or ``<data>_data_noalign.pkl``, where ``<data>`` is
``mosei_senti`` or ``mosi``; ``mosei_data*.pkl`` is accepted too. A dict ``{'train', 'valid',
'test'}`` of dicts with ``'text'`` ``[N, L, 300]`` (GloVe), ``'audio'`` ``[N, L, D_a]`` (holds
``-inf``: MulT zeroes it), ``'vision'`` ``[N, L, D_v]``, ``'labels'`` ``[N, 1, 1]`` and an
optional ``'id'`` (``[N, 3]`` rows, bytes for MOSI). MulT reads the dims and lengths from the
arrays (``get_dim``/``get_seq_len``), and so does this loader: MOSEI audio 74 / vision 35,
MOSI audio 5 / vision 20 (DESIGN 8) are not hard-coded. Zero padding sits on the left.

**MMSA** (``thuiar/MMSA``, ``src/MMSA/data_loader.py`` and ``src/MMSA/config/
config_regression.json``): ``aligned_50.pkl`` / ``unaligned_50.pkl`` (MMSA keeps them in
``<MOSI|MOSEI>/Processed/``). Same split keys; per split ``'text'`` (BERT features
``[N, 50, 768]``), ``'text_bert'`` (``[N, 3, 50]``: input ids, attention mask, segment ids, as
``BertTextEncoder.forward`` in ``src/MMSA/models/subNets/BertTextEncoder.py`` unpacks them; token
ids, not features), ``'audio'`` (``-inf`` zeroed by MMSA too), ``'vision'``,
``'regression_labels'`` ``[N]``, ``'id'``, ``'raw_text'``, and in unaligned files
``'audio_lengths'`` / ``'vision_lengths'``. Padding is on the right.

Padding masks come from the lengths when the file gives them, else from all-zero rows (text
always from all-zero rows): no side is assumed. NaN/inf feature values become 0 with a logged count
(:func:`~mro_core.data.base.build_split`). Files are read with the allow-listed unpickler.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from mro_core.data.base import REGRESSION_RANGE, SPLITS, DataError, MultimodalDataset, Split, build_split
from mro_core.data.safe_pickle import load_pickle

log = logging.getLogger(__name__)

__all__ = ["MODALITIES", "candidate_files", "detect_layout", "find_file", "load_mosei", "split_arrays"]

MODALITIES = ("T", "A", "V")
NAMES = ("mosei", "mosi")
# Modality -> key of the feature array in a split dict (the same in both layouts).
_FEATURE_KEYS = {"T": "text", "A": "audio", "V": "vision"}
# MMSA: modality -> key of its lengths (unaligned files only; text has none).
_MMSA_LENGTH_KEYS = {"A": "audio_lengths", "V": "vision_lengths"}
# MulT names its MOSEI files after the sentiment task ('mosei_senti'); some copies drop '_senti'.
_MULT_STEMS = {"mosei": ("mosei_senti", "mosei"), "mosi": ("mosi",)}


def candidate_files(name: str, aligned: bool) -> list[str]:
    """File names looked for in a folder, in order: MulT's first, then MMSA's."""
    suffix = "_data.pkl" if aligned else "_data_noalign.pkl"
    return [stem + suffix for stem in _MULT_STEMS[name]] + [
        "aligned_50.pkl" if aligned else "unaligned_50.pkl"
    ]


def find_file(folder: Path, name: str, aligned: bool) -> Path:
    """The MOSEI/MOSI pickle in ``folder`` (see :func:`candidate_files`); :class:`DataError` if none."""
    names = candidate_files(name, aligned)
    # MMSA's own tree is <root>/<MOSI|MOSEI>/Processed/<file>; accept it below the given folder.
    folders = [folder, folder / "Processed", folder / name.upper() / "Processed", folder / name.upper()]
    for d in folders:
        for n in names:
            if (d / n).is_file():
                return d / n
    kind = "aligned" if aligned else "unaligned"
    raise DataError(
        f"no {name} {kind} data file in {folder}: looked for {', '.join(names)} there and in "
        f"Processed/, {name.upper()}/ and {name.upper()}/Processed/; give the file or its folder"
    )


def detect_layout(split: Mapping[str, Any], where: str) -> str:
    """``"mmsa"`` or ``"mult"`` from a split dict's label key; :class:`DataError` if neither."""
    if "regression_labels" in split:
        return "mmsa"
    if "labels" in split:
        return "mult"
    raise DataError(
        f"{where}: neither 'labels' (MulT layout) nor 'regression_labels' (MMSA layout) found "
        f"(keys: {sorted(map(str, split))}); is this a MOSEI/MOSI feature file?"
    )


def _array(split: Mapping[str, Any], key: str, where: str, layout: str) -> np.ndarray:
    if key not in split:
        raise DataError(
            f"{where}: missing key '{key}' ({layout} layout; keys: {sorted(map(str, split))})"
        )
    x = np.asarray(split[key])
    if x.dtype == object or not np.issubdtype(x.dtype, np.number):
        raise DataError(f"{where}/{key}: expected a numeric array (got dtype {x.dtype})")
    if np.iscomplexobj(x):  # a cast to float would keep the real part without a word
        raise DataError(f"{where}/{key}: expected real numbers (got complex dtype {x.dtype})")
    return x


def _features(split: Mapping[str, Any], where: str, layout: str) -> dict[str, np.ndarray]:
    if layout == "mmsa" and "text" not in split and "text_bert" in split:
        raise DataError(
            f"{where}: only 'text_bert' is present, and it holds BERT token ids [N, 3, L], not "
            "features; this loader needs the 'text' feature array [N, L, 768] of MMSA's "
            "aligned_50.pkl / unaligned_50.pkl"
        )
    feats = {m: _array(split, k, where, layout) for m, k in _FEATURE_KEYS.items()}
    for m, x in feats.items():
        if x.ndim != 3:
            raise DataError(
                f"{where}/{_FEATURE_KEYS[m]}: features must be 3-D [N, L, D] (got shape {x.shape})"
            )
    if np.issubdtype(feats["T"].dtype, np.integer):
        raise DataError(
            f"{where}/text: holds integers (dtype {feats['T'].dtype}), which look like token ids; "
            "the loader needs text feature vectors"
        )
    return feats


def _raw_labels(split: Mapping[str, Any], where: str, layout: str) -> np.ndarray:
    """The sentiment scores ``[N]`` as stored (shape checked, values not)."""
    key = "regression_labels" if layout == "mmsa" else "labels"
    y = _array(split, key, where, layout).astype(np.float32)
    if y.ndim == 0 or y.size != y.shape[0]:
        raise DataError(
            f"{where}/{key}: shape {y.shape}; expected one sentiment score per sample (MulT "
            "[N, 1, 1], MMSA [N]); multi-label files such as IEMOCAP's are not MOSEI/MOSI"
        )
    return y.reshape(-1)


def _labels(split: Mapping[str, Any], where: str, layout: str) -> np.ndarray:
    key = "regression_labels" if layout == "mmsa" else "labels"
    y = _raw_labels(split, where, layout)
    if not np.isfinite(y).all():
        raise DataError(f"{where}/{key}: {int((~np.isfinite(y)).sum())} labels are NaN/inf")
    lo, hi = REGRESSION_RANGE
    if y.min() < lo - 1e-6 or y.max() > hi + 1e-6:
        raise DataError(
            f"{where}/{key}: labels span [{y.min():.3g}, {y.max():.3g}] but MOSEI/MOSI sentiment "
            f"lies in [{lo:g}, {hi:g}]; is this the sentiment file?"
        )
    return y


def _lengths(
    split: Mapping[str, Any], feats: Mapping[str, np.ndarray], where: str
) -> dict[str, np.ndarray]:
    """MMSA's audio/vision lengths where the file has them (unaligned files), checked."""
    out = {}
    for m, key in _MMSA_LENGTH_KEYS.items():
        if key not in split:
            continue
        ln = _array(split, key, where, "mmsa").reshape(-1)
        n, max_len = feats[m].shape[:2]
        if ln.shape[0] != n:
            raise DataError(f"{where}/{key}: {ln.shape[0]} lengths for {n} samples")
        if ln.size and (ln.min() < 0 or ln.max() > max_len):
            raise DataError(
                f"{where}/{key}: lengths must lie in [0, {max_len}] (got [{ln.min()}, {ln.max()}])"
            )
        out[m] = ln.astype(np.int64)
    return out


def split_arrays(
    split: Any, where: str, layout: str
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """A split dict's raw arrays: features by modality (NaN/inf kept), lengths where the file has
    them (MMSA unaligned), labels ``[N]`` (values not checked). Keys and shapes are checked."""
    if not isinstance(split, Mapping):
        raise DataError(f"{where}: expected a dict of arrays (got {type(split).__name__})")
    feats = _features(split, where, layout)
    y = _raw_labels(split, where, layout)
    lengths = _lengths(split, feats, where) if layout == "mmsa" else {}
    return feats, lengths, y


def _read_split(split: Any, where: str, layout: str) -> Split:
    feats, lengths, _ = split_arrays(split, where, layout)
    y = _labels(split, where, layout)  # sample counts are compared by validate_dataset
    return build_split(feats, y, lengths=lengths, where=where)


def load_mosei(path: str | Path, *, name: str = "mosei", aligned: bool = True) -> MultimodalDataset:
    """Load CMU-MOSEI or CMU-MOSI from a MulT or MMSA pickle.

    Args:
        path: the pickle file, or a folder holding it (see :func:`candidate_files`).
        name: ``"mosei"`` or ``"mosi"``; picks the file names looked for and names the dataset.
        aligned: in a folder, read the word-aligned file (else the unaligned one). When ``path``
            is a file, the file decides; a name that says otherwise is logged.

    Returns:
        A regression :class:`~mro_core.data.base.MultimodalDataset` with modalities T, A, V.

    Raises:
        DataError: unknown ``name``, no file, unsafe/truncated pickle, unknown layout, missing
            split or key, bad shapes, or labels outside [-3, 3].
    """
    if name not in NAMES:
        raise DataError(f"name must be one of {list(NAMES)} (got {name!r})")
    path = Path(path).expanduser()
    if path.is_dir():
        path = find_file(path, name, aligned)
    elif not path.exists():
        raise DataError(f"data path does not exist: {path}; give the {name} pickle or its folder")
    else:
        says_unaligned = "noalign" in path.name or path.name.startswith("unaligned")
        if says_unaligned == aligned:
            log.warning(
                "%s: the file name suggests %s data but aligned=%s; reading the file as given",
                path.name, "unaligned" if says_unaligned else "aligned", aligned,
            )
    data = load_pickle(path)
    if not isinstance(data, Mapping):
        raise DataError(
            f"{path.name}: expected a dict with 'train', 'valid', 'test' (MulT or MMSA layout), "
            f"got a {type(data).__name__}"
        )
    missing = [s for s in SPLITS if s not in data]
    if missing:
        raise DataError(
            f"{path.name}: missing split(s) {missing} (keys: {sorted(map(str, data))}); MulT and "
            "MMSA files hold 'train', 'valid' and 'test'"
        )
    if not isinstance(data["train"], Mapping):
        raise DataError(f"{path.name}: 'train' should be a dict (got {type(data['train']).__name__})")
    layout = detect_layout(data["train"], f"{path.name}:train")
    splits = {s: _read_split(data[s], f"{path.name}:{s}", layout) for s in SPLITS}
    try:
        ds = MultimodalDataset(
            name=name,
            modalities=MODALITIES,
            task="regression",
            splits=splits,
            meta={"file": str(path), "layout": layout},
        )
    except DataError as e:  # validate_dataset's messages name the dataset, not the file
        raise DataError(f"{path.name}: {e}") from None
    log.info("loaded %s (%s layout) from %s: %s", name, layout, path, ds.summary())
    return ds
