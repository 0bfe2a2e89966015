"""mro_core.training.checkpoint: a saved checkpoint loads back equal; bad files are one clear CheckpointError."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from conftest import tiny_config
from mro_core.training.checkpoint import Checkpoint, CheckpointError, build_model, load_checkpoint, save_checkpoint
from mro_core.config import TrainConfig
from mro_core.model.supernet import Supernet


def test_save_load_round_trip_rebuilds_the_same_model(tmp_path: Path):
    cfg = tiny_config()
    net = Supernet(cfg)
    ckpt = Checkpoint(cfg, TrainConfig(epochs=2), net.state_dict(), data={"name": "synthetic"}, epoch=1,
                      history=[{"epoch": 1, "valid_loss": 0.5}], extra={"kind": "train"})
    path = save_checkpoint(ckpt, tmp_path / "sub" / "c.pt")
    back = load_checkpoint(path)
    assert back.model_config == cfg and back.train_config.epochs == 2 and back.epoch == 1
    assert back.history == ckpt.history and back.extra == {"kind": "train"} and not back.complete
    rebuilt = build_model(back)
    for k, v in net.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[k], v)


def test_bad_files_are_checkpoint_errors(tmp_path: Path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError):
        load_checkpoint(garbage)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(CheckpointError, match="not an MRO checkpoint"):
        load_checkpoint(other)
    evil = tmp_path / "evil.pt"
    evil.write_bytes(pickle.dumps(print))
    with pytest.raises(CheckpointError):
        load_checkpoint(evil)
