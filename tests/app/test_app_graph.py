"""Graph page (AppTest): the prior (or the uniform fallback), its table, the epoch replay."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from mro_core.training.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402

from app.services import settings  # noqa: E402
from app.services import state as S  # noqa: E402

DEMO = ROOT / "checkpoints" / "demo.pt"
PATHS = ["T->A", "T->V", "A->T", "A->V", "V->T", "V->A"]


@pytest.fixture
def make_app(open_app, monkeypatch, tmp_path):
    def make(prior=None, *, with_prior: bool = True, query: dict | None = None) -> AppTest:
        """The app on a copy of the demo checkpoint whose prior is ``prior`` (with_prior=False: the
        shipped demo as it is)."""
        if with_prior:
            ck = load_checkpoint(DEMO)
            ck.prior = prior
            path = tmp_path / "with_prior.pt"
            save_checkpoint(ck, path)
            monkeypatch.setattr(settings, "DEMO_CHECKPOINT", path)
        return open_app("views/graph.py", query=query)

    return make


def table(at: AppTest):
    return at.dataframe[0].value


def snapshot(epoch, p):
    return {"epoch": epoch, "p": p, "alpha": 0.1 * epoch, "beta": 0.2, "gamma": 0.3,
            "stats": {"cos": [0.1 * i for i in range(6)], "var_g": [1.0] * 6, "var_a": [0.5] * 6},
            "spearman": 0.25 * epoch}


def test_shipped_demo(make_app):
    at = make_app(with_prior=False)
    assert not at.exception
    assert list(table(at)["path"]) == PATHS


def test_checkpoint_without_prior_shows_uniform(make_app):
    at = make_app(None)
    assert not at.exception
    assert at.title[0].value == "Modal Relation Graph"
    assert any("uniform prior" in i.value for i in at.info)
    df = table(at)
    assert list(df["path"]) == PATHS
    assert list(df["p"]) == [0.5] * 6
    assert not at.select_slider  # no history: no replay slider


def test_prior_history_replay(make_app):
    p1 = [0.5] * 6
    p3 = [0.9, 0.1, 0.3, 0.7, 0.6, 0.4]
    prior = {**snapshot(3, p3), "history": [snapshot(1, p1), snapshot(2, [0.6, 0.4] * 3), snapshot(3, p3)]}
    at = make_app(prior, query={S.MASK_PARAM: "011011"})
    assert not at.exception
    assert not any("uniform prior" in i.value for i in at.info)
    assert at.select_slider(key=S.GRAPH_EPOCH).value == 3
    assert list(table(at)["p"]) == p3
    shown = {m.label: m.value for m in at.metric}
    assert shown["alpha"] == "0.300" and shown["Spearman \u03c1"] == "0.750"
    at.select_slider(key=S.GRAPH_EPOCH).set_value(1).run()
    assert not at.exception
    assert list(table(at)["p"]) == p1
    assert {m.label: m.value for m in at.metric}["alpha"] == "0.100"
    df = table(at)
    row = df[df["path"] == "T->V"].iloc[0]
    cos = np.arange(6) * 0.1  # var_g and var_a are constant across edges: their z-scores are 0
    assert row["score"] == pytest.approx(0.1 * (cos[1] - cos.mean()) / cos.std())


def test_malformed_prior_never_crashes(make_app):
    at = make_app({"p": "oops", "history": [{"epoch": 1, "p": [1, 2]}], "stats": 3})
    assert not at.exception
    infos = " ".join(i.value for i in at.info)
    assert "uniform prior" in infos and "'p' is missing" in infos
    assert list(table(at)["p"]) == [0.5] * 6


def test_play_steps_through_the_epochs_and_stops(make_app):
    ps = [[0.5] * 6, [0.6, 0.4] * 3, [0.9, 0.1, 0.3, 0.7, 0.6, 0.4]]
    prior = {**snapshot(3, ps[2]), "history": [snapshot(e + 1, p) for e, p in enumerate(ps)]}
    at = make_app(prior)
    assert at.button(key=S.GRAPH_PLAY).label == "Play"
    at.button(key=S.GRAPH_PLAY).click().run()  # at the last epoch: Play starts over
    assert at.session_state[S.GRAPH_PLAYING]
    assert at.select_slider(key=S.GRAPH_EPOCH).value == 1
    assert list(table(at)["p"]) == ps[0]
    assert at.button(key=S.GRAPH_PLAY).label == "Pause"
    at.run()  # one timer tick (AppTest does not tick run_every itself)
    assert at.select_slider(key=S.GRAPH_EPOCH).value == 2 and list(table(at)["p"]) == ps[1]
    at.run()
    assert at.select_slider(key=S.GRAPH_EPOCH).value == 3 and list(table(at)["p"]) == ps[2]
    assert not at.session_state[S.GRAPH_PLAYING]  # stopped at the end
    assert at.button(key=S.GRAPH_PLAY).label == "Play"
    assert not at.exception


def test_reading_guide_explains_every_quantity(make_app):
    at = make_app(with_prior=False)
    text = " ".join(m.value for m in at.expander[0].markdown)
    for word in ("**cos**", "**var_g**", "**var_a**", "**alpha, beta, gamma**", "planted paths"):
        assert word in text
    assert at.get("imgs") or at.get("image")  # the legend


def test_next_epoch_and_edge_labels():
    from mro_core.paths import PathSpace

    from app.services.prior_view import graph_elements, next_epoch

    assert next_epoch([1, 2, 3], 1) == (2, True)
    assert next_epoch([1, 2, 3], 2) == (3, False)
    assert next_epoch([1, 2, 3], 3) == (3, False)
    assert next_epoch([1, 2, 3], None) == (1, True)
    _, edges = graph_elements(PathSpace(("T", "A", "V")), [0.42] * 6, "011011")
    assert edges[3].label == "A->V 0.42"
    assert [e.active for e in edges] == [False, True, True, False, True, True]
