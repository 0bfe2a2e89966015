"""A sample's prediction is the same alone, in any batch and in any order, for every data layout.

Positions count from each sample's first real step (``first_real_positions``), so neither the
padding side of the file (MulT pads on the left, MMSA on the right) nor the columns that
``make_batch`` cuts off a batch change what the model sees.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import data_layouts as L
from mro_core.config import ModelConfig
from mro_core.data.base import Split, make_batch
from mro_core.model.layers import first_real_positions
from mro_core.model.supernet import Supernet
from mro_core.training.train import predict_masks

TOL = 1e-5


def _model(ds, seed: int = 0, dropout: float = 0.1) -> Supernet:
    torch.manual_seed(seed)
    cfg = ModelConfig(
        modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task,
        out_dim=ds.num_classes or 1, aux_sentiment="sentiment" in ds.extra_targets,
        d_model=8, num_heads=2, ff_mult=2, dropout=dropout, layers_per_path=2,
    )
    return Supernet(cfg).eval()


def _masks(model: Supernet):
    sp = model.space
    singles = [tuple(int(i == p) for i in range(sp.num_paths)) for p in range(sp.num_paths)]
    return [sp.full_mask(), *singles]


def _alone(model: Supernet, split: Split, masks) -> np.ndarray:
    """``(M, N, out)``: each sample run on its own (batch of one)."""
    with torch.no_grad():
        outs = [model(make_batch(split, [i]), masks=masks) for i in range(len(split))]
    return torch.cat(outs, 1).numpy()


def _check_invariant(model: Supernet, split: Split, rng: np.random.Generator) -> None:
    masks = _masks(model)
    ref = _alone(model, split, masks)
    n = len(split)
    with torch.no_grad():
        for _ in range(4):  # random orders, random batch sizes, with repeats of a sample
            order = rng.permutation(n)
            size = int(rng.integers(2, n + 1))
            for s in range(0, n, size):
                idx = order[s : s + size]
                got = model(make_batch(split, idx), masks=masks).numpy()
                np.testing.assert_allclose(got, ref[:, idx], atol=TOL, rtol=0)
        idx = rng.integers(0, n, 2 * n)  # one batch that holds some samples twice
        got = model(make_batch(split, idx), masks=masks).numpy()
        np.testing.assert_allclose(got, ref[:, idx], atol=TOL, rtol=0)
    for bs in (1, 3, n):  # and the evaluation path itself
        np.testing.assert_allclose(predict_masks(model, split, masks, batch_size=bs), ref, atol=TOL, rtol=0)


@pytest.mark.parametrize("key", sorted(L.BUILDERS))
def test_prediction_does_not_depend_on_the_batch(tmp_path, key):
    ds = L.BUILDERS[key](tmp_path).load()
    model = _model(ds)
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        _check_invariant(model, ds.splits[split], rng)


@pytest.mark.parametrize("k", [2, 3, 4, 5])
@pytest.mark.parametrize("kind", ["npz_lengths", "npz_nolengths", "synthetic"])
def test_prediction_does_not_depend_on_the_batch_for_any_k(tmp_path, kind, k):
    if kind == "synthetic":
        lay = L.synthetic(k)
    else:
        lay = L.npz(tmp_path, k=k, lengths=kind == "npz_lengths", seed=k)
    ds = lay.load()
    assert len(ds.modalities) == k
    _check_invariant(_model(ds, seed=k), ds.splits["test"], np.random.default_rng(k))


def test_issue_case_left_padded_sample_alone_and_beside_longer_ones(tmp_path):
    """The reported case: a short left-padded (MulT) sample alone, then beside a length-4 and a
    length-10 sample, which makes ``make_batch`` keep more leading padding columns."""
    ds = L.mult(tmp_path, aligned=True, seq=(10, 10, 10)).load()
    sp = ds.splits["train"]
    lens = sp.valid["T"].sum(1)
    x = {m: a.copy() for m, a in sp.features.items()}
    v = {m: a.copy() for m, a in sp.valid.items()}
    for m in x:  # sample 0 real on its last 2 steps, sample 1 on 4, sample 2 on 10 (left padding)
        for i, ln in enumerate((2, 4, 10)):
            v[m][i] = np.arange(10) >= 10 - ln
            x[m][i, ~v[m][i]] = 0.0
    sp = Split(x, v, sp.labels)
    assert lens.size >= 3
    model = _model(ds)
    with torch.no_grad():
        alone = model(make_batch(sp, [0]), model.space.full_mask())
        with4 = model(make_batch(sp, [0, 1]), model.space.full_mask())[0]
        with10 = model(make_batch(sp, [0, 2]), model.space.full_mask())[0]
    assert make_batch(sp, [0, 2]).x["T"].shape[1] == 10  # the batch keeps 8 padding columns of sample 0
    torch.testing.assert_close(with4, alone[0], atol=TOL, rtol=0)
    torch.testing.assert_close(with10, alone[0], atol=TOL, rtol=0)


def test_left_and_right_padding_of_the_same_sample_agree():
    """The same real steps give the same prediction whichever side the zeros are on."""
    rng = np.random.default_rng(3)
    n, Lmax, dims = 5, 8, (4, 3, 2)
    lens = {m: rng.integers(1, Lmax + 1, n) for m in "TAV"}
    right = {m: L.padded(np.random.default_rng(7), n, Lmax, d, lens[m], "right") for m, d in zip("TAV", dims)}
    left = {m: np.zeros_like(a) for m, a in right.items()}
    for m, a in right.items():
        for i, ln in enumerate(lens[m]):
            left[m][i, Lmax - ln:] = a[i, :ln]
    y = np.zeros(n, np.float32)
    sp_r = Split(right, {m: np.any(a != 0, 2) for m, a in right.items()}, y)
    sp_l = Split(left, {m: np.any(a != 0, 2) for m, a in left.items()}, y)
    torch.manual_seed(0)
    model = Supernet(ModelConfig(input_dims=dims, d_model=8, num_heads=2, ff_mult=2, dropout=0.0)).eval()
    masks = _masks(model)
    with torch.no_grad():
        a = model(make_batch(sp_r, np.arange(n)), masks=masks)
        b = model(make_batch(sp_l, np.arange(n)), masks=masks)
    torch.testing.assert_close(a, b, atol=TOL, rtol=0)


def test_training_forward_is_batch_invariant_too(tmp_path):
    """Training uses the same embedding: with dropout off, train-mode outputs match alone vs batch."""
    ds = L.mult(tmp_path, aligned=False).load()
    model = _model(ds, dropout=0.0).train()
    sp = ds.splits["train"]
    full = model.space.full_mask()
    alone = torch.cat([model(make_batch(sp, [i]), full) for i in range(len(sp))])
    batch = model(make_batch(sp, np.arange(len(sp))), full)
    torch.testing.assert_close(batch, alone, atol=TOL, rtol=0)


def test_positions_count_from_the_first_real_step():
    valid = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 0, 0], [0, 1, 0, 1, 0], [0, 0, 0, 0, 0]], dtype=torch.bool)
    pos = first_real_positions(valid)
    assert pos.tolist() == [[0, 0, 0, 1, 2], [0, 1, 2, 3, 4], [0, 0, 1, 2, 3], [0, 1, 2, 3, 4]]


def test_shipped_demo_checkpoint_loads_and_gives_its_stored_numbers():
    """Synthetic data is right-padded (first real step = 0), so per-sample positions equal the old
    0..L-1 and the shipped checkpoint reproduces the validation table it was saved with."""
    from pathlib import Path

    from mro_core.training.checkpoint import build_model, dataset_for, load_checkpoint
    from mro_core.training.train import evaluate_masks

    path = Path(__file__).resolve().parents[2] / "checkpoints" / "demo.pt"
    ckpt = load_checkpoint(path)
    ds = dataset_for(ckpt)
    model = build_model(ckpt)
    stored = {r["mask"]: r for r in ckpt.mask_table}
    masks = [model.space.parse(m) for m in ("111111", "011011", "100100", "000001")]
    for bs in (256, 7):
        for r in evaluate_masks(model, ds.splits["valid"], masks, batch_size=bs):
            for k in ("loss", "mae", "corr", "acc2", "acc2_has0"):
                assert r[k] == pytest.approx(stored[r["mask"]][k], abs=1e-5), (r["mask"], k, bs)
