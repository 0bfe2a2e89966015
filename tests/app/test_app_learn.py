"""Learn page (AppTest): the guided tour walked to its end, each step's control and its effect."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from mro_core.paths import PathSpace  # noqa: E402
from mro_core.training.checkpoint import load_checkpoint  # noqa: E402

from app.services import settings  # noqa: E402
from app.services import state as S  # noqa: E402
from app.services.metrics_view import display_value, format_mflops  # noqa: E402
from app.services.pareto_view import pareto_front  # noqa: E402
from app.services.tour import (  # noqa: E402
    DEFAULT_TOLERANCE,
    MARKER_Y,
    STEPS,
    cheapest_title,
    cheapest_within,
    dominated_side,
    drop_one,
    into,
    only,
    prior_bars,
    read_ground_truth,
    reveal,
    spearman,
    without,
)

DEMO = ROOT / "checkpoints" / "demo.pt"
CKPT = load_checkpoint(DEMO)
TABLE = {r["mask"]: r for r in CKPT.mask_table}
SPACE = PathSpace(tuple(CKPT.model_config.modalities))
FULL = "1" * SPACE.num_paths
PLANTED = tuple(((CKPT.data or {}).get("synthetic") or {}).get("planted") or ())


@pytest.fixture
def make_app(open_app, monkeypatch, tmp_path):
    def make(ground_truth: str | None = None) -> AppTest:
        root = tmp_path / "repo"
        (root / "results").mkdir(parents=True, exist_ok=True)
        if ground_truth is not None:
            (root / "results" / "ground_truth_k3.csv").write_text(ground_truth)
        monkeypatch.setattr(settings, "REPO_ROOT", root)
        return open_app("views/learn.py")

    return make


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def step_title(at: AppTest) -> str:
    return at.subheader[0].value


def test_tour_walks_to_its_end(make_app):
    at = make_app()
    assert not at.exception
    titles = []
    for _ in range(len(STEPS)):
        titles.append(step_title(at))
        assert at.caption  # the step's terms, each with its one-line explanation
        at.button(key=S.LEARN_NEXT).click().run()
        assert not at.exception
    expected = [s.title for s in STEPS]
    expected[2] = cheapest_title(TABLE, FULL, DEFAULT_TOLERANCE)
    assert titles == [f"{i + 1}. {t}" for i, t in enumerate(expected)]
    assert any("Tour complete" in s.value for s in at.success)
    assert any("ground_truth_k3.csv" in c.value for c in at.caption)  # absent: said, not an error
    at.button(key=S.LEARN_RESTART).click().run()
    assert step_title(at) == "1. What a path is"
    assert at.button(key=S.LEARN_BACK).disabled


def go_to(at: AppTest, n: int) -> AppTest:
    for _ in range(n - 1):
        at.button(key=S.LEARN_NEXT).click().run()
    assert step_title(at).startswith(f"{n}. ")
    return at


def test_step1_a_path_alone(make_app):
    at = make_app()
    name = SPACE.path_names[-1]
    at.selectbox(key=S.LEARN_PATH).set_value(name).run()
    assert metrics(at)["MAE (error, lower is better)"] == display_value("mae", TABLE[only(SPACE, SPACE.num_paths - 1)]["mae"])


def test_step2_paths_into_the_first_modality(make_app):
    at = go_to(make_app(), 2)
    assert metrics(at)["MFLOPs (cost)"] == format_mflops(TABLE[FULL]["mflops"])
    at.toggle(key=S.LEARN_INTO_T).set_value(True).run()
    off = without(SPACE, into(SPACE, SPACE.modalities[0]))
    assert metrics(at)["MAE (error, lower is better)"] == display_value("mae", TABLE[off]["mae"])


@pytest.mark.parametrize("tol", [0.0, 0.05, 0.2])
def test_step3_title_says_whether_its_answer_beats_the_full_mask(make_app, tol):
    at = go_to(make_app(), 3)
    at.slider(key=S.LEARN_TOLERANCE).set_value(tol).run()
    best = cheapest_within(TABLE, FULL, tol)
    assert f"**{best['mask']}**" in at.success[0].value
    title = step_title(at)
    beats = best["mae"] < TABLE[FULL]["mae"]
    assert ("beats" in title) == beats  # the claim of the title, on the answer it shows
    assert ("nearly as good" in title) == (best["mask"] != FULL and best["mae"] > TABLE[FULL]["mae"])
    assert best["mflops"] <= TABLE[FULL]["mflops"]


def test_step4_dominated_points_sit_above_right_of_the_front(make_app):
    at = go_to(make_app(), 4)
    text = " ".join(m.value for m in at.markdown)
    assert "above and right of the line are *dominated*" in text and "below and right" not in text
    rows = list(TABLE.values())
    front = pareto_front(rows, "mae", False)
    assert front.dominated
    for d in front.dominated:  # the claim on the data drawn: some front mask is left of and below it
        assert any(f["mflops"] <= d["mflops"] and f["mae"] <= d["mae"] for f in front.front)
    assert dominated_side(True) == "below and right"  # an accuracy chart (mfeat) reads the other way
    lo = min(r["mflops"] for r in rows)
    at.slider(key=S.LEARN_BUDGET).set_value(lo).run()
    cheapest = min(rows, key=lambda r: (r["mflops"], r["mae"]))
    assert any(f"**{cheapest['mask']}**" in m.value for m in at.markdown)


def test_step5_predict_then_reveal(make_app):
    at = go_to(make_app(), 5)
    assert not at.success  # nothing revealed before a guess
    guess = list(PLANTED[:1]) + [n for n in SPACE.path_names if n not in PLANTED][:1]
    at.multiselect(key=S.LEARN_GUESS).set_value(guess).run()
    assert not at.success
    at.button(key=S.LEARN_REVEAL).click().run()
    shown = at.success[0].value
    r = reveal(guess, TABLE, SPACE, PLANTED)
    assert f"**{', '.join(r.answer)}**" in shown and f"You found {len(r.hits)} of {len(r.answer)}" in shown
    effects = drop_one(TABLE, SPACE)
    for n, d in effects.items():  # each stated effect is the table's own difference
        assert d == pytest.approx(TABLE[without(SPACE, [SPACE.path_names.index(n)])]["mae"] - TABLE[FULL]["mae"])
        assert f"{n} {d:+.3f}" in " ".join(m.value for m in at.markdown)
    at.multiselect(key=S.LEARN_GUESS).set_value(guess[:1]).run()
    assert not at.success  # a new guess hides the answer again


def test_step6_planted_paths_marked_whatever_their_p(make_app):
    at = go_to(make_app(), 6)
    epochs = [int(e) for e in at.select_slider(key=S.LEARN_EPOCH).options]
    assert at.select_slider(key=S.LEARN_EPOCH).value == max(epochs)
    at.select_slider(key=S.LEARN_EPOCH).set_value(min(epochs)).run()
    assert not at.exception
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    marks = [t for t in chart["data"] if t.get("name") == "planted"]
    assert len(marks) == 1
    assert sorted(marks[0]["x"]) == sorted(f"{n} \u2605" for n in PLANTED)
    assert all(y == MARKER_Y for y in marks[0]["y"])  # a fixed height: a planted p = 0 is marked too
    bars = prior_bars(SPACE.path_names, [0.0] * SPACE.num_paths, PLANTED)
    assert [b.label for b in bars if b.planted] == [f"{n} \u2605" for n in SPACE.path_names if n in PLANTED]
    text = " ".join(m.value for m in at.markdown)
    assert "not a sampling frequency" in text


def test_large_type_follows_the_session(make_app):
    at = make_app()
    at.toggle(key=S.LEARN_LARGE).set_value(True).run()
    assert at.session_state[S.LARGE_TYPE_ON]
    assert any("font-size" in m.value for m in at.markdown)
    at.switch_page("views/pareto.py").run()
    assert any("font-size" in m.value for m in at.markdown)  # every page honours it


GT = "mask,seed,valid_mae,test_mae,mflops\n" + "".join(
    f"{m},{s},{TABLE[m]['mae'] * 0.8 + 0.01 * s},{TABLE[m]['mae'] * 0.8},{TABLE[m]['mflops']}\n"
    for m in ("111111", "011011", "000011", "100000") for s in (0, 1))


def test_ground_truth_step_when_the_csv_exists(make_app):
    at = make_app(GT)
    for _ in range(len(STEPS)):
        at.button(key=S.LEARN_NEXT).click().run()
    assert step_title(at) == f"{len(STEPS) + 1}. Can we trust the supernet?"
    at.selectbox(key=S.LEARN_GT_MASK).set_value("011011").run()
    shown = metrics(at)
    assert shown["Supernet estimate (shared weights)"] == f"{TABLE['011011']['mae']:.3f}"
    assert shown["Trained alone (mean of 2 seeds)"] == f"{TABLE['011011']['mae'] * 0.8 + 0.005:.3f}"
    assert any("Spearman" in c.value for c in at.caption)
    at.button(key=S.LEARN_NEXT).click().run()
    assert any("Tour complete" in s.value for s in at.success)


def test_read_ground_truth_never_raises(tmp_path):
    assert read_ground_truth(tmp_path / "nope.csv")[0] is None
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    gt, why = read_ground_truth(bad)
    assert gt is None and "no rows" in why
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) is None


def test_large_type_scales_charts_on_every_page(make_app):
    at = make_app()
    at.toggle(key=S.LEARN_LARGE).set_value(True).run()
    at = go_to(at, 4)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["font"]["size"] > 12 and spec["layout"]["xaxis"]["tickfont"]["size"] > 12
    at.switch_page("views/pareto.py").run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis"]["tickfont"]["size"] > 12  # the Pareto page's chart, after leaving Learn


def test_p_versus_s_claim_holds_on_the_rows_shown():
    from app.services.prior_view import edge_rows, p_versus_s, p_versus_s_text, read_prior

    snap = read_prior(CKPT.prior, SPACE).final
    rows = edge_rows(SPACE, snap)
    pair = p_versus_s(rows, SPACE)
    if pair is None:
        assert p_versus_s_text(rows, SPACE) is None
        return
    a, b = ({r["path"]: r for r in rows}[n] for n in pair)
    assert SPACE.paths[SPACE.path_names.index(pair[0])].src == SPACE.paths[SPACE.path_names.index(pair[1])].src
    assert a["score"] < b["score"] and a["p"] > b["p"]  # the sentence's claim, on the table's numbers
    for i in range(SPACE.k):  # p is a softmax per source: each source's paths add up to 1
        assert sum(snap.p[j] for j, p in enumerate(SPACE.paths) if p.src == i) == pytest.approx(1.0, abs=1e-4)


def test_sampling_shares_follow_the_search_code():
    import torch

    from mro_core.search.prior import inclusion_probs
    from app.services.tour import sampling_shares

    p = [1.0, 0.0] * (SPACE.num_paths // 2)
    cfg = {"inclusion": "paper", "rho": 0.5, "eps": 0.1, "uniform_mix": 0.25}
    sh = sampling_shares(p, SPACE.k, cfg)
    assert sh["pi"] == pytest.approx(inclusion_probs(torch.tensor(p, dtype=torch.float64), SPACE.k, 0.5, 0.1).tolist())
    assert min(sh["share"]) > 0.1  # a path with p = 0 is still drawn: uniform draws mix in
