"""Which metrics a task shows, how they are labelled and formatted, which way is better."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from mro_core.metrics import format_metrics, primary_metric


def finite_or_none(v: Any) -> float | None:
    """``float(v)`` when it is a finite number (not a bool), else None: stored rows may hold
    None, NaN or strings, and a view must show an empty cell rather than crash or invent."""
    if isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


@dataclass(frozen=True)
class MetricSpec:
    """One displayed metric.

    Attributes:
        key: the key in mask-table rows (``mae``, ``acc7``...).
        label: the column / metric label (``MAE``, ``Acc-7``...).
        higher_is_better: direction of improvement.
    """

    key: str
    label: str
    higher_is_better: bool


REGRESSION_METRICS = (
    MetricSpec("mae", "MAE", False),
    MetricSpec("corr", "Corr", True),
    MetricSpec("acc7", "Acc-7", True),
    MetricSpec("acc2", "Acc-2", True),
    MetricSpec("f1", "F1", True),
)
CLASSIFICATION_METRICS = (
    MetricSpec("acc", "Acc", True),
    MetricSpec("f1", "F1", True),
)
MFLOPS_LABEL = "MFLOPs"
LATENCY_LABEL = "Latency / batch"


def metric_specs(task: str) -> tuple[MetricSpec, ...]:
    """The metrics Explore shows for ``task`` (regression: MAE..F1; classification: Acc, F1)."""
    return REGRESSION_METRICS if task == "regression" else CLASSIFICATION_METRICS


def spec_for(task: str, key: str) -> MetricSpec:
    for s in metric_specs(task):
        if s.key == key:
            return s
    raise ValueError(f"unknown metric {key!r} for a {task} task; choose one of {[s.key for s in metric_specs(task)]}")


def primary(task: str) -> MetricSpec:
    """The metric that ranks masks (``mro_core.metrics.primary_metric``)."""
    key, _ = primary_metric(task)
    return spec_for(task, key)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))


def format_value(key: str, value: Any) -> str:
    """A metric for display: acc/F1 as percentages (2 decimals), others 3 decimals, missing ''."""
    if not _is_number(value):
        return ""
    return format_metrics({key: float(value)})[key]


PERCENT_POINTS = "pp"
"""Unit of a difference of two percentages (77.83% - 75.00% = +2.83 pp, not +2.83%)."""


def format_change(key: str, change: Any) -> str | None:
    """A signed difference of metric ``key``, formatted like the metric: accuracies and F1 in
    percentage points (``+2.83 pp``), the others as plain numbers (MAE ``-0.100``); None when
    ``change`` is missing."""
    if not _is_number(change):
        return None
    d = float(change)
    text = format_value(key, abs(d))
    return f"{'-' if d < 0 else '+'}{text}" + (f" {PERCENT_POINTS}" if is_percent(key) else "")


def format_delta(key: str, value: Any, ref: Any) -> str | None:
    """``value - ref`` as :func:`format_change` writes it; None when either is missing."""
    if not _is_number(value) or not _is_number(ref):
        return None
    return format_change(key, float(value) - float(ref))


def format_mflops(v: Any) -> str:
    return f"{float(v):.3f}" if _is_number(v) else ""


def metric_value(row: Mapping[str, Any] | None, key: str) -> float | None:
    """``row[key]`` as a float, or None when absent or not finite."""
    if not row:
        return None
    v = row.get(key)
    return float(v) if _is_number(v) else None


def is_percent(key: str) -> bool:
    """Accuracies and F1 are fractions shown as percentages."""
    return key.startswith(("acc", "f1"))


def display_value(key: str, value: Any) -> str:
    """The value Explore's metric shows: ``format_value`` plus ``%`` for percentages; '' if missing."""
    text = format_value(key, value)
    return f"{text}%" if text and is_percent(key) else text
