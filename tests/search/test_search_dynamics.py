"""The search's prior dynamics and candidates (issue 9): inclusion that lets a source's paths be
drawn together, exact top masks, var_g per use, adaptive warm-up, candidates at k >= 5 that always
hold the prior's top masks, uniform candidates for the unguided methods, per-epoch selection."""

import itertools
from dataclasses import replace

import numpy as np
import pytest
import torch

from mro_core.config import BENCHMARKS, SyntheticConfig, get_benchmark, get_preset, model_config_for
from mro_core.data.synthetic import make_synthetic
from mro_core.paths import PathSpace
from mro_core.search.prior import EdgeStats, inclusion_probs, mask_log_prob, sample_prior_masks, top_masks
from mro_core.config import PAPER_LITERAL, SearchConfig
from mro_core.search.run import (
    candidate_masks,
    fixed_eval_masks,
    in_warmup,
    run_search,
    sample_by_path_count,
)
from mro_core.runs.store import RunStore


def test_relative_inclusion_lets_both_paths_of_a_source_be_likely():
    # k = 3: source V's two paths share p = 1/2 each. The paper's form caps them at rho*(k-1)*p = 1/2
    # each (both together w.p. 1/4); the relative form gives each the top inclusion.
    p = torch.tensor([0.1, 0.9, 0.8, 0.2, 0.5, 0.5], dtype=torch.float64)
    paper = inclusion_probs(p, 3, 0.5, 0.01, mode="paper")
    rel = inclusion_probs(p, 3, 0.5, 0.01, mode="relative", top=0.9)
    assert paper[4] + paper[5] == pytest.approx(1.0)
    assert rel[4] == pytest.approx(0.9) and rel[5] == pytest.approx(0.9)
    assert rel[1] == pytest.approx(0.9) and rel[0] == pytest.approx(0.1)
    mode = top_masks(rel, 1)[0]
    assert PathSpace.to_bits(mode) == "011011"
    with pytest.raises(ValueError, match="unknown inclusion"):
        inclusion_probs(p, 3, mode="nope")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_top_masks_is_the_exact_k_best_order(seed):
    pi = torch.from_numpy(np.random.default_rng(seed).uniform(0.02, 0.98, 6))
    masks = [m for m in itertools.product((0, 1), repeat=6) if any(m)]
    lp = mask_log_prob(pi, masks)
    want = [masks[i] for i in torch.argsort(lp, descending=True)[:10].tolist()]
    got = top_masks(pi, 10)
    assert [round(float(mask_log_prob(pi, [m])[0]), 9) for m in got] == \
        [round(float(mask_log_prob(pi, [m])[0]), 9) for m in want]
    assert len(set(got)) == 10 and all(any(m) for m in got)


def test_sampling_follows_relative_inclusion():
    p = torch.tensor([0.1, 0.9, 0.8, 0.2, 0.5, 0.5])
    masks = sample_prior_masks(p, 4000, np.random.default_rng(0), eps=0.01, inclusion="relative", top=0.9)
    freq = np.asarray(masks).mean(0)
    assert freq[4] > 0.85 and freq[5] > 0.85 and freq[0] < 0.15


class _Paths(torch.nn.Module):
    def __init__(self, P):
        super().__init__()
        self.paths = torch.nn.ModuleList([torch.nn.Linear(1, 1, bias=False) for _ in range(P)])


def test_var_g_divides_the_norm_by_the_number_of_masks_using_the_path():
    space = PathSpace(("T", "A", "V"))
    model = _Paths(space.num_paths)
    for q in model.paths.parameters():
        q.grad = torch.full_like(q, 3.0)
    per_use, raw = EdgeStats(space), EdgeStats(space)
    per_use.record_grad_norms(model, {0: 3, 1: 1})
    raw.record_grad_norms(model, [0, 1])
    assert list(per_use._grad[0]) == [pytest.approx(1.0)] and list(per_use._grad[1]) == [pytest.approx(3.0)]
    assert list(raw._grad[0]) == [pytest.approx(3.0)]


def test_adaptive_warmup_waits_for_the_supernet_to_learn():
    cfg = SearchConfig(warmup_epochs=2, warmup_until=0.5, warmup_max=6)
    hist = [{"valid_loss": 0.9}, {"valid_loss": 0.8}, {"valid_loss": 0.7}]
    assert in_warmup(1, hist[:1], cfg, 20, 1.0)          # minimum epochs
    assert in_warmup(3, hist, cfg, 20, 1.0)              # not learned yet
    assert not in_warmup(3, hist + [{"valid_loss": 0.45}], cfg, 20, 1.0)
    assert not in_warmup(6, hist, cfg, 20, 1.0)          # cap
    literal = replace(cfg, **PAPER_LITERAL)
    assert not in_warmup(3, hist, literal, 20, 1.0)      # the paper: a fixed 3 epochs


def test_candidates_at_k5_hold_the_prior_top_masks_and_unguided_ones_are_uniform():
    space = PathSpace(tuple("ABCDE"))
    pi = torch.full((20,), 0.05, dtype=torch.float64)
    ring = [space.path_index(n) for n in ("A->B", "B->C", "C->D", "D->E", "E->A")]
    pi[ring] = 0.95
    rng = np.random.default_rng(0)
    full = candidate_masks(space, pi, [], SearchConfig(top_n=8), rng, per_epoch=10)
    ring_mask = tuple(int(i in ring) for i in range(20))
    assert ring_mask in full and space.full_mask() in full
    assert len(full) <= 8 + 21 + 4 * 20                # top_n, singles + full, PER_COUNT per path count
    assert set(np.asarray(full).sum(1).tolist()) == set(range(1, 21))  # every path count is a candidate
    uni = candidate_masks(space, pi, [], SearchConfig(top_n=200, ablation="no_prior_guidance"), rng, per_epoch=200)
    counts = np.asarray(uni[21:]).sum(1)
    assert 8 < counts.mean() < 12                    # fair bits: about half the paths, not the prior's
    rs = sample_by_path_count(space, 2000, np.random.default_rng(1))
    c = np.asarray(rs).sum(1)
    assert c.min() >= 1 and c.max() <= 20 and abs(np.mean(c <= 5) - 0.25) < 0.05  # uniform over counts
    assert len(fixed_eval_masks(space, 50)) == 50 and fixed_eval_masks(space, 50) == fixed_eval_masks(space, 50)


def test_benchmarks_ring_has_equal_cost_paths_and_weights():
    ds = make_synthetic(replace(get_benchmark("ring5"), n_train=16, n_valid=8, n_test=8))
    assert ds.planted_paths == ("A->B", "B->C", "C->D", "D->E", "E->A")
    assert len(set(ds.seq_lens)) == 1
    w = make_synthetic(replace(get_benchmark("ring5w"), n_train=16, n_valid=8, n_test=8))
    assert w.meta["planted_weights"] == [1.0, 1.0, 1.0, 0.5, 0.25]
    assert set(BENCHMARKS) >= {"default", "ring5", "ring5w"}
    with pytest.raises(ValueError, match="one weight per planted path"):
        SyntheticConfig(planted_weights=(1.0,))


def test_every_epoch_writes_evaluated_masks_and_logs_the_pick(tmp_path):
    ds = make_synthetic(SyntheticConfig(n_train=64, n_valid=32, n_test=32, seed=1))
    p = get_preset("demo")
    mcfg = model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task, d_model=16)
    tcfg = replace(p.train, epochs=2, batch_size=32, device="cpu")
    store = RunStore(tmp_path / "ws")
    rid = store.create_run("t", "search", {}, total_epochs=2)
    seen = []

    def on_epoch(ev):
        seen.append(len(store.masks(rid, split="valid")))

    res = run_search(ds, mcfg, tcfg, SearchConfig(warmup_epochs=1, warmup_until=0.0), out=tmp_path / "s.pt",
                     store=store, run_id=rid, on_epoch=on_epoch)
    assert seen == [63, 63]                                    # masks in the store after epoch 1 already
    ev = store.events(rid, kind="epoch")[-1].payload
    assert ev["pick"] == res.picks["best"]["mask"] and ev["hit"] in (True, False)
    assert -1 <= ev["rank_kendall"] <= 1 and ev["path_executions"] > 0
    assert res.picks["prior"]["mask"] == ev["prior_mode"]


def test_k5_prior_pick_is_always_evaluated(tmp_path):
    ds = make_synthetic(replace(get_benchmark("ring5"), n_train=32, n_valid=16, n_test=16, num_keys=4, seq_len=4,
                                min_len=4))
    p = get_preset("demo")
    mcfg = model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task, d_model=8,
                            num_heads=2)
    tcfg = replace(p.train, epochs=1, batch_size=32, device="cpu")
    res = run_search(ds, mcfg, tcfg, SearchConfig(warmup_epochs=0, warmup_until=0.0, top_n=16, eval_masks=16),
                     out=tmp_path / "s.pt")
    assert "mask" in res.picks["prior"] and "test" in res.picks["prior"]
