"""The planted-routing benchmark: a regression task only some cross-modal paths can solve.

Every modality carries the same two blocks of channels at every time step (K = ``num_keys``)::

    [ key one-hot (K) | value (1) | query one-hot (K) | zeros (extra_dims) ]

* As a **source**, a modality holds K key/value *slots*: each of the K keys appears exactly once
  at a random valid time step, next to a value drawn from U(-1, 1). Other valid steps are blank.
* As a **target**, a modality holds one *query key* q, repeated at every valid step.

For a planted path ``s->t`` the label uses the value that the source ``s`` stores under the
target's query key, ``v_s[q_t]``:

.. math::
    y = \\mathrm{clip}\\Big(\\frac{3}{\\sum w}\\sum_{(s,t)\\in\\text{planted}} w_{st}\\, v_s[q_t]
        + \\epsilon,\\; -3, 3\\Big), \\quad \\epsilon \\sim \\mathcal{N}(0, \\sigma^2)

with weights w = ``planted_weights`` (all 1 by default).

Only cross attention with ``t`` as query and ``s`` as keys/values can read ``v_s[q_t]``: the key
lives in one modality and the value's address in the other. The reversed path ``t->s`` retrieves
``v_t[q_s]``, an independent number, so it carries nothing about the label; so do all unplanted
paths, although their inputs look exactly alike. The structure is identical in every modality, so
nothing but the routing distinguishes planted from unplanted paths, and no distractor noise sits
in the features (noise there stopped a d = 64 CMT from learning the task at the demo budget).
The default plants the paper's Full-MRO mask ``011011`` (T->V, A->T, V->T, V->A).
"""

from __future__ import annotations

import numpy as np

from mro_core.config import SyntheticConfig
from mro_core.data.base import DataError, MultimodalDataset, Split, valid_from_lengths
from mro_core.paths import MaskError, PathSpace


def feature_dim(cfg: SyntheticConfig) -> int:
    """Channels per modality: key one-hot + value + query one-hot + zero padding."""
    return 2 * cfg.num_keys + 1 + cfg.extra_dims


def _split(cfg: SyntheticConfig, space: PathSpace, n: int, rng: np.random.Generator) -> Split:
    k, K, L = space.k, cfg.num_keys, cfg.seq_len
    D = feature_dim(cfg)
    feats, valid, retrieved = {}, {}, np.zeros((n, k, k), np.float32)  # retrieved[b, s, t] = v_s[q_t]
    queries = rng.integers(0, K, size=(n, k))  # (N, k): query key of each modality as target
    for mi, m in enumerate(space.modalities):
        lengths = rng.integers(cfg.min_len, L + 1, size=n)  # (N,)
        x = np.zeros((n, L, D), np.float32)
        values = rng.uniform(-1.0, 1.0, size=(n, K)).astype(np.float32)  # (N, K): v_m[key]
        for b in range(n):
            slots = rng.choice(lengths[b], size=K, replace=False)  # step that stores key j
            x[b, slots, np.arange(K)] = 1.0
            x[b, slots, K] = values[b]
            x[b, : lengths[b], K + 1 + queries[b, mi]] = 1.0
        for ti in range(k):
            retrieved[:, mi, ti] = values[np.arange(n), queries[:, ti]]
        feats[m] = x
        valid[m] = valid_from_lengths(lengths, L)
    planted = [space.paths[space.path_index(p)] for p in cfg.planted]
    w = cfg.planted_weights or (1.0,) * len(planted)
    signal = sum(wi * retrieved[:, p.src, p.tgt] for wi, p in zip(w, planted)) * (3.0 / sum(w))
    y = signal + rng.normal(0.0, cfg.noise, size=n).astype(np.float32)
    return Split(feats, valid, np.clip(y, -3.0, 3.0).astype(np.float32))


def make_synthetic(cfg: SyntheticConfig = SyntheticConfig()) -> MultimodalDataset:
    """Generate the benchmark; the same config (and seed) always gives the same arrays.

    Raises:
        DataError: when a planted path is unknown or the lengths cannot hold K slots.
    """
    try:
        space = PathSpace(cfg.modalities)
        planted = tuple(space.path_names[space.path_index(p)] for p in cfg.planted)
    except (MaskError, ValueError) as e:
        raise DataError(f"synthetic: {e}") from None
    if cfg.min_len < cfg.num_keys:
        raise DataError(
            f"synthetic: min_len ({cfg.min_len}) must be >= num_keys ({cfg.num_keys}) so every "
            "source holds each key once; raise --min-len or lower --num-keys"
        )
    rng = np.random.default_rng(cfg.seed)
    sizes = {"train": cfg.n_train, "valid": cfg.n_valid, "test": cfg.n_test}
    splits = {name: _split(cfg, space, n, rng) for name, n in sizes.items()}
    return MultimodalDataset(
        name="synthetic",
        modalities=space.modalities,
        task="regression",
        splits=splits,
        planted_paths=planted,
        meta={"generator": "planted-routing", "num_keys": cfg.num_keys, "seed": cfg.seed,
              "planted_weights": list(cfg.planted_weights)},
    )


def planted_mask(ds: MultimodalDataset) -> tuple[int, ...]:
    """The ground-truth mask of a dataset that carries ``planted_paths``."""
    if not ds.planted_paths:
        raise ValueError(f"dataset {ds.name!r} has no planted paths")
    return PathSpace(ds.modalities).parse(list(ds.planted_paths))
