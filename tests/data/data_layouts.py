"""Small files in every data layout MRO reads, written for tests (no real data needed).

Each builder writes one file under a folder and returns a :class:`Layout` that says how to load
it. The real-step spans are drawn at random, so padding sides, lengths and modality lengths vary
between samples, which is what batch-invariance and inspection tests need.

Layouts: MulT aligned / noalign (LEFT zero padding, labels ``[N, 1, 1]``), MMSA aligned (right
padding, no lengths) / unaligned (right padding with ``audio_lengths`` / ``vision_lengths``), MELD
MMGCN 10-tuple and DialogueRNN 9-tuple, ``.npz`` with and without lengths, and synthetic.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from mro_core.config import SyntheticConfig

SIZES = {"train": 6, "valid": 4, "test": 5}
MODS = ("T", "A", "V", "X", "Y")


@dataclass
class Layout:
    """How to load a written fixture: ``load_dataset(name, path, **kwargs)``."""

    key: str
    name: str
    path: Path | None
    kwargs: dict[str, Any] = field(default_factory=dict)

    def load(self):
        from mro_core.data import load_dataset

        return load_dataset(self.name, self.path, **self.kwargs)


def padded(rng: np.random.Generator, n: int, L: int, D: int, lengths, side: str) -> np.ndarray:
    """``[n, L, D]`` with non-zero rows on each sample's real steps and zero rows elsewhere."""
    x = np.zeros((n, L, D), np.float32)
    for i, ln in enumerate(lengths):
        rows = rng.uniform(0.5, 1.5, (ln, D)) * rng.choice([-1.0, 1.0], (ln, D))
        if side == "left":
            x[i, L - ln:] = rows
        else:
            x[i, :ln] = rows
    return x


def _dump(path: Path, obj: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f)
    return path


def mult(folder: Path, *, aligned: bool = True, seq=(6, 9, 7), dims=(6, 4, 3), sizes=SIZES,
         seed: int = 0, name: str = "mosei") -> Layout:
    """MulT's ``mosei_senti_data[_noalign].pkl``: left zero padding, ``-inf`` in audio."""
    rng = np.random.default_rng(seed)
    seq = (seq[0],) * 3 if aligned else seq
    data = {}
    for s, n in sizes.items():
        split = {}
        for key, L, D in zip(("text", "audio", "vision"), seq, dims):
            split[key] = padded(rng, n, L, D, rng.integers(1, L + 1, n), "left")
        split["audio"][0, -1, 0] = -np.inf  # a real step: MOSEI audio holds -inf
        split["labels"] = rng.uniform(-3, 3, (n, 1, 1)).astype(np.float32)
        split["id"] = np.array([[f"v{i}".encode(), b"0", b"1"] for i in range(n)])
        data[s] = split
    stem = "mosei_senti" if name == "mosei" else "mosi"
    fname = f"{stem}_data.pkl" if aligned else f"{stem}_data_noalign.pkl"
    return Layout(f"mult_{'aligned' if aligned else 'noalign'}", name, _dump(folder / fname, data),
                  {"aligned": aligned})


def mmsa(folder: Path, *, aligned: bool = True, seq=(6, 9, 7), dims=(8, 4, 3), sizes=SIZES,
         seed: int = 0, name: str = "mosei") -> Layout:
    """MMSA's ``aligned_50.pkl`` / ``unaligned_50.pkl``: right padding, lengths when unaligned."""
    rng = np.random.default_rng(seed)
    seq = (seq[0],) * 3 if aligned else seq
    data = {}
    for s, n in sizes.items():
        split, lens = {}, {}
        for key, L, D in zip(("text", "audio", "vision"), seq, dims):
            lens[key] = rng.integers(1, L + 1, n)
            split[key] = padded(rng, n, L, D, lens[key], "right")
        if not aligned:
            # a real all-zero step inside the span: only the lengths can tell it is real
            split["audio"][0, 0] = 0.0
            split["audio_lengths"] = lens["audio"].tolist()
            split["vision_lengths"] = lens["vision"]
        ids = rng.integers(1000, 2000, (n, seq[0]))
        m = (np.arange(seq[0])[None] < lens["text"][:, None]).astype(np.int64)
        split["text_bert"] = np.stack([ids * m, m, np.zeros_like(ids)], axis=1)
        split["regression_labels"] = rng.uniform(-3, 3, n).astype(np.float32)
        split["id"] = np.array([f"v$_${i}" for i in range(n)], dtype=object)
        split["raw_text"] = np.array(["words"] * n, dtype=object)
        data[s] = split
    fname = "aligned_50.pkl" if aligned else "unaligned_50.pkl"
    return Layout(f"mmsa_{'aligned' if aligned else 'unaligned'}", name, _dump(folder / fname, data),
                  {"aligned": aligned})


MELD_DIMS = {"T": 6, "A": 4, "V": 3}


def meld(folder: Path, *, layout: str = "mmgcn", seed: int = 0, n_train: int = 8, n_test: int = 3,
         window: int = 3) -> Layout:
    """MMGCN's 10-tuple ``MELD_features_raw1.pkl`` or DialogueRNN's 9-tuple ``MELD_features_raw.pkl``."""
    rng = np.random.default_rng(seed)
    dialogues = {v: int(rng.integers(1, 6)) for v in range(n_train + n_test)}
    train, test = list(range(n_train)), set(range(n_train, n_train + n_test))
    feats = lambda D: {v: rng.uniform(-1, 1, (n, D)).astype(np.float32) for v, n in dialogues.items()}  # noqa: E731
    ids = {v: [f"d{v}u{u}" for u in range(n)] for v, n in dialogues.items()}
    speakers = {v: [[1, 0]] * n for v, n in dialogues.items()}
    labels = {v: [int((v + u) % 7) for u in range(n)] for v, n in dialogues.items()}
    sentence = {v: ["hi"] * n for v, n in dialogues.items()}
    text, audio = feats(MELD_DIMS["T"]), feats(MELD_DIMS["A"])
    if layout == "mmgcn":
        tup = (ids, speakers, labels, text, audio, feats(MELD_DIMS["V"]), sentence, train, test, None)
        fname = "MELD_features_raw1.pkl"
    else:
        senti = {v: [int((3 * v + u) % 3) for u in range(n)] for v, n in dialogues.items()}
        tup = (ids, speakers, labels, text, audio, sentence, train, test, senti)
        fname = "MELD_features_raw.pkl"
    return Layout(f"meld_{layout}", "meld", _dump(folder / fname, tup), {"window": window})


def npz(folder: Path, *, k: int = 3, lengths: bool = True, task: str = "regression", seq=None,
        dims=None, sizes=SIZES, seed: int = 0, planted: tuple[str, ...] | None = None) -> Layout:
    """The generic ``.npz``: right padding with ``_len`` keys, or (without) left AND right zero
    padding mixed, so only the all-zero rows say which steps are real."""
    rng = np.random.default_rng(seed)
    mods = MODS[:k]
    seq = seq or tuple(5 + 2 * i for i in range(k))
    dims = dims or tuple(3 + i for i in range(k))
    z: dict[str, np.ndarray] = {"modalities": np.array(mods), "task": np.array(task)}
    if task == "classification":
        z["num_classes"] = np.array(4)
    if planted:
        z["planted_paths"] = np.array(planted)
    for s, n in sizes.items():
        for m, L, D in zip(mods, seq, dims):
            ln = rng.integers(1, L + 1, n)
            if lengths:
                z[f"{s}_{m}"] = padded(rng, n, L, D, ln, "right")
                z[f"{s}_{m}_len"] = ln
            else:
                x = np.zeros((n, L, D), np.float32)
                for i in range(n):  # a real span anywhere: left, right or middle padding
                    start = int(rng.integers(0, L - ln[i] + 1))
                    x[i, start:start + ln[i]] = padded(rng, 1, ln[i], D, [ln[i]], "right")[0]
                z[f"{s}_{m}"] = x
        z[f"{s}_label"] = (rng.uniform(-3, 3, n).astype(np.float32) if task == "regression"
                           else rng.integers(0, 4, n))
    path = folder / f"k{k}_{'len' if lengths else 'nolen'}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **z)
    return Layout(f"npz_{'lengths' if lengths else 'nolengths'}_k{k}", "npz", path)


def synthetic(k: int = 3, **kw) -> Layout:
    """The planted benchmark (right padding), tiny."""
    mods = MODS[:k]
    cfg = SyntheticConfig(modalities=mods, planted=(f"{mods[1]}->{mods[0]}",), num_keys=2, seq_len=6,
                          min_len=2, n_train=8, n_valid=6, n_test=6, seed=kw.pop("seed", 0), **kw)
    return Layout(f"synthetic_k{k}", "synthetic", None, {"synthetic": cfg})


BUILDERS: dict[str, Callable[[Path], Layout]] = {
    "mult_aligned": lambda d: mult(d, aligned=True),
    "mult_noalign": lambda d: mult(d, aligned=False),
    "mmsa_aligned": lambda d: mmsa(d, aligned=True),
    "mmsa_unaligned": lambda d: mmsa(d, aligned=False),
    "meld_mmgcn": lambda d: meld(d, layout="mmgcn"),
    "meld_dialoguernn": lambda d: meld(d, layout="dialoguernn"),
    "npz_lengths": lambda d: npz(d, lengths=True),
    "npz_nolengths": lambda d: npz(d, lengths=False),
    "synthetic": lambda d: synthetic(3),
}
"""Every layout at its own k (MOSEI/MOSI and MMGCN 3, DialogueRNN 2, npz/synthetic 3)."""
