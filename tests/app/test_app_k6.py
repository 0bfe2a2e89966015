"""k = 6 (30 paths) on Explore and Graph (AppTest): the layout choices that keep them readable."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.services import settings  # noqa: E402
from app.services import state as S  # noqa: E402

MODALITIES = ("T", "A", "V", "P", "E", "G")
SIDE_BY_SIDE = 3 / 5
"""Weight of the grid's column when it shares the row with the routing diagram (k <= 4)."""


def _k6_checkpoint(path: Path) -> None:
    """A tiny untrained k = 6 checkpoint whose table holds the single-path masks and the full mask."""
    from tiny_checkpoints import write_tiny_checkpoint

    write_tiny_checkpoint(path, MODALITIES, n_valid=16)


@pytest.fixture
def k6_app(open_app, monkeypatch, tmp_path):
    path = tmp_path / "k6.pt"
    _k6_checkpoint(path)
    monkeypatch.setattr(settings, "DEMO_CHECKPOINT", path)
    return lambda page=None: open_app(page)


def test_k6_explore_grid_takes_the_full_width(k6_app):
    at = k6_app()
    assert not at.exception
    assert len(at.toggle) == 30 and at.session_state[S.MASK] == "1" * 30
    # the grid is not squeezed into the 3/5 column beside the routing diagram
    assert all(abs(c.weight - SIDE_BY_SIDE) > 1e-9 for c in at.columns)
    at.toggle(key=S.toggle_key("G->E")).set_value(False).run()
    assert not at.exception and at.session_state[S.MASK] == "1" * 29 + "0"


def test_k3_explore_keeps_grid_and_diagram_side_by_side(open_app):
    at = open_app()
    assert any(abs(c.weight - SIDE_BY_SIDE) < 1e-9 for c in at.columns)


def test_k6_graph_unlabelled_edges_and_every_path_in_the_table(k6_app):
    at = k6_app("views/graph.py")
    assert not at.exception
    assert any(c.value.startswith("30 paths: their edges carry no labels") for c in at.caption)
    assert len(at.dataframe[0].value) == 30


def test_a_mask_missing_from_the_table_is_evaluated_on_one_thread(tmp_path, monkeypatch):
    """Two torch threads on two busy cores stalled a k = 6 evaluation 10x (1.3 s against 0.1 s)."""
    import torch

    import mro_core.training.train as train
    from app.services.checkpoints import EVAL_THREADS, CheckpointView

    path = tmp_path / "k6.pt"
    _k6_checkpoint(path)
    view = CheckpointView(path)
    seen = []
    real = train.evaluate_masks

    def spy(*a, **kw):
        seen.append(torch.get_num_threads())
        return real(*a, **kw)

    monkeypatch.setattr(train, "evaluate_masks", spy)
    torch.set_num_threads(2)
    try:
        m = view.metrics(view.parse("11" + "0" * 28))
        assert m.source == "evaluated" and m.row is not None
        assert seen == [EVAL_THREADS] == [1]
        assert torch.get_num_threads() == 2  # restored
    finally:
        torch.set_num_threads(1)  # the suite's setting (tests/conftest.py)


def test_best_mask_is_computed_once(tmp_path):
    from app.services.checkpoints import CheckpointView

    path = tmp_path / "k6.pt"
    _k6_checkpoint(path)
    view = CheckpointView(path)
    best = view.best_mask()
    assert best == min(view.table, key=lambda b: view.table[b]["mae"])
    view.table = {}  # not read again: Explore asks on every toggle
    assert view.best_mask() == best
