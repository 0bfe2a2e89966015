"""k > 3: the synthetic benchmark, supernet, prior, search, FLOPs table for k = 4 and k = 5."""

from dataclasses import replace

import pytest

from mro_core.config import SyntheticConfig, get_preset, model_config_for
from mro_core.data.synthetic import make_synthetic
from mro_core.paths import PathSpace
from mro_core.config import SearchConfig
from mro_core.search.run import run_search


def _run(k, tmp_path, **scfg):
    mods = ("T", "A", "V", "D", "E")[:k]
    ds = make_synthetic(SyntheticConfig(modalities=mods, planted=("T->A", "D->T"), n_train=64, n_valid=32,
                                        n_test=32, seed=4))
    p = get_preset("demo")
    mcfg = model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task, d_model=16)
    tcfg = replace(p.train, epochs=2, batch_size=32, device="cpu")
    return ds, run_search(ds, mcfg, tcfg, SearchConfig(warmup_epochs=1, top_n=32, **scfg), out=tmp_path / "s.pt")


def test_k4_evaluates_all_4095_masks(tmp_path):
    ds, res = _run(4, tmp_path, budget_mflops=0.3)
    assert len(res.rows) == 4095 == PathSpace(ds.modalities).num_masks
    assert len(res.history[-1]["p"]) == 12
    assert all(len(v["mask"]) == 12 for v in res.picks.values() if "mask" in v)
    mf = {r["mask"]: r["mflops"] for r in res.rows}
    assert mf["1" * 12] == max(mf.values())


def test_k5_uses_sampled_selection(tmp_path):
    ds, res = _run(5, tmp_path)
    space = PathSpace(ds.modalities)
    assert space.num_paths == 20
    masks = {r["mask"] for r in res.rows}
    assert "1" * 20 in masks and all(PathSpace.to_bits(m) in masks for m in space.iter_single_path_masks())
    assert 20 < len(res.rows) < 2000
    assert res.picks["best"]["mask"] in masks


@pytest.mark.parametrize("k", [4, 5])
def test_prior_sums_to_one_per_source(k, tmp_path):
    import torch

    from mro_core.search.prior import MRGPrior

    space = PathSpace(tuple("abcde"[:k]))
    p = MRGPrior(space, seed=0).probs(torch.randn(space.num_paths, 3))
    for i in range(k):
        p = p.detach()
    assert sum(float(p[j]) for j, q in enumerate(space.paths) if q.src == i) == pytest.approx(1.0, abs=1e-5)
