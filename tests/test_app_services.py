"""The dashboard's non-UI services (app/services): pure functions, no Streamlit."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mro_core.paths import PathSpace  # noqa: E402

from app.services import launch, tables  # noqa: E402
from app.services import runs as run_svc  # noqa: E402
from app.services.data_root import DataPathError, list_data_files, resolve_data_file  # noqa: E402
from app.services.masks import bits_from_toggles, flip, resolve_mask  # noqa: E402
from app.services.metrics_view import display_value, format_delta, primary  # noqa: E402
from app.services.pareto_view import best_under_budget, pareto_front, rows_to_csv, selected_points  # noqa: E402
from app.services.prior_view import edge_rows, graph_elements, read_prior, uniform_p  # noqa: E402
from app.services.routing import routing_svg  # noqa: E402

SPACE = PathSpace(("T", "A", "V"))


# ------------------------------------------------------------------------------------- pareto
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


# ---------------------------------------------------------------------------------- data root
def test_data_root_rejects_escapes(tmp_path):
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.npz").write_bytes(b"x")
    outside = tmp_path / "secret.pkl"
    outside.write_bytes(b"x")
    os.symlink(outside, root / "link.pkl")
    os.symlink(tmp_path, root / "up")  # a symlinked folder leading out
    assert resolve_data_file(root, "sub/a.npz") == (root / "sub" / "a.npz").resolve()
    for bad, match in (("../secret.pkl", r"'\.\.'"), ("sub/../../secret.pkl", r"'\.\.'"),
                       (str(outside), "absolute"), ("link.pkl", "outside"), ("up/secret.pkl", "outside"),
                       ("", "no data file"), ("missing.npz", "does not exist"), ("sub", "not a file")):
        with pytest.raises(DataPathError, match=match):
            resolve_data_file(root, bad)
    assert list_data_files(root) == ["sub/a.npz"]
    assert list_data_files(tmp_path / "nope") == []


# -------------------------------------------------------------------------------------- masks
def test_resolve_mask_precedence():
    parse = lambda s: PathSpace.to_bits(SPACE.parse(s))  # noqa: E731
    assert resolve_mask(parse, url_value="T->V,A->T", session_value="111111", default="111111") == ("011000", None)
    bits, warn = resolve_mask(parse, url_value="0101", session_value="000011", default="111111")
    assert bits == "000011" and "does not fit" in warn
    assert resolve_mask(parse, url_value=None, session_value="000000", default="111111")[0] == "111111"
    assert bits_from_toggles([True, False, True]) == "101" and flip("101", 1) == "111"


def test_metric_formatting():
    assert display_value("acc7", 0.7783) == "77.83%" and display_value("mae", 0.21585) == "0.216"
    assert display_value("mae", None) == "" and display_value("mae", float("nan")) == ""
    assert format_delta("mae", 0.2, 0.3) == "-0.100" and format_delta("acc2", 0.9, 0.8) == "+10.00"
    assert primary("regression").key == "mae" and primary("classification").key == "acc"


# -------------------------------------------------------------------------------------- prior
def test_read_prior_defensive():
    v = read_prior(None, SPACE)
    assert v.uniform and v.final.p == uniform_p(SPACE) == [0.5] * 6 and not v.messages
    v = read_prior({"p": [0.1] * 5}, SPACE)  # wrong length
    assert v.uniform and any("6 numbers" in m for m in v.messages)
    v = read_prior("garbage", SPACE)
    assert v.uniform and v.messages
    good = {"p": [0.9, 0.1, 0.5, 0.5, 0.2, 0.8], "alpha": 1.0, "beta": 0.5, "gamma": "x",
            "stats": {"cos": [0.1] * 6, "var_g": [1, 2, 3, 4, 5, 6], "var_a": "bad"},
            "history": [{"epoch": 2, "p": [0.5] * 6}, {"p": [0.6] * 6}, {"epoch": 1, "p": None}, 7]}
    v = read_prior(good, SPACE)
    assert not v.uniform and v.final.alpha == 1.0 and v.final.gamma is None
    assert [s.epoch for s in v.history] == [2, 2]  # an entry without an epoch gets its position
    assert any("var_a" in m for m in v.messages) and any("history[2]" in m for m in v.messages)
    rows = edge_rows(SPACE, v.final)
    assert [r["path"] for r in rows] == list(SPACE.path_names)
    assert rows[0]["cos"] == 0.1 and rows[0]["var_a"] is None and rows[0]["score"] is None
    partial = read_prior({"p": [0.5] * 6, "alpha": 1.0, "beta": 1.0, "gamma": 1.0,
                          "stats": {"cos": [0.0, 1.0, None, 1.0, 0.0, 1.0], "var_g": [1.0] * 6, "var_a": [2.0] * 6}},
                         SPACE)
    assert partial.final.stats["cos"][2] is None and not partial.messages  # an unobserved edge is allowed
    scores = [r["score"] for r in edge_rows(SPACE, partial.final)]
    assert scores[2] == 0.0 and scores[1] > 0 > scores[0]
    only_history = read_prior({"history": [{"epoch": 3, "p": [0.4] * 6}]}, SPACE)
    assert not only_history.uniform and only_history.final.epoch == 3


def test_graph_elements_and_svg():
    nodes, edges = graph_elements(SPACE, [0.9, 0.1, 0.5, 0.5, 0.0, 1.0], "011011")
    assert [n.id for n in nodes] == ["T", "A", "V"]
    assert all(isinstance(e.label, str) for e in edges) and edges[0].label == "T->A 0.90"
    assert [e.active for e in edges] == [False, True, True, False, True, True]
    assert edges[5].width > edges[0].width > edges[4].width
    svg = routing_svg(SPACE, "011011")
    assert svg.startswith("<svg") and svg.count("(active)") == 4 and svg.count("(off)") == 2
    big = PathSpace(("A", "B", "C", "D", "E"))
    assert routing_svg(big, "1" * 20).count("(active)") == 20


# --------------------------------------------------------------------------------------- runs
def test_search_argv_and_validation(tmp_path):
    req = launch.SearchRequest(dataset="synthetic", preset="demo", epochs=3, warmup=1, masks_per_step=4,
                                rank_loss="l2", ablation="no_rank_reg", seed=7, name="t", budget_mflops=1.5,
                                synthetic={"n-train": 200, "modalities": "T,A,V", "noise": None})
    argv = launch.search_argv(req, tmp_path, python="py")
    assert argv[:4] == ["py", "-m", "mro_core", "search"]
    joined = " ".join(argv)
    for part in ("--dataset synthetic", "--epochs 3", "--warmup 1", "--masks-per-step 4", "--rank-loss l2",
                 "--ablation no_rank_reg", "--seed 7", "--budget-mflops 1.5", "--n-train 200",
                 f"--workspace {tmp_path}", "--name t", "--detach", "--json"):
        assert part in joined
    assert "--noise" not in joined and "--data-path" not in joined
    bad = {"rank_loss": "l3"}, {"ablation": "x"}, {"warmup": 5}, {"dataset": "npz"}, {"budget_mflops": -1.0}
    for change in bad:
        with pytest.raises(ValueError):
            launch.search_argv(launch.SearchRequest(**{**req.__dict__, **change}), tmp_path)


def test_parse_run_id_and_time():
    assert launch.parse_run_id('{"run_id": "ab12cd34"}\n') == "ab12cd34"
    assert launch.parse_run_id("INFO x\nab12cd34\n") == "ab12cd34"
    assert launch.parse_run_id("") is None
    assert run_svc.parse_time("2024-01-01T00:00:00Z") == 1704067200.0
    assert run_svc.parse_time(5) == 5.0 and run_svc.parse_time("nope") is None
    rec = SimpleNamespace(progress=0.25, started=100.0, created=90.0)
    assert run_svc.eta_seconds(rec, "running", now=200.0) == pytest.approx(300.0)
    assert run_svc.eta_seconds(rec, "done", now=200.0) is None
    assert run_svc.format_duration(3725) == "1h 02m" and run_svc.format_duration(None) == ""


def _rec(rid, rank_loss, ablation, picks, baselines=None, task="regression"):
    return SimpleNamespace(id=rid, name=f"run-{rid}", config={"rank_loss": rank_loss, "ablation": ablation, "task": task},
                           result={"picks": picks, "baselines": baselines or []}, checkpoint=None)


def test_tables_from_results():
    pick = {"mask": "011011", "mflops": 1.75, "mae": 0.2, "corr": 0.9, "acc7": 0.7, "acc2": 0.9, "f1": 0.88}
    a = _rec("a", "l1", "none", {"best": pick}, [{"name": "Concat+MLP", "mflops": 0.5, "metrics": {"mae": 0.8}}])
    b = _rec("b", "linf", "no_rank_reg", {"knee": pick})
    t5 = tables.table5_rows([a, b], "best")
    assert t5[0]["Model"] == "Concat+MLP" and t5[0]["MAE"] == 0.8 and t5[0]["Subnet Mask"] == "\u2014"
    assert t5[1]["Subnet Mask"] == "011011" and t5[1]["MFLOPs"] == 1.75 and t5[1]["Model"].startswith("MRO")
    assert t5[2]["Subnet Mask"] == "" and t5[2]["MAE"] is None  # run b has no "best" pick
    events = {"a": [{"epoch": 1, "payload": {"spearman": 0.1}}, {"epoch": 2, "payload": {"spearman": 0.4}}]}
    t4 = tables.table4_rows([a, b], events, "best")
    assert t4[0]["Loss Function"] == "L1" and t4[0]["Rank Corr (\u03c1)"] == 0.4 and t4[0]["Acc-7"] == 0.7
    assert t4[1]["Loss Function"] == "L\u221e" and t4[1]["Rank Corr (\u03c1)"] is None
    curves = tables.epoch_curves("a", [{"epoch": 1, "payload": {"train_loss": 1.0, "valid_loss": 0.9, "spearman": 0.1}}])
    assert {c["series"] for c in curves} == {"train_loss", "valid_loss", "spearman"}
    cls = _rec("c", "l2", "none", {"best": {"mask": "1", "acc": 0.6, "f1": 0.5}}, task="classification")
    row = tables.table5_rows([cls], "best")[0]
    assert row["Acc-7"] == 0.6 and row["MAE"] is None
    assert tables.percent_cells([{"F1": 0.5, "MAE": 0.2}], ["F1"]) == [{"F1": 50.0, "MAE": 0.2}]


@pytest.mark.slow
def test_a_k4_search_launched_like_the_search_page_runs_to_the_end(tmp_path):
    """The Search page's command for four synthetic modalities runs a real k = 4 search."""
    import subprocess

    import torch

    from conftest import wait_for
    from mro_core.store import RunStore

    req = launch.SearchRequest(dataset="synthetic", preset="demo", epochs=1, warmup=0, masks_per_step=4,
                               rank_loss="l1", ablation="none", seed=0, name="k4", budget_mflops=None,
                               synthetic={"n-train": 64, "n-valid": 32, "n-test": 32, "modalities": "T,A,V,D",
                                          "planted": "T->A,D->T"})
    out = subprocess.run(launch.search_argv(req, tmp_path / "ws"), capture_output=True, text=True, timeout=120)
    rid = launch.parse_run_id(out.stdout)
    assert out.returncode == 0 and rid, out.stderr[-1000:]
    store = RunStore(tmp_path / "ws")
    wait_for(lambda: store.get_run(rid).effective_status not in ("queued", "running"), 240, "k = 4 search")
    rec = store.get_run(rid)
    assert rec.status == "done", rec.error
    raw = torch.load(rec.checkpoint, weights_only=True)
    assert raw["model_config"]["modalities"] == ["T", "A", "V", "D"] and len(raw["mask_table"]) == 4095


def test_dashboard_config_hides_deploy_and_ships_a_favicon():
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["client"]["toolbarMode"] in ("minimal", "viewer")  # no "Deploy" button
    assert (ROOT / "app" / "assets" / "favicon.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "assets" in (ROOT / "app" / "main.py").read_text() and ":material/hub:" not in (ROOT / "app" / "main.py").read_text()


def test_text_escaping():
    from app.services.text import markdown_text, plotly_text

    name = "<b>BOLD</b> <a href='x'>link</a>"
    assert plotly_text(name) == "&lt;b&gt;BOLD&lt;/b&gt; &lt;a href=&#x27;x&#x27;&gt;link&lt;/a&gt;"
    assert "<" not in markdown_text(name) and "\\*\\*x\\*\\*" in markdown_text("**x**")
