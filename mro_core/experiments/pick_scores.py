"""How well a search's picks recover a planted routing, and summaries with intervals.

A search on planted data (the synthetic benchmark, its variants in
:mod:`mro_core.experiments.planted_sweep`) knows the planted path set S. For a pick with path set
M: ``exact`` (M == S) and the Jaccard index |M & S| / |M | S|. Over cells (topology x seed) the
summaries are a mean with a Student-t 95% interval (``scipy.stats.t``) for continuous figures and
the Wilson 95% interval (``scipy.stats.binomtest(...).proportion_ci``) for hit rates; paired
differences between two settings use the t interval of the per-cell differences.

Computation only; the CLI prints, the docs quote.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

SCORED_PICKS = ("parsimonious", "best", "prior", "knee")
"""The picks a planted-recovery table reports, in this order."""


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """|a & b| / |a | b| of two path-name sets (1.0 for two empty sets)."""
    a, b = set(a), set(b)
    return 1.0 if not a | b else len(a & b) / len(a | b)


def pick_paths(pick: Mapping, names: Sequence[str]) -> list[str] | None:
    """The pick's path names: its ``paths`` when present, else read from its bit string; None for
    a pick that holds an ``error`` instead of a mask."""
    if "paths" in pick and isinstance(pick["paths"], (list, tuple)):
        return list(pick["paths"])
    if "mask" not in pick:
        return None
    return [n for n, b in zip(names, str(pick["mask"])) if b == "1"]


def score_picks(picks: Mapping[str, Mapping], planted: Sequence[str], names: Sequence[str],
                metric: str) -> dict[str, dict]:
    """Per scored pick: ``exact``, ``jaccard``, ``paths`` (count), its valid and test ``metric``."""
    out = {}
    for name in SCORED_PICKS:
        p = picks.get(name) or {}
        paths = pick_paths(p, names)
        if paths is None:
            continue
        out[name] = {"exact": set(paths) == set(planted), "jaccard": jaccard(paths, planted), "paths": len(paths),
                     "valid": p.get(metric), "test": (p.get("test") or {}).get(metric), "mask": p.get("mask")}
    return out


def mean_ci(values: Sequence[float], level: float = 0.95) -> dict:
    """Mean and Student-t interval; ``n``; the interval is the mean itself for n = 1."""
    from scipy import stats

    xs = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    n = len(xs)
    if n == 0:
        return {"n": 0, "mean": None, "lo": None, "hi": None}
    m = sum(xs) / n
    if n == 1:
        return {"n": 1, "mean": m, "lo": m, "hi": m}
    se = stats.sem(xs)
    half = 0.0 if se == 0 else float(stats.t.ppf(0.5 + level / 2, n - 1) * se)
    return {"n": n, "mean": m, "lo": m - half, "hi": m + half}


def rate_ci(hits: Sequence[bool], level: float = 0.95) -> dict:
    """Hit rate with its Wilson interval (``scipy.stats.binomtest``)."""
    from scipy import stats

    n, k = len(hits), int(sum(bool(h) for h in hits))
    if n == 0:
        return {"n": 0, "k": 0, "rate": None, "lo": None, "hi": None}
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return {"n": n, "k": k, "rate": k / n, "lo": float(ci.low), "hi": float(ci.high)}


def fmt_ci(d: Mapping, digits: int = 3) -> str:
    """``0.812 [0.70, 0.92] (n=6)`` for :func:`mean_ci`, ``4/6 = 0.67 [0.30, 0.90]`` for :func:`rate_ci`."""
    if d.get("n", 0) == 0:
        return "-"
    if "rate" in d:
        return f"{d['k']}/{d['n']} = {d['rate']:.2f} [{d['lo']:.2f}, {d['hi']:.2f}]"
    return f"{d['mean']:.{digits}f} [{d['lo']:.{digits}f}, {d['hi']:.{digits}f}] (n={d['n']})"


__all__ = ["SCORED_PICKS", "fmt_ci", "jaccard", "mean_ci", "pick_paths", "rate_ci", "score_picks"]
