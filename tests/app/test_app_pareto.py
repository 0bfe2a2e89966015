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

from plotly_spec import chart_spec  # noqa: E402

from mro_core.training.checkpoint import load_checkpoint  # noqa: E402

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
    return chart_spec(charts[0])


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
    at.session_state[S.PARETO_OPEN] = {"mask": "011011", "ckpt": "demo"}  # what a selection callback leaves
    at.run()
    assert not at.exception
    assert at.title[0].value == "Explore subnets"
    assert at.session_state[S.MASK] == "011011"
    assert str(at.query_params[S.CHECKPOINT_PARAM]).strip("[]'") == "demo"


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


# ------------------------------------------------------------------ live runs, ties, escaping
HTML_NAME = "<b>BOLD</b> <a href='x'>link</a>"


def _run(store, name, masks, status="done", epoch=None, total=4, checkpoint=None):
    rid = store.create_run(name, "search", {"rank_loss": "l1", "ablation": "none"}, total_epochs=total)
    store.mark_running(rid, pid=None)
    if masks:
        store.put_masks(rid, masks, "valid", "supernet")
    if epoch is not None:
        store.heartbeat(rid, epoch=epoch, progress=epoch / total)
    if checkpoint:
        store.update_run(rid, checkpoint=str(checkpoint))
    if status != "running":
        store.finish(rid, status, error="boom" if status == "failed" else None)
    return rid


SINGLE = [{"mask": "000010", "mflops": 0.5, "mae": 0.8}, {"mask": "000100", "mflops": 0.5, "mae": 0.8},
          {"mask": "111111", "mflops": 2.6, "mae": 0.3}]


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_default_selection_skips_failed_and_empty_runs(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    good = _run(store, "good", SINGLE)
    _run(store, "failed", SINGLE, status="failed")
    _run(store, "empty", [])
    store.close()
    at = make_app()
    assert at.multiselect(key=S.PARETO_RUNS).value == [good]


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_running_run_is_drawn_with_its_epoch(make_app, tmp_path, monkeypatch):
    from mro_core.runs.store import RunStore

    from app.services import runs as run_svc

    monkeypatch.setattr(run_svc, "status_of", lambda store, rec: str(getattr(rec, "status", "")))
    store = RunStore(tmp_path / "runs")
    rid = _run(store, "live", SINGLE[:1], status="running", epoch=2, total=5)
    store.close()
    at = make_app()
    assert not at.exception
    assert at.multiselect(key=S.PARETO_RUNS).value == [rid]  # a running run is selected
    fig = figure(at)
    notes = [a["text"] for a in fig["layout"].get("annotations", []) if "epoch" in a.get("text", "")]
    assert notes == [f"live ({rid}): running, epoch 2/5"]
    assert fig["layout"]["uirevision"] == "pareto"  # refreshes keep the user's zoom
    assert sum(len(t["x"]) for t in fig["data"] if rid in t.get("name", "")) == 1  # drawn before the end
    assert any("running, epoch 2/5" in c.value for c in at.caption)


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_html_run_name_is_escaped_in_the_chart(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    rid = _run(store, HTML_NAME, SINGLE)
    store.close()
    at = make_app()
    fig = figure(at)
    names = [t.get("name", "") for t in fig["data"] if rid in t.get("name", "")]
    assert names and all("<b>" not in n and "&lt;b&gt;BOLD&lt;/b&gt;" in n for n in names)
    hovers = [cd[4] for t in fig["data"] for cd in t.get("customdata", []) if cd[1] == rid]
    assert hovers and all("<a" not in h for h in hovers)


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_tie_lists_every_mask_and_opens_the_chosen_run(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    ck = tmp_path / "run_b.pt"
    ck.write_bytes(DEMO.read_bytes())
    store = RunStore(tmp_path / "runs")
    a = _run(store, "run-a", SINGLE)
    b = _run(store, "run-b", SINGLE, checkpoint=ck)
    store.close()
    at = make_app()
    at.checkbox(key=S.PARETO_INCLUDE_CHECKPOINT).uncheck().run()
    fig = figure(at)
    tie_hover = next(cd[3] for t in fig["data"] for cd in t.get("customdata", [])
                     if cd[0] == "000010" and cd[1] == a)
    assert "4 subnets at this point" in tie_hover  # two masks x two runs at (0.5, 0.8)
    for m, rid in (("000010", a), ("000100", a), ("000010", b), ("000100", b)):
        assert m in tie_hover and rid in tie_hover
    # what the selection callback leaves after a click on that spot
    at.session_state[S.PARETO_TIES] = [["000010", a], ["000100", a], ["000010", b], ["000100", b]]
    at.run()
    buttons = [x for x in at.button if x.key and x.key.startswith(S.PARETO_TIE_PREFIX)]
    assert [x.label for x in buttons][2].startswith("000010 from run\\-b")
    buttons[2].click().run()
    assert not at.exception
    assert at.title[0].value == "Explore subnets"
    assert at.session_state[S.MASK] == "000010"
    assert str(at.query_params[S.CHECKPOINT_PARAM]).strip("[]'") == b
    assert at.sidebar.selectbox(key=S.CHECKPOINT).value == str(ck.resolve())


def test_resolve_click():
    from app.services.pareto_view import resolve_click

    rows = [{"mask": m, "_source_id": sid, "mflops": f, "mae": v}
            for m, sid, f, v in (("000010", "a", 0.5, 0.8), ("000100", "b", 0.5, 0.8), ("111111", "a", 2.6, 0.3))]
    assert resolve_click([("111111", "a")], rows, "mae") == [("111111", "a")]
    assert resolve_click([("000100", "b")], rows, "mae") == [("000010", "a"), ("000100", "b")]
    assert resolve_click([("000010", "a"), ("111111", "a")], rows, "mae") == [("000010", "a"), ("111111", "a")]


def test_subnet_table_links_open_run_and_mask(make_app):
    at = make_app()
    df = at.dataframe[0].value
    assert list(df.columns) == ["source", "mask", "paths", "MFLOPs", "MAE", "on front", "open"]
    assert len(df) == 63
    row = df[df["mask"] == "011011"].iloc[0]
    assert row["open"] == "./?mask=011011&ckpt=demo"
    assert bool(df.iloc[0]["on front"])


def test_zoom_sliders_fix_the_axes(make_app):
    at = make_app()
    fig = figure(at)
    assert "range" not in fig["layout"].get("xaxis", {})  # no zoom: the axes fit the data
    lo = min(r["mflops"] for r in ROWS)
    hi = max(r["mflops"] for r in ROWS)
    at.slider(key=S.PARETO_ZOOM_X).set_value((lo, 1.0)).run()
    assert not at.exception
    x = figure(at)["layout"]["xaxis"]["range"]
    assert x[0] < lo < 1.0 < x[1] < 1.1  # the chosen span, padded by 3%
    at.run()  # a refresh keeps it (it is part of the figure)
    assert figure(at)["layout"]["xaxis"]["range"] == x
    at.slider(key=S.PARETO_ZOOM_X).set_value((lo, hi)).run()
    assert "range" not in figure(at)["layout"].get("xaxis", {})


# ------------------------------------------------------------- reference points, results links
def _mosei_run(store, name, dataset="mosei", unaligned=True):
    rid = store.create_run(name, "search", {"rank_loss": "l1", "ablation": "none", "dataset": dataset,
                                            "request": {"dataset": dataset, "unaligned": unaligned}}, total_epochs=1)
    store.mark_running(rid, pid=None)
    store.put_masks(rid, SINGLE, "valid", "supernet")
    store.finish(rid, "done")
    return rid


def test_reference_points_only_for_mosei_runs(make_app, tmp_path):
    from mro_core.data.references import SETTINGS_NOTE, reference_points
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    syn = _run(store, "synthetic run", SINGLE)
    store.close()
    at = make_app()
    assert not figure(at)["layout"].get("shapes") or all(s.get("line", {}).get("dash") != "dot"
                                                         for s in figure(at)["layout"]["shapes"])
    assert not any(SETTINGS_NOTE in c.value for c in at.caption)

    store = RunStore(tmp_path / "runs")
    mosei = _mosei_run(store, "on mosei")
    store.close()
    at = make_app()
    at.multiselect(key=S.PARETO_RUNS).set_value([mosei, syn]).run()
    assert not at.exception
    fig = figure(at)
    refs = reference_points("mosei", aligned=False)
    dotted = [s for s in fig["layout"]["shapes"] if s.get("line", {}).get("dash") == "dot"]
    assert len(dotted) == len(refs) > 0  # one horizontal line per published point (unaligned, as the run)
    assert {round(s["y0"], 4) for s in dotted} == {round(r["metrics"]["mae"], 4) for r in refs}
    labels = {a["text"] for a in fig["layout"]["annotations"]}
    assert {r["label"] for r in refs} <= labels
    assert any(t.get("name") == "published reference (no MFLOPs)" for t in fig["data"])
    assert any(SETTINGS_NOTE in c.value and "MMSA" in c.value for c in at.caption)


def test_pareto_link_of_a_results_card_chooses_the_run(open_app, tmp_path):
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    a = _run(store, "first", SINGLE)
    b = _run(store, "second", SINGLE)
    store.close()
    at = open_app("views/pareto.py", query={S.PARETO_RUNS_PARAM: a})
    assert not at.exception
    assert at.multiselect(key=S.PARETO_RUNS).value == [a]  # not the default (both)
    assert len(at.multiselect(key=S.PARETO_RUNS).options) == 2 and b not in at.multiselect(key=S.PARETO_RUNS).value


def test_every_chart_saves_as_svg_offline(make_app):
    """The chart toolbar's camera button saves SVG in the browser (plotly's toImage; no server)."""
    at = make_app()
    charts = at.get("plotly_chart")
    assert charts
    for c in charts:
        config = json.loads(c.proto.config)
        assert config["toImageButtonOptions"]["format"] == "svg" and config["displaylogo"] is False


# ------------------------------------------------------------------ top-k and dominated toggle
def _checkpoint_points(at: AppTest) -> list[str]:
    return [cd[0] for t in figure(at)["data"] if t.get("name", "").startswith("checkpoint")
            for cd in t.get("customdata", [])]


def test_top_k_shows_only_the_k_best_masks(make_app):
    from app.services.pareto_filter import best_first

    at = make_app()
    assert at.number_input(key=S.PARETO_TOP_K).value == 0  # all by default
    assert len(_checkpoint_points(at)) == 63
    at.number_input(key=S.PARETO_TOP_K).set_value(5).run()
    assert not at.exception
    expected = [r["mask"] for r in best_first(ROWS, "mae", False)[:5]]
    assert sorted(_checkpoint_points(at)) == sorted(expected)
    assert sorted(at.dataframe[0].value["mask"]) == sorted(expected)  # the table lists the same masks
    assert any("5 of 63 subnets" in c.value for c in at.caption)
    at.selectbox(key=S.PARETO_METRIC).set_value("acc2").run()  # accuracy: higher is better
    expected = [r["mask"] for r in best_first(ROWS, "acc2", True)[:5]]
    assert sorted(_checkpoint_points(at)) == sorted(expected)


def test_dominated_toggle_hides_the_dominated_masks(make_app):
    from app.services.pareto_view import pareto_front

    at = make_app()
    front = {r["mask"] for r in pareto_front(ROWS, "mae", False).front}
    assert at.toggle(key=S.PARETO_SHOW_DOMINATED).value is True
    at.toggle(key=S.PARETO_SHOW_DOMINATED).set_value(False).run()
    assert not at.exception
    assert set(_checkpoint_points(at)) == front and len(_checkpoint_points(at)) == len(front)
    names = [t.get("name", "") for t in figure(at)["data"]]
    assert not any(n.startswith("checkpoint") and not n.endswith("Pareto front") for n in names)
    df = at.dataframe[0].value
    assert set(df["mask"]) == front and bool(df["on front"].all())


# ------------------------------------------------------- parallel coordinates and range filters
def _parcoords_traces(at: AppTest) -> list[dict]:
    return [t for c in at.get("plotly_chart") if c.proto.id for t in chart_spec(c)["data"][:1]
            if t.get("type") == "parcoords"]


def parcoords(at: AppTest) -> dict:
    """The parallel-coordinates trace, its toggle switched on first where it is off."""
    if not at.toggle(key=S.PARETO_PARCOORDS_ON).value:
        at.toggle(key=S.PARETO_PARCOORDS_ON).set_value(True).run()
    spec = next(chart_spec(c) for c in at.get("plotly_chart") if c.proto.id and
                chart_spec(c)["data"][0].get("type") == "parcoords")
    return spec["data"][0]


def test_parcoords_is_off_until_asked_for_and_says_why(make_app):
    at = make_app()
    assert not at.exception
    assert at.toggle(key=S.PARETO_PARCOORDS_ON).value is False
    assert _parcoords_traces(at) == []  # not drawn: software WebGL made every rerun seconds slower
    assert any("turn it on to draw the 63 best shown masks" in c.value for c in at.caption)
    at.toggle(key=S.PARETO_PARCOORDS_ON).set_value(True).run()
    assert len(_parcoords_traces(at)) == 1
    assert any("63 masks, one line each" in c.value for c in at.caption)


def test_parcoords_has_a_named_axis_per_path_and_the_metric_colour(make_app):
    at = make_app()
    assert not at.exception
    pc = parcoords(at)
    labels = [d["label"] for d in pc["dimensions"]]
    assert labels == ["T-&gt;A", "T-&gt;V", "A-&gt;T", "A-&gt;V", "V-&gt;T", "V-&gt;A", "MFLOPs", "MAE"]
    assert len(pc["line"]["color"]) == 63 and pc["line"]["reversescale"] is True  # MAE: lower is better
    at.selectbox(key=S.PARETO_METRIC).set_value("acc2").run()
    pc = parcoords(at)
    assert pc["dimensions"][-1]["label"] == "Acc-2 (%)" and pc["line"]["reversescale"] is False


def test_range_and_path_filters_narrow_scatter_parcoords_and_table(make_app):
    at = make_app()
    at.multiselect(key=S.PARETO_PATHS_ON).set_value(["T->A"]).run()
    at.multiselect(key=S.PARETO_PATHS_OFF).set_value(["V->A"]).run()
    assert not at.exception
    want = {r["mask"] for r in ROWS if r["mask"][0] == "1" and r["mask"][5] == "0"}
    assert len(want) == 16
    assert set(at.dataframe[0].value["mask"]) == want
    assert set(_checkpoint_points(at)) == want
    pc = parcoords(at)
    assert len(pc["line"]["color"]) == 16
    assert set(pc["dimensions"][0]["values"]) == {1} and set(pc["dimensions"][5]["values"]) == {0}
    lo = min(r["mflops"] for r in ROWS)
    at.slider(key=S.PARETO_FILTER_MFLOPS).set_value((lo, 1.5)).run()
    by_mask = {r["mask"]: r for r in ROWS}
    want = {m for m in want if by_mask[m]["mflops"] <= 1.5}
    assert len(want) == 11
    assert set(at.dataframe[0].value["mask"]) == want and len(parcoords(at)["line"]["color"]) == 11
    at.slider(key=S.PARETO_FILTER_METRIC).set_value((min(r["mae"] for r in ROWS), 0.57)).run()
    want = {m for m in want if by_mask[m]["mae"] <= 0.57}
    assert len(want) == 4 and set(at.dataframe[0].value["mask"]) == want
    assert sorted(parcoords(at)["line"]["color"]) == sorted(by_mask[m]["mae"] for m in want)
    at.number_input(key=S.PARETO_TOP_K).set_value(2).run()  # top-k counts among the masks in range
    best2 = sorted(want, key=lambda m: by_mask[m]["mae"])[:2]
    assert set(at.dataframe[0].value["mask"]) == set(best2)


def test_a_path_both_on_and_off_warns_and_shows_nothing(make_app):
    at = make_app()
    at.multiselect(key=S.PARETO_PATHS_ON).set_value(["A->V"]).run()
    at.multiselect(key=S.PARETO_PATHS_OFF).set_value(["A->V"]).run()
    assert not at.exception
    assert any("A-&gt;V must be both on and off" in w.value or "A->V must be both on and off" in w.value
               for w in at.warning)
    assert len(at.dataframe[0].value) == 0


def test_parcoords_stays_readable_at_k6():
    """30 path axes: labels are the path names, tilted, with room above the plot."""
    from app.components.parcoords_chart import parcoords_figure
    from app.services.metrics_view import spec_for
    from app.services.parcoords_view import parcoords_data

    mods = ["T", "A", "V", "X", "Y", "Z"]
    names = [f"{s}->{t}" for s in mods for t in mods if s != t]
    rows = [{"mask": "1" * 30, "mflops": 3.0, "mae": 0.3}, {"mask": "01" * 15, "mflops": 1.0, "mae": 0.5}]
    fig = parcoords_figure(parcoords_data(rows, names, "mae", metric_label="MAE"), spec_for("regression", "mae"))
    tr = fig.data[0]
    assert [d.label for d in tr.dimensions][:30] == [n.replace(">", "&gt;") for n in names]
    assert tr.labelangle == -45 and fig.layout.margin.t >= 100


def test_the_sidebar_switches_every_chart_to_png_and_the_choice_holds_across_pages(make_app):
    at = make_app()
    assert at.sidebar.radio(key=S.CHART_FORMAT_PICK).value == "svg"
    at.sidebar.radio(key=S.CHART_FORMAT_PICK).set_value("png").run()
    at.toggle(key=S.PARETO_PARCOORDS_ON).set_value(True).run()
    assert not at.exception
    configs = [json.loads(c.proto.config) for c in at.get("plotly_chart")]
    assert len(configs) == 2  # the scatter and the parallel coordinates
    for config in configs:
        assert config["toImageButtonOptions"]["format"] == "png"
        assert config["toImageButtonOptions"]["scale"] == 2 and config["displaylogo"] is False
    assert {c["toImageButtonOptions"]["filename"] for c in configs} == {"mro-figure", "mro-parcoords"}
    at.session_state[S.LEARN_STEP] = 3  # the tour's Pareto step, which draws a chart
    at.switch_page("views/learn.py").run()  # a page without the sidebar's choice
    learn = at.get("plotly_chart")
    assert learn and all(json.loads(c.proto.config)["toImageButtonOptions"]["format"] == "png" for c in learn)
    at.switch_page("views/pareto.py").run()
    assert at.sidebar.radio(key=S.CHART_FORMAT_PICK).value == "png"
    assert json.loads(at.get("plotly_chart")[0].proto.config)["toImageButtonOptions"]["format"] == "png"


# ------------------------------------------------------------------------------ front per epoch
EPOCHS = {
    1: [{"mask": "000011", "mflops": 1.0, "mae": 0.9}, {"mask": "100000", "mflops": 1.5, "mae": 0.95},
        {"mask": "111111", "mflops": 2.0, "mae": 0.8}],
    2: [{"mask": "000011", "mflops": 1.0, "mae": 0.7}, {"mask": "100000", "mflops": 1.5, "mae": 0.6},
        {"mask": "111111", "mflops": 2.0, "mae": 0.65}],
    3: [{"mask": "000011", "mflops": 1.0, "mae": 0.5}, {"mask": "100000", "mflops": 1.5, "mae": 0.45},
        {"mask": "111111", "mflops": 2.0, "mae": 0.3}],
}


def _run_with_epochs(store) -> str:
    """A finished search as ``run_search`` writes it: masks then the epoch event, each epoch; the
    final masks once more at the end."""
    rid = store.create_run("epochs", "search", {"rank_loss": "l1", "ablation": "none"}, total_epochs=3)
    store.mark_running(rid, pid=None)
    for e, rows in EPOCHS.items():
        store.put_masks(rid, rows, "valid", "supernet")
        store.log_event(rid, "epoch", e, {"epoch": e})
        store.heartbeat(rid, epoch=e, progress=e / 3)
    store.put_masks(rid, EPOCHS[3], "valid", "supernet")
    store.finish(rid, "done")
    return rid


def _trace(at: AppTest, name: str) -> dict | None:
    for chart in at.get("plotly_chart"):
        for t in chart_spec(chart)["data"]:
            if t.get("name") == name:
                return t
    return None


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_front_per_epoch_slider_redraws_that_epochs_front_and_the_hypervolume_series(make_app, tmp_path):
    from mro_core.runs.store import RunStore
    from app.services.pareto_epochs import epoch_fronts

    store = RunStore(tmp_path / "runs")
    rid = _run_with_epochs(store)
    store.close()
    expected = epoch_fronts(EPOCHS, "mae", False, EPOCHS[3])
    at = make_app()
    assert not at.exception
    assert at.selectbox(key=S.PARETO_EPOCH_RUN).value == rid
    slider = at.select_slider(key=S.PARETO_EPOCH)
    assert list(slider.options) == ["1", "2", "3"] and slider.value == 3  # opens on the last epoch
    hv = _trace(at, "hypervolume")
    assert hv["x"] == [1, 2, 3]
    assert hv["y"] == pytest.approx([expected.hypervolume[e] for e in (1, 2, 3)])
    assert hv["y"][0] < hv["y"][1] < hv["y"][2]
    final = _trace(at, "final front")
    assert final["x"] == [1.0, 1.5, 2.0] and final["opacity"] == pytest.approx(0.35)
    for epoch in (1, 2):
        at.select_slider(key=S.PARETO_EPOCH).set_value(epoch).run()
        assert not at.exception
        drawn = _trace(at, f"epoch {epoch} front")
        want = expected.fronts[epoch].front
        assert [cd[0] for cd in drawn["customdata"]] == [r["mask"] for r in want]
        assert list(zip(drawn["x"], drawn["y"])) == [(r["mflops"], r["mae"]) for r in want]
        assert _trace(at, "epoch 3 front") is None
        ring = _trace(at, f"epoch {epoch}")
        assert ring["y"] == pytest.approx([expected.hypervolume[epoch]])
    # epoch 1's dominated mask is drawn apart from its front
    at.select_slider(key=S.PARETO_EPOCH).set_value(1).run()
    assert [cd[0] for cd in _trace(at, "epoch 1: dominated")["customdata"]] == ["100000"]
    assert any("reference point" in c.value for c in at.caption)


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_a_run_without_per_epoch_history_says_so(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    old = _run(store, "before", SINGLE, epoch=2)  # masks but no epoch snapshots, as a schema-1 run
    store.close()
    at = make_app()
    assert not at.exception
    assert at.selectbox(key=S.PARETO_EPOCH_RUN).value == old
    assert any("no per-epoch history" in i.value for i in at.info)
    assert not at.get("select_slider") and _trace(at, "hypervolume") is None


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_a_run_whose_checkpoint_is_the_sidebar_one_is_drawn_once(make_app, tmp_path):
    """The sidebar checkpoint's table and a chosen run of that very checkpoint hold the same masks:
    drawn once, as the run (at k = 6 with 10,000 masks the page drew 20,000 points)."""
    from mro_core.runs.store import RunStore

    store = RunStore(tmp_path / "runs")
    rid = _run(store, "demo's own run", ROWS, checkpoint=DEMO)
    other = _run(store, "another run", SINGLE, checkpoint=tmp_path / "missing.pt")
    store.close()
    at = make_app()
    assert not at.exception and set(at.multiselect(key=S.PARETO_RUNS).value) == {rid, other}
    names = [t.get("name", "") for t in figure(at)["data"]]
    assert not any(n.startswith("checkpoint") for n in names)  # the checkpoint's table is the run's
    assert sum(len(t["x"]) for t in figure(at)["data"] if rid in t.get("name", "")) == len(ROWS)
    at.multiselect(key=S.PARETO_RUNS).set_value([other]).run()
    assert any(t.get("name", "").startswith("checkpoint") for t in figure(at)["data"])  # not chosen: drawn


def test_parcoords_draws_at_most_its_line_cap_best_first_and_says_so(make_app, monkeypatch):
    import app.components.parcoords_panel as panel
    from app.services.pareto_filter import best_first

    monkeypatch.setattr(panel, "MAX_LINES", 10)
    at = make_app()
    assert not at.exception
    pc = parcoords(at)
    mae = next(d for d in pc["dimensions"] if d["label"] == "MAE")
    assert sorted(mae["values"]) == sorted(r["mae"] for r in best_first(ROWS, "mae", False)[:10])
    assert any("Only the 10 best of the 63 shown masks are drawn (by MAE)" in c.value for c in at.caption)
    assert len(_checkpoint_points(at)) == 63  # the cap is the parcoords' own: the scatter keeps every mask


# ------------------------------------------------------------- unchanged sources are read once
@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_a_finished_run_is_read_once_a_running_one_on_every_rerun(make_app, tmp_path, monkeypatch):
    from mro_core.runs.store import RunStore

    from app.services import runs as run_svc

    reads: list[str] = []
    real = run_svc.pareto_rows
    monkeypatch.setattr(run_svc, "pareto_rows", lambda store, rec: reads.append(rec.id) or real(store, rec))
    monkeypatch.setattr(run_svc, "status_of", lambda store, rec: str(getattr(rec, "status", "")))
    store = RunStore(tmp_path / "runs")
    done = _run(store, "done", SINGLE)
    live = _run(store, "live", SINGLE[:1], status="running", epoch=1, total=5)
    at = make_app()
    assert set(at.multiselect(key=S.PARETO_RUNS).value) == {done, live}
    at.toggle(key=S.PARETO_PAUSE).set_value(True).run()  # no timed refreshes in the test
    start = len(reads)
    at.selectbox(key=S.PARETO_METRIC).set_value("corr").run()
    at.selectbox(key=S.PARETO_METRIC).set_value("mae").run()
    assert reads[start:] == [live, live]  # the finished run's rows came from the memo
    # new points of the running run appear on the next rerun; its end re-reads it once more
    store.put_masks(live, [{"mask": "111111", "mflops": 2.6, "mae": 0.2}], "valid", "supernet")
    store.finish(live, "done")
    store.close()
    at.selectbox(key=S.PARETO_METRIC).set_value("corr").run()
    assert reads[-1] == live
    n = len(reads)
    at.selectbox(key=S.PARETO_METRIC).set_value("mae").run()
    assert not at.exception
    assert len(reads) == n  # both finished now: neither is read again
    assert sum(len(t["x"]) for t in figure(at)["data"] if live in t.get("name", "")) == 2


def test_the_subnet_table_lists_at_most_its_cap_fronts_first_and_says_so(make_app, monkeypatch):
    import app.components.pareto_panel as panel

    monkeypatch.setattr(panel, "TABLE_ROWS", 10)
    at = make_app()
    assert not at.exception
    table = at.dataframe[0].value
    front = {r["mask"] for r in pareto_front_rows(ROWS)}
    assert len(table) == 10 and front <= set(table["mask"])  # the fronts come first
    assert any("The first 10 of 63 rows" in c.value for c in at.caption)
    assert any("Subnets on the chart (63)" in e.label for e in at.expander)
    assert len(_checkpoint_points(at)) == 63  # the cap is the table's own


def pareto_front_rows(rows):
    from app.services.pareto_view import pareto_front

    return pareto_front(rows, "mae", False).front


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_the_chosen_runs_hold_across_pages_and_are_not_recounted(make_app, tmp_path, monkeypatch):
    from mro_core.runs.store import RunStore

    from app.services import runs as run_svc

    store = RunStore(tmp_path / "runs")
    a, b = _run(store, "a", SINGLE), _run(store, "b", SINGLE)
    store.close()
    at = make_app()
    assert set(at.multiselect(key=S.PARETO_RUNS).value) == {a, b}
    at.multiselect(key=S.PARETO_RUNS).set_value([a]).run()
    reads: list[str] = []
    real = run_svc.pareto_rows
    monkeypatch.setattr(run_svc, "pareto_rows", lambda store, rec: reads.append(rec.id) or real(store, rec))
    at.switch_page("views/graph.py").run()
    at.switch_page("views/pareto.py").run()
    assert not at.exception
    assert at.multiselect(key=S.PARETO_RUNS).value == [a]  # the user's choice, not the default again
    assert b not in reads  # nobody counted the unchosen run's points again
