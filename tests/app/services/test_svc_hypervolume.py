"""Hypervolume of 2-D fronts against hand-computed areas, and the run's reference point."""

from __future__ import annotations

import math

import pytest

from app.services.hypervolume import REFERENCE_MARGIN, hypervolume, reference_point
from app.services.pareto_epochs import epoch_fronts

STAIRS = [(1.0, 0.6), (2.0, 0.4), (3.0, 0.2)]  # (mflops, mae): each cheaper point is worse


def test_a_single_point_spans_one_box():
    # (3 - 1) * (1.0 - 0.5)
    assert hypervolume([(1.0, 0.5)], (3.0, 1.0), higher_is_better=False) == pytest.approx(1.0)


def test_a_staircase_is_the_union_of_its_boxes():
    # x in [1, 2): height 1.0 - 0.6; [2, 3): 1.0 - 0.4; [3, 4): 1.0 - 0.2  -> 0.4 + 0.6 + 0.8
    assert hypervolume(STAIRS, (4.0, 1.0), higher_is_better=False) == pytest.approx(1.8)
    # order of the points does not matter
    assert hypervolume(STAIRS[::-1], (4.0, 1.0), higher_is_better=False) == pytest.approx(1.8)


def test_dominated_duplicate_and_outside_points_change_nothing():
    extra = [(2.5, 0.5), (3.0, 0.6), (2.0, 0.4), (2.0, 0.45),  # dominated, a duplicate, a tie on x
             (5.0, 0.1), (1.0, 1.2), (4.0, 0.3), (0.5, 1.0),  # outside or on the edge of the box
             (math.nan, 0.1), (1.0, math.inf)]  # not finite
    assert hypervolume(STAIRS + extra, (4.0, 1.0), higher_is_better=False) == pytest.approx(1.8)


def test_the_metric_direction_decides_what_is_better():
    acc = [(1.0, 0.4), (2.0, 0.6), (3.0, 0.8)]  # accuracy: higher is better, the reference is the low corner
    # (4 - 1) * 0.4 + (4 - 2) * 0.2 + (4 - 3) * 0.2
    assert hypervolume(acc, (4.0, 0.0), higher_is_better=True) == pytest.approx(1.8)
    # read as an error (lower is better) only the cheapest point counts: (4 - 1) * (0.9 - 0.4)
    assert hypervolume(acc, (4.0, 0.9), higher_is_better=False) == pytest.approx(1.5)


def test_nothing_inside_the_box_is_zero_and_a_bad_reference_is_refused():
    assert hypervolume([], (4.0, 1.0), higher_is_better=False) == 0.0
    assert hypervolume([(5.0, 0.1)], (4.0, 1.0), higher_is_better=False) == 0.0
    with pytest.raises(ValueError, match="two finite numbers"):
        hypervolume(STAIRS, (math.nan, 1.0), higher_is_better=False)


def _rows(points):
    return [{"mask": f"{i:02b}", "mflops": x, "mae": y, "acc2": y} for i, (x, y) in enumerate(points)]


def test_reference_point_is_the_worst_corner_pushed_out_by_the_margin():
    sets = [_rows([(1.0, 0.6), (2.0, 0.4)]), _rows([(3.0, 0.2)]), [{"mask": "11", "mflops": None, "mae": 9.0}]]
    # MFLOPs: max 3 + 0.1 * (3 - 1); MAE: max 0.6 + 0.1 * (0.6 - 0.2); the row without MFLOPs is skipped
    assert reference_point(sets, "mae", higher_is_better=False) == pytest.approx((3.2, 0.64))
    # accuracy: the worst is the lowest, pushed down
    assert reference_point(sets, "acc2", higher_is_better=True) == pytest.approx((3.2, 0.16))
    assert REFERENCE_MARGIN == 0.1
    assert reference_point(sets, "mae", higher_is_better=False, margin=0.0) == pytest.approx((3.0, 0.6))


def test_reference_point_of_one_value_and_of_nothing():
    assert reference_point([_rows([(2.0, 0.5)])], "mae", higher_is_better=False) == pytest.approx((2.2, 0.55))
    assert reference_point([_rows([(0.0, 0.0)])], "mae", higher_is_better=False) == pytest.approx((0.1, 0.1))
    assert reference_point([[], [{"mask": "1", "mae": 0.3}]], "mae", higher_is_better=False) is None
    with pytest.raises(ValueError, match="margin must be >= 0"):
        reference_point([], "mae", higher_is_better=False, margin=-1)


def test_epoch_fronts_share_one_reference_over_all_epochs_and_the_final_rows():
    history = {3: _rows([(1.0, 0.5), (3.0, 0.3)]), 1: _rows([(1.0, 0.9), (3.0, 0.8)]),
               2: _rows([(1.0, 0.7), (3.0, 0.5), (2.0, 0.9)])}
    final = _rows([(4.0, 0.25)])
    ef = epoch_fronts(history, "mae", False, final)
    assert ef.epochs == [1, 2, 3]
    assert ef.reference == pytest.approx((4.0 + 0.3, 0.9 + 0.1 * (0.9 - 0.25)))
    assert [r["mflops"] for r in ef.fronts[2].front] == [1.0, 3.0]  # (2.0, 0.9) is dominated
    for e in ef.epochs:
        pts = [(r["mflops"], r["mae"]) for r in history[e]]
        assert ef.hypervolume[e] == pytest.approx(hypervolume(pts, ef.reference, higher_is_better=False))
    assert ef.hypervolume[1] < ef.hypervolume[2] < ef.hypervolume[3]  # the front moved down each epoch
    assert [r["mflops"] for r in ef.final.front] == [4.0]
    empty = epoch_fronts({}, "mae", False)
    assert empty.epochs == [] and empty.reference is None and empty.hypervolume == {}
