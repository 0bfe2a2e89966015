"""Pareto front of (validation metric, MFLOPs) and the final subnet picks.

A mask a dominates b when it is no worse on both objectives (metric in its direction, MFLOPs
lower) and strictly better on one. Picks (the paper's "top-k by prior and/or validation"):

* ``parsimonious`` (listed first; present when the best mask's standard error is given): the
  one-standard-error rule (Hastie et al., *Elements of Statistical Learning* 7.10; scikit-learn's
  "balance model complexity and cross-validated score" example): among the masks whose metric lies
  within one standard error of the best one (``<= best + se`` for a lower-is-better metric,
  ``>= best - se`` otherwise), the one with the fewest MFLOPs; ties: the better metric, then
  fewer paths, then the mask string. The standard error is the caller's (the search uses the
  per-sample metric of the ``best`` mask on validation, ``scipy.stats.sem``);
* ``best``: the best validation metric (ties: fewer MFLOPs);
* ``budget``: the best metric among masks with MFLOPs <= the budget (absent without a budget;
  an infeasible budget is reported, not silently widened);
* ``knee``: the front point farthest from the straight line between the front's two ends, with
  both objectives min-max normalised -- the usual "most bang per FLOP" point;
* ``prior``: the prior's own choice, the most likely mask under its sampling distribution
  (every path with inclusion probability > 1/2); the sum-of-p score would always name the full
  mask, since adding a path never lowers a sum.

Computation only; views turn :class:`ParetoInfo` into figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

PICKS = ("parsimonious", "best", "budget", "knee", "prior")
"""The picks in the order results, tables and the CLI list them (the parsimonious pick first)."""


@dataclass
class ParetoInfo:
    """Result of :func:`pareto_front`.

    Attributes:
        metric / higher_is_better: the objective besides MFLOPs.
        front: non-dominated feasible rows, sorted by MFLOPs ascending.
        dominated: feasible rows some other row dominates.
        infeasible: rows over the budget (empty without one).
    """

    metric: str
    higher_is_better: bool
    front: list[dict] = field(default_factory=list)
    dominated: list[dict] = field(default_factory=list)
    infeasible: list[dict] = field(default_factory=list)
    budget_mflops: float | None = None


def _key(row: Mapping, metric: str, hib: bool) -> float:
    v = row[metric]
    if v is None:
        raise ValueError(f"row {row.get('mask')} has no value for '{metric}'")
    return -float(v) if hib else float(v)  # lower is better after this


def _dominates(a: Mapping, b: Mapping, metric: str, hib: bool) -> bool:
    ka, kb = _key(a, metric, hib), _key(b, metric, hib)
    fa, fb = float(a["mflops"]), float(b["mflops"])
    return ka <= kb and fa <= fb and (ka < kb or fa < fb)


def pareto_front(
    rows: Sequence[Mapping], metric: str, higher_is_better: bool, *, budget_mflops: float | None = None
) -> ParetoInfo:
    """Split ``rows`` (each with ``mask``, ``mflops`` and ``metric``) into front / dominated / infeasible."""
    if not rows:
        raise ValueError("no evaluated masks to build a Pareto front from")
    if metric not in rows[0]:
        raise ValueError(f"unknown metric {metric!r}; rows have {sorted(k for k in rows[0] if k != 'mask')}")
    feasible = [dict(r) for r in rows if budget_mflops is None or float(r["mflops"]) <= budget_mflops]
    infeasible = [dict(r) for r in rows if budget_mflops is not None and float(r["mflops"]) > budget_mflops]
    # sort by MFLOPs then metric: a row is on the front iff its metric beats every cheaper row's
    order = sorted(feasible, key=lambda r: (float(r["mflops"]), _key(r, metric, higher_is_better)))
    front, dominated, best = [], [], float("inf")
    for r in order:
        k = _key(r, metric, higher_is_better)
        tie = bool(front) and k == best and float(r["mflops"]) == float(front[-1]["mflops"])
        if k < best or tie:  # exact ties on both objectives are all non-dominated
            front.append(r)
            best = k
        else:
            dominated.append(r)
    return ParetoInfo(metric, higher_is_better, front, dominated, infeasible, budget_mflops)


def knee_point(front: Sequence[Mapping], metric: str, higher_is_better: bool) -> dict:
    """Front point with the largest distance to the chord between the front's ends (normalised)."""
    if len(front) <= 2:
        return dict(min(front, key=lambda r: (_key(r, metric, higher_is_better), float(r["mflops"]))))
    xs = [float(r["mflops"]) for r in front]
    ys = [_key(r, metric, higher_is_better) for r in front]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    nx = [(x - x0) / ((x1 - x0) or 1.0) for x in xs]
    ny = [(y - y0) / ((y1 - y0) or 1.0) for y in ys]
    (ax, ay), (bx, by) = (nx[0], ny[0]), (nx[-1], ny[-1])
    dx, dy = bx - ax, by - ay
    norm = (dx * dx + dy * dy) ** 0.5 or 1.0
    dist = [abs(dy * (px - ax) - dx * (py - ay)) / norm for px, py in zip(nx, ny)]
    return dict(front[max(range(len(front)), key=dist.__getitem__)])


def one_se_pick(rows: Sequence[Mapping], metric: str, higher_is_better: bool, se: float) -> dict:
    """The one-standard-error pick (see the module docstring): the fewest-MFLOPs row whose metric
    is within ``se`` of the best row's; the row gains ``se``, ``threshold`` (the metric bound) and
    ``within_se`` (how many rows qualified).

    Raises:
        ValueError: no rows, or ``se`` negative or not finite.
    """
    if not rows:
        raise ValueError("no evaluated masks to pick from")
    se = float(se)
    if not se >= 0.0 or se == float("inf"):
        raise ValueError(f"'se' must be a finite number >= 0 (got {se})")
    best = min(_key(r, metric, higher_is_better) for r in rows)  # lower is better after _key
    # a tiny relative slack so that the best row itself always qualifies despite float round-off
    bound = best + se + 1e-12 * max(1.0, abs(best))
    within = [r for r in rows if _key(r, metric, higher_is_better) <= bound]
    pick = dict(min(within, key=lambda r: (float(r["mflops"]), _key(r, metric, higher_is_better),
                                           str(r["mask"]).count("1"), str(r["mask"]))))
    threshold = -(best + se) if higher_is_better else best + se
    pick.update({"se": se, "threshold": threshold, "within_se": len(within)})
    return pick


def select_picks(
    rows: Sequence[Mapping],
    metric: str,
    higher_is_better: bool,
    *,
    budget_mflops: float | None = None,
    prior_mask: str | None = None,
    best_se: float | None = None,
) -> dict[str, dict]:
    """The named picks (see the module docstring) as ``{name: row}``, ``parsimonious`` first when
    ``best_se`` (the standard error of the best mask's metric) is given; ``budget`` holds an
    ``error`` entry instead of a row when no mask fits the budget."""
    info = pareto_front(rows, metric, higher_is_better)
    rank = lambda r: (_key(r, metric, higher_is_better), float(r["mflops"]))  # noqa: E731
    picks: dict[str, dict] = {}
    if best_se is not None:
        picks["parsimonious"] = one_se_pick(rows, metric, higher_is_better, best_se)
    picks["best"] = dict(min(rows, key=rank))
    if budget_mflops is not None:
        fit = [r for r in rows if float(r["mflops"]) <= budget_mflops]
        if fit:
            picks["budget"] = dict(min(fit, key=rank))
        else:
            cheapest = min(float(r["mflops"]) for r in rows)
            picks["budget"] = {"error": f"no mask fits {budget_mflops:g} MFLOPs (cheapest: {cheapest:.3f})"}
    picks["knee"] = knee_point(info.front, metric, higher_is_better)
    if prior_mask is not None:
        match = [r for r in rows if r["mask"] == prior_mask]
        picks["prior"] = dict(match[0]) if match else {"error": f"prior mask {prior_mask} was not evaluated"}
    return picks
