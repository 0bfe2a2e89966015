"""Latency of a subnet against the full mask, measured so that a difference can be trusted.

One timed forward on a shared CPU is noise: the same subnet read 29.0 ms and 19.2 ms on two
checkpoints, and a 67%-FLOPs subnet read slower than the full mask. So a mask is timed in *pairs*,
interleaved with the full mask (mask, full, mask, full, ...), and the verdict comes from the paired
differences: a slow spell of the machine hits both members of a pair alike and cancels out.

The difference is *measurable* only when the middle half of the paired differences (their
quartiles) lies on one side of zero and the median difference is at least ``MIN_RELATIVE`` of the
full mask's time; otherwise the page says "no measurable difference" and never shows a red delta.
What users should expect in general is the benchmark's time-vs-FLOPs correlation (``mro bench``):
on this small model time follows FLOPs only loosely.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Sequence

LATENCY_PAIRS = 7
"""Interleaved (mask, full) timed forward pairs per mask, after one untimed forward of each."""

MIN_RELATIVE = 0.03
"""A median difference below 3% of the full mask's time is not called a difference (timer and
cache effects on a forward of a few milliseconds)."""

NO_DIFFERENCE = "no measurable difference"


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """(25th percentile, median, 75th percentile) of ``values`` (inclusive method; n >= 1)."""
    v = sorted(float(x) for x in values)
    if len(v) == 1:
        return v[0], v[0], v[0]
    q1, q2, q3 = statistics.quantiles(v, n=4, method="inclusive")
    return q1, q2, q3


@dataclass(frozen=True)
class Timing:
    """Median and interquartile range (ms) of repeated forwards of one mask."""

    median: float
    q1: float
    q3: float
    n: int

    @property
    def spread(self) -> float:
        """Half the interquartile range: the "±" shown beside the median."""
        return (self.q3 - self.q1) / 2

    def text(self) -> str:
        return f"{self.median:.1f} ms \u00b1 {self.spread:.1f}"

    @staticmethod
    def of(times: Sequence[float]) -> "Timing":
        q1, q2, q3 = quartiles(times)
        return Timing(q2, q1, q3, len(times))


@dataclass(frozen=True)
class LatencyComparison:
    """A mask's latency against the full mask, from interleaved pairs.

    Attributes:
        mask: timings of the subnet.
        full: timings of the full mask (the same pairs).
        diff: median of the paired differences mask - full (ms).
        diff_q1, diff_q3: their quartiles.
        measurable: True when the difference is outside the noise (see the module docstring).
    """

    mask: Timing
    full: Timing
    diff: float
    diff_q1: float
    diff_q3: float
    measurable: bool

    def delta_text(self) -> str:
        """``+3.1 ms`` / ``-2.0 ms`` when measurable, else :data:`NO_DIFFERENCE`."""
        return f"{self.diff:+.1f} ms" if self.measurable else NO_DIFFERENCE


def compare(mask_times: Sequence[float], full_times: Sequence[float], *,
            min_relative: float = MIN_RELATIVE) -> LatencyComparison:
    """Compare paired timings (``mask_times[i]`` was taken next to ``full_times[i]``).

    Raises:
        ValueError: empty or unequal-length inputs.
    """
    if not mask_times or len(mask_times) != len(full_times):
        raise ValueError(f"need equally many mask and full timings, at least one "
                         f"(got {len(mask_times)} and {len(full_times)})")
    diffs = [float(a) - float(b) for a, b in zip(mask_times, full_times)]
    d1, d2, d3 = quartiles(diffs)
    full = Timing.of(full_times)
    one_side = d1 > 0 or d3 < 0
    measurable = one_side and abs(d2) >= min_relative * full.median
    return LatencyComparison(Timing.of(mask_times), full, d2, d1, d3, measurable)
