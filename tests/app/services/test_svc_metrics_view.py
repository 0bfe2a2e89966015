"""app.services.metrics_view: how metrics are shown and compared."""

from __future__ import annotations

from app.services.metrics_view import display_value, format_change, format_delta, primary


def test_metric_formatting():
    assert display_value("acc7", 0.7783) == "77.83%" and display_value("mae", 0.21585) == "0.216"
    assert display_value("mae", None) == "" and display_value("mae", float("nan")) == ""
    assert primary("regression").key == "mae" and primary("classification").key == "acc"


def test_accuracy_deltas_are_in_percentage_points_and_mae_deltas_plain():
    # a difference of two percentages is in points: 90% - 80% is +10 pp, never "+10.00" or "+10.00%"
    for key in ("acc", "acc2", "acc7", "f1"):
        assert format_delta(key, 0.9, 0.8) == "+10.00 pp"
        assert format_delta(key, 0.75, 0.7783) == "-2.83 pp"
    assert format_delta("mae", 0.2, 0.3) == "-0.100" and format_delta("corr", 0.9, 0.8) == "+0.100"
    assert format_change("acc", 0.012) == "+1.20 pp" and format_change("mae", 0.012) == "+0.012"
    assert format_delta("acc2", None, 0.8) is None and format_change("f1", float("nan")) is None
