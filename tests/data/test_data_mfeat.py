"""The built-in UCI Multiple Features dataset: shapes, the fixed stratified split, train-only
scaling, tokens, `--dataset mfeat` in `load_dataset` and `mro data inspect`."""

import json
import subprocess
import sys

import numpy as np
import pytest

from mro_core.cli import main
from mro_core.data import DATASETS, DataError, load_dataset
from mro_core.data.mfeat import CHUNK_WIDTH, DEFAULT_TOKENS, VIEWS, load_mfeat, raw_views, tokenise

DIMS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}


def test_shipped_arrays_hold_2000_digits_in_six_views():
    views, labels, split, seed = raw_views()
    assert tuple(views) == VIEWS and {v: x.shape[1] for v, x in views.items()} == DIMS
    assert all(x.shape[0] == 2000 and x.dtype == np.float32 and np.isfinite(x).all() for x in views.values())
    assert np.bincount(labels).tolist() == [200] * 10 and seed == 0


def test_split_is_stratified_60_20_20_and_fixed():
    _, labels, split, _ = raw_views()
    for s, n in enumerate((120, 40, 40)):  # per class
        assert np.bincount(labels[split == s], minlength=10).tolist() == [n] * 10
    a, b = load_mfeat(), load_mfeat()  # no seed argument: the split is the file's
    for s in ("train", "valid", "test"):
        assert np.array_equal(a.splits[s].labels, b.splits[s].labels)
        assert np.array_equal(a.splits[s].features["pix"], b.splits[s].features["pix"])


def test_zscore_uses_train_statistics_only():
    ds = load_mfeat(tokens="view")
    views, labels, split, _ = raw_views()
    for v in VIEWS:
        tr = ds.splits["train"].features[v][:, 0, :]
        sd = views[v][split == 0].std(0)
        live = sd > 0
        np.testing.assert_allclose(tr.mean(0), 0, atol=1e-4)
        np.testing.assert_allclose(tr.std(0)[live], 1, atol=1e-3)
        # test rows are scaled with train's mean/std, not their own
        te = ds.splits["test"].features[v][:, 0, :]
        expect = (views[v][split == 2] - views[v][split == 0].mean(0)) / np.where(live, sd, 1)
        np.testing.assert_allclose(te, expect, rtol=1e-4, atol=1e-4)
        assert not np.allclose(te.mean(0), 0, atol=1e-3)


@pytest.mark.parametrize("tokens", ["view", "chunk"])
def test_tokens_shapes_and_every_step_real(tokens):
    ds = load_mfeat(tokens=tokens)
    assert ds.task == "classification" and ds.num_classes == 10 and ds.modalities == VIEWS
    assert [len(ds.splits[s]) for s in ("train", "valid", "test")] == [1200, 400, 400]
    if tokens == "view":
        assert ds.seq_lens == (1,) * 6 and ds.input_dims == tuple(DIMS.values())
    else:
        assert ds.input_dims == (CHUNK_WIDTH,) * 6
        assert ds.seq_lens == tuple(-(-d // CHUNK_WIDTH) for d in DIMS.values())
    for sp in ds.splits.values():
        assert all(sp.valid[m].all() for m in ds.modalities)


def test_tokenise_chunks_pad_the_last_chunk_with_zero_features():
    x = np.arange(2 * 5, dtype=np.float32).reshape(2, 5)
    t = tokenise(x, "chunk", 2)
    assert t.shape == (2, 3, 2) and t[0, 2].tolist() == [4.0, 0.0]
    assert np.array_equal(t.reshape(2, -1)[:, :5], x)
    assert tokenise(x, "view").shape == (2, 1, 5)


def test_registered_and_refuses_a_data_path():
    assert "mfeat" in DATASETS
    ds = load_dataset("mfeat")
    assert ds.name == "mfeat" and ds.meta["tokens"] == DEFAULT_TOKENS
    with pytest.raises(DataError, match="built in"):
        load_dataset("mfeat", "/tmp/some.npz")
    with pytest.raises(ValueError, match="choose one of"):
        load_mfeat(tokens="rows")


def test_cli_inspect(capsys):
    assert main(["data", "inspect", "--dataset", "mfeat", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["dataset"] == "mfeat" and d["modalities"] == list(VIEWS) and d["num_classes"] == 10
    assert [s["n"] for s in d["splits"]] == [1200, 400, 400]
    assert main(["data", "inspect", "--dataset", "mfeat", "somefile.npz"]) == 2


@pytest.mark.slow
def test_tiny_search_on_mfeat_runs(tmp_path, capsys):
    out = tmp_path / "m.pt"
    assert main(["search", "--dataset", "mfeat", "--preset", "mfeat", "--epochs", "2", "--warmup", "1", "--device", "cpu",
                 "--d-model", "16", "--workspace", str(tmp_path / "ws"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert out.is_file() and "best" in text and "knee" in text
