import numpy as np
import pytest

from mro_core.config import SyntheticConfig
from mro_core.data import load_dataset
from mro_core.data.base import DataError, make_batch
from mro_core.data.npz import load_npz, save_npz
from mro_core.data.synthetic import make_synthetic


def _arrays(task="regression", k=3, n=6, L=5, D=4):
    mods = ["a", "b", "c", "d"][:k]
    rng = np.random.default_rng(0)
    z = {"modalities": np.array(mods), "task": np.array(task)}
    for s in ("train", "valid", "test"):
        for m in mods:
            z[f"{s}_{m}"] = rng.normal(size=(n, L, D)).astype(np.float32)
        z[f"{s}_label"] = (rng.uniform(-3, 3, n) if task == "regression" else rng.integers(0, 3, n))
    return z


def test_roundtrip_keeps_arrays_masks_and_planted(tmp_path, small_synthetic_cfg):
    ds = make_synthetic(small_synthetic_cfg)
    path = save_npz(ds, tmp_path / "d.npz")
    back = load_npz(path)
    assert back.modalities == ds.modalities and back.planted_paths == ds.planted_paths
    for s in ("train", "valid", "test"):
        for m in ds.modalities:
            np.testing.assert_array_equal(back.splits[s].features[m], ds.splits[s].features[m])
            np.testing.assert_array_equal(back.splits[s].valid[m], ds.splits[s].valid[m])
        np.testing.assert_array_equal(back.splits[s].labels, ds.splits[s].labels)


def test_cli_writes_synthetic_npz_that_loads(tmp_path):
    from mro_core.cli import main

    out = tmp_path / "syn.npz"
    assert main(["data", "synthetic", "--out", str(out), "--n-train", "20", "--n-valid", "8", "--n-test", "8"]) == 0
    ds = load_dataset("npz", out)
    assert len(ds.splits["train"]) == 20 and ds.planted_paths


def test_k4_classification_without_lengths_uses_nonzero_rows(tmp_path):
    z = _arrays("classification", k=4)
    z["train_a"][0, 3:] = 0  # padded tail (any side: all-zero rows are padding)
    z["num_classes"] = np.array(3)
    np.savez(tmp_path / "c.npz", **z)
    ds = load_npz(tmp_path / "c.npz")
    assert ds.task == "classification" and ds.num_classes == 3 and len(ds.modalities) == 4
    assert ds.splits["train"].valid["a"][0].tolist() == [True, True, True, False, False]
    b = make_batch(ds.splits["train"], np.arange(2))
    assert b.y.dtype.is_floating_point is False


def test_nan_features_become_zero_with_a_logged_count(tmp_path, caplog):
    z = _arrays()
    z["train_b"][0, 0, :2] = np.nan
    z["train_b"][1, 0, 0] = -np.inf
    np.savez(tmp_path / "n.npz", **z)
    ds = load_npz(tmp_path / "n.npz")
    assert np.isfinite(ds.splits["train"].features["b"]).all()
    assert "replaced 3 NaN/inf" in caplog.text


@pytest.mark.parametrize("mutate, match", [
    (lambda z: z.pop("valid_label"), "missing key 'valid_label'"),
    (lambda z: z.pop("test_b"), "missing key 'test_b'"),
    (lambda z: z.update(task=np.array("ranking")), "task must be"),
    (lambda z: z.update(train_a=np.zeros((6, 5))), r"must be \[N, L, D\]"),
    (lambda z: z.update(train_a=np.zeros((5, 5, 4))), "5 samples but there are 6 labels"),
    (lambda z: z.update(valid_b=np.zeros((6, 5, 9))), "feature dim 9"),
    (lambda z: z.update(train_label=np.full(6, 4.5)), r"must lie in \[-3, 3\]"),
    (lambda z: z.update(train_a_len=np.full(6, 99)), "_len' must lie in"),
    (lambda z: z.update(test_label=np.zeros(0), test_a=np.zeros((0, 5, 4)), test_b=np.zeros((0, 5, 4)),
                        test_c=np.zeros((0, 5, 4))), "empty"),
])
def test_bad_files_give_one_line_errors(tmp_path, mutate, match):
    z = _arrays()
    mutate(z)
    np.savez(tmp_path / "bad.npz", **z)
    with pytest.raises(DataError, match=match) as e:
        load_npz(tmp_path / "bad.npz")
    assert "\n" not in str(e.value)


def test_class_ids_outside_the_label_set(tmp_path):
    z = _arrays("classification")
    z["num_classes"] = np.array(2)
    np.savez(tmp_path / "c.npz", **z)
    with pytest.raises(DataError, match="class ids span"):
        load_npz(tmp_path / "c.npz")


def test_truncated_and_missing_files(tmp_path):
    z = _arrays()
    np.savez(tmp_path / "ok.npz", **z)
    data = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated"):
        load_npz(tmp_path / "trunc.npz")
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("npz", tmp_path / "nope.npz")
    with pytest.raises(DataError, match="needs --data-path"):
        load_dataset("npz", None)
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("imagenet", None)


def test_pickled_object_arrays_are_refused(tmp_path):
    z = _arrays()
    z["modalities"] = np.array(["a", "b", "c"], dtype=object)
    np.savez(tmp_path / "o.npz", **z)
    with pytest.raises(DataError, match="without pickle"):
        load_npz(tmp_path / "o.npz")


def test_batches_trim_all_padding_columns():
    ds = make_synthetic(SyntheticConfig(n_train=16, n_valid=4, n_test=4, seq_len=12, min_len=8))
    sp = ds.splits["train"]
    idx = np.arange(16)
    b = make_batch(sp, idx)
    for m in ds.modalities:
        assert b.x[m].shape[1] == sp.valid[m][idx].sum(1).max()
