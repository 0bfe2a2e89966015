"""Which evaluated masks the Pareto page shows: the top-k by the metric and the dominated toggle.

Filtering never changes what is dominated: a mask stays dominated when the mask that dominates it
is filtered away, because dominance is a fact about everything evaluated (the front is computed
first, by :func:`app.services.pareto_view.pareto_front`, and filters only hide rows of it). The
``k`` of top-k counts masks; it has nothing to do with the k modalities of a path space.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from app.services.pareto_view import ParetoFront


def best_first(rows: Iterable[Mapping[str, Any]], metric: str, higher_is_better: bool) -> list[dict]:
    """``rows`` (feasible: finite ``metric`` and ``mflops``) from best to worst by ``metric``; ties
    go to fewer MFLOPs, then to the mask's text, so the order (and a top-k cut) is deterministic."""
    sign = -1.0 if higher_is_better else 1.0
    return sorted((dict(r) for r in rows),
                  key=lambda r: (sign * float(r[metric]), float(r["mflops"]), str(r.get("mask", ""))))


def restrict(front: ParetoFront, keep: Callable[[dict], bool]) -> ParetoFront:
    """``front`` with only the feasible rows ``keep`` accepts (order and dominance unchanged; the
    infeasible rows are carried over untouched, they are never drawn)."""
    return ParetoFront([r for r in front.front if keep(r)], [r for r in front.dominated if keep(r)],
                       list(front.infeasible), front.objectives, front.higher_is_better)


def filter_front(front: ParetoFront, *, top_k: int | None = None, show_dominated: bool = True) -> ParetoFront:
    """The rows of ``front`` the page shows.

    Args:
        front: one source's split (its direction is ``front.higher_is_better``).
        top_k: keep only the ``top_k`` best rows by the metric (ties: fewer MFLOPs, then mask text),
            counted among the rows the dominated toggle leaves; None or 0 keeps all.
        show_dominated: False hides the dominated rows (only the non-dominated front remains).

    Returns:
        A new :class:`ParetoFront`; its ``front`` and ``dominated`` are subsets of the input's.

    Raises:
        ValueError: on a negative ``top_k``.
    """
    if top_k is not None and (isinstance(top_k, bool) or int(top_k) != top_k or top_k < 0):
        raise ValueError(f"top_k must be a whole number >= 0 (0 or None: all masks), got {top_k!r}")
    out = front if show_dominated else ParetoFront(list(front.front), [], list(front.infeasible),
                                                   front.objectives, front.higher_is_better)
    if not top_k:
        return out
    metric = front.objectives[0]
    ranked = best_first(out.front + out.dominated, metric, front.higher_is_better)[:int(top_k)]
    kept = {_identity(r) for r in ranked}
    return restrict(out, lambda r: _identity(r) in kept)


def _identity(row: Mapping[str, Any]) -> tuple[str, str]:
    """What tells two rows of one source apart (a mask appears once per source)."""
    return str(row.get("mask", "")), str(row.get("_source_id", ""))
