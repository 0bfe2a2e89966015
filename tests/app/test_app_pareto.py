"""Pareto page (AppTest): the checkpoint's table and runs' masks, front, budget, baselines, CSV."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from mro_core.checkpoint import load_checkpoint  # noqa: E402

from app.services import state as S  # noqa: E402
from app.services.pareto_view import best_under_budget  # noqa: E402

DEMO = ROOT / "checkpoints" / "demo.pt"
ROWS = load_checkpoint(DEMO).mask_table
HAS_STORE = importlib.util.find_spec("mro_core.runs.store") is not None


@pytest.fixture
def make_app(open_app):
    return lambda: open_app("views/pareto.py")


def figure(at: AppTest) -> dict:
    charts = at.get("plotly_chart")
    assert charts, "no plotly chart on the page"
    return json.loads(charts[0].proto.spec)


def best_text(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "Best under" in m.value or "fits" in m.value)


def test_smoke_checkpoint_table(make_app):
    at = make_app()
    assert not at.exception
    assert at.title[0].value == "Pareto front"
    fig = figure(at)
    names = [t.get("name", "") for t in fig["data"]]
    assert any(n.endswith("Pareto front") for n in names)
    n_points = sum(len(t["x"]) for t in fig["data"] if t.get("name", "").startswith("checkpoint"))
    assert n_points == len(ROWS) == 63
    masks = {cd[0] for t in fig["data"] for cd in t.get("customdata", [])}
    assert "011011" in masks  # hover / selection carry the mask
    best = min(ROWS, key=lambda r: (r["mae"], r["mflops"]))
    assert f"**{best['mask']}**" in best_text(at)
    assert at.get("download_button")


def test_budget_slider_marks_best_under_budget(make_app):
    at = make_app()
    budget = 1.0
    at.slider(key=S.PARETO_BUDGET).set_value(budget).run()
    assert not at.exception
    expected = best_under_budget(ROWS, "mae", False, budget)
    assert f"**{expected['mask']}**" in best_text(at)
    star = next(t for t in figure(at)["data"] if t.get("name") == "best under budget")
    assert star["customdata"][0][0] == expected["mask"]


def test_metric_choice(make_app):
    at = make_app()
    at.selectbox(key=S.PARETO_METRIC).set_value("acc2").run()
    assert not at.exception
    best = best_under_budget(ROWS, "acc2", True, max(r["mflops"] for r in ROWS))
    assert f"**{best['mask']}**" in best_text(at)
    assert "Acc-2" in figure(at)["layout"]["yaxis"]["title"]["text"]


def test_selected_point_opens_in_explore(make_app):
    at = make_app()
    at.session_state[S.PARETO_OPEN] = "011011"  # what the chart's selection callback leaves
    at.run()
    assert not at.exception
    assert at.title[0].value == "Explore subnets"
    assert at.session_state[S.MASK] == "011011"


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_run_masks_and_baselines(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    rid = store.create_run("toy", "search", {"rank_loss": "l1", "ablation": "none"}, total_epochs=1)
    store.mark_running(rid)
    store.put_masks(rid, [{"mask": "000011", "mflops": 0.9, "mae": 0.3},
                          {"mask": "111111", "mflops": 2.6, "mae": 0.25},
                          {"mask": "100000", "mflops": 0.5, "mae": 0.9}], "valid", "supernet")
    store.finish(rid, "done", result={"baselines": [{"name": "Concat+MLP", "mflops": 0.4, "mae": 0.7}]})
    store.close()
    at = make_app()
    assert not at.exception
    assert at.multiselect(key=S.PARETO_RUNS).value == [rid]
    fig = figure(at)
    run_traces = [t for t in fig["data"] if rid in t.get("name", "")]
    assert sum(len(t["x"]) for t in run_traces) == 3
    base = next(t for t in fig["data"] if t.get("name") == "baselines")
    assert base["text"] == ["Concat+MLP"]
    at.checkbox(key=S.PARETO_INCLUDE_CHECKPOINT).uncheck().run()
    assert "**111111**" in best_text(at)  # the budget slider re-ranged to the run's masks: best overall
