"""Compare page (AppTest): Table 5 / Table 4 layouts and per-epoch curves from runs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


from mro_core.training.checkpoint import load_checkpoint  # noqa: E402

from app.services import state as S  # noqa: E402

HAS_STORE = importlib.util.find_spec("mro_core.runs.store") is not None
TABLE5 = ["Model", "Subnet Mask", "MAE", "Corr", "Acc-7", "Acc-2", "F1", "MFLOPs", "From"]
SUITE = ["Model", "Subnet Mask", "MAE", "Corr", "Acc-7", "Acc-2", "F1", "MFLOPs", "Rank Corr (\u03c1)", "From"]



@pytest.fixture
def make_app(open_app):
    return lambda: open_app("views/compare.py")


def _table4(at):
    return next(d.value for d in at.dataframe if "Loss Function" in d.value.columns)


def test_smoke_checkpoint_rows(make_app):
    at = make_app()
    assert not at.exception
    assert at.title[0].value == "Compare runs"
    assert any("no search runs in this workspace yet" in i.value for i in at.info)  # explained empty state
    assert not any(h.value == "Table 4: rank losses" for h in at.subheader)  # no heading over nothing
    shipped, t5 = at.dataframe[0].value, at.dataframe[1].value
    assert list(shipped.columns) == SUITE  # the shipped `mro table` result, labelled as such
    assert set(shipped["From"]) == {"shipped results/table5.csv (mro table, test split)"}
    assert "Concat+MLP" in list(shipped["Model"])
    # a baseline has no rank correlation: the cell is missing and drawn as a dash, not "None"
    assert shipped.set_index("Model")["Rank Corr (\u03c1)"].isna()["Concat+MLP"]
    assert at.dataframe[0].proto.placeholder == "\u2014"
    assert any("mro table --suite table5" in c.value for c in at.caption)  # how to get the baselines
    assert list(t5.columns) == TABLE5
    assert set(t5["From"]) == {"sidebar checkpoint demo.pt, validation split"}
    table = {r["mask"]: r for r in load_checkpoint(ROOT / "checkpoints" / "demo.pt").mask_table}
    best = min(table.values(), key=lambda r: r["mae"])
    assert list(t5["Subnet Mask"]) == ["111111", best["mask"]]  # the demo's full mask and its best mask
    assert t5.iloc[1]["Acc-7"] == pytest.approx(100 * best["acc7"], abs=0.01)  # percentages, as in the paper


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_runs_tables_and_curves(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    ids = {}
    for loss, rho in (("l1", 0.6), ("l2", 0.3)):
        rid = store.create_run(f"loss-{loss}", "search", {"rank_loss": loss, "ablation": "none"}, total_epochs=2)
        store.mark_running(rid)
        for ep in (1, 2):
            store.log_event(rid, "epoch", ep, {"train_loss": 1.0 / ep, "valid_loss": 1.1 / ep, "spearman": rho * ep / 2})
        pick = {"mask": "011011", "mflops": 1.75, "mae": 0.2, "corr": 0.9, "acc7": 0.71, "acc2": 0.9, "f1": 0.89}
        store.finish(rid, "done", result={"picks": {"best": pick, "knee": {**pick, "mask": "000011"}},
                                          "baselines": [{"name": "EmbraceNet", "mflops": 1.0, "mae": 0.5}]})
        ids[loss] = rid
    store.close()
    at = make_app()
    assert not at.exception
    assert sorted(at.multiselect(key=S.COMPARE_RUNS).value) == sorted(ids.values())
    t5, t4 = at.dataframe[0].value, _table4(at)
    assert list(t5.columns) == TABLE5
    assert t5.iloc[0]["From"].startswith("baseline stored with run loss-")
    # the default pick is the parsimonious one; these runs predate it, so their best pick fills in
    assert set(t5["From"][1:]) == {f"run loss-{k} ({v}): its 'best' pick (made before the parsimonious pick)"
                                   for k, v in ids.items()}
    assert list(t5["Model"])[0] == "EmbraceNet"  # a baseline shared by both runs appears once
    assert (t5["Model"] == "EmbraceNet").sum() == 1
    assert list(t4.columns) == ["Run", "Loss Function", "Attention Mask", "Acc-7", "Acc-2", "F1", "Rank Corr (\u03c1)"]
    rho = dict(zip(t4["Loss Function"], t4["Rank Corr (\u03c1)"]))
    assert rho == {"L1": pytest.approx(0.6), "L2": pytest.approx(0.3)}
    assert len(at.get("plotly_chart")) == 2  # Spearman and loss curves
    at.selectbox(key=S.COMPARE_PICK).set_value("knee").run()
    assert set(_table4(at)["Attention Mask"]) == {"000011"}
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert fig["layout"]["xaxis"]["title"]["text"] == "epoch"
    assert fig["layout"]["yaxis"]["title"]["text"] == "Spearman \u03c1"
    assert fig["layout"]["legend"]["orientation"] == "h"  # below the plot: a long name does not squeeze it
    colors = {t["line"]["color"] for t in fig["data"]}
    assert len(colors) == 2  # one distinct colour per run


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_html_run_name_is_text_in_legends(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    rid = store.create_run("<b>BOLD</b> <a href='x'>link</a>", "search", {"rank_loss": "l1"}, total_epochs=1)
    store.mark_running(rid)
    store.log_event(rid, "epoch", 1, {"train_loss": 1.0, "valid_loss": 1.1, "spearman": 0.5})
    store.finish(rid, "done", result={"picks": {"best": {"mask": "011011", "mflops": 1.75, "mae": 0.2}}})
    store.close()
    at = make_app()
    names = [t["name"] for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]]
    assert names and all("<b>" not in n and "&lt;b&gt;" in n for n in names)


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_table_run_rows_are_labelled(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    rid = store.create_run("table5 (synthetic)", "table", {"suite": "table5"})
    store.finish(rid, "done", result={"suite": "table5", "seeds": [0, 1], "rows": [
        {"model": "EmbraceNet", "mask": "-", "mae": 0.66, "acc7": 0.4, "mflops": 0.05}]})
    store.close()
    at = make_app()
    suite = at.dataframe[0].value
    assert list(suite["Model"]) == ["EmbraceNet"] and list(suite["Subnet Mask"]) == ["\u2014"]
    assert suite.iloc[0]["From"] == f"mro table run table5 (synthetic) ({rid}), test split, 2 seed(s)"
    assert suite.iloc[0]["Acc-7"] == pytest.approx(40.0)


def test_reference_points_for_mosei_runs_only(make_app, tmp_path):
    from mro_core.data.references import SETTINGS_NOTE, reference_points
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    pick = {"mask": "011011", "mflops": 1.75, "mae": 0.6, "corr": 0.7, "acc7": 0.5, "acc2": 0.8, "f1": 0.8}
    ids = {}
    for ds in ("synthetic", "mosi"):
        rid = store.create_run(f"on {ds}", "search", {"rank_loss": "l1", "ablation": "none", "dataset": ds,
                                                      "request": {"dataset": ds, "unaligned": False}}, total_epochs=1)
        store.mark_running(rid)
        store.finish(rid, "done", result={"picks": {"best": pick}})
        ids[ds] = rid
    store.close()
    at = make_app()
    at.multiselect(key=S.COMPARE_RUNS).set_value([ids["synthetic"]]).run()
    assert not any(SETTINGS_NOTE in c.value for c in at.caption)
    at.multiselect(key=S.COMPARE_RUNS).set_value([ids["synthetic"], ids["mosi"]]).run()
    assert not at.exception
    refs = reference_points("mosi", aligned=True)
    table = next(d.value for d in at.dataframe if "Model" in d.value.columns
                 and set(d.value["Model"]) == {r["label"] for r in refs})
    assert table["MFLOPs"].isna().all() and all("MMSA" in f or "github" in f for f in table["From"])
    assert any(SETTINGS_NOTE in c.value for c in at.caption)
    # the mosi run's pick against the references: labelled dotted lines (no MFLOPs)
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    fig = next(f for f in figs if any(s.get("line", {}).get("dash") == "dot" for s in f["layout"].get("shapes", [])))
    dotted = [s for s in fig["layout"]["shapes"] if s["line"].get("dash") == "dot"]
    assert {round(s["y0"], 4) for s in dotted} == {round(r["metrics"]["mae"], 4) for r in refs}
    assert {a["text"] for a in fig["layout"]["annotations"]} >= {r["label"] for r in refs}
    assert [t["name"] for t in fig["data"]] == ["MRO: on mosi (011011)"]  # the synthetic run is not drawn


def test_the_parsimonious_pick_is_used_when_the_run_has_it():
    from app.services.tables import pick_of

    best, pars = {"mask": "111011"}, {"mask": "011011"}
    assert pick_of({"best": best, "parsimonious": pars}, "parsimonious") == (pars, "parsimonious")
    assert pick_of({"best": best}, "parsimonious") == (best, "best")  # an older run
    assert pick_of({"best": best}, "knee") == (None, "knee")  # no fallback for other picks
    assert pick_of(None, "best") == (None, "best")


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_methods_without_rank_regularization_list_no_rank_loss(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    ids = {}
    for ablation in ("none", "random_search"):  # both configs say rank_loss l1; random search uses none
        rid = store.create_run(ablation, "search", {"rank_loss": "l1", "ablation": ablation}, total_epochs=1)
        store.mark_running(rid)
        store.finish(rid, "done", result={"picks": {"best": {"mask": "011011", "mflops": 1.75, "mae": 0.2}}})
        ids[ablation] = rid
    store.close()
    at = make_app()
    assert not at.exception
    t4_el = next(d for d in at.dataframe if "Loss Function" in d.value.columns)
    t4 = t4_el.value
    assert dict(zip(t4["Run"], t4["Loss Function"])) == {f"none ({ids['none']})": "L1",
                                                         f"random_search ({ids['random_search']})": "\u2014"}
    # neither run recorded a Spearman rho (no epoch events): missing, drawn as a dash, not "None"
    assert t4["Rank Corr (\u03c1)"].isna().all() and t4_el.proto.placeholder == "\u2014"
    # the chosen runs, the shipped suite, the sidebar checkpoint (not Table 4, not the config diff)
    table5_parts = [d for d in at.dataframe if "Subnet Mask" in d.value.columns or "Model" in d.value.columns]
    assert len(table5_parts) == 3
    assert table5_parts and all(d.proto.placeholder == "\u2014" for d in table5_parts)  # missing cells: a dash


# ------------------------------------------------------------------------------ config diff
def _diff_table(at):
    return next(d.value for d in at.dataframe if list(d.value.columns) == ["key", "run A", "run B"])


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_config_diff_shows_only_the_keys_that_differ(make_app, tmp_path):
    import time

    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    base = {"rank_loss": "l1", "ablation": "none", "train": {"lr": 0.001, "epochs": 4}, "seed": 0}
    old = store.create_run("old", "search", base, total_epochs=4)
    time.sleep(0.01)  # distinct creation times: the newest two are the default pair
    mid = store.create_run("mid", "search", {**base, "seed": 1, "train": {"lr": 0.001, "epochs": 8}}, total_epochs=8)
    time.sleep(0.01)
    new = store.create_run("new", "search", {**base, "rank_loss": "l2", "extra": [1, 2]}, total_epochs=4)
    store.close()
    at = make_app()
    assert not at.exception
    assert any(h.value == "Config diff of two runs" for h in at.subheader)
    assert at.selectbox(key=S.COMPARE_DIFF_A).value == mid and at.selectbox(key=S.COMPARE_DIFF_B).value == new
    df = _diff_table(at)
    assert df.to_dict("records") == [
        {"key": "extra", "run A": "(absent)", "run B": "[1, 2]"},
        {"key": "rank_loss", "run A": "l1", "run B": "l2"},
        {"key": "seed", "run A": "1", "run B": "0"},
        {"key": "train.epochs", "run A": "8", "run B": "4"},
    ]
    at.selectbox(key=S.COMPARE_DIFF_A).set_value(old).run()
    assert set(_diff_table(at)["key"]) == {"extra", "rank_loss"}  # train.lr, ablation, seed equal: left out
    at.selectbox(key=S.COMPARE_DIFF_B).set_value(old).run()
    assert any("Pick two different runs" in i.value for i in at.info)


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_config_diff_of_identical_configs_says_so(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    for name in ("a", "b"):
        store.create_run(name, "search", {"rank_loss": "l1", "ablation": "none"}, total_epochs=1)
    store.close()
    at = make_app()
    assert not at.exception
    assert any("identical" in s.value for s in at.success)
