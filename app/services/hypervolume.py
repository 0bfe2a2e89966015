"""Hypervolume of a 2-D front (MFLOPs to minimise, a metric in its direction) and its reference point.

The hypervolume of a front is the area it dominates inside a reference box: one number that grows
when the front moves down-left (fewer MFLOPs, a better metric) or gains points that fill a gap.
It is only comparable between fronts measured against the same reference point, so the Pareto
page fixes one per run, over all of its epochs (:func:`reference_point`).
"""

from __future__ import annotations

from typing import Iterable, Mapping

from app.services.metrics_view import finite_or_none

REFERENCE_MARGIN = 0.1
"""How far past the worst value of each objective the reference point lies, as a share of that
objective's range over the run's epochs. With no margin the worst points (the most expensive mask,
the worst metric) would add no area, and a front of one such point would read 0."""


def hypervolume(points: Iterable[tuple[float, float]], reference: tuple[float, float], *,
                higher_is_better: bool) -> float:
    """Area dominated by ``points`` (``(mflops, metric)`` pairs) and bounded by ``reference``.

    The metric is turned into a value to minimise, :math:`y = -\\text{metric}` when higher is
    better and :math:`y = \\text{metric}` otherwise (the same for the reference's metric,
    :math:`r_y`); MFLOPs :math:`x` is minimised as it is. Points with :math:`x \\ge r_x` or
    :math:`y \\ge r_y` dominate nothing inside the box and are dropped. The rest, sorted by
    :math:`x` (ties: lower :math:`y` first) and kept only where :math:`y` improves on every point
    before it (the non-dominated staircase :math:`(x_1, y_1), \\dots, (x_n, y_n)`,
    :math:`x_1 < \\dots < x_n`, :math:`y_1 > \\dots > y_n`), give

    .. math::
        \\mathrm{HV} = \\sum_{i=1}^{n} (r_x - x_i)\\,(y_{i-1} - y_i), \\qquad y_0 = r_y,

    the union of the boxes :math:`[x_i, r_x] \\times [y_i, r_y]`. Dominated points and duplicates
    therefore never change it. Units: MFLOPs times the metric's units.

    Args:
        points: ``(mflops, metric)``; non-finite pairs are ignored.
        reference: ``(mflops, metric)`` of the reference point, in the metric's own direction
            (the worst corner: many MFLOPs, a bad metric).
        higher_is_better: direction of the metric (accuracies: True, MAE: False).

    Returns:
        The area, >= 0 (0 for no points or none inside the box).

    Raises:
        ValueError: a reference that is not two finite numbers.
    """
    rx, rm = (finite_or_none(v) for v in reference)
    if rx is None or rm is None:
        raise ValueError(f"the reference point must be two finite numbers (mflops, metric), got {reference!r}")
    sign = -1.0 if higher_is_better else 1.0
    ry = sign * rm
    inside = []
    for p in points:
        x, m = finite_or_none(p[0]), finite_or_none(p[1])
        if x is not None and m is not None and x < rx and sign * m < ry:
            inside.append((x, sign * m))
    area, last_y = 0.0, ry
    for x, y in sorted(inside):
        if y < last_y:
            area += (rx - x) * (last_y - y)
            last_y = y
    return area


def reference_point(row_sets: Iterable[Iterable[Mapping]], metric: str, *, higher_is_better: bool,
                    margin: float = REFERENCE_MARGIN) -> tuple[float, float] | None:
    """The reference point of a run: the worst of each objective over all ``row_sets``, pushed out.

    :math:`r_x = \\max x + \\text{margin}\\cdot(\\max x - \\min x)`, and for the metric its worst value
    (the lowest when higher is better, else the highest) moved by ``margin`` times its range, further
    in the bad direction. An objective with no range (one value) moves by ``margin`` times the
    value's magnitude, or by ``margin`` when it is 0. Computed once over every epoch of a run (and
    its final rows), so the run's hypervolume per epoch is measured in one box.

    Args:
        row_sets: the rows of each epoch (dicts with ``mflops`` and ``metric``); rows without both
            as finite numbers are skipped.
        metric: the metric's key.
        higher_is_better: the metric's direction.
        margin: the push, a share of each range (>= 0).

    Returns:
        ``(mflops, metric)``, or None when no row has both values.

    Raises:
        ValueError: a negative ``margin``.
    """
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0 (a share of each objective's range), got {margin!r}")
    xs, ms = [], []
    for rows in row_sets:
        for r in rows:
            x, m = finite_or_none(r.get("mflops")), finite_or_none(r.get(metric))
            if x is not None and m is not None:
                xs.append(x)
                ms.append(m)
    if not xs:
        return None

    def push(worst: float, span: float) -> float:
        return margin * (span if span > 0 else (abs(worst) or 1.0))

    rx = max(xs) + push(max(xs), max(xs) - min(xs))
    if higher_is_better:
        rm = min(ms) - push(min(ms), max(ms) - min(ms))
    else:
        rm = max(ms) + push(max(ms), max(ms) - min(ms))
    return rx, rm
