"""Latency against the full mask: interleaved pairs, median with a spread, noise is no difference."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.proto.Metric_pb2 import Metric

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.services.checkpoints import CheckpointView  # noqa: E402
from app.services.latency import NO_DIFFERENCE, compare, quartiles  # noqa: E402


def test_quartiles():
    assert quartiles([3.0]) == (3.0, 3.0, 3.0)
    assert quartiles([1, 2, 3, 4, 5]) == (2.0, 3.0, 4.0)


def test_noise_is_no_measurable_difference():
    # the case: one slow sample made a cheaper subnet read slower than the full mask
    mask = [29.0, 36.0, 28.5, 30.1, 29.4, 28.8, 29.9]
    full = [29.2, 28.9, 29.6, 29.0, 30.2, 29.1, 29.3]
    c = compare(mask, full)
    assert not c.measurable
    assert c.delta_text() == NO_DIFFERENCE
    assert c.mask.median == pytest.approx(29.4)


def test_consistent_difference_is_measurable():
    full = [30.0, 31.0, 29.5, 30.2, 35.0, 30.1, 29.9]
    mask = [f - 8.0 + 0.1 * i for i, f in enumerate(full)]  # a busy spell (35 ms) hits both members
    c = compare(mask, full)
    assert c.measurable
    assert c.diff == pytest.approx(-7.7)
    assert c.delta_text() == "-7.7 ms"


def test_tiny_consistent_difference_is_not_called_a_difference():
    full = [30.0] * 7
    c = compare([30.3] * 7, full)  # 1% of the full time: below MIN_RELATIVE
    assert not c.measurable


def test_bad_inputs():
    with pytest.raises(ValueError, match="equally many"):
        compare([1.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        compare([], [])


def test_explore_shows_no_measurable_difference_without_a_red_delta(open_app, monkeypatch):
    noisy = compare([29.0, 36.0, 28.5, 30.1, 29.4, 28.8, 29.9], [29.2, 28.9, 29.6, 29.0, 30.2, 29.1, 29.3])
    monkeypatch.setattr(CheckpointView, "latency", lambda self, mask: noisy)
    at = open_app(query={"mask": "011011"})
    assert not at.exception
    lat = next(m for m in at.metric if m.label == "Latency / batch")
    assert lat.value == "29.4 ms \u00b1 0.6"
    assert lat.delta == NO_DIFFERENCE
    assert Metric.MetricColor.Name(lat.proto.color) == "GRAY"  # grey, never red
    cap = next(c.value for c in at.caption if c.value.startswith("Latency of 011011"))
    assert NO_DIFFERENCE in cap


def test_explore_shows_a_real_difference(open_app, monkeypatch):
    full = [30.0, 31.0, 29.5, 30.2, 35.0, 30.1, 29.9]
    slower = compare([f + 5.0 for f in full], full)
    monkeypatch.setattr(CheckpointView, "latency", lambda self, mask: slower)
    at = open_app(query={"mask": "011011"})
    lat = next(m for m in at.metric if m.label == "Latency / batch")
    assert lat.delta == "+5.0 ms"
    assert Metric.MetricColor.Name(lat.proto.color) == "RED"  # really slower: red is honest here
    cap = next(c.value for c in at.caption if c.value.startswith("Latency of 011011"))
    assert "5.0 ms slower than the full mask" in cap
