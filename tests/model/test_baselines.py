import math

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from mro_core.model import flops as F
from mro_core.config import SyntheticConfig, TrainConfig
from mro_core.data.base import Batch, MultimodalDataset, Split
from mro_core.data.synthetic import make_synthetic
from mro_core.model.baseline_flops import baseline_flops, baseline_inputs
from mro_core.training.baselines import train_baseline
from mro_core.model.baselines import (
    BASELINE_CHEAP_OPS,
    BASELINES,
    ConcatMLP,
    EmbraceNet,
    _TensorForward,
)
from mro_core.model.supernet import Supernet
from mro_core.paths import PathSpace
from mro_core.training.train import mask_losses

from conftest import tiny_batch, tiny_config

KINDS = sorted(BASELINES)


def _with(batch: Batch, m: str, x: torch.Tensor) -> Batch:
    return Batch({**batch.x, m: x}, batch.valid, batch.y, batch.extra)


# ------------------------------------------------------------------------------- shapes, grads
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("k", [2, 3, 4])
def test_output_shapes_and_repr(kind, k):
    cfg = tiny_config(k)
    net = BASELINES[kind](cfg)
    b = tiny_batch(cfg)
    for mode in (net.train, net.eval):
        mode()
        out = net(b)
        assert out.shape == (4, 1) and torch.isfinite(out).all()
    r = repr(net)
    assert r.startswith(type(net).__name__) and "d=8" in r and f"{list(cfg.modalities)}" in r


def test_classification_outputs_include_aux_sentiment():
    cfg = tiny_config(task="classification", out_dim=3, aux_sentiment=True)
    for cls in (ConcatMLP, EmbraceNet):
        assert cls(cfg)(tiny_batch(cfg)).shape == (4, 4)


def test_embracement_size_in_repr_and_validated():
    cfg = tiny_config()
    assert "embracement=5" in repr(EmbraceNet(cfg, embracement_size=5))
    with pytest.raises(ValueError, match="embracement_size"):
        EmbraceNet(cfg, embracement_size=0)
    with pytest.raises(TypeError, match="ModelConfig"):
        ConcatMLP({"d_model": 8})


@pytest.mark.parametrize("kind", KINDS)
def test_every_parameter_gets_a_gradient(kind):
    cfg = tiny_config()
    net = BASELINES[kind](cfg).train()
    g = torch.Generator().manual_seed(0)
    kw = {"generator": g} if kind == "embracenet" else {}
    for seed in range(3):  # EmbraceNet: a few draws so every docking layer is picked
        b = tiny_batch(cfg, B=5, seed=seed)  # odd B: the L1 sign gradient of the last bias cannot cancel
        mask_losses(cfg, net(b, **kw)[None], b).sum().backward()
    for n, p in net.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, n
        assert torch.isfinite(p.grad).all(), n


# ------------------------------------------------------------------------- missing modalities
@pytest.mark.parametrize("kind", KINDS)
def test_missing_modality_does_not_reach_the_output_in_eval(kind):
    cfg = tiny_config()
    net = BASELINES[kind](cfg).eval()
    b = tiny_batch(cfg)
    avail = [True, False, True]
    ref = net(b, avail)
    changed = _with(b, "A", torch.randn_like(b.x["A"]) * 100)
    torch.testing.assert_close(net(changed, avail), ref, rtol=0, atol=0)
    nan = _with(b, "A", torch.full_like(b.x["A"], float("nan")))
    torch.testing.assert_close(net(nan, avail), ref, rtol=0, atol=0)
    assert not torch.allclose(net(changed), net(b))  # ... while it does matter when present


def test_embracenet_per_sample_availability():
    cfg = tiny_config()
    net = EmbraceNet(cfg).eval()
    b = tiny_batch(cfg)
    avail = torch.ones(4, 3, dtype=torch.bool)
    avail[0, 1] = False  # sample 0 lacks A
    changed = _with(b, "A", torch.randn_like(b.x["A"]) * 100)
    a, c = net(b, avail), net(changed, avail)
    torch.testing.assert_close(a[0], c[0], rtol=0, atol=0)
    assert not torch.allclose(a[1:], c[1:])


def test_embracenet_never_selects_a_missing_modality_in_training():
    cfg = tiny_config()
    net = EmbraceNet(cfg, embracement_size=64).train()
    avail = torch.tensor([[1, 0, 1], [0, 1, 1], [1, 1, 1], [0, 0, 1]])
    p = net.selection_probs(4, avail)
    torch.testing.assert_close(p.sum(1), torch.ones(4))
    torch.testing.assert_close(p[0], torch.tensor([0.5, 0.0, 0.5]))
    assert (p[avail == 0] == 0).all()
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        r = net.select(p, g)  # (B, c)
        assert r.shape == (4, 64)
        assert (avail.gather(1, r) == 1).all()
    assert set(net.select(p, g)[2].tolist()) == {0, 1, 2}  # all present: all get picked
    # the sampled output does not depend on the missing modality either
    b = tiny_batch(cfg)
    flags = [True, False, True]
    out1 = net(b, flags, generator=torch.Generator().manual_seed(3))
    out2 = net(_with(b, "A", torch.randn_like(b.x["A"]) * 100), flags, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(out1, out2, rtol=0, atol=0)


def test_embracenet_selection_probabilities_steer_the_draw():
    net = EmbraceNet(tiny_config(), embracement_size=32)
    p = net.selection_probs(2, None, selection_probabilities=[0.0, 1.0, 3.0])
    torch.testing.assert_close(p[0], torch.tensor([0.0, 0.25, 0.75]))
    assert (net.select(p, torch.Generator().manual_seed(0)) != 0).all()
    with pytest.raises(ValueError, match="probability 0 on every available"):
        net.selection_probs(2, [True, False, False], selection_probabilities=[0.0, 1.0, 3.0])
    with pytest.raises(ValueError, match=">= 0"):
        net.selection_probs(2, None, selection_probabilities=[-1.0, 1.0, 1.0])


def test_availability_errors():
    cfg = tiny_config()
    net = EmbraceNet(cfg).eval()
    b = tiny_batch(cfg)
    with pytest.raises(ValueError, match="k=3 flags"):
        net(b, [True, False])
    with pytest.raises(ValueError, match="no available modality"):
        net(b, [False, False, False])
    with pytest.raises(ValueError, match="no features for modality"):
        net(Batch({"T": b.x["T"]}, {"T": b.valid["T"]}, b.y))


# ------------------------------------------------------------------------------- determinism
def test_embracenet_eval_is_deterministic_and_training_draws_are_seeded():
    cfg = tiny_config()
    net = EmbraceNet(cfg)
    b = tiny_batch(cfg)
    net.eval()
    torch.testing.assert_close(net(b), net(b), rtol=0, atol=0)
    net.train()
    a = net(b, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, net(b, generator=torch.Generator().manual_seed(1)), rtol=0, atol=0)
    assert not torch.equal(a, net(b, generator=torch.Generator().manual_seed(2)))


def test_embracenet_one_available_modality_makes_sampling_exact():
    cfg = tiny_config()
    net = EmbraceNet(cfg).eval()
    b = tiny_batch(cfg)
    only_v = [False, False, True]
    torch.testing.assert_close(net(b, only_v, sample=True), net(b, only_v, sample=False))


# -------------------------------------------------------------------------------------- FLOPs
def _analytic(net, seq):
    cfg = net.cfg
    d, h, o, k = cfg.d_model, cfg.head_width, cfg.total_out, len(cfg.modalities)
    enc = sum(L * D * d for L, D in zip(seq, cfg.input_dims))
    if isinstance(net, ConcatMLP):
        return enc + k * d * h + h * o
    c = net.embracement_size
    return enc + k * d * c + c * h + h * o


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seq", [(5, 6, 7), (4, 4, 4)])
def test_flops_analytic_and_below_the_cmt_full_mask(kind, seq):
    cfg = tiny_config()
    net = BASELINES[kind](cfg).train()
    n = baseline_flops(net, seq)
    assert n == _analytic(net, seq) > 0
    assert net.training  # the count does not leave the model in eval mode ...
    baseline_flops(net.eval(), seq)
    assert not net.training  # ... nor in train mode
    full = F.flops_table(Supernet(cfg), seq, [PathSpace(cfg.modalities).full_mask()])
    assert n / 1e6 < full["mflops"]["111111"]


def test_linear_counts_match_torch_flop_counter():
    cfg = tiny_config(d_model=16, num_heads=2)
    for cls in (ConcatMLP, EmbraceNet):
        w, inp = baseline_inputs(cls(cfg).eval(), (5, 6, 7))
        with FlopCounterMode(display=False) as fc, torch.no_grad():
            w(*inp)
        assert fc.get_total_flops() == 2 * baseline_flops(w.model, (5, 6, 7))


@pytest.mark.parametrize(
    "kind,kwargs",
    [("concat_mlp", {}), ("concat_mlp", {"available": [True, False, True]}),
     ("embracenet", {}), ("embracenet", {"sample": True}), ("embracenet", {"available": [True, False, True]})],
)
def test_no_uncounted_compute_ops(kind, kwargs):
    cfg = tiny_config()
    net = BASELINES[kind](cfg)
    _, inp = baseline_inputs(net, (5, 6, 7))
    w = _TensorForward(net, **kwargs)
    skipped = F.uncounted_compute_ops(w, inp)
    assert {op: c for op, c in skipped.items() if op not in BASELINE_CHEAP_OPS} == {}
    # the sampling path costs what the expectation path costs
    assert F._count(w, inp) == baseline_flops(net, (5, 6, 7))


# ----------------------------------------------------------------------------------- training
REGRESSION_KEYS = {"mae", "corr", "acc7", "acc2", "f1"}


def _cfg_for(ds, **kw):
    return tiny_config(len(ds.modalities), modalities=ds.modalities, input_dims=ds.input_dims, **kw)


@pytest.mark.parametrize("kind", KINDS)
def test_train_baseline_regression(kind):
    ds = make_synthetic(SyntheticConfig(n_train=64, n_valid=32, n_test=32))
    tc = TrainConfig(batch_size=16, epochs=2, lr=1e-3, device="cpu", seed=0)
    res = train_baseline(ds, kind, _cfg_for(ds), tc)
    assert res["name"] == {"concat_mlp": "Concat+MLP", "embracenet": "EmbraceNet"}[kind]
    assert res["kind"] == kind and res["params"] > 0 and res["mflops"] > 0
    assert [h["epoch"] for h in res["history"]] == [1, 2]
    for split in ("valid", "test"):
        assert REGRESSION_KEYS <= set(res[split])
        assert all(math.isfinite(res[split][k]) for k in REGRESSION_KEYS | {"loss"})
    assert res["history"][-1]["valid_mae"] == res["valid"]["mae"]
    # the same seed gives the same run
    again = train_baseline(ds, kind, _cfg_for(ds), tc)
    assert again["test"] == res["test"]


def _classification_ds(n=(48, 24, 24), seed=0) -> MultimodalDataset:
    rng = np.random.default_rng(seed)
    splits = {}
    for name, N in zip(("train", "valid", "test"), n):
        y = rng.integers(0, 3, size=N)
        feats = {"T": rng.normal(size=(N, 5, 4)).astype(np.float32),
                 "A": rng.normal(size=(N, 6, 3)).astype(np.float32)}
        feats["T"][:, :, 0] += y[:, None]  # learnable signal in T
        valid = {m: np.ones(f.shape[:2], bool) for m, f in feats.items()}
        valid["A"][: N // 2, 4:] = False
        sent = (np.sign(y - 1)).astype(np.float32)  # -1, 0, 1
        splits[name] = Split(feats, valid, y.astype(np.int64), {"sentiment": sent})
    return MultimodalDataset("hand", ("T", "A"), "classification", splits, num_classes=3)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("aux", [False, True])
def test_train_baseline_classification(kind, aux):
    ds = _classification_ds()
    cfg = _cfg_for(ds, task="classification", out_dim=3, aux_sentiment=aux)
    res = train_baseline(ds, kind, cfg, TrainConfig(batch_size=16, epochs=2, device="cpu"))
    keys = {"acc", "f1", "loss"} | ({"sent_mae", "sent_corr", "sent_acc2", "sent_f1"} if aux else set())
    assert keys <= set(res["test"])
    assert all(math.isfinite(res["test"][k]) for k in keys)


def test_train_baseline_errors():
    ds = make_synthetic(SyntheticConfig(n_train=16, n_valid=8, n_test=8))
    tc = TrainConfig(epochs=1, device="cpu")
    with pytest.raises(ValueError, match="choose one of"):
        train_baseline(ds, "lstm", _cfg_for(ds), tc)
    with pytest.raises(ValueError, match="does not match the dataset"):
        train_baseline(ds, "concat_mlp", tiny_config(), tc)


def test_train_baseline_raises_on_nan_loss():
    from mro_core.training.train import NonFiniteLossError

    ds = make_synthetic(SyntheticConfig(n_train=16, n_valid=8, n_test=8))
    ds.splits["train"].features["T"][0, 0, 0] = np.nan  # bypasses validate_dataset on purpose
    with pytest.raises(NonFiniteLossError):
        train_baseline(ds, "concat_mlp", _cfg_for(ds), TrainConfig(epochs=1, batch_size=16, device="cpu"))
