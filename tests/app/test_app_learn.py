"""Learn page (AppTest): the guided tour walked to its end, each step's control and its effect."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from mro_core.training.checkpoint import load_checkpoint  # noqa: E402

from app.services import settings  # noqa: E402
from app.services import state as S  # noqa: E402
from app.services.metrics_view import display_value, format_mflops  # noqa: E402
from app.services.tour import cheapest_within, read_ground_truth, spearman  # noqa: E402

DEMO = ROOT / "checkpoints" / "demo.pt"
TABLE = {r["mask"]: r for r in load_checkpoint(DEMO).mask_table}


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
    for _ in range(5):
        titles.append(step_title(at))
        assert at.caption  # the step's terms, each with its one-line explanation
        at.button(key=S.LEARN_NEXT).click().run()
        assert not at.exception
    assert titles == ["1. What a path is", "2. Turn off every path into T",
                      "3. The cheapest mask that is nearly as good", "4. Read the Pareto front",
                      "5. What the prior learned"]
    assert any("Tour complete" in s.value for s in at.success)
    assert any("ground_truth_k3.csv" in c.value for c in at.caption)  # absent: said, not an error
    at.button(key=S.LEARN_RESTART).click().run()
    assert step_title(at) == "1. What a path is"
    assert at.button(key=S.LEARN_BACK).disabled


def test_each_step_has_one_control_and_a_visible_effect(make_app):
    at = make_app()
    # 1: a path alone
    at.selectbox(key=S.LEARN_PATH).set_value("A->T").run()
    assert metrics(at)["MAE (error, lower is better)"] == display_value("mae", TABLE["001000"]["mae"])
    at.button(key=S.LEARN_NEXT).click().run()
    # 2: the paths into T off
    assert metrics(at)["MFLOPs (cost)"] == format_mflops(TABLE["111111"]["mflops"])
    at.toggle(key=S.LEARN_INTO_T).set_value(True).run()
    assert metrics(at)["MAE (error, lower is better)"] == display_value("mae", TABLE["110101"]["mae"])
    at.button(key=S.LEARN_NEXT).click().run()
    # 3: cheapest within a tolerance
    best = cheapest_within(TABLE, "111111", 0.05)
    assert f"**{best['mask']}**" in at.success[0].value
    at.slider(key=S.LEARN_TOLERANCE).set_value(0.2).run()
    wide = cheapest_within(TABLE, "111111", 0.2)
    assert f"**{wide['mask']}**" in at.success[0].value
    assert float(wide["mflops"]) <= float(best["mflops"])
    at.button(key=S.LEARN_NEXT).click().run()
    # 4: the Pareto front and a budget
    lo = min(r["mflops"] for r in TABLE.values())
    at.slider(key=S.LEARN_BUDGET).set_value(lo).run()
    cheapest = min(TABLE.values(), key=lambda r: (r["mflops"], r["mae"]))
    assert any(f"**{cheapest['mask']}**" in m.value for m in at.markdown)
    at.button(key=S.LEARN_NEXT).click().run()
    # 5: the prior, replayed
    assert at.select_slider(key=S.LEARN_EPOCH).value == 20
    at.select_slider(key=S.LEARN_EPOCH).set_value(1).run()
    assert not at.exception
    assert any("planted" in m.value for m in at.markdown)


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
    for _ in range(5):
        at.button(key=S.LEARN_NEXT).click().run()
    assert step_title(at) == "6. Can we trust the supernet?"
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
