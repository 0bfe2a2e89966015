"""app.services.pareto_filter: top-k by the metric and the dominated toggle, on a table of known
dominance (ties on the metric and on both objectives, both metric directions)."""

from __future__ import annotations

import pytest

from app.services.pareto_filter import best_first, filter_front, restrict
from app.services.pareto_view import pareto_front

# MAE, lower is better. Known split: front A, B, D, F; dominated C (by B), E (by D and F: same MAE,
# more MFLOPs). D and F tie on both objectives: both stay on the front.
MAE_ROWS = [
    {"mask": "000001", "mflops": 1.0, "mae": 0.60},  # A front
    {"mask": "000011", "mflops": 2.0, "mae": 0.40},  # B front
    {"mask": "000111", "mflops": 3.0, "mae": 0.45},  # C dominated by B
    {"mask": "001111", "mflops": 3.0, "mae": 0.30},  # D front
    {"mask": "111111", "mflops": 4.0, "mae": 0.30},  # E dominated (ties D's MAE with more MFLOPs)
    {"mask": "010111", "mflops": 3.0, "mae": 0.30},  # F front (ties D on both)
    {"mask": "100000", "mflops": None, "mae": 0.10},  # infeasible
]
# accuracy, higher is better: the same shape mirrored (acc = 1 - mae)
ACC_ROWS = [{**{k: v for k, v in r.items() if k != "mae"}, "acc": 1.0 - r["mae"]} for r in MAE_ROWS]


def masks(rows):
    return sorted(r["mask"] for r in rows)


@pytest.mark.parametrize("rows, metric, hib", [(MAE_ROWS, "mae", False), (ACC_ROWS, "acc", True)])
def test_the_table_has_the_dominance_the_tests_assume(rows, metric, hib):
    info = pareto_front(rows, metric, hib)
    assert masks(info.front) == ["000001", "000011", "001111", "010111"]
    assert masks(info.dominated) == ["000111", "111111"]


@pytest.mark.parametrize("rows, metric, hib", [(MAE_ROWS, "mae", False), (ACC_ROWS, "acc", True)])
def test_best_first_follows_the_direction_and_breaks_ties(rows, metric, hib):
    feas = pareto_front(rows, metric, hib)
    order = [r["mask"] for r in best_first(feas.front + feas.dominated, metric, hib)]
    # three tie on the metric: fewer MFLOPs first (E last), then the mask's text (D before F)
    assert order == ["001111", "010111", "111111", "000011", "000111", "000001"]


@pytest.mark.parametrize("rows, metric, hib", [(MAE_ROWS, "mae", False), (ACC_ROWS, "acc", True)])
def test_hiding_dominated_leaves_only_the_front(rows, metric, hib):
    out = filter_front(pareto_front(rows, metric, hib), show_dominated=False)
    assert masks(out.front) == ["000001", "000011", "001111", "010111"] and out.dominated == []
    assert masks(out.infeasible) == ["100000"]  # carried over, never drawn


@pytest.mark.parametrize("rows, metric, hib", [(MAE_ROWS, "mae", False), (ACC_ROWS, "acc", True)])
def test_top_k_keeps_the_k_best_and_their_dominance(rows, metric, hib):
    info = pareto_front(rows, metric, hib)
    two = filter_front(info, top_k=2)
    assert masks(two.front) == ["001111", "010111"] and two.dominated == []  # the tie at the top, both
    three = filter_front(info, top_k=3)
    assert masks(three.front) == ["001111", "010111"]
    assert masks(three.dominated) == ["111111"]  # still dominated: the mask that dominates it is shown too
    front_only = filter_front(info, top_k=3, show_dominated=False)  # k counted among the front
    assert masks(front_only.front) == ["000011", "001111", "010111"] and front_only.dominated == []
    assert [r["mask"] for r in three.front] == ["001111", "010111"]  # order of the front kept (by MFLOPs)


def test_top_k_zero_or_none_keeps_everything_and_larger_k_is_all():
    info = pareto_front(MAE_ROWS, "mae", False)
    for k in (None, 0, 6, 100):
        out = filter_front(info, top_k=k)
        assert masks(out.front) == masks(info.front) and masks(out.dominated) == masks(info.dominated)


def test_top_k_counts_per_call_not_across_sources():
    a = [{**r, "_source_id": "a"} for r in MAE_ROWS]
    b = [{**r, "_source_id": "b"} for r in MAE_ROWS]
    assert len(filter_front(pareto_front(a, "mae", False), top_k=1).front) == 1
    assert filter_front(pareto_front(b, "mae", False), top_k=1).front[0]["_source_id"] == "b"


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_bad_top_k_is_refused(bad):
    with pytest.raises(ValueError, match="top_k must be a whole number"):
        filter_front(pareto_front(MAE_ROWS, "mae", False), top_k=bad)


def test_restrict_keeps_order_and_direction():
    info = pareto_front(MAE_ROWS, "mae", False)
    out = restrict(info, lambda r: r["mflops"] >= 2.0)
    assert [r["mask"] for r in out.front] == [r["mask"] for r in info.front if r["mflops"] >= 2.0]
    assert out.objectives == ("mae", "mflops") and out.higher_is_better is False
