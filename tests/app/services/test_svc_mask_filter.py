"""app.services.mask_filter: metric and MFLOPs ranges, paths required on / off."""

from __future__ import annotations

import pytest

from app.services.mask_filter import MaskFilter

ROWS = [
    {"mask": "110", "mflops": 1.0, "mae": 0.50},
    {"mask": "011", "mflops": 2.0, "mae": 0.40},
    {"mask": "111", "mflops": 3.0, "mae": 0.30},
    {"mask": "100", "mflops": 0.5, "mae": float("nan")},  # no metric
    {"mask": "1010", "mflops": 2.0, "mae": 0.40},  # another path space (4 paths)
]


def kept(f: MaskFilter, rows=ROWS) -> list[str]:
    return [r["mask"] for r in rows if f.keeps(r)]


def test_inactive_filter_keeps_everything():
    f = MaskFilter("mae", num_paths=3)
    assert not f.active and kept(f) == [r["mask"] for r in ROWS]


def test_ranges_are_inclusive_with_float_slack():
    assert kept(MaskFilter("mae", metric_range=(0.3, 0.4))) == ["011", "111", "1010"]
    assert kept(MaskFilter("mae", metric_range=(0.3, 0.4 - 1e-12))) == ["011", "111", "1010"]  # slider rounding
    assert kept(MaskFilter("mae", mflops_range=(0.5, 2.0))) == ["110", "011", "100", "1010"]
    both = MaskFilter("mae", metric_range=(0.3, 0.45), mflops_range=(2.5, 3.0))
    assert both.active and kept(both) == ["111"]


def test_a_row_without_a_metric_fails_a_metric_range_only():
    assert "100" not in kept(MaskFilter("mae", metric_range=(0.0, 1.0)))
    assert "100" in kept(MaskFilter("mae", mflops_range=(0.0, 1.0)))


def test_paths_on_off_and_either():
    assert kept(MaskFilter("mae", paths_on=(0,), num_paths=3)) == ["110", "111", "100"]
    assert kept(MaskFilter("mae", paths_off=(0,), num_paths=3)) == ["011"]
    assert kept(MaskFilter("mae", paths_on=(1,), paths_off=(2,), num_paths=3)) == ["110"]
    # a path in neither list is "either": only the others constrain
    assert kept(MaskFilter("mae", paths_on=(2,), num_paths=3)) == ["011", "111"]


def test_masks_of_another_space_fail_path_conditions_only():
    assert "1010" not in kept(MaskFilter("mae", paths_on=(0,), num_paths=3))
    assert "1010" in kept(MaskFilter("mae", metric_range=(0.0, 1.0), num_paths=3))


def test_a_path_required_on_and_off_is_a_conflict_that_keeps_nothing():
    f = MaskFilter("mae", paths_on=(0, 1), paths_off=(1,), num_paths=3)
    assert f.conflicts == (1,) and kept(f) == []


def test_bad_filters_are_refused():
    with pytest.raises(ValueError, match="low <= high"):
        MaskFilter("mae", metric_range=(0.5, 0.1))
    with pytest.raises(ValueError, match="outside the path space"):
        MaskFilter("mae", paths_on=(3,), num_paths=3)
