import pytest
import torch

from mro_core.config import ModelConfig
from mro_core.model.layers import CrossAttention, masked_mean
from mro_core.model.supernet import Supernet
from mro_core.paths import PathSpace
from mro_core.training.train import compute_mask_losses, make_optimizer
from mro_core.config import TrainConfig

from conftest import tiny_batch, tiny_config


@pytest.mark.parametrize("k", [2, 3, 4])
def test_output_shapes_and_repr(k):
    cfg = tiny_config(k)
    net = Supernet(cfg).eval()
    b = tiny_batch(cfg)
    sp = PathSpace(cfg.modalities)
    out = net(b, sp.full_mask())
    assert out.shape == (4, 1)
    assert torch.isfinite(out).all()
    assert f"paths={k * (k - 1)}" in repr(net) and "d=8" in repr(net)


def test_forward_many_equals_single_forwards():
    cfg = tiny_config()
    net = Supernet(cfg).eval()
    b = tiny_batch(cfg)
    masks = [(0, 1, 1, 0, 1, 1), (1, 0, 0, 0, 0, 0), (1, 1, 1, 1, 1, 1)]
    many = net.forward_many(b, masks)
    for i, m in enumerate(masks):
        torch.testing.assert_close(many[i], net(b, m), atol=1e-6, rtol=1e-5)


def test_full_mask_is_mean_of_all_path_vectors():
    cfg = tiny_config()
    net = Supernet(cfg).eval()
    b = tiny_batch(cfg)
    feats = net.path_features(b, range(6))
    torch.testing.assert_close(net(b, (1,) * 6), net.head(feats.mean(1)), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("mask", [(0, 1, 1, 0, 1, 1), (0, 0, 0, 1, 0, 0), (1, 1, 1, 1, 1, 1)])
def test_extract_subnet_equals_supernet(mask):
    cfg = tiny_config()
    net = Supernet(cfg).eval()
    b = tiny_batch(cfg)
    sub = net.extract_subnet(mask).eval()
    torch.testing.assert_close(sub(*sub.batch_inputs(b)), net(b, mask), atol=1e-6, rtol=1e-5)
    # the subnet holds only the active paths
    assert len(sub.paths) == sum(mask)


def test_inactive_paths_get_no_gradient_and_do_not_move():
    cfg = tiny_config()
    net = Supernet(cfg)
    b = tiny_batch(cfg)
    opt = make_optimizer(net, TrainConfig(lr=1e-2, weight_decay=0.1))
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    masks = [(0, 1, 0, 0, 0, 0), (0, 1, 1, 0, 0, 0)]  # union: paths 1, 2 (T->V, A->T)
    for _ in range(2):
        opt.zero_grad(set_to_none=True)
        compute_mask_losses(net, b, masks).sum().backward()
        for i in range(6):
            for p in net.paths[i].parameters():
                assert (p.grad is None) == (i not in (1, 2))
        opt.step()
    for i in range(6):
        for n, p in net.paths[i].named_parameters():
            moved = not torch.equal(p, before[f"paths.{i}.{n}"])
            assert moved == (i in (1, 2)), (i, n)


def test_every_parameter_gets_a_gradient_under_the_full_mask():
    cfg = tiny_config()
    net = Supernet(cfg)
    b = tiny_batch(cfg)
    compute_mask_losses(net, b, [(1,) * 6]).sum().backward()
    for n, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), n


def test_padding_does_not_change_outputs():
    """Appending padded steps to any modality leaves every mask's output unchanged."""
    cfg = tiny_config()
    net = Supernet(cfg).eval()
    b = tiny_batch(cfg)
    padded = type(b)(
        {m: torch.cat([x, torch.randn(x.shape[0], 3, x.shape[2])], 1) for m, x in b.x.items()},
        {m: torch.cat([v, torch.zeros(v.shape[0], 3, dtype=torch.bool)], 1) for m, v in b.valid.items()},
        b.y,
    )
    masks = PathSpace(cfg.modalities).all_masks()
    torch.testing.assert_close(net.forward_many(b, masks), net.forward_many(padded, masks), atol=1e-5, rtol=1e-5)


def test_attention_weights_in_unit_interval_and_zero_on_padding():
    attn = CrossAttention(8, 2)
    t, s = torch.randn(2, 4, 8), torch.randn(2, 5, 8)
    valid = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    w = attn.attention_weights(t, s, valid)
    assert w.shape == (2, 2, 4, 5)
    assert (w >= 0).all() and (w <= 1).all()
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 2, 4))
    assert (w[0, :, :, 3:] == 0).all()


def test_masked_mean():
    x = torch.tensor([[[1.0], [3.0], [100.0]]])
    v = torch.tensor([[True, True, False]])
    assert masked_mean(x, v).item() == 2.0


def test_all_zero_mask_rejected():
    cfg = tiny_config()
    net = Supernet(cfg)
    with pytest.raises(ValueError, match="all-zero"):
        net(tiny_batch(cfg), (0,) * 6)


@pytest.mark.parametrize("kw, match", [
    (dict(d_model=10, num_heads=4), "divisible"),
    (dict(dropout=1.5), "dropout"),
    (dict(input_dims=(3, 4)), "one entry per modality"),
    (dict(task="ranking"), "task"),
])
def test_config_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        tiny_config(**kw)


def test_classification_head_width():
    cfg = tiny_config(task="classification", out_dim=7, aux_sentiment=True)
    net = Supernet(cfg).eval()
    assert net(tiny_batch(cfg), (1,) * 6).shape == (4, 8)


def test_config_roundtrip_and_every_field_used():
    from mro_core.config import from_dict, to_dict

    cfg = tiny_config(layers_per_path=2, ff_mult=3, head_hidden=5)
    assert from_dict(ModelConfig, to_dict(cfg)) == cfg
    net = Supernet(cfg)
    assert len(net.paths[0].layers) == 2
    assert net.paths[0].layers[0].ff.fc1.out_features == 24
    assert net.head.net[1].out_features == 5
    assert net.paths[0].layers[0].attn.num_heads == 2
