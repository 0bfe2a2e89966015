"""MELD (emotion recognition in conversation) from the community's feature pickles (DESIGN 8).

Both files are tuples of dicts keyed by dialogue id, one entry per utterance in dialogue order;
the layout is told apart by the tuple's length and contents:

**MMGCN** ``MELD_features_raw1.pkl`` (``hujingwen6666/MMGCN``, ``dataloader.py`` ``MELDDataset``
and ``train.py``): a 10-tuple ``(videoIDs, videoSpeakers, videoLabels, videoText, videoAudio,
videoVisual, videoSentence, trainVid, testVid, _)``; per utterance text 600, audio 300 and visual
342 (DenseNet face) features (``feat2dim`` in ``train.py``). The last element is unused by MMGCN
and here. Modalities ``("T", "A", "V")``.

**DialogueRNN** ``MELD_features_raw.pkl`` (``declare-lab/conv-emotion``, ``DialogueRNN/
dataloader.py`` and ``DialogueGCN/dataloader.py`` ``MELDDataset``): a 9-tuple ``(videoIDs,
videoSpeakers, videoLabelsEmotion, videoText, videoAudio, videoSentence, trainVid, testVid,
videoLabelsSentiment)``; text 600 (``D_m`` in ``DialogueRNN/train_MELD.py``). It has **no visual
features**, so the dataset has modalities ``("T", "A")`` only (k = 2, two paths), and it carries
sentiment labels, exposed as ``Split.extra["sentiment"]``.

Labels: emotion ids neutral 0, surprise 1, fear 2, sadness 3, joy 4, disgust 5, anger 6 (the
mapping comment in ``DialogueGCN/dataloader.py``). Sentiment ids neutral 0, positive 1, negative 2
(DESIGN 8; upstream conv-emotion states no mapping for this file, the same order appears only as a
comment in a third-party fork of its MELD loader), mapped to a regression target 0, +1, -1.
Feature dims are read from the arrays, never hard-coded.

Both files split dialogues into ``trainVid`` and ``testVid`` only (MMGCN's file: 1152 and 280
dialogues, i.e. MELD's train and dev dialogues together vs test, as a third-party note reports);
MMGCN's ``train.py`` carves validation from train by index (the first 10% of train dialogues).
Here a seeded random ``valid_fraction`` of the train *dialogues* becomes ``valid``, so no
dialogue straddles the two splits. The draw has its own seed (``split_seed``, CLI
``--split-seed``, default :data:`DEFAULT_SPLIT_SEED` = 0), independent of the training seed: runs
with different training seeds are scored on the same validation dialogues.

A sample is one utterance. Its modality sequence is its dialogue context window: the utterance and
up to ``window - 1`` previous utterances of the same dialogue, oldest first, as ``[window, D]``
right-padded with zeros. The valid mask comes from the true count, so the current utterance is the
last valid step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Hashable, Iterable, Mapping, Sequence

import numpy as np

from mro_core.data.base import DataError, MultimodalDataset, Split, build_split
from mro_core.data.safe_pickle import load_pickle

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_SPLIT_SEED", "EMOTIONS", "FILES", "SENTIMENTS", "find_file", "load_meld", "meld_from_tuple"]

DEFAULT_SPLIT_SEED = 0
"""Seed of the validation-dialogue draw unless ``--split-seed`` says otherwise (fixed, not the
training seed; 0 keeps the split that default-seed runs have always used)."""

EMOTIONS = ("neutral", "surprise", "fear", "sadness", "joy", "disgust", "anger")
SENTIMENTS = ("neutral", "positive", "negative")
# Sentiment class id -> regression target: neutral 0 -> 0, positive 1 -> +1, negative 2 -> -1.
_SENTIMENT_TARGET = np.array([0.0, 1.0, -1.0], dtype=np.float32)
# Looked for in a folder, in order: MMGCN's three-modality file, then DialogueRNN's.
FILES = ("MELD_features_raw1.pkl", "MELD_features_raw.pkl")


@dataclass(frozen=True)
class _Layout:
    """Positions of the per-dialogue dicts in one tuple layout."""

    name: str
    length: int
    features: dict[str, int]  # modality -> tuple position, in path order
    emotion: int
    train: int
    test: int
    sentiment: int | None


_MMGCN = _Layout("mmgcn", 10, {"T": 3, "A": 4, "V": 5}, emotion=2, train=7, test=8, sentiment=None)
_DIALOGUERNN = _Layout("dialoguernn", 9, {"T": 3, "A": 4}, emotion=2, train=6, test=7, sentiment=8)
_LAYOUTS = {lay.length: lay for lay in (_MMGCN, _DIALOGUERNN)}


def find_file(folder: Path) -> Path:
    """The MELD feature pickle in ``folder`` (MMGCN's preferred); :class:`DataError` if none."""
    for d in (folder, folder / "MELD_features"):
        for n in FILES:
            if (d / n).is_file():
                return d / n
    raise DataError(
        f"no MELD feature file in {folder}: looked for {', '.join(FILES)} there and in "
        "MELD_features/; give the file itself or its folder"
    )


def _detect_layout(data: Any, fname: str) -> _Layout:
    if not isinstance(data, (tuple, list)) or len(data) not in _LAYOUTS:
        what = f"a {type(data).__name__}"
        if isinstance(data, (tuple, list)):
            what += f" of length {len(data)}"
        raise DataError(
            f"{fname}: expected the 10-tuple of MMGCN's MELD_features_raw1.pkl or the 9-tuple of "
            f"DialogueRNN's MELD_features_raw.pkl, got {what}"
        )
    lay = _LAYOUTS[len(data)]
    dict_slots = [lay.emotion, *lay.features.values()]
    if lay.sentiment is not None:
        dict_slots.append(lay.sentiment)
    for i in dict_slots:
        if not isinstance(data[i], Mapping):
            raise DataError(
                f"{fname}: element {i} of the {lay.length}-tuple should be a dict by dialogue id "
                f"({lay.name} layout) but is a {type(data[i]).__name__}; is this a MELD feature file?"
            )
    for i in (lay.train, lay.test):
        if isinstance(data[i], (str, bytes)) or not isinstance(data[i], Iterable):
            raise DataError(
                f"{fname}: element {i} should be a collection of dialogue ids ({lay.name} layout), "
                f"got a {type(data[i]).__name__}"
            )
    return lay


def _id_key(k: Hashable) -> tuple[int, Any]:
    """Sort dialogue ids numerically when they are numbers, else as text (sets have no order)."""
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
        return (0, int(k))
    return (1, str(k))


def _utterance_features(x: Any, n_utt: int, where: str) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=np.float32)
    except (ValueError, TypeError) as e:
        why = " ".join(str(e).split())
        raise DataError(f"{where}: not a numeric [utterances, D] array ({why})") from None
    if a.ndim != 2 or a.shape[0] != n_utt:
        raise DataError(f"{where}: expected [{n_utt} utterances, D] features (got shape {a.shape})")
    return a


def _clean(x: np.ndarray) -> tuple[np.ndarray, int, int]:
    """NaN/inf -> 0 before windowing, so each bad value is counted once, not once per window.

    Returns the cleaned array and its NaN and inf counts.
    """
    nan = np.isnan(x)
    inf = np.isinf(x)
    n_nan, n_inf = int(nan.sum()), int(inf.sum())
    if n_nan or n_inf:
        x = np.where(nan | inf, np.float32(0), x)
    return x, n_nan, n_inf


def _class_ids(x: Any, num: int, what: str, where: str) -> np.ndarray:
    a = np.asarray(x).reshape(-1)
    if a.size and (not np.issubdtype(a.dtype, np.number) or np.any(a != np.round(a))):
        raise DataError(f"{where}: {what} labels must be integer ids (got dtype {a.dtype})")
    a = a.astype(np.int64)
    if a.size and (a.min() < 0 or a.max() >= num):
        raise DataError(
            f"{where}: {what} ids span [{a.min()}, {a.max()}] but must lie in [0, {num - 1}]"
        )
    return a


def _window_counts(n: int, window: int) -> np.ndarray:
    """Valid steps per utterance t of an n-utterance dialogue: ``min(t + 1, window)``."""
    return np.minimum(np.arange(n) + 1, window)


def _context_windows(x: np.ndarray, window: int) -> np.ndarray:
    """Per utterance t of one dialogue, the rows ``x[t - c + 1 .. t]`` right-padded to ``window``.

    Args:
        x: ``[n, D]`` features of a dialogue's utterances in order.

    Returns:
        ``[n, window, D]`` float32; ``c = min(t + 1, window)`` rows are real, the rest zero.
    """
    n = x.shape[0]
    t = np.arange(n)
    count = _window_counts(n, window)  # (n,)
    pos = np.arange(window)[None, :]  # (1, W)
    src = t[:, None] - count[:, None] + 1 + pos  # (n, W): the utterance at each window step
    keep = pos < count[:, None]  # (n, W)
    out = x[np.clip(src, 0, n - 1)] * keep[:, :, None]  # (n, W, D)
    return out.astype(np.float32, copy=False)


def _build_split(data: Sequence[Any], lay: _Layout, ids: Sequence[Hashable], window: int,
                 where: str) -> tuple[Split, dict[str, dict[str, int]]]:
    """One split and, per modality, the NaN and inf counts found (and zeroed) in the file."""
    feats: dict[str, list[np.ndarray]] = {m: [] for m in lay.features}
    lengths, emotions, sentiments = [], [], []
    n_bad = {m: {"nan": 0, "inf": 0} for m in lay.features}
    for vid in ids:
        if vid not in data[lay.emotion]:
            raise DataError(f"{where}: dialogue {vid!r} is listed in a split but has no labels")
        emo = _class_ids(data[lay.emotion][vid], len(EMOTIONS), "emotion", f"{where}[{vid!r}]")
        n = emo.shape[0]
        if n == 0:
            continue
        emotions.append(emo)
        for m, slot in lay.features.items():
            if vid not in data[slot]:
                raise DataError(f"{where}: dialogue {vid!r} has no {m} features (element {slot})")
            x, n_nan, n_inf = _clean(_utterance_features(data[slot][vid], n, f"{where}[{vid!r}]/{m}"))
            n_bad[m]["nan"] += n_nan
            n_bad[m]["inf"] += n_inf
            feats[m].append(_context_windows(x, window))
        lengths.append(_window_counts(n, window))
        if lay.sentiment is not None:
            if vid not in data[lay.sentiment]:
                raise DataError(f"{where}: dialogue {vid!r} has no sentiment labels")
            sen = _class_ids(
                data[lay.sentiment][vid], len(SENTIMENTS), "sentiment", f"{where}[{vid!r}]"
            )
            if sen.shape[0] != n:
                raise DataError(
                    f"{where}[{vid!r}]: {sen.shape[0]} sentiment labels for {n} utterances"
                )
            sentiments.append(_SENTIMENT_TARGET[sen])
    if not emotions:
        raise DataError(f"{where}: no utterances")
    for m, bad in n_bad.items():
        if bad["nan"] + bad["inf"]:
            log.warning("%s/%s: replaced %d NaN/inf feature values with 0", where, m, bad["nan"] + bad["inf"])
    for m, windows in feats.items():
        dims = sorted({w.shape[2] for w in windows})
        if len(dims) > 1:
            raise DataError(f"{where}: modality {m} has feature dims {dims} in different dialogues")
    ln = np.concatenate(lengths)
    feat_arrays = {m: np.concatenate(v) for m, v in feats.items()}
    extra = {"sentiment": np.concatenate(sentiments)} if lay.sentiment is not None else None
    split = build_split(
        feat_arrays,
        np.concatenate(emotions),
        lengths={m: ln for m in feat_arrays},
        extra=extra,
        where=where,
    )
    return split, n_bad


def load_meld(path: str | Path, *, window: int = 5, valid_fraction: float = 0.1,
              split_seed: int = DEFAULT_SPLIT_SEED, seed: int | None = None) -> MultimodalDataset:
    """Load MELD as utterance-level emotion classification with dialogue context windows.

    Args:
        path: ``MELD_features_raw1.pkl`` (MMGCN, T/A/V), ``MELD_features_raw.pkl`` (DialogueRNN,
            T/A with sentiment), or a folder holding one (MMGCN's is preferred).
        window: utterances per sample: the current one and up to ``window - 1`` before it.
        valid_fraction: share of the train dialogues moved to ``valid`` (at least one).
        split_seed: seeds the choice of validation dialogues (not the training seed).
        seed: older name of ``split_seed``; when given it wins (kept for callers that pass it).

    Returns:
        A 7-class classification :class:`~mro_core.data.base.MultimodalDataset`.

    Raises:
        ValueError: ``window`` < 1 or ``valid_fraction`` outside (0, 1).
        DataError: missing file, unsafe/truncated pickle, unknown layout, missing dialogues,
            bad shapes or label ids.
    """
    if int(window) != window or window < 1:
        raise ValueError(f"window must be an integer >= 1 (got {window!r})")
    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(f"valid_fraction must lie in (0, 1) (got {valid_fraction!r})")
    window = int(window)
    if seed is not None:
        split_seed = seed
    path = Path(path).expanduser()
    if path.is_dir():
        path = find_file(path)
    elif not path.exists():
        raise DataError(f"data path does not exist: {path}; give a MELD feature pickle or its folder")
    return meld_from_tuple(load_pickle(path), path, window=window, valid_fraction=valid_fraction,
                           split_seed=split_seed)


def meld_from_tuple(data: Any, path: Path, *, window: int = 5, valid_fraction: float = 0.1,
                    split_seed: int = DEFAULT_SPLIT_SEED) -> MultimodalDataset:
    """:func:`load_meld` on an already unpickled tuple (``path`` names it in messages and meta)."""
    lay = _detect_layout(data, path.name)
    train_ids = sorted(set(data[lay.train]), key=_id_key)
    test_ids = sorted(set(data[lay.test]), key=_id_key)
    overlap = set(train_ids) & set(test_ids)
    if overlap:
        raise DataError(
            f"{path.name}: {len(overlap)} dialogue(s) are in both trainVid and testVid "
            f"(e.g. {sorted(overlap, key=_id_key)[:3]}); the file is inconsistent"
        )
    if len(train_ids) < 2:
        raise DataError(
            f"{path.name}: {len(train_ids)} train dialogue(s); need 2 or more to carve a valid split"
        )
    n_valid = min(max(1, int(round(valid_fraction * len(train_ids)))), len(train_ids) - 1)
    chosen = np.zeros(len(train_ids), dtype=bool)
    chosen[np.random.default_rng(split_seed).permutation(len(train_ids))[:n_valid]] = True
    split_ids = {
        "train": [v for v, c in zip(train_ids, chosen) if not c],
        "valid": [v for v, c in zip(train_ids, chosen) if c],
        "test": test_ids,
    }
    built = {
        s: _build_split(data, lay, ids, window, f"{path.name}:{s}") for s, ids in split_ids.items()
    }
    splits = {s: b[0] for s, b in built.items()}
    try:
        ds = MultimodalDataset(
            name="meld",
            modalities=tuple(lay.features),
            task="classification",
            splits=splits,
            num_classes=len(EMOTIONS),
            class_names=EMOTIONS,
            meta={
                "file": str(path),
                "layout": lay.name,
                "window": window,
                "valid_fraction": valid_fraction,
                "split_seed": split_seed,
                "nonfinite": {s: b[1] for s, b in built.items()},
                "valid_dialogues": [
                    v.item() if isinstance(v, np.generic) else v for v in split_ids["valid"]
                ],
            },
        )
    except DataError as e:  # validate_dataset's messages name the dataset, not the file
        raise DataError(f"{path.name}: {e}") from None
    log.info("loaded MELD (%s layout) from %s: %s", lay.name, path, ds.summary())
    return ds
