"""mro_core.training.train: supernet training writes a loadable checkpoint each epoch and resumes after it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mro_core.training.checkpoint import load_checkpoint
from mro_core.config import ModelConfig, TrainConfig
from mro_core.data.synthetic import make_synthetic
from mro_core.paths import PathSpace
from mro_core.training.train import NonFiniteLossError, check_finite, resolve_device, sample_uniform_masks, train_supernet


def _setup(small_synthetic_cfg):
    ds = make_synthetic(small_synthetic_cfg)
    mcfg = ModelConfig(modalities=ds.modalities, input_dims=ds.input_dims, d_model=8, num_heads=2,
                       layers_per_path=1, dropout=0.0)
    return ds, mcfg


def test_train_then_resume_equals_one_run(tmp_path: Path, small_synthetic_cfg):
    ds, mcfg = _setup(small_synthetic_cfg)
    tcfg = TrainConfig(epochs=2, batch_size=16, device="cpu", masks_per_step=2)
    full = train_supernet(ds, mcfg, tcfg, out=tmp_path / "full.pt", progress=False, table=False)
    assert full.epoch == 2 and len(full.history) == 2
    train_supernet(ds, mcfg, TrainConfig(**{**tcfg.__dict__, "epochs": 1}), out=tmp_path / "half.pt",
                   progress=False, table=False)
    half = load_checkpoint(tmp_path / "half.pt")
    assert half.epoch == 1
    resumed = train_supernet(ds, mcfg, tcfg, out=tmp_path / "half.pt", resume=True, progress=False, table=False)
    assert resumed.epoch == 2
    for k, v in full.state_dict.items():
        assert torch.allclose(resumed.state_dict[k], v, atol=1e-6), k


def test_uniform_masks_are_never_empty_and_bad_losses_stop_training():
    space = PathSpace(("T", "A", "V"))
    masks = sample_uniform_masks(space, 50, np.random.default_rng(0))
    assert len(masks) == 50 and all(any(m) for m in masks)
    with pytest.raises(NonFiniteLossError):
        check_finite(torch.tensor([1.0, float("nan")]), "a test")
    assert resolve_device("cpu").type == "cpu"
