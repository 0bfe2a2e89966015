"""Provenance (AppTest): every page that shows an artefact from other search code says so in one
warning line, and says nothing when the artefact came from this search code. The checkpoint's own
recorded version is read, never assumed (checkpoints/demo.pt is regenerated from time to time)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import mro_core.provenance as prov  # noqa: E402
from mro_core.experiments.results import recorded_version  # noqa: E402
from mro_core.training.checkpoint import load_checkpoint  # noqa: E402

from app.components import compare_tables  # noqa: E402
from app.services import settings  # noqa: E402
from app.services import state as S  # noqa: E402

DEMO = ROOT / "checkpoints" / "demo.pt"
OTHER = "0123456789ab"
TABLE = {r["mask"]: r for r in load_checkpoint(DEMO).mask_table}


def warnings_about(at, what: str) -> list[str]:
    return [w.value for w in at.warning if what in w.value and "search code" in w.value]


@pytest.mark.parametrize("page", ["views/explore.py", "views/graph.py", "views/pareto.py"])
def test_checkpoint_from_other_search_code_is_one_warning(open_app, monkeypatch, page):
    monkeypatch.setattr(prov, "code_version", lambda: OTHER)  # this installation is "other" code
    at = open_app(page)
    assert not at.exception
    assert len(warnings_about(at, "demo.pt")) == 1


def test_checkpoint_from_this_search_code_is_quiet(open_app, monkeypatch):
    recorded = recorded_version(DEMO)
    if not recorded:
        pytest.skip("the demo checkpoint records no version at all, so it can never be current")
    monkeypatch.setattr(prov, "code_version", lambda: recorded)
    at = open_app("views/explore.py")
    assert not at.exception
    assert warnings_about(at, "demo.pt") == []


@pytest.mark.parametrize("recorded, warned", [(OTHER, True), ("fedcba987654", False)])
def test_shipped_table5_on_compare(open_app, monkeypatch, tmp_path, recorded, warned):
    monkeypatch.setattr(prov, "code_version", lambda: "fedcba987654")
    csv = tmp_path / "results" / "table5.csv"
    csv.parent.mkdir()
    csv.write_text("Model,Subnet Mask,MAE,MFLOPs,code_version\n"
                   f"Concat+MLP,-,0.9,1.0,{recorded}\n")
    monkeypatch.setattr(compare_tables, "SHIPPED_TABLE5", csv)
    at = open_app("views/compare.py")
    assert not at.exception
    assert len(warnings_about(at, "table5.csv")) == (1 if warned else 0)


@pytest.mark.parametrize("recorded, warned", [(OTHER, True), ("fedcba987654", False)])
def test_ground_truth_on_learn(open_app, monkeypatch, tmp_path, recorded, warned):
    monkeypatch.setattr(prov, "code_version", lambda: "fedcba987654")
    full = max(TABLE, key=lambda m: m.count("1"))
    (tmp_path / "repo" / "results").mkdir(parents=True)
    (tmp_path / "repo" / "results" / "ground_truth_k3.csv").write_text(
        "mask,seed,valid_mae,test_mae,code_version\n"
        + "".join(f"{m},0,{TABLE[m]['mae']},{TABLE[m]['mae']},{recorded}\n" for m in list(TABLE)[:3] + [full]))
    monkeypatch.setattr(settings, "REPO_ROOT", tmp_path / "repo")
    at = open_app("views/learn.py")
    for _ in range(12):  # walk to the ground-truth step, however many steps come before it
        if any(s.value.endswith("Can we trust the supernet?") for s in at.subheader):
            break
        at.button(key=S.LEARN_NEXT).click().run()
        assert not at.exception
    assert any(s.value.endswith("Can we trust the supernet?") for s in at.subheader)
    assert len(warnings_about(at, "ground_truth_k3.csv")) == (1 if warned else 0)
