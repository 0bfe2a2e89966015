"""Task metrics and rank agreement, thin over scikit-learn and scipy (no torch needed).

Sentiment regression (CMU-MOSI/MOSEI, synthetic; target in [-3, 3]) follows MMSA's
``metricsTop.py`` (``__eval_mosei_regression``, https://github.com/thuiar/MMSA):

- ``mae``: mean |p - t| on the raw, unclipped values.
- ``corr``: Pearson r (MMSA uses ``np.corrcoef``; scipy's ``pearsonr`` gives the same number).
- ``acc7`` / ``acc5``: clip both sides to [-3, 3] / [-2, 2], round with :func:`numpy.round`
  (round-half-to-even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2) and compare.
- ``acc2`` / ``f1``, the *non-zero* convention (MMSA's ``Non0_*``, the one MulT reports): drop the
  samples with t == 0, then compare p > 0 with t > 0.
- ``acc2_has0`` / ``f1_has0``, the *has-zero* convention (MMSA's ``Has0_*``): all samples,
  p >= 0 against t >= 0. (MulT's own ``exclude_zero=False`` thresholds at > 0; that is neither.)
- F1 is scikit-learn's ``f1_score(average="weighted")`` (per-class F1 weighted by true support).

Deviations from MMSA, on purpose:

- Values are fractions in [0, 1], not rounded; :func:`format_metrics` renders tables
  (acc/F1 as percentages with 2 decimals, everything else with 3 decimals).
- Pearson, Spearman and Kendall are *undefined* when one side is constant (including a single
  sample). MMSA returns NaN there (with a RuntimeWarning); we return 0.0, "no linear / rank
  agreement", so that rankings and averages stay finite. A constant predictor is exactly the
  degenerate case where 0.0 is the honest answer.
- The non-zero ``acc2`` / ``f1`` are undefined when every target is 0 (MMSA would crash on an empty
  index array); we return NaN there, which :func:`format_metrics` renders as an empty cell, so the
  number is never invented.

Every function validates its inputs and raises :class:`MetricError` (a ``ValueError``) naming what
it got and what it needs. Arrays may be anything :func:`numpy.asarray` accepts; tensors are
detached and moved to the CPU by duck typing, so this module never imports torch.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
from scipy import stats
from sklearn.metrics import accuracy_score, f1_score

__all__ = [
    "MetricError",
    "REGRESSION_TABLE_HEADERS",
    "REGRESSION_TABLE_METRICS",
    "TASKS",
    "classification_metrics",
    "format_metrics",
    "kendall",
    "primary_metric",
    "regression_metrics",
    "sentiment_aux_metrics",
    "spearman",
]

TASKS = ("regression", "classification")
"""Task names, as in ``ModelConfig.task`` and the dataset metadata."""

SENTIMENT_AUX_LABELS = (-1.0, 0.0, 1.0)
"""Targets of MELD's auxiliary sentiment head: negative, neutral, positive."""

EMPTY_CELL = ""
"""How :func:`format_metrics` renders an undefined (NaN) metric: an empty table cell."""

REGRESSION_TABLE_METRICS = ("mae", "corr", "acc7", "acc2_has0", "f1_has0", "acc2", "f1")
"""Columns of a MOSEI/MOSI results table: Acc-2 and F1 in both conventions, as MMSA reports them
(its ``Has0_*`` and ``Non0_*`` columns), so a row can be read against published figures whichever
convention they use."""

REGRESSION_TABLE_HEADERS = {
    "mae": "MAE", "corr": "Corr", "acc7": "Acc-7", "acc5": "Acc-5",
    "acc2_has0": "Acc-2 (has-0)", "f1_has0": "F1 (has-0)", "acc2": "Acc-2 (non-0)", "f1": "F1 (non-0)",
}
"""Header text per regression metric key; the convention is named on every Acc-2 / F1 column."""


class MetricError(ValueError):
    """Inputs a metric cannot be computed on (shape, length, empty, NaN/inf, bad labels)."""


# ---------------------------------------------------------------------------------------------
# input validation


def _to_numpy(x: Any, name: str) -> np.ndarray:
    """``x`` as a float64 array; tensors are detached and copied to the CPU first."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch.Tensor, without importing torch
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricError(f"{name} must be numeric (got {type(x).__name__}: {exc})") from None
    return arr


def _vector(x: Any, name: str) -> np.ndarray:
    """A finite, non-empty 1-D array; ``[N, 1]`` (a regression head's output) is flattened."""
    arr = _to_numpy(x, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise MetricError(f"{name} must have shape [N] or [N, 1] (got shape {tuple(arr.shape)})")
    if arr.size == 0:
        raise MetricError(f"{name} is empty; metrics need at least one sample")
    _check_finite(arr, name)
    return arr


def _check_finite(arr: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad.ravel())[0])
        raise MetricError(
            f"{name} has {int(bad.sum())} NaN/inf value(s) (first at flat index {first}); "
            "metrics need finite values"
        )


def _pair(a: Any, b: Any, name_a: str, name_b: str) -> tuple[np.ndarray, np.ndarray]:
    """Two validated 1-D arrays of the same length."""
    va, vb = _vector(a, name_a), _vector(b, name_b)
    if va.shape != vb.shape:
        raise MetricError(
            f"{name_a} and {name_b} must have the same length (got {va.shape[0]} and {vb.shape[0]})"
        )
    return va, vb


def _class_ids(arr: np.ndarray, name: str, num_classes: int) -> np.ndarray:
    """Integer class ids in ``[0, num_classes)``, from an integral-valued float array."""
    if not np.all(arr == np.round(arr)):
        raise MetricError(f"{name} must hold integer class ids (got non-integer values)")
    ids = arr.astype(np.int64)
    if ids.min() < 0 or ids.max() >= num_classes:
        raise MetricError(
            f"{name} must hold class ids in [0, {num_classes - 1}] "
            f"(got values from {ids.min()} to {ids.max()})"
        )
    return ids


# ---------------------------------------------------------------------------------------------
# building blocks


def _is_constant(x: np.ndarray) -> bool:
    return bool(np.all(x == x[0]))


def _pearson(p: np.ndarray, t: np.ndarray) -> float:
    """Pearson r; 0.0 when either side is constant (r undefined; scipy would warn and give NaN)."""
    if _is_constant(p) or _is_constant(t):
        return 0.0
    return float(stats.pearsonr(p, t).statistic)


def _multiclass_acc(p: np.ndarray, t: np.ndarray, bound: float) -> float:
    """Clip both sides to [-bound, bound], round half-to-even (numpy), compare."""
    p_cls = np.round(np.clip(p, -bound, bound))
    t_cls = np.round(np.clip(t, -bound, bound))
    return float(np.mean(p_cls == t_cls))


def _binary_acc_f1(p_pos: np.ndarray, t_pos: np.ndarray) -> tuple[float, float]:
    """Accuracy and weighted F1 of two boolean arrays; (NaN, NaN) when empty."""
    if t_pos.size == 0:
        return math.nan, math.nan
    # The weighted binary F1 from the confusion counts: the same number as sklearn's
    # f1_score(average="weighted", zero_division=0) (a test checks it on random data), without
    # sklearn's input validation, which costs ~13 ms a call and dominated evaluating 4095 masks.
    t1, p1 = t_pos.astype(bool), p_pos.astype(bool)
    tp = int(np.sum(t1 & p1))
    tn = int(np.sum(~t1 & ~p1))
    fp = int(np.sum(~t1 & p1))
    fn = int(np.sum(t1 & ~p1))
    n = tp + tn + fp + fn
    f1_pos = 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0
    f1_neg = 2 * tn / (2 * tn + fp + fn) if (2 * tn + fp + fn) else 0.0
    f1 = (f1_pos * (tp + fn) + f1_neg * (tn + fp)) / n
    return (tp + tn) / n, float(f1)


def _non_zero_acc2_f1(p: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """The non-zero convention: drop t == 0, compare p > 0 with t > 0."""
    keep = t != 0
    return _binary_acc_f1(p[keep] > 0, t[keep] > 0)


# ---------------------------------------------------------------------------------------------
# public metrics


def regression_metrics(pred: Any, target: Any) -> dict[str, float]:
    """Sentiment-regression metrics in MMSA's convention (see the module docstring).

    Args:
        pred: predictions ``[N]`` or ``[N, 1]``, unclipped.
        target: targets ``[N]`` or ``[N, 1]``, nominally in [-3, 3].

    Returns:
        ``mae``, ``corr``, ``acc7``, ``acc5``, ``acc2``, ``f1`` (non-zero convention),
        ``acc2_has0``, ``f1_has0`` (has-zero convention). Accuracies and F1 are fractions in
        [0, 1]. ``corr`` is 0.0 when either side is constant; ``acc2``/``f1`` are NaN when every
        target is 0.

    Raises:
        MetricError: shapes other than ``[N]``/``[N, 1]``, different lengths, empty input,
            non-numeric or NaN/inf values.
    """
    p, t = _pair(pred, target, "pred", "target")
    acc2, f1 = _non_zero_acc2_f1(p, t)
    acc2_has0, f1_has0 = _binary_acc_f1(p >= 0, t >= 0)
    return {
        "mae": float(np.mean(np.abs(p - t))),
        "corr": _pearson(p, t),
        "acc7": _multiclass_acc(p, t, 3.0),
        "acc5": _multiclass_acc(p, t, 2.0),
        "acc2": acc2,
        "f1": f1,
        "acc2_has0": acc2_has0,
        "f1_has0": f1_has0,
    }


def classification_metrics(
    logits_or_pred: Any, target: Any, *, num_classes: int
) -> dict[str, float]:
    """Accuracy and weighted F1 for single-label classification (MELD emotions: 7 classes).

    Args:
        logits_or_pred: class ids ``[N]``, or scores ``[N, C]`` (logits or probabilities; the
            argmax is taken, ties going to the lower class id as in :func:`numpy.argmax`).
        target: class ids ``[N]``.
        num_classes: C, at least 2. F1 uses ``labels=range(C)``, so classes absent from both sides
            still exist (with weight 0, their true support).

    Returns:
        ``acc`` and ``f1`` (weighted by true support, ``zero_division=0``), plus ``acc7`` (equal to
        ``acc``) when ``num_classes == 7``, the name the paper's MELD tables use.

    Raises:
        MetricError: ``num_classes`` < 2, scores whose width is not C, ids outside [0, C) or not
            integers, different lengths, empty input, NaN/inf values.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise MetricError(f"num_classes must be an int (got {type(num_classes).__name__})")
    if num_classes < 2:
        raise MetricError(f"num_classes must be at least 2 (got {num_classes})")
    scores = _to_numpy(logits_or_pred, "logits_or_pred")
    if scores.ndim == 2:
        if scores.shape[1] != num_classes:
            raise MetricError(
                f"logits_or_pred has {scores.shape[1]} columns but num_classes is {num_classes}; "
                f"pass scores [N, {num_classes}] or class ids [N]"
            )
        if scores.shape[0] == 0:
            raise MetricError("logits_or_pred is empty; metrics need at least one sample")
        _check_finite(scores, "logits_or_pred")
        pred = scores.argmax(axis=1)
    elif scores.ndim == 1:
        pred = _class_ids(_vector(scores, "logits_or_pred"), "logits_or_pred", num_classes)
    else:
        raise MetricError(
            f"logits_or_pred must be class ids [N] or scores [N, {num_classes}] "
            f"(got shape {tuple(scores.shape)})"
        )
    true = _class_ids(_vector(target, "target"), "target", num_classes)
    if pred.shape != true.shape:
        raise MetricError(
            f"logits_or_pred and target must have the same length "
            f"(got {pred.shape[0]} and {true.shape[0]})"
        )
    acc = float(accuracy_score(true, pred))
    out = {"acc": acc}
    if num_classes == 7:
        out["acc7"] = acc
    out["f1"] = float(
        f1_score(true, pred, labels=list(range(num_classes)), average="weighted", zero_division=0)
    )
    return out


def sentiment_aux_metrics(pred: Any, target: Any) -> dict[str, float]:
    """Metrics of MELD's auxiliary sentiment regression head (targets -1, 0, +1).

    ``acc2`` and ``f1`` use the non-zero convention: neutral (t == 0) samples are dropped and
    p > 0 is compared with t > 0; both are NaN when every target is neutral.

    Args:
        pred: predictions ``[N]`` or ``[N, 1]``, any real value.
        target: targets ``[N]`` or ``[N, 1]``, each -1, 0 or +1.

    Returns:
        ``mae``, ``corr`` (0.0 when either side is constant), ``acc2``, ``f1`` (weighted).

    Raises:
        MetricError: as :func:`regression_metrics`, and targets outside {-1, 0, +1}.
    """
    p, t = _pair(pred, target, "pred", "target")
    bad = ~np.isin(t, SENTIMENT_AUX_LABELS)
    if bad.any():
        raise MetricError(
            f"target of the sentiment head must be -1, 0 or +1 (got {int(bad.sum())} other "
            f"value(s), first {float(t[bad][0])}); emotion labels go to classification_metrics"
        )
    acc2, f1 = _non_zero_acc2_f1(p, t)
    return {"mae": float(np.mean(np.abs(p - t))), "corr": _pearson(p, t), "acc2": acc2, "f1": f1}


def spearman(a: Any, b: Any) -> float:
    """Spearman's rho between two score lists (ties get average ranks).

    Returns 0.0, "no rank agreement", when either side is constant (rho undefined; scipy would
    warn and return NaN). That includes a single item.

    Raises:
        MetricError: different lengths, empty input, NaN/inf values, not 1-D.
    """
    x, y = _pair(a, b, "a", "b")
    if _is_constant(x) or _is_constant(y):
        return 0.0
    return float(stats.spearmanr(x, y).statistic)


def kendall(a: Any, b: Any) -> float:
    """Kendall's tau-b (scipy's default variant, tie-corrected) between two score lists.

    Returns 0.0 when either side is constant (tau undefined; scipy would return NaN), as
    :func:`spearman` does.

    Raises:
        MetricError: different lengths, empty input, NaN/inf values, not 1-D.
    """
    x, y = _pair(a, b, "a", "b")
    if _is_constant(x) or _is_constant(y):
        return 0.0
    return float(stats.kendalltau(x, y).statistic)


def primary_metric(task: str) -> tuple[str, bool]:
    """The metric that ranks masks for a task, and whether higher is better.

    Regression ranks by ``mae`` (lower is better): it is the training loss (L1), so it is defined
    and smooth on every batch, unlike Acc-2, which ignores magnitude. Classification ranks by
    ``acc`` (higher is better), the Acc-7 the paper's MELD tables lead with; weighted F1 is reported
    beside it.

    Raises:
        MetricError: a task other than ``"regression"`` or ``"classification"``.
    """
    if task == "regression":
        return "mae", False
    if task == "classification":
        return "acc", True
    raise MetricError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")


def format_metrics(d: Mapping[str, float]) -> dict[str, str]:
    """Render metrics for a table, keeping the keys and their order.

    Keys starting with ``acc`` or ``f1`` are fractions shown as percentages with 2 decimals
    (0.8333 -> ``"83.33"``); every other value (``mae``, ``corr``, rank correlations) gets
    3 decimals. NaN, an undefined metric, becomes an empty cell.
    """
    out = {}
    for key, value in d.items():
        v = float(value)
        if math.isnan(v):
            out[key] = EMPTY_CELL
        elif key.startswith(("acc", "f1")):
            out[key] = f"{100.0 * v:.2f}"
        else:
            out[key] = f"{v:.3f}"
    return out
