from dataclasses import replace

import numpy as np
import pytest

from mro_core.config import SyntheticConfig, get_preset, model_config_for
from mro_core.data.base import DataError
from mro_core.data.synthetic import feature_dim, make_synthetic, planted_mask
from mro_core.paths import PathSpace


def test_same_seed_same_arrays_other_seed_differs(small_synthetic_cfg):
    a, b = make_synthetic(small_synthetic_cfg), make_synthetic(small_synthetic_cfg)
    c = make_synthetic(replace(small_synthetic_cfg, seed=2))
    for m in a.modalities:
        np.testing.assert_array_equal(a.splits["train"].features[m], b.splits["train"].features[m])
    assert not np.array_equal(a.splits["train"].labels, c.splits["train"].labels)


def test_shapes_ground_truth_and_label_range(small_synthetic_cfg):
    ds = make_synthetic(small_synthetic_cfg)
    assert ds.modalities == ("T", "A", "V") and ds.task == "regression"
    assert ds.planted_paths == ("T->V", "A->T", "V->T", "V->A")
    assert planted_mask(ds) == (0, 1, 1, 0, 1, 1)
    tr = ds.splits["train"]
    assert tr.features["T"].shape == (64, 12, feature_dim(small_synthetic_cfg))
    assert tr.labels.min() >= -3 and tr.labels.max() <= 3
    lengths = tr.valid["T"].sum(1)
    assert lengths.min() >= 8 and lengths.max() <= 12
    # right padding: valid steps first, and padded steps hold zeros only
    assert (tr.features["T"][~tr.valid["T"]] == 0).all()


def test_label_is_exactly_the_planted_retrievals_when_noise_free():
    cfg = SyntheticConfig(n_train=50, n_valid=5, n_test=5, noise=0.0, seed=3)
    ds = make_synthetic(cfg)
    sp, K = ds.splits["train"], cfg.num_keys
    space = PathSpace(ds.modalities)

    def retrieve(b, src, tgt):
        q = int(np.argmax(sp.features[tgt][b, 0, K + 1:]))
        slot = np.flatnonzero(sp.features[src][b, :, q])
        assert len(slot) == 1  # every key stored exactly once in each source
        return sp.features[src][b, slot[0], K]

    for b in range(50):
        want = sum(retrieve(b, space.modalities[p.src], space.modalities[p.tgt])
                   for p in space.active_paths(planted_mask(ds))) * 3 / 4
        assert sp.labels[b] == pytest.approx(np.clip(want, -3, 3), abs=1e-5)


@pytest.mark.parametrize("k", [2, 4])
def test_any_k(k):
    mods = tuple("ABCD"[:k])
    cfg = SyntheticConfig(modalities=mods, planted=(f"{mods[0]}->{mods[1]}",), n_train=8, n_valid=4, n_test=4)
    ds = make_synthetic(cfg)
    assert ds.modalities == mods and len(ds.splits["valid"]) == 4


@pytest.mark.parametrize("kw, match", [
    (dict(planted=("T->X",)), "unknown path"),
    (dict(min_len=4), "min_len"),
])
def test_bad_generator_arguments(kw, match):
    with pytest.raises(DataError, match=match):
        make_synthetic(SyntheticConfig(n_train=8, n_valid=4, n_test=4, **kw))


@pytest.mark.slow
def test_short_training_recovers_the_planted_routing(tmp_path):
    """Ground truth: the planted subnet clearly beats every subnet missing one planted path, and a
    mask of unplanted paths only stays near the predict-the-mean baseline."""
    from mro_core.training.train import mean_baseline_loss, train_supernet

    ds = make_synthetic(SyntheticConfig(n_train=3000, n_valid=500, n_test=100, seed=0))
    p = get_preset("demo")
    cfg = model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task)
    ck = train_supernet(ds, cfg, replace(p.train, epochs=12, device="cpu"), out=tmp_path / "s.pt", progress=False)
    mae = {r["mask"]: r["mae"] for r in ck.mask_table}
    planted = mae["011011"]
    missing_one = [mae[m] for m in ("001011", "010011", "011001", "011010")]
    baseline = mean_baseline_loss(ds)
    assert planted < 0.75 * min(missing_one), (planted, missing_one)
    assert planted < 0.5 * baseline
    unplanted = mae["100100"]  # T->A, A->V
    assert unplanted > 0.85 * baseline, (unplanted, baseline)
    assert min(mae, key=mae.get) == "011011"
