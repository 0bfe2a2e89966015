"""MELD's validation dialogues come from their own fixed seed (--split-seed), not the training seed."""

from types import SimpleNamespace

import data_layouts as L
from mro_core import cli
from mro_core.cli import common as _common
from mro_core.training.checkpoint import dataset_for
from mro_core.data import load_dataset
from mro_core.data.meld import DEFAULT_SPLIT_SEED


def _valid_dialogues(path, *argv):
    a = cli.build_parser().parse_args(["train", "--dataset", "meld", "--data-path", str(path), "--out", "x.pt",
                                       *argv])
    ds, desc = _common.request_of(a).load_data()
    return frozenset(ds.meta["valid_dialogues"]), desc


def test_training_seed_does_not_move_the_validation_split(tmp_path):
    lay = L.meld(tmp_path, n_train=30)
    base, desc = _valid_dialogues(lay.path)
    assert desc["split_seed"] == DEFAULT_SPLIT_SEED == 0
    for seed in ("1", "7", "123"):
        assert _valid_dialogues(lay.path, "--seed", seed)[0] == base
    other = {_valid_dialogues(lay.path, "--split-seed", s)[0] for s in ("1", "2", "3")}
    assert other - {base}  # the split seed does pick the dialogues
    again, desc = _valid_dialogues(lay.path, "--split-seed", "2", "--seed", "9")
    assert again == _valid_dialogues(lay.path, "--split-seed", "2")[0] and desc["split_seed"] == 2


def test_checkpoints_reopen_the_same_split(tmp_path, monkeypatch):
    import mro_core.training.checkpoint as C

    monkeypatch.setattr(C, "check_compatible", lambda *a, **k: None)  # no model here, only data
    lay = L.meld(tmp_path, n_train=30)
    want = frozenset(load_dataset("meld", lay.path, window=3, split_seed=5).meta["valid_dialogues"])
    new = SimpleNamespace(data={"name": "meld", "data_path": str(lay.path), "window": 3, "split_seed": 5})
    old = SimpleNamespace(data={"name": "meld", "data_path": str(lay.path), "window": 3, "seed": 5})
    for ck in (new, old):  # older checkpoints recorded the split's seed as "seed"
        ck.model_config = None
        assert frozenset(dataset_for(ck).meta["valid_dialogues"]) == want
