"""The Learn page's guided tour, as data and pure functions over a checkpoint's per-mask table.

Every step answers from the cached table (no model run), so each control responds at once. The
optional last step compares the supernet's estimate of each mask with the same mask trained on its
own, from a stand-alone ground-truth CSV (``results/ground_truth_k3.csv``: one row per mask and
seed with ``mask, seed, valid_mae, test_mae, ...``) when the repository has one.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from mro_core.paths import PathSpace

from app.services.metrics_view import finite_or_none

GROUND_TRUTH_NAME = "ground_truth_k3.csv"
DEFAULT_TOLERANCE = 0.05

GLOSSARY = {
    "path": "one modality reading another through cross-attention: in A->T, text (T) asks and audio (A) answers.",
    "mask": "which paths are switched on, one bit per path (1 = on), e.g. 011011.",
    "MAE": "mean absolute error: how far predictions are from the true score on average; lower is better.",
    "MFLOPs": "millions of arithmetic operations to process one sample: the cost of a subnet.",
    "supernet": "one network trained with all paths, switched on and off at random, so every mask can be "
                "scored with the same shared weights instead of training each one.",
    "Pareto front": "the masks that no other mask beats on both cost and error at once.",
    "prior": "the search's learned preference for each path, used to decide which masks to train more.",
}
"""One-line explanations of every term the tour uses."""


@dataclass(frozen=True)
class Step:
    """One tour step: its title, what to do and look at, and the terms it uses (explained beside it)."""

    title: str
    text: str
    terms: tuple[str, ...] = ()


STEPS = (
    Step("What a path is", "Each arrow is a path: the target modality reads the source through cross-attention. "
         "Pick a path to see it alone, and what the model scores with nothing else switched on.",
         ("path", "mask", "MAE")),
    Step("Turn off every path into T", "Switch off both paths into T (A->T and V->T): T then reads nobody. In "
         "the demo's data the label depends on both of them, so watch the error grow while the cost falls.",
         ("MAE", "MFLOPs")),
    Step("The cheapest mask that is nearly as good", "Allow the error to grow by a tolerance over the full "
         "mask's MAE; the tour finds the cheapest mask that stays within it.", ("MAE", "MFLOPs", "supernet")),
    Step("Read the Pareto front", "Move the budget: the star is the best mask you can afford.",
         ("Pareto front", "MFLOPs")),
    Step("Guess first: which paths matter?", "Pick the paths you think the label depends on, then reveal the "
         "answer: the paths planted in the synthetic data, and what switching each one off alone does to the "
         "error.", ("path", "MAE")),
    Step("What the prior learned", "During the search the prior learns how much to favour each path. Replay "
         "the epochs and compare its favourites with the planted paths (marked \u2605 whatever their p).", ("prior",)),
)
GROUND_TRUTH_STEP = Step(
    "Can we trust the supernet?", "The supernet scores every mask with shared weights. Here each mask was also "
    "trained on its own: pick a mask to compare the two.", ("supernet", "MAE"))


def into(space: PathSpace, target: str) -> list[int]:
    """Indices of the paths whose target is ``target``."""
    t = space.modalities.index(target)
    return [i for i, p in enumerate(space.paths) if p.tgt == t]


def only(space: PathSpace, index: int) -> str:
    """The mask with only path ``index`` on."""
    return "".join("1" if i == index else "0" for i in range(space.num_paths))


def without(space: PathSpace, indices: Iterable[int]) -> str:
    """The full mask minus the paths ``indices``."""
    off = set(indices)
    return "".join("0" if i in off else "1" for i in range(space.num_paths))


def cheapest_within(table: Mapping[str, Mapping[str, Any]], reference: str, tolerance: float,
                    metric: str = "mae") -> dict | None:
    """The lowest-MFLOPs mask whose ``metric`` (lower is better) is at most the reference mask's plus
    ``tolerance``; ties go to the lower error. None when the reference has no number."""
    ref = finite_or_none((table.get(reference) or {}).get(metric))
    if ref is None:
        return None
    ok = [dict(r) for r in table.values()
          if finite_or_none(r.get(metric)) is not None and finite_or_none(r.get("mflops")) is not None
          and float(r[metric]) <= ref + tolerance + 1e-12]
    return min(ok, key=lambda r: (float(r["mflops"]), float(r[metric]))) if ok else None


@dataclass(frozen=True)
class GroundTruth:
    """Stand-alone training results per mask: mean validation / test MAE over seeds."""

    valid_mae: dict[str, float]
    test_mae: dict[str, float]
    seeds: dict[str, int]
    path: Path


def read_ground_truth(path: str | Path) -> tuple[GroundTruth | None, str]:
    """Read the ground-truth CSV; ``(None, why)`` when it is absent or unusable (never raises)."""
    p = Path(path)
    if not p.is_file():
        return None, f"{p.name} is not in this checkout"
    try:
        with open(p, newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, csv.Error, UnicodeDecodeError) as e:
        return None, f"{p.name} cannot be read: {e}"
    valid: dict[str, list[float]] = {}
    test: dict[str, list[float]] = {}
    for r in rows:
        mask = str(r.get("mask") or "").strip()
        if not mask or set(mask) - {"0", "1"}:
            continue
        v, t = finite_or_none(r.get("valid_mae")), finite_or_none(r.get("test_mae"))
        if v is not None:
            valid.setdefault(mask, []).append(v)
        if t is not None:
            test.setdefault(mask, []).append(t)
    if not valid:
        return None, f"{p.name} has no rows with a mask and a valid_mae"
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    return GroundTruth({m: mean(v) for m, v in valid.items()}, {m: mean(v) for m, v in test.items()},
                       {m: len(v) for m, v in valid.items()}, p), ""


def estimate_vs_alone(table: Mapping[str, Mapping[str, Any]], gt: GroundTruth) -> list[dict]:
    """One row per mask in both: the supernet's validation MAE beside the stand-alone one."""
    rows = []
    for mask in sorted(gt.valid_mae, key=lambda m: (-m.count("1"), m)):
        est = finite_or_none((table.get(mask) or {}).get("mae"))
        if est is None:
            continue
        rows.append({"mask": mask, "supernet estimate (valid MAE)": est,
                     "trained alone (valid MAE)": gt.valid_mae[mask],
                     "trained alone (test MAE)": gt.test_mae.get(mask), "seeds": gt.seeds[mask],
                     "MFLOPs": finite_or_none((table.get(mask) or {}).get("mflops"))})
    return rows


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman rank correlation (average ranks for ties); None for fewer than 3 pairs or no spread."""
    if len(xs) != len(ys) or len(xs) < 3:
        return None

    def ranks(v: Sequence[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2
            i = j + 1
        return r

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    sy = math.sqrt(sum((b - my) ** 2 for b in ry))
    if sx == 0 or sy == 0:
        return None
    return sum((a - mx) * (b - my) for a, b in zip(rx, ry)) / (sx * sy)


# --- what each step claims, computed from the data it draws (tests assert these on the data) ---------

def cheapest_title(table: Mapping[str, Mapping[str, Any]], reference: str, tolerance: float,
                   metric: str = "mae") -> str:
    """Step 3's title, true of its answer: "beats" when the cheapest mask within the tolerance has a
    lower error than the reference, "nearly as good" when it is worse but within the tolerance."""
    row = cheapest_within(table, reference, tolerance, metric)
    ref = finite_or_none((table.get(reference) or {}).get(metric))
    if row is None or ref is None:
        return "The cheapest mask within a tolerance"
    if row["mask"] == reference:
        return "No cheaper mask stays within the tolerance"
    if float(row[metric]) < ref:
        return "A cheaper mask that beats the full mask"
    if float(row[metric]) == ref:
        return "A cheaper mask exactly as good as the full mask"
    return "The cheapest mask that is nearly as good"


def dominated_side(higher_is_better: bool) -> str:
    """Where dominated masks sit relative to the front in a metric-vs-MFLOPs chart (cost to the right,
    the metric up): above and right for an error (lower is better), below and right for an accuracy."""
    return "below and right" if higher_is_better else "above and right"


def pareto_text(metric_label: str, higher_is_better: bool) -> str:
    """Step 4's reading of its chart (cost to the right, the metric up)."""
    worse = "lower" if higher_is_better else "higher"
    return (f"Each dot is one mask: cost to the right, {metric_label} up ({worse} is worse). The line joins the "
            f"masks nothing beats on both. Masks {dominated_side(higher_is_better)} of the line are *dominated*: "
            "another mask costs no more and is no worse, and is better in at least one.")


def drop_one(table: Mapping[str, Mapping[str, Any]], space: PathSpace, metric: str = "mae") -> dict[str, float | None]:
    """Per path: the change of ``metric`` when that path alone is switched off in the full mask
    (positive = the error grows: the path mattered); None where the table lacks a number."""
    full = finite_or_none((table.get("1" * space.num_paths) or {}).get(metric))
    out: dict[str, float | None] = {}
    for i, name in enumerate(space.path_names):
        v = finite_or_none((table.get(without(space, [i])) or {}).get(metric))
        out[name] = None if v is None or full is None else v - full
    return out


@dataclass(frozen=True)
class Reveal:
    """The answer to "which paths matter?" against a guess."""

    answer: tuple[str, ...]
    """the paths that matter: those planted in the synthetic data, else those whose removal raises
    the error by more than ``threshold``"""
    hits: tuple[str, ...]
    misses: tuple[str, ...]
    false_alarms: tuple[str, ...]
    effect: dict[str, float | None]
    source: str
    """"planted" or "drop-one\""""


def reveal(guess: Iterable[str], table: Mapping[str, Mapping[str, Any]], space: PathSpace,
           planted: Sequence[str] = (), metric: str = "mae", threshold: float = 0.01, *,
           higher_is_better: bool = False) -> Reveal:
    effect = drop_one(table, space, metric)
    if planted:
        answer, source = tuple(n for n in space.path_names if n in set(planted)), "planted"
    else:
        sign = -1.0 if higher_is_better else 1.0  # harm: the metric gets worse
        answer = tuple(n for n in space.path_names if sign * (effect[n] or 0.0) > threshold)
        source = "drop-one"
    g = set(guess)
    return Reveal(answer, tuple(n for n in answer if n in g), tuple(n for n in answer if n not in g),
                  tuple(n for n in space.path_names if n in g and n not in answer), effect, source)


@dataclass(frozen=True)
class PriorBar:
    """One bar of step 6: p of a path, and whether it is planted (marked apart from the bar's height)."""

    name: str
    p: float
    planted: bool

    @property
    def label(self) -> str:
        return f"{self.name} \u2605" if self.planted else self.name


MARKER_Y = 1.1
"""Height of the planted markers: fixed, above every bar, so a planted path with p = 0 is marked too."""


def prior_bars(names: Sequence[str], p: Sequence[float], planted: Iterable[str]) -> list[PriorBar]:
    pl = set(planted)
    return [PriorBar(n, float(v), n in pl) for n, v in zip(names, p)]


def sampling_shares(p: Sequence[float], k: int, search_config: Mapping[str, Any]) -> dict[str, Any]:
    """How the search turns p into training draws, as ``mro_core.search`` computes it: the inclusion
    probability pi per path (:func:`mro_core.search.prior.inclusion_probs`), the share of uniform
    draws after warm-up, and the resulting share of guided-epoch masks that contain each path (about:
    empty draws are redrawn). Defaults are :class:`mro_core.config.SearchConfig`'s."""
    import torch

    from mro_core.config import SearchConfig
    from mro_core.search.prior import inclusion_probs

    d = SearchConfig()
    get = lambda name: search_config.get(name, getattr(d, name, None))  # noqa: E731
    mode = str(get("inclusion") or "paper")
    pi = inclusion_probs(torch.tensor([float(v) for v in p], dtype=torch.float64), k,
                         float(get("rho")), float(get("eps")), mode=mode, top=float(get("top_inclusion"))).tolist()
    P = len(p)
    q = 2 ** (P - 1) / (2 ** P - 1)  # a path's share of the non-empty masks (uniform draws)
    u = float(get("uniform_mix") or 0.0)
    return {"pi": pi, "uniform_mix": u, "uniform_share": q, "warmup_epochs": int(get("warmup_epochs") or 0),
            "rho": float(get("rho")), "eps": float(get("eps")), "mode": mode, "top": float(get("top_inclusion")),
            "defaulted": sorted(n for n in ("inclusion", "uniform_mix", "top_inclusion", "rho", "eps")
                                if n not in search_config),
            "share": [u * q + (1 - u) * x for x in pi]}
