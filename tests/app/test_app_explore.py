"""Explore page (AppTest): toggles change the mask, the URL and the metrics shown."""

from __future__ import annotations

import importlib.util
import re
import shutil
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

DEMO = ROOT / "checkpoints" / "demo.pt"
HAS_STORE = importlib.util.find_spec("mro_core.runs.store") is not None
LATENCY_TEXT = re.compile(r"^\d+\.\d ms \u00b1 \d+\.\d$")
"""Median and half the interquartile range of the interleaved timed forwards."""
TABLE = {r["mask"]: r for r in load_checkpoint(DEMO).mask_table}


@pytest.fixture
def make_app(open_app):
    return lambda query=None: open_app(query=query)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def assert_shows(at: AppTest, bits: str) -> None:
    row = TABLE[bits]
    shown = metrics(at)
    assert shown["MAE"] == display_value("mae", row["mae"])
    assert shown["Corr"] == display_value("corr", row["corr"])
    assert shown["Acc-7"] == display_value("acc7", row["acc7"])
    assert shown["Acc-2"] == display_value("acc2", row["acc2"])
    assert shown["F1"] == display_value("f1", row["f1"])
    assert shown["MFLOPs"] == format_mflops(row["mflops"])
    assert shown["% of full FLOPs"] == f"{100 * row['mflops'] / TABLE['111111']['mflops']:.1f}%"
    assert LATENCY_TEXT.match(shown["Latency / batch"])


def test_smoke_full_mask(make_app):
    at = make_app()
    assert not at.exception
    assert at.title[0].value == "Explore subnets"
    toggles = {t.key: t.value for t in at.toggle}
    assert toggles == {S.toggle_key(n): True for n in ("T->A", "T->V", "A->T", "A->V", "V->T", "V->A")}
    assert at.session_state[S.MASK] == "111111"
    assert "111111" in str(at.query_params[S.MASK_PARAM])
    assert_shows(at, "111111")
    assert at.sidebar.selectbox(key=S.CHECKPOINT).value == str(DEMO.resolve())


def test_toggle_changes_metrics_and_url(make_app):
    at = make_app()
    before = metrics(at)
    at.toggle(key=S.toggle_key("T->A")).set_value(False).run()
    assert not at.exception
    assert at.session_state[S.MASK] == "011111"
    assert "011111" in str(at.query_params[S.MASK_PARAM])
    after = metrics(at)
    assert after["MFLOPs"] != before["MFLOPs"] and after["MAE"] != before["MAE"]
    assert_shows(at, "011111")
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["MFLOPs"] == f"{TABLE['011111']['mflops'] - TABLE['111111']['mflops']:+.3f}"
    # accuracy-like deltas are percentage points; MAE's is a plain difference (its own unit)
    for label, key in (("Acc-7", "acc7"), ("Acc-2", "acc2"), ("F1", "f1")):
        assert deltas[label] == f"{100 * (TABLE['011111'][key] - TABLE['111111'][key]):+.2f} pp"
    assert deltas["MAE"] == f"{TABLE['011111']['mae'] - TABLE['111111']['mae']:+.3f}"


def test_quick_masks(make_app):
    at = make_app()
    best = min(TABLE.values(), key=lambda r: r["mae"])["mask"]
    assert at.button(key=S.QUICK_FULL).disabled  # already the current mask
    at.button(key=S.QUICK_BEST).click().run()
    assert at.session_state[S.MASK] == best
    assert_shows(at, best)
    at.button(key=S.QUICK_FULL).click().run()
    assert at.session_state[S.MASK] == "111111"
    if best == "011011":  # one button for both (test_best_that_is_the_papers_mask_is_one_button)
        return
    at.button(key=S.QUICK_PAPER).click().run()
    assert at.session_state[S.MASK] == "011011"
    assert {t.key: t.value for t in at.toggle}[S.toggle_key("T->A")] is False
    assert_shows(at, "011011")


def test_best_that_is_the_papers_mask_is_one_button(make_app, monkeypatch):
    from app.services.checkpoints import BEST_IS_PAPER, CheckpointView

    monkeypatch.setattr(CheckpointView, "best_mask", lambda self: "011011")
    at = make_app()
    labels = [b.label for b in at.button if b.key in (S.QUICK_BEST, S.QUICK_PAPER)]
    assert labels == [f"{BEST_IS_PAPER} (011011)"]
    at.button(key=S.QUICK_BEST).click().run()
    assert at.session_state[S.MASK] == "011011"
    monkeypatch.setattr(CheckpointView, "best_mask", lambda self: "111010")
    at = make_app()
    assert {b.key for b in at.button} >= {S.QUICK_BEST, S.QUICK_PAPER}  # different masks: two buttons


def test_mask_from_url_and_bad_url(make_app):
    at = make_app({S.MASK_PARAM: "T->V,A->T,V->T,V->A"})
    assert not at.exception and at.session_state[S.MASK] == "011011"
    assert_shows(at, "011011")
    at = make_app({S.MASK_PARAM: "0101"})
    assert not at.exception and at.session_state[S.MASK] == "111111"
    assert any("does not fit" in w.value for w in at.warning)


def test_last_path_cannot_be_turned_off(make_app):
    at = make_app({S.MASK_PARAM: "000001"})
    at.toggle(key=S.toggle_key("V->A")).set_value(False).run()
    assert not at.exception
    assert at.session_state[S.MASK] == "000001"
    assert at.toggle(key=S.toggle_key("V->A")).value is True
    assert any("all-zero" in w.value for w in at.warning)


# ------------------------------------------------------------------------------------ k = 5
def _k5_checkpoint(path: Path) -> None:
    """A tiny untrained k = 5 checkpoint whose table holds only the single-path and full masks."""
    from tiny_checkpoints import write_tiny_checkpoint

    write_tiny_checkpoint(path, ("T", "A", "V", "X", "Y"), n_valid=24)


def test_k5_grid_and_mask_missing_from_table(make_app, monkeypatch, tmp_path):
    from app.services.checkpoints import CheckpointView

    path = tmp_path / "k5.pt"
    _k5_checkpoint(path)
    view = CheckpointView(path)
    bits = "11" + "0" * 18  # two paths: not in the table
    assert bits not in view.table
    first = view.metrics(view.parse(bits))
    assert first.source == "evaluated" and first.row["mask"] == bits and first.mflops > 0
    again = view.metrics(view.parse(bits))
    assert again.row is first.row  # evaluated once, then cached
    assert view.metrics(view.full_mask).source == "table"

    monkeypatch.setattr(settings, "DEMO_CHECKPOINT", path)
    at = make_app({S.MASK_PARAM: bits})
    assert not at.exception
    assert len(at.toggle) == 20
    assert at.session_state[S.MASK] == bits
    assert metrics(at)["MAE"] != "n/a"
    assert all(b.key != S.QUICK_PAPER for b in at.button)  # the paper's 011011 exists only for k = 3


@pytest.mark.skipif(importlib.util.find_spec("mro_core.runs.store") is None,
                    reason="mro_core.runs.store is not installed in this build")
def test_run_checkpoint_in_picker_survives_page_switch(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    run_ckpt = tmp_path / "run.pt"
    shutil.copy(DEMO, run_ckpt)
    store = RunStore(tmp_path / "runs")
    rid = store.create_run("copy", "search", {}, total_epochs=1)
    store.update_run(rid, checkpoint=str(run_ckpt))
    store.close()
    at = make_app()
    picker = at.sidebar.selectbox(key=S.CHECKPOINT)
    assert picker.options[0].startswith("demo") and any(rid in o for o in picker.options)
    picker.set_value(str(run_ckpt.resolve())).run()
    assert not at.exception
    for page in ("graph", "search", "pareto", "compare", "explore"):
        at.switch_page(f"views/{page}.py").run()
        assert at.sidebar.selectbox(key=S.CHECKPOINT).value == str(run_ckpt.resolve()), page
    assert_shows(at, at.session_state[S.MASK])


def _classification_checkpoint(path: Path) -> dict:
    """A tiny classification checkpoint whose data file is gone and whose table lacks one mask."""
    import torch

    from mro_core.training.checkpoint import Checkpoint, save_checkpoint
    from mro_core.config import ModelConfig, TrainConfig
    from mro_core.model.flops import analytic_flops
    from mro_core.model.supernet import Supernet
    from mro_core.paths import PathSpace

    cfg = ModelConfig(modalities=("T", "A", "V"), input_dims=(4, 5, 6), task="classification", out_dim=3,
                      d_model=8, num_heads=2, ff_mult=2, dropout=0.0)
    torch.manual_seed(0)
    model = Supernet(cfg)
    space = PathSpace(cfg.modalities)
    rows = [{"mask": PathSpace.to_bits(m), "acc": 0.3 + 0.01 * i, "acc7": 0.3 + 0.01 * i, "f1": 0.2 + 0.01 * i,
             "mflops": analytic_flops(cfg, m, (5, 5, 5)) / 1e6} for i, m in enumerate(space.all_masks())]
    rows = [r for r in rows if r["mask"] != "011011"]
    ck = Checkpoint(cfg, TrainConfig(batch_size=4, epochs=1, device="cpu"),
                    {k: v.detach().clone() for k, v in model.state_dict().items()},
                    data={"name": "npz", "data_path": str(path.parent / "gone.npz")}, epoch=1,
                    mask_table=rows, flops={"seq_lens": [5, 5, 5]})
    save_checkpoint(ck, path)
    return {r["mask"]: r for r in rows}


def test_classification_checkpoint_without_its_data(make_app, monkeypatch, tmp_path):
    path = tmp_path / "cls.pt"
    rows = _classification_checkpoint(path)
    monkeypatch.setattr(settings, "DEMO_CHECKPOINT", path)
    at = make_app({S.MASK_PARAM: "111110"})
    assert not at.exception
    shown = metrics(at)
    assert "MAE" not in shown and shown["Acc"] == display_value("acc", rows["111110"]["acc"])
    assert shown["F1"] == display_value("f1", rows["111110"]["f1"])
    assert LATENCY_TEXT.match(shown["Latency / batch"])  # random inputs of the data's shapes
    at.button(key=S.QUICK_PAPER).click().run()  # 011011 is missing from the table, the data is gone
    assert not at.exception
    shown = metrics(at)
    assert shown["Acc"] == "n/a" and shown["MFLOPs"] != "n/a"  # FLOPs still known (analytic)
    assert any("cannot be opened" in i.value for i in at.info)


# ---------------------------------------------------------------------- checkpoint in the URL
def test_checkpoint_is_in_the_url_beside_the_mask(make_app):
    at = make_app()
    assert str(at.query_params[S.CHECKPOINT_PARAM]).strip("[]'") == "demo"
    assert any("Shared weights" in m.value for m in at.markdown)  # the landing lines


def test_link_to_an_unknown_checkpoint_says_so(make_app):
    at = make_app({S.CHECKPOINT_PARAM: "deadbeef", S.MASK_PARAM: "011011"})
    assert not at.exception
    assert any("names checkpoint 'deadbeef'" in w.value for w in at.warning)  # not a silent fallback
    assert at.session_state[S.MASK] == "011011"


@pytest.mark.skipif(not HAS_STORE, reason="mro_core.runs.store is not installed in this build")
def test_link_opens_a_run_checkpoint(make_app, tmp_path):
    from mro_core.runs.store import RunStore

    ck = tmp_path / "run.pt"
    shutil.copy(DEMO, ck)
    store = RunStore(tmp_path / "runs")
    rid = store.create_run("linked", "search", {}, total_epochs=1)
    store.update_run(rid, checkpoint=str(ck))
    store.close()
    at = make_app({S.CHECKPOINT_PARAM: rid, S.MASK_PARAM: "011011"})
    # the only warning allowed is the provenance line (a copy of an older demo says where it came from)
    assert not at.exception and all("search code" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.sidebar.selectbox(key=S.CHECKPOINT).value == str(ck.resolve())
    at.sidebar.selectbox(key=S.CHECKPOINT).set_value(str(DEMO.resolve())).run()  # the picker wins over the link
    assert at.sidebar.selectbox(key=S.CHECKPOINT).value == str(DEMO.resolve())
    assert str(at.query_params[S.CHECKPOINT_PARAM]).strip("[]'") == "demo"
