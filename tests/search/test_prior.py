"""Tests for mro_core.search.prior: edge statistics against hand computations, the MRG prior's
per-source softmax and gradients, the mask distribution and sampler."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch_geometric.nn import GATConv, GATv2Conv

from mro_core.config import ModelConfig
from mro_core.data.base import Batch
from mro_core.paths import PathSpace
from mro_core.search.prior import (
    EdgeStats,
    LogitPrior,
    MRGPrior,
    PriorSamplingError,
    inclusion_probs,
    prior_score,
    sample_prior_masks,
    zscore_columns,
)
from mro_core.training.train import compute_mask_losses

MODS = ("T", "A", "V")
DIMS = (3, 4, 5)
LENS = (4, 5, 3)


def tiny_model(seed: int = 0, layers: int = 1):
    from mro_core.model.supernet import Supernet

    torch.manual_seed(seed)
    cfg = ModelConfig(modalities=MODS, input_dims=DIMS, d_model=8, num_heads=2, ff_mult=1, dropout=0.0,
                      layers_per_path=layers)
    return Supernet(cfg)


def tiny_batch(B: int = 3, seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed)
    x, valid = {}, {}
    for m, D, L in zip(MODS, DIMS, LENS):
        x[m] = torch.randn(B, L, D, generator=g)
        v = torch.rand(B, L, generator=g) > 0.3
        v[:, 0] = True  # at least one valid step per row
        if B > 1:
            v[1, :] = True
        valid[m] = v
    return Batch(x=x, valid=valid, y=torch.randn(B, generator=g))


def space(k: int) -> PathSpace:
    return PathSpace(tuple("ABCDE"[:k]))


# ---------------------------------------------------------------------------------------------
# edge statistics vs. hand computations


def _pooled_by_hand(model, batch: Batch, i: int) -> torch.Tensor:
    m = MODS[i]
    e = model.embed[i](batch.x[m])  # (B, L, d)
    return torch.stack([e[b][batch.valid[m][b]].mean(0) for b in range(e.shape[0])])


def test_cos_matches_hand_computation_over_two_batches():
    model = tiny_model()
    b1, b2 = tiny_batch(3, seed=1), tiny_batch(2, seed=2)
    st = EdgeStats(model.space)
    st.record_embeddings(model, b1)
    st.record_embeddings(model, b2)
    raw = st.raw()
    with torch.no_grad():
        for p, path in enumerate(model.space.paths):
            cs = []
            for b in (b1, b2):
                a, c = _pooled_by_hand(model, b, path.src), _pooled_by_hand(model, b, path.tgt)
                for s in range(a.shape[0]):
                    cs.append(float(a[s] @ c[s] / (a[s].norm() * c[s].norm())))
            assert raw[p, 0].item() == pytest.approx(np.mean(cs), abs=1e-5)
    # cosine is symmetric in (i, j)
    names = list(model.space.path_names)
    assert raw[names.index("T->A"), 0] == pytest.approx(raw[names.index("A->T"), 0].item())


def test_var_a_matches_hand_computation():
    model = tiny_model()
    batch = tiny_batch(3)
    st = EdgeStats(model.space)
    model.train()
    st.record_attention(model, batch)
    assert model.training, "record_attention must restore the training mode"
    raw = st.raw()
    H = 2
    with torch.no_grad():
        for p, path in enumerate(model.space.paths):
            s, t = MODS[path.src], MODS[path.tgt]
            layer = model.paths[p].layers[0]
            tgt = layer.ln_q(model.embed[path.tgt](batch.x[t]))
            src = layer.ln_kv(model.embed[path.src](batch.x[s]))
            q = layer.attn.q(tgt)
            k = layer.attn.kv(src)[..., :8]
            per_sample = []
            for b in range(3):
                kv, qv = batch.valid[s][b], batch.valid[t][b]
                heads = []
                for h in range(H):
                    qh, kh = q[b, :, h * 4:(h + 1) * 4], k[b, :, h * 4:(h + 1) * 4]
                    w = (qh[qv] @ kh[kv].T / 2.0).softmax(-1)  # (valid queries, valid keys); sqrt(4) = 2
                    heads.append(w.var(dim=-1, unbiased=False).mean())
                per_sample.append(torch.stack(heads).mean())
            expect = float(torch.stack(per_sample).mean())
            assert raw[p, 2].item() == pytest.approx(expect, rel=1e-4, abs=1e-9)


def test_var_a_only_for_requested_paths_and_averages_batches():
    model = tiny_model()
    st = EdgeStats(model.space)
    b1, b2 = tiny_batch(3, seed=1), tiny_batch(3, seed=2)
    st.record_attention(model, b1, paths=[0])
    one = st.raw()[0, 2].item()
    st.record_attention(model, b2, paths=[0, 3])
    raw = st.raw()
    solo = EdgeStats(model.space)
    solo.record_attention(model, b2, paths=[0])
    assert raw[0, 2].item() == pytest.approx((one + solo.raw()[0, 2].item()) / 2)
    assert torch.isnan(raw[[1, 2, 4, 5], 2]).all() and not torch.isnan(raw[3, 2])


def test_var_g_matches_hand_computation_and_window_is_bounded():
    model = tiny_model()
    batch = tiny_batch(3)
    st = EdgeStats(model.space, grad_window=3)
    masks_per_step = [[(1, 1, 0, 0, 0, 0)], [(1, 0, 1, 0, 0, 0)], [(1, 1, 0, 0, 0, 1)],
                      [(1, 0, 0, 0, 0, 1)], [(0, 1, 0, 0, 0, 1)]]
    norms: dict[int, list[float]] = {p: [] for p in range(6)}
    for i, masks in enumerate(masks_per_step):
        model.zero_grad(set_to_none=True)
        b = tiny_batch(3, seed=10 + i)
        compute_mask_losses(model, b, masks).sum().backward()
        active = [p for p in range(6) if masks[0][p]]
        st.record_grad_norms(model, active)
        for p in active:
            norms[p].append(float(torch.sqrt(sum((q.grad**2).sum() for q in model.paths[p].parameters()))))
    raw = st.raw()
    assert raw[0, 1].item() == pytest.approx(np.var(norms[0][-3:]), rel=1e-5)  # 4 steps, window 3
    assert raw[5, 1].item() == pytest.approx(np.var(norms[5]), rel=1e-5)
    assert raw[1, 1].item() == pytest.approx(np.var(norms[1]), rel=1e-5)
    assert raw[2, 1].isnan() and raw[3, 1].isnan() and raw[4, 1].isnan()  # < 2 observations
    assert st.to_record()["grad_steps"] == [3, 3, 1, 0, 0, 3]
    assert batch.y.shape == (3,)


def test_record_grad_norms_skips_paths_without_grad():
    model = tiny_model()
    st = EdgeStats(model.space)
    model.zero_grad(set_to_none=True)
    st.record_grad_norms(model, [0, 1])
    assert st.to_record()["grad_steps"] == [0] * 6


def test_normalised_zscores_observed_edges_and_neutral_elsewhere():
    x = torch.tensor([[1.0, 5.0, float("nan")], [2.0, 5.0, 3.0], [3.0, 5.0, float("nan")],
                      [4.0, 5.0, float("nan")]], dtype=torch.float64)
    z = zscore_columns(x)
    c0 = (x[:, 0] - 2.5) / x[:, 0].std(unbiased=False)
    assert torch.allclose(z[:, 0], c0)
    assert (z[:, 1] == 0).all(), "a constant statistic carries no information: all zeros"
    assert (z[:, 2] == 0).all(), "a single observed edge cannot be z-scored: neutral"
    tiny = torch.tensor([[1e-9], [3e-9]], dtype=torch.float64)
    assert torch.allclose(zscore_columns(tiny)[:, 0], torch.tensor([-1.0, 1.0], dtype=torch.float64)), \
        "small but genuine spread must not be squashed by an absolute epsilon"


def test_edge_stats_reset_state_dict_and_record():
    model = tiny_model()
    st = EdgeStats(model.space)
    st.record_embeddings(model, tiny_batch())
    st.record_attention(model, tiny_batch())
    z = st.normalised()
    assert z.shape == (6, 3) and z.dtype == torch.float32 and torch.isfinite(z).all()
    assert (z[:, 1] == 0).all()  # var_g unobserved everywhere
    rec = st.to_record()
    json.dumps(rec)
    assert rec["raw"]["var_g"] == [None] * 6 and len(rec["raw"]["cos"]) == 6
    other = EdgeStats(model.space)
    other.load_state_dict(json.loads(json.dumps(st.state_dict())))
    assert torch.allclose(other.raw(), st.raw(), equal_nan=True)
    st.reset()
    assert torch.isnan(st.raw()).all()
    with pytest.raises(ValueError, match="grad_window"):
        EdgeStats(model.space, grad_window=1)


# ---------------------------------------------------------------------------------------------
# the MRG prior


@pytest.mark.parametrize("k", [2, 3, 4, 5])
@pytest.mark.parametrize("conv", ["gatv2", "gat"])
@pytest.mark.parametrize("heads,path_bias", [(1, False), (2, True)])
def test_outgoing_probs_sum_to_one_per_source(k, conv, heads, path_bias):
    sp = space(k)
    prior = MRGPrior(sp, conv=conv, heads=heads, path_bias=path_bias, seed=0)
    if path_bias:
        with torch.no_grad():
            prior.path_bias.normal_()
    p = prior.probs(torch.randn(sp.num_paths, 3, generator=torch.Generator().manual_seed(k)))
    assert p.shape == (sp.num_paths,) and (p > 0).all()
    for i in range(k):
        out = [n for n, path in enumerate(sp.paths) if path.src == i]
        assert float(p[out].sum().detach()) == pytest.approx(1.0, abs=1e-6)
    if k == 2:
        assert torch.allclose(p, torch.ones(2))


def test_gat_is_a_real_pyg_layer_on_reversed_edges():
    sp = space(3)
    prior = MRGPrior(sp, seed=0)
    assert isinstance(prior.gat, GATv2Conv)
    assert prior.gat.edge_dim == 1 and prior.gat.add_self_loops is False
    g1 = MRGPrior(sp, conv="gat", seed=0).gat
    assert isinstance(g1, GATConv) and g1.edge_dim == 1 and g1.add_self_loops is False
    for n, path in enumerate(sp.paths):  # GAT edge j -> i for path i -> j
        assert prior.edge_index[:, n].tolist() == [path.tgt, path.src]
    assert "conv=gatv2" in repr(prior)


def test_probs_are_the_gat_attention_coefficients():
    sp = space(3)
    prior = MRGPrior(sp, heads=3, seed=1)
    stats = torch.randn(6, 3)
    s = stats @ torch.tensor([1.0, 1.0, 1.0])
    _, (ei, att) = prior.gat(prior.node_emb, prior.edge_index, edge_attr=s[:, None], return_attention_weights=True)
    assert torch.allclose(prior.probs(stats), att.mean(-1), atol=1e-6)


@pytest.mark.parametrize("path_bias", [False, True])
def test_gradients_reach_mix_weights_and_every_gat_weight(path_bias):
    sp = space(3)
    prior = MRGPrior(sp, heads=2, path_bias=path_bias, seed=0)
    stats = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    p = prior.probs(stats)
    (p * torch.arange(6.0)).sum().backward()
    for name in ("alpha", "beta", "gamma", "node_emb"):
        g = getattr(prior, name).grad
        assert g is not None and g.abs().sum() > 0, name
    params = dict(prior.gat.named_parameters())
    assert {"att", "lin_l.weight", "lin_r.weight", "lin_edge.weight"} <= set(params)
    for name, q in params.items():
        assert q.grad is not None and q.grad.abs().sum() > 0, name
    if path_bias:
        assert prior.path_bias.grad.abs().sum() > 0


def test_probs_depend_on_stats_and_mix_weights():
    sp = space(3)
    prior = MRGPrior(sp, seed=0)
    a, b = torch.randn(6, 3), torch.randn(6, 3)
    assert not torch.allclose(prior.probs(a), prior.probs(b))
    with torch.no_grad():
        prior.alpha.zero_(), prior.beta.zero_(), prior.gamma.zero_()
    assert torch.allclose(prior.probs(a), prior.probs(b)), "with zero mix weights the stats cannot matter"


def test_seeded_init_is_reproducible_and_leaves_global_rng_alone():
    sp = space(3)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    p1 = MRGPrior(sp, seed=7).probs()
    after = torch.rand(1)
    assert torch.equal(before, after)
    assert torch.allclose(p1, MRGPrior(sp, seed=7).probs())
    assert not torch.allclose(p1, MRGPrior(sp, seed=8).probs())


def test_state_dict_roundtrip_and_record_is_json():
    sp = space(3)
    a, b = MRGPrior(sp, seed=0), MRGPrior(sp, seed=1)
    stats = torch.randn(6, 3)
    b.load_state_dict(a.state_dict())
    assert torch.allclose(a.probs(stats), b.probs(stats))
    assert all(isinstance(v, torch.Tensor) for v in a.state_dict().values())
    model = tiny_model()
    st = EdgeStats(model.space)
    st.record_embeddings(model, tiny_batch())
    rec = MRGPrior(model.space, seed=0).to_record(st)
    json.dumps(rec)
    assert rec["alpha"] == 1.0 and rec["beta"] == 1.0 and rec["gamma"] == 1.0
    assert len(rec["p"]) == 6 and set(rec["raw"]) == {"cos", "var_g", "var_a"}


def test_bad_stats_shape_and_options_raise():
    prior = MRGPrior(space(3), seed=0)
    with pytest.raises(ValueError, match=r"\(6, 3\)"):
        prior.probs(torch.zeros(5, 3))
    with pytest.raises(ValueError, match="gatv2"):
        MRGPrior(space(3), conv="gcn")  # type: ignore[arg-type]


def test_logit_prior_is_uniform_learnable_and_ignores_stats():
    sp = space(4)
    lp = LogitPrior(sp)
    p = lp.probs(torch.randn(12, 3))
    assert torch.allclose(p, torch.full((12,), 1 / 3))
    with torch.no_grad():
        lp.logits.normal_()
    p = lp.probs(None)
    assert torch.allclose(p.view(4, 3).sum(-1), torch.ones(4))
    (p * torch.arange(12.0)).sum().backward()
    assert lp.logits.grad.abs().sum() > 0
    rec = lp.to_record()
    json.dumps(rec)
    assert rec["alpha"] is None and rec["kind"] == "LogitPrior"


# ---------------------------------------------------------------------------------------------
# mask distribution


@pytest.mark.parametrize("k", [2, 3, 4])
def test_inclusion_probs_uniform_gives_rho_and_clamps(k):
    P = k * (k - 1)
    p = torch.full((P,), 1.0 / (k - 1))
    assert torch.allclose(inclusion_probs(p, k, rho=0.3, eps=1e-3), torch.full((P,), 0.3))
    q = torch.zeros(P)
    q[0] = 1.0
    pi = inclusion_probs(q, k, rho=1.0, eps=0.01)
    assert pi[1:].eq(0.01).all() and pi[0] == pytest.approx(0.99 if k > 2 else 0.99)
    with pytest.raises(ValueError, match="rho"):
        inclusion_probs(p, k, rho=0.0)
    with pytest.raises(ValueError, match="eps"):
        inclusion_probs(p, k, eps=0.5)


def test_prior_score_sums_active_p_and_is_differentiable():
    p = torch.tensor([0.1, 0.9, 0.5, 0.5, 0.3, 0.7], requires_grad=True)
    masks = [(1, 1, 0, 0, 0, 0), (0, 1, 1, 0, 1, 1), (1, 1, 1, 1, 1, 1)]
    s = prior_score(p, masks)
    assert torch.allclose(s, torch.tensor([1.0, 2.4, 3.0]))
    s.sum().backward()
    assert torch.allclose(p.grad, torch.tensor([2.0, 3, 2, 1, 2, 2]))
    with pytest.raises(ValueError, match="one bit per path"):
        prior_score(p, [(1, 0, 1)])


def test_sampling_is_reproducible_nonempty_and_follows_pi():
    p = torch.tensor([0.8, 0.2, 0.5, 0.5, 0.1, 0.9])
    a = sample_prior_masks(p, 50, np.random.default_rng(3), rho=0.5)
    b = sample_prior_masks(p.numpy(), 50, np.random.default_rng(3), rho=0.5)
    assert a == b and len(a) == 50
    assert a != sample_prior_masks(p, 50, np.random.default_rng(4), rho=0.5)
    sparse = sample_prior_masks(p, 300, np.random.default_rng(0), rho=0.05)
    assert all(any(m) for m in sparse)
    many = np.array(sample_prior_masks(p, 3000, np.random.default_rng(1), rho=0.5))
    pi = inclusion_probs(p, 3, 0.5).numpy()
    assert np.abs(many.mean(0) - pi).max() < 0.04  # empty-redraw bias is ~ (1-pi).prod() ~ 1%


def test_sampling_raises_after_bounded_tries():
    p = torch.full((6,), 0.5)
    with pytest.raises(PriorSamplingError, match="empty masks"):
        sample_prior_masks(p, 1, np.random.default_rng(0), rho=1e-9, eps=1e-9, max_tries=5)
    with pytest.raises(ValueError, match="k\\(k-1\\)"):
        sample_prior_masks(torch.ones(5), 1, np.random.default_rng(0))
