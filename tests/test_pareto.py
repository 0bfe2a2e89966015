import pytest

from mro_core.pareto import knee_point, pareto_front, select_picks

ROWS = [  # mae (lower better), mflops
    {"mask": "100000", "mae": 0.70, "mflops": 1.0},
    {"mask": "110000", "mae": 0.40, "mflops": 2.0},
    {"mask": "111000", "mae": 0.38, "mflops": 3.0},
    {"mask": "111100", "mae": 0.45, "mflops": 3.5},  # dominated by 111000
    {"mask": "111111", "mae": 0.30, "mflops": 6.0},
    {"mask": "011111", "mae": 0.30, "mflops": 6.0},  # exact tie with 111111: both on the front
]


def test_front_dominated_and_order():
    info = pareto_front(ROWS, "mae", False)
    assert [r["mask"] for r in info.front] == ["100000", "110000", "111000", "111111", "011111"]
    assert [r["mask"] for r in info.dominated] == ["111100"]
    assert info.infeasible == []


def test_budget_splits_off_infeasible():
    info = pareto_front(ROWS, "mae", False, budget_mflops=3.0)
    assert {r["mask"] for r in info.infeasible} == {"111100", "111111", "011111"}
    assert [r["mask"] for r in info.front] == ["100000", "110000", "111000"]


def test_higher_is_better_metric():
    rows = [{"mask": "a", "acc": 0.5, "mflops": 1}, {"mask": "b", "acc": 0.4, "mflops": 2},
            {"mask": "c", "acc": 0.9, "mflops": 3}]
    assert [r["mask"] for r in pareto_front(rows, "acc", True).front] == ["a", "c"]


def test_knee_is_the_elbow():
    # normalised front: (0,1) (0.2,0.25) (0.4,0.2) (1,0): the elbow is the second point
    front = pareto_front(ROWS[:3] + ROWS[4:5], "mae", False).front
    assert knee_point(front, "mae", False)["mask"] == "110000"


def test_picks():
    picks = select_picks(ROWS, "mae", False, budget_mflops=2.5, prior_mask="111000")
    assert picks["best"]["mask"] == "111111"  # tie on both objectives: the first listed
    assert picks["budget"]["mask"] == "110000"
    assert picks["knee"]["mask"] == "110000"
    assert picks["prior"]["mask"] == "111000"
    assert "error" in select_picks(ROWS, "mae", False, budget_mflops=0.5)["budget"]


def test_errors():
    with pytest.raises(ValueError, match="no evaluated masks"):
        pareto_front([], "mae", False)
    with pytest.raises(ValueError, match="unknown metric 'acc'"):
        pareto_front(ROWS, "acc", True)


# ------------------------------------------------------------------ the one-standard-error pick
from mro_core.pareto import PICKS, one_se_pick  # noqa: E402

SE_ROWS = [  # a planted pair, a superset of it that is better by less than one SE, a cheap miss
    {"mask": "110000", "mae": 0.300, "mflops": 2.0},
    {"mask": "111000", "mae": 0.290, "mflops": 3.0},   # best, but only 0.010 better
    {"mask": "111111", "mae": 0.295, "mflops": 6.0},
    {"mask": "100000", "mae": 0.500, "mflops": 1.0},   # far outside one SE
]


def test_superset_within_one_se_loses_to_the_smaller_mask():
    pick = one_se_pick(SE_ROWS, "mae", False, se=0.02)
    assert pick["mask"] == "110000"
    assert pick["threshold"] == pytest.approx(0.31) and pick["within_se"] == 3 and pick["se"] == 0.02


def test_mask_outside_one_se_is_not_taken():
    # with a smaller SE the pair (0.300) is outside 0.290 + 0.005: the best mask itself is the pick
    assert one_se_pick(SE_ROWS, "mae", False, se=0.005)["mask"] == "111000"
    # and the cheap single path is never within reach of a moderate SE
    assert one_se_pick(SE_ROWS, "mae", False, se=0.2)["mask"] == "110000"
    assert one_se_pick(SE_ROWS, "mae", False, se=0.21)["mask"] == "100000"


def test_zero_se_is_the_best_pick_and_ties_go_to_fewer_flops_then_metric_then_paths():
    assert one_se_pick(SE_ROWS, "mae", False, se=0.0)["mask"] == "111000"
    rows = [{"mask": "011", "mae": 0.30, "mflops": 2.0}, {"mask": "110", "mae": 0.29, "mflops": 2.0},
            {"mask": "111", "mae": 0.28, "mflops": 3.0}]
    assert one_se_pick(rows, "mae", False, se=0.05)["mask"] == "110"  # equal MFLOPs: the better metric
    rows = [{"mask": "0111", "mae": 0.3, "mflops": 2.0}, {"mask": "1100", "mae": 0.3, "mflops": 2.0}]
    assert one_se_pick(rows, "mae", False, se=0.0)["mask"] == "1100"  # then fewer paths


def test_one_se_for_a_higher_is_better_metric():
    rows = [{"mask": "a", "acc": 0.99, "mflops": 5.0}, {"mask": "b", "acc": 0.985, "mflops": 2.0},
            {"mask": "c", "acc": 0.95, "mflops": 1.0}]
    assert one_se_pick(rows, "acc", True, se=0.01)["mask"] == "b"
    assert one_se_pick(rows, "acc", True, se=0.01)["threshold"] == pytest.approx(0.98)
    assert one_se_pick(rows, "acc", True, se=0.001)["mask"] == "a"


def test_select_picks_lists_parsimonious_first_only_with_an_se():
    picks = select_picks(SE_ROWS, "mae", False, best_se=0.02)
    assert list(picks)[:2] == ["parsimonious", "best"] and picks["parsimonious"]["mask"] == "110000"
    assert picks["best"]["mask"] == "111000"
    assert "parsimonious" not in select_picks(SE_ROWS, "mae", False)
    assert PICKS[0] == "parsimonious" and set(picks) <= set(PICKS)


def test_one_se_rejects_bad_input():
    with pytest.raises(ValueError, match="'se' must be"):
        one_se_pick(SE_ROWS, "mae", False, se=-1.0)
    with pytest.raises(ValueError, match="'se' must be"):
        one_se_pick(SE_ROWS, "mae", False, se=float("nan"))
    with pytest.raises(ValueError, match="no evaluated masks"):
        one_se_pick([], "mae", False, se=0.1)
