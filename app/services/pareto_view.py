"""The Pareto front of evaluated subnets over (validation metric, MFLOPs), computed apart from
any figure (STYLE 16): the page turns a :class:`ParetoFront` into a plotly figure, tests assert on
the dataclass.

A row is *feasible* when both its metric and its MFLOPs are finite numbers. A feasible row is
*dominated* when another is at least as good on both objectives and strictly better on one; the
front is the rest, sorted by MFLOPs. Ties (equal MFLOPs and metric) stay on the front together.
The split itself is ``mro_core.pareto.pareto_front`` (shared with the search's picks); this module
adds the handling of rows with missing values and the view helpers (budget, CSV, selection).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence
from app.services.metrics_view import finite_or_none


@dataclass
class ParetoFront:
    """Rows split by the front.

    Attributes:
        front: non-dominated rows, by increasing MFLOPs.
        dominated: feasible rows some other row dominates.
        infeasible: rows without a finite metric or MFLOPs.
        objectives: ``(metric, "mflops")``.
        higher_is_better: direction of the metric (MFLOPs is always lower-is-better).
    """

    front: list[dict]
    dominated: list[dict]
    infeasible: list[dict]
    objectives: tuple[str, str]
    higher_is_better: bool




def _sweep(feas: list[dict], metric: str, higher_is_better: bool) -> tuple[list[dict], list[dict]]:
    """Front / dominated by one sweep over rows sorted by MFLOPs (used without ``mro_core.pareto``)."""
    sign = 1.0 if higher_is_better else -1.0
    order = sorted(feas, key=lambda r: (float(r["mflops"]), -sign * float(r[metric])))
    front: list[dict] = []
    dominated: list[dict] = []
    best = -math.inf
    for r in order:
        s = sign * float(r[metric])
        tie = bool(front) and s == best and float(r["mflops"]) == float(front[-1]["mflops"])
        if s > best or tie:
            front.append(r)
            best = s
        else:
            dominated.append(r)
    return front, dominated


def pareto_front(rows: Iterable[Mapping[str, Any]], metric: str, higher_is_better: bool) -> ParetoFront:
    """Split ``rows`` (dicts with ``mflops`` and ``metric``) into front, dominated and infeasible.

    Rows without a finite metric or MFLOPs are set aside as infeasible (a classification run's
    rows have no ``mae``, a run still evaluating may lack MFLOPs); the rest go through
    ``mro_core.pareto.pareto_front``, the same computation the search's picks use.
    """
    feas, infeasible = [], []
    for r in rows:
        r = dict(r)
        m, f = finite_or_none(r.get(metric)), finite_or_none(r.get("mflops"))
        (infeasible if m is None or f is None else feas).append(r)
    if not feas:
        return ParetoFront([], [], infeasible, (metric, "mflops"), higher_is_better)
    try:
        from mro_core.pareto import pareto_front as core_front
    except ImportError:  # pragma: no cover - older builds without mro_core.pareto
        front, dominated = _sweep(feas, metric, higher_is_better)
    else:
        info = core_front(feas, metric, higher_is_better)
        front, dominated = list(info.front), list(info.dominated)
    return ParetoFront(front, dominated, infeasible, (metric, "mflops"), higher_is_better)


def best_under_budget(rows: Iterable[Mapping[str, Any]], metric: str, higher_is_better: bool,
                      budget_mflops: float) -> dict | None:
    """The best row by ``metric`` among rows with MFLOPs <= budget (ties: fewer MFLOPs); None if none."""
    cands = [dict(r) for r in rows
             if finite_or_none(r.get(metric)) is not None and finite_or_none(r.get("mflops")) is not None
             and float(r["mflops"]) <= budget_mflops + 1e-12]
    if not cands:
        return None
    sign = 1.0 if higher_is_better else -1.0
    return max(cands, key=lambda r: (sign * float(r[metric]), -float(r["mflops"])))


def rows_to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """CSV text of ``rows`` (columns: given, else the union of keys in first-seen order)."""
    if columns is None:
        seen: dict[str, None] = {}
        for r in rows:
            for k in r:
                seen.setdefault(k, None)
        columns = list(seen)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k, "") for k in columns})
    return buf.getvalue()


# ----------------------------------------------------------------------------- ties and picks
POINT_DECIMALS = 3
"""Points that agree to this many decimals on both axes (what the hover prints) are one point to
the eye, so one click cannot tell them apart: they are a *tie*."""


def point_key(row: Mapping[str, Any], metric: str) -> tuple[float, float] | None:
    """The on-screen position of ``row``: (MFLOPs, metric) rounded to :data:`POINT_DECIMALS`."""
    m, f = finite_or_none(row.get(metric)), finite_or_none(row.get("mflops"))
    if m is None or f is None:
        return None
    return round(f, POINT_DECIMALS), round(m, POINT_DECIMALS)


def ties(rows: Iterable[Mapping[str, Any]], metric: str) -> dict[tuple[float, float], list[dict]]:
    """Rows grouped by :func:`point_key` (only positions shared by two or more rows)."""
    groups: dict[tuple[float, float], list[dict]] = {}
    for r in rows:
        k = point_key(r, metric)
        if k is not None:
            groups.setdefault(k, []).append(dict(r))
    return {k: v for k, v in groups.items() if len(v) > 1}


def selected_points(selection: Any) -> list[tuple[str, str]]:
    """``(mask, source id)`` of every selected point of a plotly chart selection, in order, without
    repeats (baseline markers, which carry no mask, are skipped)."""
    try:
        points = selection["selection"]["points"]
    except (KeyError, TypeError):
        try:
            points = selection.selection.points  # attribute access (PlotlyState)
        except AttributeError:
            return []
    out: list[tuple[str, str]] = []
    for pt in points or []:
        cd = pt.get("customdata") if isinstance(pt, Mapping) else None
        if (isinstance(cd, (list, tuple)) and len(cd) >= 2 and isinstance(cd[0], str) and cd[0]
                and set(cd[0]) <= {"0", "1"} and (cd[0], str(cd[1])) not in out):
            out.append((cd[0], str(cd[1])))
    return out


@dataclass(frozen=True)
class RunChoice:
    """What the Pareto page needs to know about a run to preselect it.

    Attributes:
        id: run id.
        status: effective status (``running``, ``done``, ``failed``...).
        points: how many evaluated masks with finite numbers it has so far.
    """

    id: str
    status: str
    points: int


FAILED_STATUSES = ("failed", "error", "interrupted", "cancelled", "canceled")


def default_runs(runs: Sequence[RunChoice], limit: int = 3) -> list[str]:
    """The runs selected on a first visit: the newest ``limit`` that have points to draw or are
    still running (their points arrive epoch by epoch); failed and empty finished runs are left
    out (they would only add a legend entry over nothing)."""
    keep = [r.id for r in runs if r.status in ("running", "queued")
            or (r.points > 0 and r.status not in FAILED_STATUSES)]
    return keep[:limit]


def resolve_click(picked: Sequence[tuple[str, str]], rows: Iterable[Mapping[str, Any]],
                  metric: str) -> list[tuple[str, str]]:
    """The subnets a chart click may mean, as ``(mask, source id)``.

    One point picked, alone at its spot: that point (open it). One point on a spot other subnets
    share (equal MFLOPs and metric to the printed precision): every subnet there, in table order
    (the user chooses). Several points (a box selection): those points.
    Rows carry ``mask`` and ``_source_id``.
    """
    if len(picked) != 1:
        return list(picked)
    mask, sid = picked[0]
    rows = list(rows)
    hit = next((r for r in rows if r.get("mask") == mask and str(r.get("_source_id")) == sid), None)
    key = point_key(hit, metric) if hit is not None else None
    if key is None:
        return list(picked)
    same = [(str(r["mask"]), str(r["_source_id"])) for r in rows if point_key(r, metric) == key]
    return same if len(same) > 1 else list(picked)
