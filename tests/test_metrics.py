"""Tests for mro_core.metrics: hand-computed values on tiny arrays, conventions, error paths."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from mro_core.metrics import (
    MetricError,
    classification_metrics,
    format_metrics,
    kendall,
    primary_metric,
    regression_metrics,
    sentiment_aux_metrics,
    spearman,
)

REGRESSION_KEYS = ["mae", "corr", "acc7", "acc5", "acc2", "f1", "acc2_has0", "f1_has0"]


# ---------------------------------------------------------------------------------------------
# regression: Acc-7 / Acc-5 rounding and clipping, MAE


def test_acc7_acc5_round_half_to_even_and_clip():
    pred = [0.5, 1.5, 2.5, 4.2, -2.6, 0.4, 2.2]
    target = [0.0, 2.0, 2.0, 3.0, -3.0, 1.0, 3.0]
    m = regression_metrics(pred, target)
    assert list(m) == REGRESSION_KEYS
    # acc7, clip to [-3, 3] then round half-to-even:
    #   pred   0.5->0  1.5->2  2.5->2  4.2->3->3  -2.6->-3  0.4->0  2.2->2
    #   target 0       2       2       3          -3        1       3
    #   hit    y       y       y       y          y         n       n      -> 5/7
    # (round-half-away-from-zero would give 0.5->1 and 2.5->3, two more misses: 3/7.)
    assert m["acc7"] == pytest.approx(5 / 7)
    # acc5, clip to [-2, 2]: pred 0,2,2,2,-2,0,2 vs target 0,2,2,2,-2,1,2 -> only 0.4 vs 1 misses
    assert m["acc5"] == pytest.approx(6 / 7)
    # mae on the raw, unclipped values: .5+.5+.5+1.2+.4+.6+.8 = 4.5 -> 4.5/7
    assert m["mae"] == pytest.approx(4.5 / 7)


@pytest.mark.parametrize(
    "p, t, expected",
    [
        (0.5, 0.0, 1.0),  # 0.5 -> 0 (to even)
        (0.5, 1.0, 0.0),  # ... so not 1
        (1.5, 2.0, 1.0),  # 1.5 -> 2
        (2.5, 2.0, 1.0),  # 2.5 -> 2
        (-2.5, -2.0, 1.0),  # -2.5 -> -2
        (4.2, 3.0, 1.0),  # clipped to 3
        (-7.0, -3.0, 1.0),  # clipped to -3
    ],
)
def test_acc7_single_sample(p, t, expected):
    assert regression_metrics([p], [t])["acc7"] == expected


# ---------------------------------------------------------------------------------------------
# regression: the two Acc-2 / F1 conventions


def test_acc2_non_zero_vs_has_zero():
    pred = [0.3, -0.2, 1.0, -1.0, -0.5]
    target = [0.0, 0.0, 2.0, -1.0, 1.0]
    m = regression_metrics(pred, target)
    # non-zero: drop the two t == 0 samples; p > 0: T F F, t > 0: T F T -> 2/3
    assert m["acc2"] == pytest.approx(2 / 3)
    # weighted F1 there: class T (support 2) P=1 R=1/2 F1=2/3; class F (support 1) P=1/2 R=1
    # F1=2/3 -> (2*2/3 + 1*2/3)/3 = 2/3
    assert m["f1"] == pytest.approx(2 / 3)
    # has-zero: p >= 0: T F T F F, t >= 0: T T T F T -> hits 1,0,1,1,0 = 3/5.
    # The t == 0 sample with p = -0.2 is a miss here and is not counted at all above.
    assert m["acc2_has0"] == pytest.approx(3 / 5)
    # class T (support 4): TP 2, FP 0, FN 2 -> F1 2/3; class F (support 1): TP 1, FP 2, FN 0
    # -> P 1/3, R 1, F1 1/2; weighted (4*2/3 + 1*1/2)/5 = 19/30
    assert m["f1_has0"] == pytest.approx(19 / 30)


def test_acc2_differs_on_a_zero_target():
    # one t == 0 sample predicted 0.0: has-zero counts 0 >= 0 as a hit, non-zero drops it
    m = regression_metrics([0.0, 1.0, -1.0], [0.0, -2.0, -2.0])
    assert m["acc2"] == pytest.approx(1 / 2)  # (1 vs -2) miss, (-1 vs -2) hit
    assert m["acc2_has0"] == pytest.approx(2 / 3)  # plus the zero sample, a hit


def test_non_zero_acc2_undefined_when_all_targets_zero():
    m = regression_metrics([0.1, -0.2], [0.0, 0.0])
    assert math.isnan(m["acc2"]) and math.isnan(m["f1"])
    assert m["acc2_has0"] == pytest.approx(1 / 2)


# ---------------------------------------------------------------------------------------------
# regression: Pearson


def test_pearson_known_value():
    # p dev -1.5 -.5 .5 1.5 (sum sq 5); t = 2 4 5 9, mean 5, dev -3 -1 0 4 (sum sq 26)
    # cov sum 4.5 + .5 + 0 + 6 = 11 -> r = 11 / sqrt(5 * 26)
    m = regression_metrics([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 5.0, 9.0])
    assert m["corr"] == pytest.approx(11 / math.sqrt(130))
    assert m["corr"] == pytest.approx(np.corrcoef([1, 2, 3, 4], [2, 4, 5, 9])[0, 1])


@pytest.mark.parametrize(
    "pred, target",
    [([0.7, 0.7, 0.7], [1.0, -1.0, 2.0]), ([1.0, -1.0, 2.0], [2.0, 2.0, 2.0]), ([0.3], [1.0])],
)
def test_corr_constant_input_is_zero_without_warning(pred, target):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = regression_metrics(pred, target)
    assert m["corr"] == 0.0


def test_regression_accepts_column_vectors_and_returns_fractions():
    rng = np.random.default_rng(0)
    t = rng.uniform(-3, 3, size=(16, 1))
    p = t + rng.normal(0, 0.5, size=(16, 1))
    m = regression_metrics(p, t)
    assert m == regression_metrics(p[:, 0], t[:, 0])
    for key in ("acc7", "acc5", "acc2", "f1", "acc2_has0", "f1_has0"):
        assert 0.0 <= m[key] <= 1.0
    assert all(isinstance(v, float) for v in m.values())


# ---------------------------------------------------------------------------------------------
# classification

LOGITS = [
    [2.0, 0.1, 0.3],  # -> 0
    [1.0, 0.5, 0.2],  # -> 0
    [0.1, 3.0, 0.0],  # -> 1
    [0.2, 0.1, 0.9],  # -> 2
    [0.5, 0.4, 0.1],  # -> 0
    [0.0, 0.0, 1.0],  # -> 2
]
TARGET = [0, 0, 0, 0, 1, 2]  # imbalanced: supports 4, 1, 1


def test_classification_from_logits_weighted_f1_imbalanced():
    m = classification_metrics(np.array(LOGITS), TARGET, num_classes=3)
    assert list(m) == ["acc", "f1"]  # no acc7 for 3 classes
    # pred 0 0 1 2 0 2 vs 0 0 0 0 1 2: hits at 0, 1, 5 -> 3/6
    assert m["acc"] == pytest.approx(0.5)
    # class 0: TP 2, FP 1, FN 2 -> P 2/3, R 1/2, F1 4/7
    # class 1: TP 0 -> F1 0;  class 2: TP 1, FP 1, FN 0 -> P 1/2, R 1, F1 2/3
    # weighted by support 4, 1, 1: (4*4/7 + 0 + 2/3)/6 = 31/63 (macro would be 26/63)
    assert m["f1"] == pytest.approx(31 / 63)


def test_classification_ids_equal_logits():
    ids = np.argmax(np.array(LOGITS), axis=1)
    assert classification_metrics(ids, TARGET, num_classes=3) == classification_metrics(
        LOGITS, TARGET, num_classes=3
    )


def test_classification_seven_classes_names_acc7():
    # class 6 is predicted but never true: support 0, so weight 0 in the weighted F1
    m = classification_metrics([0, 1, 2, 6], [0, 1, 2, 3], num_classes=7)
    assert m["acc"] == m["acc7"] == pytest.approx(0.75)
    # classes 0, 1, 2: F1 1 each (support 1); class 3: F1 0 (support 1) -> 3/4
    assert m["f1"] == pytest.approx(0.75)


# ---------------------------------------------------------------------------------------------
# sentiment head, rank agreement, primary metric, formatting


def test_sentiment_aux_non_zero_convention():
    pred = [0.4, -0.9, 0.2, -0.1]
    target = [1, -1, 0, 1]
    m = sentiment_aux_metrics(pred, target)
    assert list(m) == ["mae", "corr", "acc2", "f1"]
    # mae: .6 + .1 + .2 + 1.1 = 2.0 -> 0.5
    assert m["mae"] == pytest.approx(0.5)
    # drop t == 0; p > 0: T F F vs t > 0: T F T -> 2/3; F1 as in the regression case: 2/3
    assert m["acc2"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert m["corr"] == pytest.approx(np.corrcoef(pred, target)[0, 1])


def test_rank_agreement_known_values():
    a, b = [1, 2, 3, 4], [1, 3, 2, 4]
    # rank differences 0 1 1 0: rho = 1 - 6*2 / (4*(16-1)) = 0.8
    assert spearman(a, b) == pytest.approx(0.8)
    # pairs: 5 concordant, 1 discordant (2,3) -> tau = (5-1)/6
    assert kendall(a, b) == pytest.approx(2 / 3)
    assert spearman(a, a[::-1]) == pytest.approx(-1.0)
    assert kendall(a, a[::-1]) == pytest.approx(-1.0)


@pytest.mark.parametrize("fn", [spearman, kendall])
def test_rank_agreement_constant_is_zero(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fn([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]) == 0.0
        assert fn([4.0], [2.0]) == 0.0


def test_primary_metric():
    assert primary_metric("regression") == ("mae", False)
    assert primary_metric("classification") == ("acc", True)
    with pytest.raises(MetricError, match="unknown task 'ranking'; choose one of regression"):
        primary_metric("ranking")


def test_format_metrics():
    d = {"mae": 4.5 / 7, "corr": 11 / math.sqrt(130), "acc7": 5 / 7, "f1_has0": 19 / 30,
         "acc2": math.nan, "spearman": 0.8}
    assert format_metrics(d) == {
        "mae": "0.643", "corr": "0.965", "acc7": "71.43", "f1_has0": "63.33",
        "acc2": "", "spearman": "0.800",
    }


# ---------------------------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("fn", [regression_metrics, sentiment_aux_metrics, spearman, kendall])
def test_pair_errors(fn):
    with pytest.raises(MetricError, match=r"same length \(got 3 and 2\)"):
        fn([1.0, 0.0, -1.0], [1.0, 0.0])
    with pytest.raises(MetricError, match="is empty"):
        fn([], [])
    nan_msg = r"^(pred|a) has 1 NaN/inf value\(s\) \(first at flat index 1\)"
    with pytest.raises(MetricError, match=nan_msg):
        fn([1.0, math.nan, 0.0], [1.0, 0.0, -1.0])
    with pytest.raises(MetricError, match="NaN/inf"):
        fn([1.0, 0.0, -1.0], [1.0, math.inf, 0.0])
    with pytest.raises(MetricError, match=r"shape \[N\] or \[N, 1\] \(got shape \(2, 2\)\)"):
        fn([[1.0, 0.0], [0.0, 1.0]], [1.0, 0.0])
    with pytest.raises(MetricError, match="must be numeric"):
        fn(["x", "y"], [1.0, 0.0])


def test_classification_errors():
    with pytest.raises(MetricError, match="has 3 columns but num_classes is 7"):
        classification_metrics(LOGITS, TARGET, num_classes=7)
    with pytest.raises(MetricError, match=r"class ids in \[0, 2\] \(got values from 0 to 3\)"):
        classification_metrics([0, 1, 3], [0, 1, 2], num_classes=3)
    with pytest.raises(MetricError, match="integer class ids"):
        classification_metrics([0, 1, 2], [0, 1.5, 2], num_classes=3)
    with pytest.raises(MetricError, match=r"same length \(got 6 and 5\)"):
        classification_metrics(LOGITS, TARGET[:5], num_classes=3)
    with pytest.raises(MetricError, match="at least 2"):
        classification_metrics([0], [0], num_classes=1)
    with pytest.raises(MetricError, match="NaN/inf"):
        classification_metrics([[0.0, math.nan]], [0], num_classes=2)
    with pytest.raises(MetricError, match="is empty"):
        classification_metrics(np.zeros((0, 3)), [], num_classes=3)
    with pytest.raises(MetricError, match=r"got shape \(1, 2, 3\)"):
        classification_metrics(np.zeros((1, 2, 3)), [0], num_classes=3)


def test_sentiment_aux_rejects_other_targets():
    msg = r"must be -1, 0 or \+1 \(got 1 other value\(s\), first 3.0\)"
    with pytest.raises(MetricError, match=msg):
        sentiment_aux_metrics([0.1, 0.2, 0.3], [1, 0, 3])


def test_metric_error_is_value_error():
    assert issubclass(MetricError, ValueError)


def test_binary_weighted_f1_equals_sklearn_on_random_data():
    from sklearn.metrics import accuracy_score, f1_score

    from mro_core.metrics import _binary_acc_f1

    rng = np.random.default_rng(0)
    for n in (1, 2, 5, 50, 333):
        for bias in (0.0, 0.1, 0.5, 0.9, 1.0):
            t = rng.random(n) < bias
            p = rng.random(n) < rng.random()
            acc, f1 = _binary_acc_f1(p, t)
            assert acc == pytest.approx(accuracy_score(t, p))
            assert f1 == pytest.approx(f1_score(t, p, average="weighted", zero_division=0))
