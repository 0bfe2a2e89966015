"""A defensive reader of a checkpoint's Modal Relation Graph prior, and the graph's elements.

Expected format (written by a search run)::

    {"p": [P floats in path order], "alpha": a, "beta": b, "gamma": g,
     "stats": {"cos": [P], "var_g": [P], "var_a": [P]},
     "history": [{"epoch": e, "p": [...], "alpha": ..., "beta": ..., "gamma": ...,
                  "stats": {...}, "spearman": rho}, ...]}

Anything missing or malformed becomes a message for the page, never an exception. Without a prior
(a checkpoint from ``mro train``), the uniform prior is shown: p_{i->j} = 1 / (k - 1), the softmax
over each source's outgoing paths with equal scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from mro_core.paths import PathSpace

from app.services.routing import ACTIVE_COLOR, INACTIVE_COLOR, NODE_COLOR, circle_positions
from app.services.metrics_view import finite_or_none

STAT_KEYS = ("cos", "var_g", "var_a")
MIX_KEYS = ("alpha", "beta", "gamma")


@dataclass
class PriorSnapshot:
    """The prior at one epoch (or the final one: ``epoch`` None)."""

    epoch: int | None
    p: list[float]
    alpha: float | None = None
    beta: float | None = None
    gamma: float | None = None
    stats: dict[str, list[float | None] | None] = field(default_factory=dict)
    spearman: float | None = None


@dataclass
class PriorView:
    """What the Graph page shows.

    Attributes:
        final: the prior stored last (or the uniform prior).
        history: snapshots by epoch, oldest first (possibly empty).
        uniform: True when no usable prior was found and ``final`` is the uniform one.
        messages: notes for the user about missing or malformed parts.
    """

    final: PriorSnapshot
    history: list[PriorSnapshot]
    uniform: bool
    messages: list[str]


def uniform_p(space: PathSpace) -> list[float]:
    """p_{i->j} = 1/(k-1): every source spreads its mass evenly over its k-1 outgoing paths."""
    return [1.0 / (space.k - 1)] * space.num_paths




def _vector(v: Any, n: int) -> list[float] | None:
    if not isinstance(v, Sequence) or isinstance(v, (str, bytes)) or len(v) != n:
        return None
    out = [finite_or_none(x) for x in v]
    return None if any(x is None for x in out) else [float(x) for x in out]  # type: ignore[arg-type]


def _stat_vector(v: Any, n: int) -> list[float | None] | None:
    """Like :func:`_vector`, but an edge may be unobserved (None) -- the statistics allow that."""
    if not isinstance(v, Sequence) or isinstance(v, (str, bytes)) or len(v) != n:
        return None
    out = [finite_or_none(x) for x in v]
    bad = [x for x, o in zip(v, out) if o is None and x is not None]
    return None if bad else out


def zscore(values: Sequence[float | None]) -> list[float]:
    """Z-score over the observed entries with the population std, as ``mro_core.search.prior`` normalises
    the edge statistics; unobserved entries and a constant column give 0."""
    obs = [float(v) for v in values if v is not None]
    if len(obs) < 2:
        return [0.0] * len(values)
    mu = sum(obs) / len(obs)
    sd = math.sqrt(sum((v - mu) ** 2 for v in obs) / len(obs))
    if sd <= 1e-9 * max(1.0, abs(mu)):
        return [0.0] * len(values)
    return [0.0 if v is None else (float(v) - mu) / sd for v in values]


def _snapshot(raw: Any, space: PathSpace, where: str, messages: list[str]) -> PriorSnapshot | None:
    if not isinstance(raw, Mapping):
        messages.append(f"{where}: not a mapping; skipped")
        return None
    P = space.num_paths
    p = _vector(raw.get("p"), P)
    if p is None:
        messages.append(f"{where}: 'p' is missing or is not {P} numbers (one per path); skipped")
        return None
    stats_raw = raw.get("stats")
    stats: dict[str, list[float] | None] = {}
    if isinstance(stats_raw, Mapping):
        for k in STAT_KEYS:
            stats[k] = _stat_vector(stats_raw.get(k), P)
            if stats_raw.get(k) is not None and stats[k] is None:
                messages.append(f"{where}: stats '{k}' is not {P} numbers; left empty")
    elif stats_raw is not None:
        messages.append(f"{where}: 'stats' is not a mapping; left empty")
    epoch = raw.get("epoch")
    return PriorSnapshot(
        epoch=int(epoch) if finite_or_none(epoch) is not None else None,
        p=p,
        alpha=finite_or_none(raw.get("alpha")),
        beta=finite_or_none(raw.get("beta")),
        gamma=finite_or_none(raw.get("gamma")),
        stats=stats,
        spearman=finite_or_none(raw.get("spearman")),
    )


def read_prior(raw: Any, space: PathSpace) -> PriorView:
    """Read ``checkpoint.prior`` (any shape) into a :class:`PriorView`; never raises."""
    messages: list[str] = []
    uniform = PriorSnapshot(None, uniform_p(space))
    if raw is None:
        return PriorView(uniform, [], True, [])
    final = _snapshot(raw, space, "prior", messages)
    history: list[PriorSnapshot] = []
    hist_raw = raw.get("history") if isinstance(raw, Mapping) else None
    if isinstance(hist_raw, Sequence) and not isinstance(hist_raw, (str, bytes)):
        for i, h in enumerate(hist_raw):
            s = _snapshot(h, space, f"history[{i}]", messages)
            if s is not None:
                if s.epoch is None:
                    s.epoch = i + 1
                history.append(s)
        history.sort(key=lambda s: s.epoch or 0)
    elif hist_raw is not None:
        messages.append("prior: 'history' is not a list; no replay")
    if final is None and history:
        final = history[-1]
        messages.append("prior: using the last history entry as the final prior")
    if final is None:
        return PriorView(uniform, history, True, messages)
    return PriorView(final, history, False, messages)


def edge_rows(space: PathSpace, snap: PriorSnapshot) -> list[dict[str, Any]]:
    """One row per path: p, the three statistics as stored, and the composite edge score of Eq. (1),
    s = alpha z(cos) + beta z(var_g) + gamma z(var_a), on the z-scored statistics (the scale the
    learned weights act on); None where a weight or a statistic is missing."""
    z = {k: zscore(snap.stats[k]) if snap.stats.get(k) else None for k in STAT_KEYS}
    weights = (snap.alpha, snap.beta, snap.gamma)
    rows = []
    for i, path in enumerate(space.paths):
        row: dict[str, Any] = {"path": path.name, "p": snap.p[i]}
        for k in STAT_KEYS:
            v = snap.stats.get(k)
            row[k] = v[i] if v else None
        if None not in weights and all(z[k] is not None for k in STAT_KEYS):
            row["score"] = sum(w * z[k][i] for w, k in zip(weights, STAT_KEYS))  # type: ignore[index,operator]
        else:
            row["score"] = None
        rows.append(row)
    return rows


@dataclass(frozen=True)
class GraphNode:
    id: str
    label: str
    x: float
    y: float


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    label: str
    width: float
    color: str
    active: bool
    title: str


EDGE_LABEL_MAX_PATHS = 12
"""Most paths whose edges the graph labels (k = 4). At k = 6 the 30 labels "A->V 0.42" piled up
over the circle's centre and hid each other; there the width shows p, an edge's hover and the table
give the value."""


def edge_labels_fit(space: PathSpace) -> bool:
    """Whether the graph of ``space`` can label its edges readably (at most
    :data:`EDGE_LABEL_MAX_PATHS` paths)."""
    return space.num_paths <= EDGE_LABEL_MAX_PATHS


def graph_elements(
    space: PathSpace,
    p: Sequence[float],
    mask: str | None,
    *,
    radius: float = 180.0,
    min_width: float = 1.0,
    max_width: float = 10.0,
    labels: bool = True,
) -> tuple[list[GraphNode], list[GraphEdge]]:
    """Nodes on a circle and one edge per path, labelled ``"A->V 0.42"`` (path and p, as a string:
    agraph draws no numbers) and as wide as p is large.

    Edge widths scale linearly between ``min_width`` (p = 0) and ``max_width`` (p = 1). Paths active
    in ``mask`` get the highlight colour. ``labels=False`` leaves the labels empty (the hover
    ``title`` still names the path and p).
    """
    nodes = [GraphNode(m, m, x, y) for m, (x, y) in zip(space.modalities, circle_positions(space.k, radius))]
    bits = mask or "1" * space.num_paths
    edges = []
    for i, path in enumerate(space.paths):
        v = float(p[i])
        active = bits[i] == "1"
        edges.append(GraphEdge(
            source=space.modalities[path.src],
            target=space.modalities[path.tgt],
            label=f"{path.name} {v:.2f}" if labels else "",
            width=min_width + (max_width - min_width) * max(0.0, min(1.0, v)),
            color=ACTIVE_COLOR if active else INACTIVE_COLOR,
            active=active,
            title=f"{path.name}: p = {v:.3f}{' (active)' if active else ''}",
        ))
    return nodes, edges


def next_epoch(epochs: Sequence[int], current: int | None) -> tuple[int, bool]:
    """One step of the epoch replay: the epoch after ``current`` and whether to keep playing
    (False once the last epoch is shown). An unknown ``current`` starts from the first epoch."""
    if not epochs:
        raise ValueError("no epochs to replay")
    if current not in epochs:
        return epochs[0], len(epochs) > 1
    i = list(epochs).index(current) + 1
    if i >= len(epochs):
        return epochs[-1], False
    return epochs[i], i < len(epochs) - 1


READING_GUIDE = (
    ("p(i\u2192j)", "the prior's preference for path i\u2192j among the paths leaving source i: they add up to "
                     "1 per source, so p = 1/(k-1) means no preference. It is not how often the path is sampled "
                     "(see sampling)."),
    ("cos", "how alike the two modalities' embeddings are (mean per-sample cosine): high means they carry "
            "similar information, so attending across may add little."),
    ("var_g", "how much the size of the path's gradient varies over recent steps: high means the path is "
              "still being pulled around by the loss."),
    ("var_a", "how peaked the path's attention is: high means it singles out a few positions of the source, "
              "low means it averages evenly (var_a also shrinks with longer sources)."),
    ("alpha, beta, gamma", "the learned weights of the three statistics in the edge score "
                           "s = alpha z(cos) + beta z(var_g) + gamma z(var_a); a weight's sign says whether "
                           "that statistic pushes s up or down. p is computed from s as mro_core/search/prior.py does: the "
                           "three statistics are z-scored across the paths; s mixes them; a GATv2 graph-attention "
                           "layer scores each path from s and learned embeddings of its two modalities, with learned "
                           "weights that can reverse the order of s; a softmax over each source's outgoing paths "
                           "gives p. So p only compares paths that share a source, and a lower s can get a higher p."),
    ("sampling", "the first warm-up epochs draw masks uniformly. After them each trained mask is a uniform draw "
                 "with probability uniform_mix (0.25 by default); otherwise each path is included on its own "
                 "with probability pi made from p (paper: clamp((k-1) p rho, eps, 1-eps); relative: "
                 "clamp(top p / the source's largest p, eps, 1-eps)). So a path with p = 0 is still trained, "
                 "and p is a preference, not a sampling frequency."),
    ("Spearman \u03c1", "how well the prior's ranking of masks agreed with their measured scores that epoch "
                        "(1 = same order, 0 = unrelated)."),
)
"""One line per quantity of the Graph page: what it is and how to read it."""

DISAGREE = ("Why the prior can disagree with the planted paths: the prior only sees training-time signals "
            "(alignment, gradient and attention variance), never which paths the label depends on. A planted "
            "path can look ordinary in those signals, and a redundant path can look busy. And p is shared out "
            "among a source's outgoing paths (they add up to 1), so when two paths from one source are planted "
            "(V->T and V->A in the demo's data) the prior cannot favour both at full strength. What each "
            "subnet actually scores (Explore, Pareto) is the ground truth; Spearman \u03c1 says how far to trust the "
            "prior's ranking.")


__all__ = ["DISAGREE", "p_versus_s", "p_versus_s_text", "NODE_COLOR", "READING_GUIDE", "GraphEdge", "GraphNode", "PriorSnapshot", "PriorView",
           "edge_rows", "next_epoch",
           "edge_labels_fit", "graph_elements", "read_prior", "uniform_p"]


def _s(row: Mapping[str, Any]) -> float | None:
    return finite_or_none(row.get("score"))


def p_versus_s(rows: Sequence[Mapping[str, Any]], space: PathSpace) -> tuple[str, str] | None:
    """Two paths from one source whose order by s is the opposite of their order by p (the largest
    such gap in p), or None: the case the p-vs-s explanation points at in the data shown."""
    by_name = {r["path"]: r for r in rows}
    best, gap = None, 0.0
    for i in range(space.k):
        out = [n for j, n in enumerate(space.path_names) if space.paths[j].src == i]
        for a in out:
            for b in out:
                ra, rb = by_name.get(a), by_name.get(b)
                if not ra or not rb or _s(ra) is None or _s(rb) is None:
                    continue
                if _s(ra) < _s(rb) and float(ra["p"]) > float(rb["p"]) and float(ra["p"]) - float(rb["p"]) > gap:
                    best, gap = (a, b), float(ra["p"]) - float(rb["p"])
    return best


def p_versus_s_text(rows: Sequence[Mapping[str, Any]], space: PathSpace) -> str | None:
    """One sentence pointing at :func:`p_versus_s`'s pair in the rows shown, or None."""
    pair = p_versus_s(rows, space)
    if pair is None:
        return None
    by = {r["path"]: r for r in rows}
    a, b = (by[n] for n in pair)
    return (f"Here s({pair[0]}) = {a['score']:.3f} < s({pair[1]}) = {b['score']:.3f}, yet p({pair[0]}) = "
            f"{float(a['p']):.3f} > p({pair[1]}) = {float(b['p']):.3f}: both leave the same source, and the GAT's "
            "learned weights, not s alone, decide which one the softmax favours.")
