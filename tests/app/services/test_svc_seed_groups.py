"""Seeds of one setting: which runs belong together, and the interval the results card prints."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.services.run_results import pick_rows, seeds_line
from app.services.seed_groups import seed_siblings, seed_summary, setting_key


def run(rid, seed, *, lr=0.002, test=0.2, name=None, pick="parsimonious"):
    cfg = {"request": {"seed": seed, "name": name or rid, "lr": lr, "device": "cpu"}, "train": {"seed": seed, "lr": lr},
           "seed": seed, "argv": ["search", "--seed", str(seed)], "rank_loss": "l1", "ablation": "none"}
    picks = {pick: {"mask": "011011", "mflops": 1.7, "mae": test - 0.01, "test": {"mae": test}},
             "best": {"mask": "111011", "mflops": 2.0, "mae": test - 0.02, "test": {"mae": test + 0.01}}}
    return SimpleNamespace(id=rid, name=name or rid, config=cfg, result={"picks": picks}, checkpoint=None)


def test_a_setting_ignores_seed_name_device_and_command_line_only():
    assert setting_key(run("a", 0)) == setting_key(run("b", 1, name="other"))
    assert setting_key(run("a", 0)) != setting_key(run("c", 0, lr=0.001))


def test_siblings_are_one_run_per_seed_of_the_same_setting_newest_first():
    a0, a1, a1_old, b2 = run("a0", 0), run("a1", 1), run("a1old", 1, test=0.9), run("b2", 2, lr=0.01)
    sib = seed_siblings(a0, [a1, a1_old, b2])  # newest first: a1 wins over a1_old
    assert [r.id for r in sib] == ["a0", "a1"]


def test_summary_needs_two_seeds_and_gives_the_bootstrap_interval():
    assert seed_summary([run("a", 0)], "parsimonious", "mae") is None
    rs = [run("a", 0, test=0.2), run("b", 1, test=0.3), run("c", 2, test=0.25)]
    s = seed_summary(rs, "parsimonious", "mae")
    assert s["n"] == 3 and s["seeds"] == [0, 1, 2] and s["mean"] == pytest.approx(0.25)
    assert s["lo"] <= 0.25 <= s["hi"] and 0.2 <= s["lo"] and s["hi"] <= 0.3


def test_the_card_shows_valid_and_test_and_the_line_over_seeds():
    a, b = run("a", 0, test=0.2), run("b", 1, test=0.3)
    rows = pick_rows(a)
    assert rows[0]["pick"].startswith("fewest FLOPs") and rows[0]["valid MAE"] == "0.190" and rows[0]["test MAE"] == "0.200"
    line = seeds_line(a, [b])
    assert line.startswith("Across 2 seeds of this setting (seeds 0, 1): the fewest FLOPs within 1 SE of the best "
                           "pick's test MAE 0.250 [")
    assert seeds_line(a, []) is None  # one seed: no interval, nothing said
