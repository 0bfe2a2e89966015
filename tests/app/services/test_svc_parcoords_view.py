"""app.services.parcoords_view: one axis per path (named), MFLOPs, the metric; other spaces left out."""

from __future__ import annotations

from app.services.parcoords_view import parcoords_data

NAMES = ["T->A", "T->V", "A->T", "A->V", "V->T", "V->A"]
ROWS = [
    {"mask": "011011", "mflops": 1.5, "acc2": 0.80, "_source": "run a"},
    {"mask": "111111", "mflops": 2.6, "acc2": 0.82, "_source": "run a"},
    {"mask": "100000", "mflops": 0.4, "acc2": None, "_source": "run a"},  # no metric: left out
    {"mask": "1010", "mflops": 1.0, "acc2": 0.7, "_source": "run a"},  # another path space: left out
]


def test_axes_are_paths_then_mflops_then_metric():
    d = parcoords_data(ROWS, NAMES, "acc2", metric_label="Acc-2 (%)", scale=100.0)
    assert [x["label"] for x in d.dimensions] == NAMES + ["MFLOPs", "Acc-2 (%)"]
    assert d.dimensions[0]["values"] == [0, 1] and d.dimensions[1]["values"] == [1, 1]
    assert all(x["tickvals"] == [0, 1] and x["ticktext"] == ["off", "on"] for x in d.dimensions[:6])
    assert d.dimensions[-2]["values"] == [1.5, 2.6] and d.dimensions[-2]["range"] == [1.5, 2.6]
    assert [round(v, 6) for v in d.dimensions[-1]["values"]] == [80.0, 82.0]
    assert d.color == [0.80, 0.82] and d.masks == ["011011", "111111"] and d.left_out == 2


def test_a_source_axis_with_two_sources_and_a_flat_axis_gets_a_range():
    rows = [{"mask": "01", "mflops": 1.0, "mae": 0.5, "_source": "a"},
            {"mask": "11", "mflops": 1.0, "mae": 0.4, "_source": "b"}]
    d = parcoords_data(rows, ["T->A", "A->T"], "mae", metric_label="MAE")
    assert d.dimensions[0]["label"] == "source" and d.dimensions[0]["ticktext"] == ["a", "b"]
    assert d.dimensions[0]["values"] == [0, 1]
    assert d.dimensions[-2]["range"] == [0.5, 1.5]  # every MFLOPs equal


def test_thirty_paths_at_k6():
    mods = ["a", "b", "c", "d", "e", "f"]
    names = [f"{s}->{t}" for s in mods for t in mods if s != t]
    rows = [{"mask": "1" * 30, "mflops": 3.0, "mae": 0.3}, {"mask": "0" * 29 + "1", "mflops": 0.1, "mae": 0.9}]
    d = parcoords_data(rows, names, "mae", metric_label="MAE")
    assert len(d.dimensions) == 32 and d.dimensions[29]["label"] == "f->e" and d.left_out == 0


def test_nothing_drawable():
    d = parcoords_data(ROWS[2:], NAMES, "acc2", metric_label="Acc-2")
    assert d.dimensions == [] and d.left_out == 2


def test_at_most_the_best_lines_are_drawn():
    from app.services.parcoords_view import best_lines

    rows = [{"mask": f"{i:03b}", "mflops": 1.0, "mae": 0.1 * (7 - i)} for i in range(1, 8)]
    assert best_lines(rows, "mae", False, 10) == rows  # under the cap: all, in their order
    assert [r["mask"] for r in best_lines(rows, "mae", False, 3)] == ["111", "110", "101"]  # lowest MAE
    assert [r["mask"] for r in best_lines(rows, "mae", True, 2)] == ["001", "010"]  # highest first
    broken = rows + [{"mask": "000", "mflops": None, "mae": 0.0}]
    assert "000" not in [r["mask"] for r in best_lines(broken, "mae", False, 7)]  # unusable rows go last
