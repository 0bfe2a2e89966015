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
