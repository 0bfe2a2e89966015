"""Range filters over evaluated masks: a metric range, an MFLOPs range, paths that must be on or off.

They stand in for brushing the parallel-coordinates chart: plotly's parcoords brushing happens in
the browser and Streamlit cannot read it back, so the page offers these filters instead and applies
them to every view of the masks (scatter, parallel coordinates, table). Pure, no Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from app.services.metrics_view import finite_or_none

TOLERANCE = 1e-9
"""Relative slack on range bounds: a slider's float bound equal to a value must keep that value."""


def _inside(v: float, bounds: tuple[float, float] | None) -> bool:
    if bounds is None:
        return True
    lo, hi = bounds
    eps = TOLERANCE * max(1.0, abs(lo), abs(hi))
    return lo - eps <= v <= hi + eps


@dataclass(frozen=True)
class MaskFilter:
    """Which masks pass (every condition must hold).

    Attributes:
        metric: the metric key ``metric_range`` bounds (as stored: fractions for accuracies).
        metric_range: inclusive (low, high) of the metric; None: any.
        mflops_range: inclusive (low, high) of MFLOPs; None: any.
        paths_on: indices of paths that must be on (bit ``1``).
        paths_off: indices of paths that must be off (bit ``0``); a path in both lets nothing pass.
        num_paths: the path space's number of paths: while a path condition is set, masks of
            another length (another path space) do not pass, their bits mean other paths.
    """

    metric: str
    metric_range: tuple[float, float] | None = None
    mflops_range: tuple[float, float] | None = None
    paths_on: tuple[int, ...] = ()
    paths_off: tuple[int, ...] = ()
    num_paths: int | None = None

    def __post_init__(self) -> None:
        for name, b in (("metric_range", self.metric_range), ("mflops_range", self.mflops_range)):
            if b is not None and not (len(b) == 2 and b[0] <= b[1]):
                raise ValueError(f"{name} must be (low, high) with low <= high, got {b!r}")
        n = self.num_paths
        bad = [i for i in self.paths_on + self.paths_off if i < 0 or (n is not None and i >= n)]
        if bad:
            raise ValueError(f"path indices {bad} are outside the path space (0..{(n or 0) - 1})")

    @property
    def active(self) -> bool:
        """Whether any condition is set (an inactive filter passes every feasible mask)."""
        return bool(self.metric_range or self.mflops_range or self.paths_on or self.paths_off)

    @property
    def conflicts(self) -> tuple[int, ...]:
        """Paths required both on and off (then no mask passes)."""
        return tuple(sorted(set(self.paths_on) & set(self.paths_off)))

    def keeps(self, row: Mapping[str, Any]) -> bool:
        """Whether ``row`` (``mask``, ``mflops``, the metric) passes. A row without a finite metric
        fails a metric range, one without finite MFLOPs an MFLOPs range."""
        m, f = finite_or_none(row.get(self.metric)), finite_or_none(row.get("mflops"))
        if self.metric_range is not None and (m is None or not _inside(m, self.metric_range)):
            return False
        if self.mflops_range is not None and (f is None or not _inside(f, self.mflops_range)):
            return False
        if self.paths_on or self.paths_off:
            bits = str(row.get("mask", ""))
            if self.num_paths is not None and len(bits) != self.num_paths:
                return False
            if any(i >= len(bits) or bits[i] != "1" for i in self.paths_on):
                return False
            if any(i >= len(bits) or bits[i] != "0" for i in self.paths_off):
                return False
        return True
