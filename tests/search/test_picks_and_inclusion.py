"""The parsimonious pick's standard error, candidate sets that cover every path count at k >= 5,
``sigmoid`` inclusion (routings a per-source softmax cannot make the top mask) and the warning for
an edge statistic that is constant across edges."""

from __future__ import annotations

import itertools
import logging
from dataclasses import replace

import numpy as np
import pytest
import torch
from scipy.stats import sem

from mro_core.config import SearchConfig, SyntheticConfig, get_preset, model_config_for
from mro_core.data.synthetic import make_synthetic
from mro_core.paths import PathSpace
from mro_core.search.prior import (
    EdgeStats,
    LogitPrior,
    MRGPrior,
    inclusion_probs,
    mask_log_prob,
    mask_scores,
    top_masks,
)
from mro_core.search.run import build_prior
from mro_core.search.selection import (
    candidate_masks,
    masks_per_count,
    metric_standard_error,
    per_sample_metric,
    top_masks_with_count,
)
from mro_core.training.train import evaluate_masks

K5 = PathSpace(("ecg", "img", "eeg", "aud", "txt"))
HUB = ("ecg->img", "ecg->eeg", "ecg->aud", "img->txt")


# --------------------------------------------------------------------------- standard error
def test_per_sample_metric_means_are_mae_and_accuracy():
    out = np.array([[0.5], [-1.0], [2.0]])
    y = np.array([0.0, -1.5, 1.0])
    assert per_sample_metric("regression", out, y, 1).tolist() == [0.5, 0.5, 1.0]
    logits = np.array([[0.1, 0.9], [2.0, -1.0], [0.0, 1.0], [1.0, 0.0]])
    assert per_sample_metric("classification", logits, np.array([1, 1, 1, 0]), 2).tolist() == [1, 0, 1, 1]


def test_metric_standard_error_is_std_over_sqrt_n_of_the_masks_errors():
    ds = make_synthetic(SyntheticConfig(n_train=32, n_valid=40, n_test=8, seed=1))
    p = get_preset("demo")
    from mro_core.model.supernet import Supernet

    torch.manual_seed(0)
    model = Supernet(model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task, d_model=16))
    mask = (0, 1, 1, 0, 1, 1)
    se = metric_standard_error(model, ds.splits["valid"], mask, batch_size=16, device=torch.device("cpu"))
    row = evaluate_masks(model, ds.splits["valid"], [mask])[0]
    from mro_core.training.train import predict_masks

    err = np.abs(predict_masks(model, ds.splits["valid"], [mask])[0][:, 0] - ds.splits["valid"].labels)
    assert np.isclose(err.mean(), row["mae"])
    assert se == pytest.approx(err.std(ddof=1) / np.sqrt(len(err))) and se == pytest.approx(sem(err))


# ----------------------------------------------------------------- candidates per path count
def test_top_masks_with_count_are_the_most_probable_masks_of_that_size():
    pi = torch.tensor([0.9, 0.2, 0.6, 0.7, 0.1, 0.45])
    for c in (1, 2, 3, 5):
        got = top_masks_with_count(pi, c, 3)
        assert all(sum(m) == c for m in got) and len(set(got)) == len(got)
        size_c = [m for m in itertools.product((0, 1), repeat=6) if sum(m) == c]
        lp = mask_log_prob(pi.double(), size_c)
        want = [size_c[i] for i in torch.argsort(lp, descending=True).tolist()]
        assert got[0] == want[0]
        # exactly the most probable masks of that size for n <= 3 (any two-swap costs more than both its swaps)
        got_lp = mask_log_prob(pi.double(), got).sort(descending=True).values
        assert torch.allclose(got_lp, lp.sort(descending=True).values[:len(got)])


@pytest.mark.parametrize("ablation", ["none", "uniform", "random_search"])
def test_k5_candidates_cover_every_path_count(ablation):
    cfg = SearchConfig(ablation=ablation, top_n=8)
    pi = torch.full((K5.num_paths,), 0.9) if ablation == "none" else None  # a dense prior: no cheap top masks
    cands = candidate_masks(K5, pi, [], cfg, np.random.default_rng(0), per_epoch=4)
    counts = {sum(m) for m in cands}
    assert counts == set(range(1, K5.num_paths + 1))
    per = masks_per_count(K5, None, np.random.default_rng(3), per_count=3)
    assert [sum(m) for m in per] == [c for c in range(1, 21) for _ in range(3)]


# ----------------------------------------------------------------------- sigmoid inclusion
def _hub_prior():
    """A prior whose parameters are set by hand to the hub routing: p concentrates on the
    planted paths of each source, offsets decide how many of them are on."""
    prior = LogitPrior(K5, independent=True)
    with torch.no_grad():
        on = {i for i, b in enumerate(K5.parse(list(HUB))) if b}
        prior.logits.copy_(torch.tensor([3.0 if i in on else -3.0 for i in range(K5.num_paths)]))
        # ecg (3 planted paths) and img (1) keep theirs; eeg, aud, txt feed nothing
        prior.source_offsets.copy_(torch.tensor([3.0, 1.0, -6.0, -6.0, -6.0]))
    return prior, on


def test_sigmoid_inclusion_can_make_a_hub_with_silent_sources_the_top_mask():
    prior, on = _hub_prior()
    q = prior.probs()
    pi = inclusion_probs(q.double(), K5.k, mode="sigmoid", eps=0.01)
    mode = top_masks(pi, 1)[0]
    assert [i for i, b in enumerate(mode) if b] == sorted(on)
    assert PathSpace.to_bits(mode) == PathSpace.to_bits(K5.parse(list(HUB)))
    # not normalised per source: ecg's three paths are all likely at once
    assert (q.view(5, 4)[0].sort(descending=True).values[:3] > 0.9).all()


def test_relative_inclusion_always_gives_every_source_a_path_in_its_top_mask():
    # whatever p is, relative inclusion gives each source's favourite 0.9: the hub is unreachable
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        p = torch.softmax(torch.randn(5, 4, generator=g) * 3, -1).reshape(-1)
        mode = top_masks(inclusion_probs(p.double(), 5, mode="relative", eps=0.1), 1)[0]
        assert all(any(mode[s * 4:(s + 1) * 4]) for s in range(5))


def test_uniform_independent_prior_is_one_half_and_offsets_get_gradients():
    for prior in (LogitPrior(K5, independent=True), MRGPrior(K5, independent=True, seed=0)):
        q = prior.probs(torch.zeros(K5.num_paths, 3))
        if isinstance(prior, LogitPrior):
            assert torch.allclose(q, torch.full_like(q, 0.5))
        masks = [(1,) * 20, (1, 0) * 10, (0, 1) * 10]
        mask_scores(q, masks, "sigmoid").sum().backward()
        assert prior.source_offsets.grad is not None and prior.source_offsets.grad.abs().sum() > 0
    assert LogitPrior(K5).source_offsets is None  # other inclusions keep Eq. (1) exactly


def test_build_prior_and_scores_follow_the_inclusion():
    sig = build_prior(K5, SearchConfig(inclusion="sigmoid"), 0)
    assert sig.source_offsets is not None and build_prior(K5, SearchConfig(), 0).source_offsets is None
    q = torch.tensor([0.9, 0.1] * 10)
    masks = [(1, 0) * 10, (1, 1) * 10]
    # sum of p prefers the superset; the log-probability prefers the mask the prior expects
    s_rel, s_sig = mask_scores(q, masks, "relative"), mask_scores(q, masks, "sigmoid")
    assert s_rel[1] > s_rel[0] and s_sig[0] > s_sig[1]


# -------------------------------------------------------------------- constant statistics
def test_constant_statistic_is_named():
    st = EdgeStats(PathSpace(("T", "A", "V")))
    raw = torch.tensor([[0.1 * i, float("nan"), 0.0] for i in range(6)], dtype=torch.float64)
    st.raw = lambda: raw  # the recorders are tested elsewhere; here only the check on their output
    assert st.constant_stats() == ["var_a"]
    raw[:, 2] = torch.arange(6.0)
    assert st.constant_stats() == []


def test_search_on_one_token_modalities_warns_and_records_constant_var_a(tmp_path, caplog):
    from mro_core.search.run import run_search

    # one step per modality: every attention weight is 1, so var_a is exactly 0 on every edge
    ds = make_synthetic(SyntheticConfig(num_keys=2, seq_len=2, min_len=2, n_train=64, n_valid=32, n_test=16, seed=0))
    for split in ds.splits.values():
        for m in ds.modalities:
            split.features[m] = split.features[m][:, :1]
            split.valid[m] = split.valid[m][:, :1]
    p = get_preset("demo")
    mcfg = model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task, d_model=16)
    tcfg = replace(p.train, epochs=1, batch_size=32, device="cpu", seed=0)
    with caplog.at_level(logging.WARNING, logger="mro_core.search.run"):
        res = run_search(ds, mcfg, tcfg, SearchConfig(warmup_epochs=1, warmup_until=0.0), out=tmp_path / "s.pt")
    assert any("var_a is constant" in r.getMessage() for r in caplog.records)
    assert res.warnings and "var_a" in res.warnings[0] and res.history[-1]["constant_stats"] == ["var_a"]
    assert "warnings" in res.to_dict()


def test_sample_masks_stratified_covers_counts_and_is_seeded():
    from mro_core.search.selection import sample_masks_stratified

    got = sample_masks_stratified(K5, 60, seed=1)
    assert len(got) == 60 and len(set(got)) == 60
    assert [sum(m) for m in got].count(1) == 3 and {sum(m) for m in got} == set(range(1, 21))
    assert got == sample_masks_stratified(K5, 60, seed=1) and got != sample_masks_stratified(K5, 60, seed=2)
    small = PathSpace(("T", "A", "V"))
    assert sorted(sample_masks_stratified(small, 100)) == sorted(small.all_masks())  # more than exist: all
    with pytest.raises(ValueError, match=">= 1"):
        sample_masks_stratified(K5, 0)
