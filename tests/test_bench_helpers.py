"""bench/ui_latency.py's pure helpers: click and switch plans, the spread of timings, the verdicts and
the page predicates (no browser, no server, nothing timed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import ui_latency as B  # noqa: E402


def test_click_plan_flips_one_bit_per_click_and_never_reaches_the_empty_mask():
    names = [f"p{i}" for i in range(30)]
    plan = B.click_plan(names, "1" * 30, 200, seed=0)
    assert len(plan) == 200 and plan == B.click_plan(names, "1" * 30, 200, seed=0)  # seeded
    prev = "1" * 30
    for i, bits in plan:
        assert sum(a != b for a, b in zip(prev, bits)) == 1 and prev[i] != bits[i]
        assert "1" in bits
        prev = bits
    one = B.click_plan(["a", "b"], "10", 10, seed=1)
    assert all("1" in b for _, b in one)  # from a single path on, that path is never turned off


def test_switch_plan_cycles_through_the_pages():
    assert B.switch_plan(["explore", "graph", "pareto"], 4) == [
        ("explore", "graph"), ("graph", "pareto"), ("pareto", "explore"), ("explore", "graph")]


def test_spread_and_judge():
    s = B.spread([float(v) for v in range(1, 11)])
    assert s == {"n": 10, "median": 5.5, "p10": pytest.approx(1.9), "p90": pytest.approx(9.1), "min": 1.0,
                 "max": 10.0}
    assert B.judge(s, 10.0)["met"] is True and B.judge(s, 9.0)["met"] is False
    assert B.judge(s, None)["met"] is None and B.judge(s, 9.0)["target_p90_ms"] == 9.0
    with pytest.raises(ValueError, match="no timings"):
        B.spread([])


def test_summary_line_says_met_or_missed():
    s = B.judge(B.spread([100.0, 200.0, 300.0]), 250.0)
    line = B.summary_line("toggle", s)
    assert "median    200.0 ms" in line and "(n = 3)" in line and line.endswith("MISSED")
    assert "target" not in B.summary_line("toggle_settled", B.judge(B.spread([1.0]), None))


def test_targets_are_the_issues():
    assert B.TARGETS_MS == {"toggle": 300.0, "learn_next": 1000.0, "page_switch": 1000.0,
                            "pareto_redraw": 1000.0, "search_start": 1500.0}


def test_when_idle_wraps_the_condition_with_the_e2e_busy_check():
    from tests.e2e.patience import BUSY_JS

    js = B.when_idle("(arg) => arg[0] === 1")
    assert js.startswith("(arg) => !(") and BUSY_JS in js and js.endswith("((arg) => arg[0] === 1)(arg)")
    assert set(B.PAGE_READY) == set(B.PAGES)


def test_k3_uses_the_shipped_demo_checkpoint(tmp_path):
    workspace, ckpt, token, desc = B.prepare_workspace(3, tmp_path, 10_000, 0)
    assert workspace == tmp_path / "runs" and ckpt == ROOT / "checkpoints" / "demo.pt" and token is None
    assert not workspace.exists()  # an empty workspace: nothing is built for k = 3
