"""app.services.metrics_view: how metrics are shown and compared."""

from __future__ import annotations

from app.services.metrics_view import display_value, format_delta, primary


def test_metric_formatting():
    assert display_value("acc7", 0.7783) == "77.83%" and display_value("mae", 0.21585) == "0.216"
    assert display_value("mae", None) == "" and display_value("mae", float("nan")) == ""
    assert format_delta("mae", 0.2, 0.3) == "-0.100" and format_delta("acc2", 0.9, 0.8) == "+10.00"
    assert primary("regression").key == "mae" and primary("classification").key == "acc"
