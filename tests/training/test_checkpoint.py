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


def _saved(tmp_path: Path) -> tuple[Path, dict[str, torch.Tensor]]:
    net = Supernet(tiny_config())
    sd = net.state_dict()
    return save_checkpoint(Checkpoint(tiny_config(), TrainConfig(epochs=1), sd), tmp_path / "c.pt"), sd


def test_a_byte_flipped_in_a_weight_is_refused_naming_the_tensor(tmp_path: Path):
    path, sd = _saved(tmp_path)
    load_checkpoint(path)  # intact: loads
    name, w = max(sd.items(), key=lambda kv: kv[1].numel())
    blob = bytearray(path.read_bytes())
    at = bytes(blob).find(w.contiguous().view(torch.uint8).numpy().tobytes()[:64])
    assert at > 0  # torch stores tensors uncompressed: the weight's bytes are in the file
    blob[at + 40] ^= 0x01  # one bit of one float: still finite, still loadable by torch
    path.write_bytes(bytes(blob))
    raw = torch.load(path, weights_only=True)  # torch itself does not notice
    assert not torch.equal(raw["state_dict"][name], w)
    with pytest.raises(CheckpointError, match=rf"weight tensor '{name}' does not match its checksum"):
        load_checkpoint(path)


def test_checkpoints_without_checksums_still_load_and_non_finite_weights_are_refused(tmp_path: Path):
    path, sd = _saved(tmp_path)
    raw = torch.load(path, weights_only=True)
    del raw["checksums"]  # a checkpoint written before checksums
    torch.save(raw, path)
    assert load_checkpoint(path).state_dict.keys() == sd.keys()
    name = next(k for k, v in sd.items() if v.is_floating_point())
    raw["state_dict"][name] = raw["state_dict"][name].clone().fill_(float("nan"))
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match=rf"weight tensor '{name}' holds NaN or infinite values"):
        load_checkpoint(path)
