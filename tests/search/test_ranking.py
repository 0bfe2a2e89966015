"""Tests for mro_core.search.ranking: hard Eq. (2) on hand examples, the soft surrogate's limit and
gradient, the hinge's detached prior, Spearman's sign convention, the combined regularizer."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
import torch_geometric.nn  # noqa: F401  (pay the one-time import at collection, not inside a test)

from mro_core.paths import PathSpace
from mro_core.search.prior import MRGPrior, prior_score
from mro_core.config import RANK_LOSSES
from mro_core.search.ranking import (
    RunningMaskLoss,
    hard_rank_loss,
    hard_ranks,
    pairwise_hinge,
    rank_regularizer,
    soft_rank_loss,
    soft_ranks,
    spearman_rho,
)

# prior ranks (1 = highest score): [1, 2, 4, 3]; performance ranks (1 = lowest loss): [4, 1, 2, 3]
PRIOR = [0.9, 0.5, 0.1, 0.3]
LOSSES = [0.4, 0.1, 0.2, 0.3]
HAND = {"l0": 3 / 4, "l1": (3 + 1 + 2 + 0) / 4, "l2": (9 + 1 + 4 + 0) / 4, "linf": 3.0}


def discordant_fraction(prior, losses) -> float:
    pairs = [(i, j) for i, j in itertools.combinations(range(len(prior)), 2) if losses[i] != losses[j]]
    bad = sum((prior[i] - prior[j]) * (losses[j] - losses[i]) < 0 for i, j in pairs)
    return bad / len(pairs)


def test_hard_ranks_directions_and_ties():
    assert hard_ranks(PRIOR, descending=True).tolist() == [1, 2, 4, 3]
    assert hard_ranks(LOSSES, descending=False).tolist() == [4, 1, 2, 3]
    assert hard_ranks([1.0, 1.0, 0.0], descending=True).tolist() == [1.5, 1.5, 3]


@pytest.mark.parametrize("p", RANK_LOSSES)
def test_hard_rank_loss_hand_example(p):
    assert hard_rank_loss(PRIOR, LOSSES, p) == pytest.approx(HAND[p])
    assert hard_rank_loss(torch.tensor(PRIOR), torch.tensor(LOSSES), p) == pytest.approx(HAND[p])
    # perfect agreement: highest prior has the lowest loss
    assert hard_rank_loss([3.0, 2.0, 1.0], [0.1, 0.2, 0.3], p) == 0.0


def test_hard_rank_loss_errors():
    with pytest.raises(ValueError, match="l0"):
        hard_rank_loss(PRIOR, LOSSES, "l3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="one value per mask"):
        hard_rank_loss(PRIOR, LOSSES[:3])
    assert hard_rank_loss([], [], "l1") == 0.0


def test_soft_ranks_tend_to_hard_ranks_and_average_ties():
    s = torch.tensor(PRIOR)
    assert torch.allclose(soft_ranks(s, 1e-3), torch.tensor([1.0, 2, 4, 3]), atol=1e-4)
    assert torch.allclose(soft_ranks(torch.tensor([2.0, 2.0, 2.0]), 0.3), torch.full((3,), 2.0))


@pytest.mark.parametrize("p", ["l1", "l2", "linf"])
def test_soft_loss_approaches_hard_value_at_low_temperature(p):
    s = torch.tensor(PRIOR, dtype=torch.float64)
    assert float(soft_rank_loss(s, LOSSES, p, temperature=1e-3)) == pytest.approx(HAND[p], abs=5e-3)
    # looser temperatures stay finite and in the right ballpark
    assert float(soft_rank_loss(s, LOSSES, p, temperature=1.0)) > 0


def test_soft_l0_tends_to_discordant_pair_fraction():
    s = torch.tensor(PRIOR, dtype=torch.float64)
    assert float(soft_rank_loss(s, LOSSES, "l0", 1e-3)) == pytest.approx(discordant_fraction(PRIOR, LOSSES), abs=1e-3)
    assert float(soft_rank_loss(torch.tensor([3.0, 2, 1]), [0.1, 0.2, 0.3], "l0", 1e-3)) < 1e-3


@pytest.mark.parametrize("p", RANK_LOSSES)
def test_soft_loss_has_gradient_and_descent_improves_it(p):
    s = torch.tensor(PRIOR, requires_grad=True)
    loss = soft_rank_loss(s, LOSSES, p, temperature=0.5)
    loss.backward()
    assert s.grad is not None and torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0
    with torch.no_grad():
        after = soft_rank_loss(s - 0.05 * s.grad / s.grad.norm(), LOSSES, p, temperature=0.5)
    assert float(after) < float(loss.detach())


def test_soft_loss_gradient_reaches_the_mrg_prior():
    space = PathSpace(("T", "A", "V"))
    prior = MRGPrior(space, seed=0)
    stats = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    masks = [(1, 0, 1, 0, 0, 1), (0, 1, 0, 1, 1, 0), (1, 1, 0, 0, 1, 1), (0, 0, 1, 1, 0, 1), (1, 0, 0, 1, 0, 0)]
    scores = prior_score(prior.probs(stats), masks)
    soft_rank_loss(scores, [0.5, 0.1, 0.3, 0.2, 0.4], "l2", temperature=0.5).backward()
    for name in ("alpha", "beta", "gamma"):
        assert getattr(prior, name).grad.abs() > 0, name
    for name, q in prior.gat.named_parameters():
        assert q.grad is not None and q.grad.abs().sum() > 0, name


def test_soft_loss_small_n_and_errors():
    s = torch.tensor([1.0], requires_grad=True)
    out = soft_rank_loss(s, [0.3], "l1")
    assert float(out.detach()) == 0.0 and out.requires_grad
    with pytest.raises(ValueError, match="temperature"):
        soft_rank_loss(torch.tensor(PRIOR), LOSSES, "l1", temperature=0.0)
    with pytest.raises(ValueError, match="one value per mask"):
        soft_rank_loss(torch.tensor(PRIOR), LOSSES[:2], "l1")


def test_pairwise_hinge_value_and_no_gradient_to_prior():
    losses = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    prior = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)  # the prior prefers the worst mask
    r = pairwise_hinge(losses, prior)
    # pairs (0,1): (1-2)*(-1)=1, (0,2): 2, (1,2): 1 -> 4 over 3 pairs
    assert float(r.detach()) == pytest.approx(4 / 3)
    r.backward()
    assert prior.grad is None, "the hinge must not reach the prior"
    # d/dL_i of sum_{i<j} (L_i - L_j) sign(P_i - P_j) / 3 = ([-1,-1] , [+1,-1], [+1,+1]) / 3
    assert torch.allclose(losses.grad, torch.tensor([-2.0, 0.0, 2.0]) / 3)
    agree = pairwise_hinge(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([3.0, 2.0, 1.0]))
    assert float(agree) == 0.0
    ties = pairwise_hinge(torch.tensor([1.0, 2.0]), [5.0, 5.0])
    assert float(ties) == 0.0


def test_spearman_sign_convention():
    assert spearman_rho([3.0, 2.0, 1.0], [0.1, 0.2, 0.3]) == pytest.approx(1.0)  # high prior, low loss
    assert spearman_rho([1.0, 2.0, 3.0], [0.1, 0.2, 0.3]) == pytest.approx(-1.0)
    assert spearman_rho([1.0, 1.0, 1.0], [0.1, 0.2, 0.3]) == 0.0
    assert spearman_rho([1.0], [0.1]) == 0.0
    # rank differences [-3, 1, 2, 0]: rho = 1 - 6 * 14 / (4 * 15) = -0.4
    assert spearman_rho(torch.tensor(PRIOR), torch.tensor(LOSSES)) == pytest.approx(-0.4)


def test_rank_regularizer_routes_gradients_per_target():
    def run(target):
        losses = torch.tensor(LOSSES, requires_grad=True)
        prior = torch.tensor(PRIOR, requires_grad=True)
        out = rank_regularizer(losses, prior, None, loss="l1", target=target, temperature=0.5)
        out.backward()
        return out.detach(), losses.grad, prior.grad

    out_s, gl, gp = run("supernet")
    assert float(out_s) == pytest.approx(float(pairwise_hinge(torch.tensor(LOSSES), PRIOR)))
    assert gl.abs().sum() > 0 and gp.abs().sum() == 0
    out_p, gl, gp = run("prior")
    assert float(out_p) == pytest.approx(float(soft_rank_loss(torch.tensor(PRIOR), LOSSES, "l1", 0.5)))
    assert gl.abs().sum() == 0 and gp.abs().sum() > 0
    out_b, gl, gp = run("both")
    assert float(out_b) == pytest.approx(float(out_s) + float(out_p))
    assert gl.abs().sum() > 0 and gp.abs().sum() > 0
    with pytest.raises(ValueError, match="prior"):
        rank_regularizer(torch.tensor(LOSSES), torch.tensor(PRIOR), target="nope")  # type: ignore[arg-type]


def test_rank_regularizer_uses_given_perf_targets():
    losses, prior = torch.tensor(LOSSES), torch.tensor(PRIOR)
    agree = [0.1, 0.2, 0.4, 0.3]  # performance order equal to the prior's
    out = rank_regularizer(losses, prior, agree, loss="l1", target="prior", temperature=1e-3)
    assert float(out) == pytest.approx(0.0, abs=1e-3)


def test_running_mask_loss_mean_ema_and_state():
    r = RunningMaskLoss()
    a, b = (1, 0, 1, 0, 0, 0), (0, 1, 0, 0, 0, 0)
    assert r.update([a, b], [1.0, 3.0]).tolist() == [1.0, 3.0]
    assert r.update([a], np.array([3.0])).tolist() == [2.0]
    assert r.get(a) == 2.0 and r.get((1,) * 6) is None and len(r) == 2
    e = RunningMaskLoss(momentum=0.5)
    e.update([a], [1.0])
    assert e.update([a], [3.0]).tolist() == [2.0]
    c = RunningMaskLoss()
    c.load_state_dict(json.loads(json.dumps(r.state_dict())))
    assert c.get(a) == 2.0
    with pytest.raises(ValueError, match="momentum"):
        RunningMaskLoss(momentum=1.0)
