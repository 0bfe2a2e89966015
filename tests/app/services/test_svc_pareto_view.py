"""app.services.pareto_view: the front, the budget pick, CSV and chart selections."""

from __future__ import annotations

from types import SimpleNamespace

from app.services.pareto_view import best_under_budget, pareto_front, rows_to_csv, selected_points


ROWS = [
    {"mask": "000001", "mflops": 1.0, "mae": 0.60},
    {"mask": "000011", "mflops": 2.0, "mae": 0.40},
    {"mask": "000111", "mflops": 3.0, "mae": 0.45},  # dominated by 000011
    {"mask": "001111", "mflops": 3.0, "mae": 0.30},
    {"mask": "111111", "mflops": 4.0, "mae": 0.30},  # same metric, more FLOPs: dominated
    {"mask": "100000", "mflops": None, "mae": 0.1},  # infeasible: no FLOPs
    {"mask": "010000", "mflops": 1.5, "mae": float("nan")},  # infeasible: no metric
]


def test_pareto_front_splits_rows():
    info = pareto_front(ROWS, "mae", higher_is_better=False)
    assert [r["mask"] for r in info.front] == ["000001", "000011", "001111"]
    assert sorted(r["mask"] for r in info.dominated) == ["000111", "111111"]
    assert sorted(r["mask"] for r in info.infeasible) == ["010000", "100000"]
    assert info.objectives == ("mae", "mflops") and info.higher_is_better is False


def test_pareto_front_higher_is_better_and_ties():
    rows = [{"mask": "01", "mflops": 1.0, "acc": 0.5}, {"mask": "10", "mflops": 1.0, "acc": 0.5},
            {"mask": "11", "mflops": 2.0, "acc": 0.7}]
    info = pareto_front(rows, "acc", higher_is_better=True)
    assert [r["mask"] for r in info.front] == ["01", "10", "11"]
    assert pareto_front([], "acc", True).front == []


def test_best_under_budget():
    assert best_under_budget(ROWS, "mae", False, 2.5)["mask"] == "000011"
    assert best_under_budget(ROWS, "mae", False, 10)["mask"] == "001111"  # tie on mae: fewer FLOPs
    assert best_under_budget(ROWS, "mae", False, 0.5) is None


def test_csv_and_selection():
    text = rows_to_csv([{"mask": "011011", "mflops": 1.5}, {"mask": "111111", "extra": 2}])
    assert text.splitlines() == ["mask,mflops,extra", "011011,1.5,", "111111,,2"]
    sel = {"selection": {"points": [{"customdata": ["011011", "run a", "T->V"]},
                                    {"customdata": ["011011", "run a", "T->V"]},  # the same point twice
                                    {"customdata": None}, {"customdata": ["000011", "run b"]}]}}
    assert selected_points(sel) == [("011011", "run a"), ("000011", "run b")]
    assert selected_points({"selection": {"points": [{"customdata": None}]}}) == []
    assert selected_points(None) == []
    attr = SimpleNamespace(selection=SimpleNamespace(points=[{"customdata": ["111111", "ck"]}]))
    assert selected_points(attr) == [("111111", "ck")]
