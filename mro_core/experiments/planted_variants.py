"""Planted-routing data written independently of :mod:`mro_core.data.synthetic`, for the sweep.

Issue 18, item 6: defaults chosen on one generator must be judged on data that generator did not
make. This one keeps the idea (a label only some cross attention paths can compute) and changes
everything a search could over-fit to:

* **Keys are codes, not one-hot.** Modality m stores K key/value slots; key j is row j of a random
  orthogonal K x K matrix (drawn per file), its value v ~ U(-1, 1) sits in one channel. As a
  target, m holds one query code at every valid step.
* **Modalities differ:** feature dims D_m >= 2K + 1 (the rest are constant-zero channels, in a
  random channel order per modality) and sequence lengths L_m >= K, each its own.
* **Topologies of any shape:** a planted set of paths with hubs, sinks and modalities that feed
  nothing (:func:`draw_topology`), each path with its own weight w.
* **Label scale and noise vary:**

.. math::
    y = \\mathrm{clip}\\Big(\\frac{c}{\\sum w}\\sum_{(s,t)} w_{st}\\, v_s[q_t] + \\epsilon, -3, 3\\Big),
    \\quad \\epsilon \\sim \\mathcal{N}(0, \\sigma^2)

It writes MRO's generic ``.npz`` (with ``planted_paths``), so the sweep's data enters through the
same door as a user's file (``--dataset npz``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

KINDS = ("hub", "sink", "idle", "random")
"""Topology shapes drawn in turn: one source feeding >= 2 targets; one target fed by >= 2 sources; a
modality with no planted path in or out; any subset."""


@dataclass(frozen=True)
class Variant:
    """One planted data set.

    Attributes:
        modalities: names, k = len(modalities).
        planted: planted paths ``src->tgt``; weights: one weight > 0 per planted path.
        slots: K, key/value slots per source.
        dims: feature dim per modality (each >= 2K + 1); lengths: max steps per modality (>= K).
        noise: sigma of the label noise; scale: c, the label's scale before clipping to [-3, 3].
        n_train / n_valid / n_test: split sizes; seed: the file's seed.
        kind: the topology's shape (see ``KINDS``), for the report.
    """

    modalities: tuple[str, ...]
    planted: tuple[str, ...]
    weights: tuple[float, ...]
    slots: int
    dims: tuple[int, ...]
    lengths: tuple[int, ...]
    noise: float
    scale: float
    n_train: int
    n_valid: int
    n_test: int
    seed: int
    kind: str = "random"

    def __post_init__(self) -> None:
        k = len(self.modalities)
        if len(self.weights) != len(self.planted) or not self.planted:
            raise ValueError("a variant needs one weight per planted path and at least one path")
        if len(self.dims) != k or len(self.lengths) != k:
            raise ValueError(f"a variant needs one dim and one length per modality ({k})")
        if min(self.dims) < 2 * self.slots + 1 or min(self.lengths) < self.slots:
            raise ValueError(f"dims must be >= 2K + 1 = {2 * self.slots + 1} and lengths >= K = {self.slots}")

    def to_dict(self) -> dict:
        return asdict(self)


def draw_topology(k: int, kind: str, rng: np.random.Generator) -> list[tuple[int, int]]:
    """A planted set of (source, target) index pairs of shape ``kind``, 2 to min(2k, k(k-1)) paths."""
    pairs = [(s, t) for s in range(k) for t in range(k) if s != t]
    size = int(rng.integers(2, min(2 * k, len(pairs)) + 1))
    if kind == "hub":  # one source feeds d >= 2 targets, plus a few other paths
        h = int(rng.integers(k))
        d = int(rng.integers(2, k))
        core = [(h, int(t)) for t in rng.choice([t for t in range(k) if t != h], d, replace=False)]
    elif kind == "sink":  # one target is fed by d >= 2 sources
        t0 = int(rng.integers(k))
        d = int(rng.integers(2, k))
        core = [(int(s), t0) for s in rng.choice([s for s in range(k) if s != t0], d, replace=False)]
    elif kind == "idle":  # one modality takes part in no planted path
        idle = int(rng.integers(k))
        pairs = [p for p in pairs if idle not in p]
        core = []
    elif kind == "random":
        core = []
    else:
        raise ValueError(f"unknown topology kind {kind!r}; choose from {list(KINDS)}")
    rest = [p for p in pairs if p not in core]
    extra = max(0, min(size, len(core) + len(rest)) - len(core))
    chosen = core + [rest[i] for i in rng.choice(len(rest), extra, replace=False)]
    return sorted(set(chosen))


def draw_variant(k: int, kind: str, seed: int, *, n_train: int = 1500, n_valid: int = 400,
                 n_test: int = 400) -> Variant:
    """A variant with a ``kind`` topology and randomly drawn slots, dims, lengths, noise, scale and
    weights (all from ``seed``)."""
    rng = np.random.default_rng(seed)
    mods = tuple(f"m{i}" for i in range(k))
    edges = draw_topology(k, kind, rng)
    slots = int(rng.choice([3, 4, 5]))
    return Variant(
        modalities=mods, planted=tuple(f"{mods[s]}->{mods[t]}" for s, t in edges),
        weights=tuple(float(rng.choice([1.0, 0.7, 0.4])) for _ in edges), slots=slots,
        dims=tuple(int(2 * slots + 1 + rng.integers(0, 12)) for _ in mods),
        lengths=tuple(int(slots + rng.integers(0, 5)) for _ in mods),
        noise=float(rng.choice([0.02, 0.05, 0.1])), scale=float(rng.choice([1.5, 2.0, 3.0])),
        n_train=n_train, n_valid=n_valid, n_test=n_test, seed=seed, kind=kind)


def _split(v: Variant, n: int, codes: np.ndarray, perms: list[np.ndarray], rng: np.random.Generator) -> dict:
    k, K = len(v.modalities), v.slots
    values = rng.uniform(-1.0, 1.0, size=(n, k, K)).astype(np.float32)  # (N, k, K): v_m[key]
    queries = rng.integers(0, K, size=(n, k))  # (N, k): each modality's query key as target
    out: dict[str, np.ndarray] = {}
    for mi, m in enumerate(v.modalities):
        L, D = v.lengths[mi], v.dims[mi]
        lengths = rng.integers(K, L + 1, size=n)  # every sample holds all K slots
        x = np.zeros((n, L, D), np.float32)
        for b in range(n):
            steps = rng.choice(lengths[b], size=K, replace=False)  # step that stores key j
            x[b, steps, :K] = codes
            x[b, steps, K] = values[b, mi]
            x[b, : lengths[b], K + 1: 2 * K + 1] = codes[queries[b, mi]]
        out[m] = x[:, :, perms[mi]]  # channels in this modality's own order
        out[f"{m}_len"] = lengths.astype(np.int64)
    idx = {m: i for i, m in enumerate(v.modalities)}
    y = np.zeros(n, np.float64)
    for p, w in zip(v.planted, v.weights):
        s, t = (idx[x] for x in p.split("->"))
        y += w * values[np.arange(n), s, queries[:, t]]
    y = v.scale * y / sum(v.weights) + rng.normal(0.0, v.noise, size=n)
    out["label"] = np.clip(y, -3.0, 3.0).astype(np.float32)
    return out


def write_variant(v: Variant, path: str | Path) -> Path:
    """Write ``v`` as MRO's generic ``.npz`` (regression, with ``planted_paths``); atomic."""
    from mro_core.atomic import atomic_write

    rng = np.random.default_rng(v.seed + 10_000)
    codes = np.linalg.qr(rng.normal(size=(v.slots, v.slots)))[0].astype(np.float32)  # (K, K) orthogonal
    perms = [rng.permutation(d) for d in v.dims]
    arrays: dict[str, np.ndarray] = {"modalities": np.array(v.modalities), "task": np.array("regression"),
                                     "planted_paths": np.array(v.planted)}
    for split, n in (("train", v.n_train), ("valid", v.n_valid), ("test", v.n_test)):
        for key, a in _split(v, n, codes, perms, rng).items():
            arrays[f"{split}_{key}"] = a
    return atomic_write(Path(path), lambda f: np.savez_compressed(f, **arrays))
