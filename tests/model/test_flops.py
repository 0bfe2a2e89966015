import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from mro_core.model import flops as F
from mro_core.config import get_preset, model_config_for
from mro_core.model.supernet import Supernet
from mro_core.paths import PathSpace

from conftest import tiny_config


def _mosei_model():
    p = get_preset("mosei")
    cfg = model_config_for(p, modalities=p.flops_modalities, input_dims=p.flops_input_dims, task="regression")
    return Supernet(cfg), [p.flops_seq_len] * 3


def test_paper_anchors_within_ten_percent():
    net, seq = _mosei_model()
    tab = F.flops_table(net, seq, [(1,) * 6, (0, 1, 1, 0, 1, 1)])
    assert abs(tab["mflops"]["111111"] - 254.94) / 254.94 < 0.10
    assert abs(tab["mflops"]["011011"] - 173.48) / 173.48 < 0.10


@pytest.mark.parametrize("seq", [(5, 7, 6), (4, 4, 4)])
def test_additive_table_equals_whole_subnet_count_and_analytic(seq):
    cfg = tiny_config(layers_per_path=2)
    net = Supernet(cfg)
    tab = F.flops_table(net, seq)
    sp = PathSpace(cfg.modalities)
    for m in sp.all_masks():
        whole = F.subnet_flops(net, m, seq)
        assert tab["mflops"][sp.to_bits(m)] * 1e6 == pytest.approx(whole, abs=0.5)
        assert F.analytic_flops(cfg, m, seq) == whole


def test_linear_and_matmul_counts_match_torch_flop_counter():
    """torch.utils.flop_counter counts 2 per multiply-add; on CPU it does not see SDPA."""
    net, seq = _mosei_model()
    sub = net.extract_subnet((0, 1, 1, 0, 1, 1)).eval()
    inp = F.dummy_inputs(net.cfg, seq)
    a = F._analysis(sub, inp)
    a.total()
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        sub(*inp)
    assert fc.get_total_flops() == 2 * a.by_operator()["linear"]


def test_sdpa_handle_matches_explicit_attention_counted_by_torch():
    net, seq = _mosei_model()
    B, H, Lq, Lk, dh = 2, 8, 7, 11, 32
    q, k, v = torch.randn(B, H, Lq, dh), torch.randn(B, H, Lk, dh), torch.randn(B, H, Lk, dh)

    class Explicit(torch.nn.Module):
        def forward(self, q, k, v):
            return (q @ k.transpose(-2, -1)).softmax(-1) @ v

    class Fused(torch.nn.Module):
        def forward(self, q, k, v):
            return torch.nn.functional.scaled_dot_product_attention(q, k, v)

    with FlopCounterMode(display=False) as fc:
        Explicit()(q, k, v)
    a = F._analysis(Fused(), (q, k, v))
    assert a.total() * 2 == fc.get_total_flops() == 2 * B * H * Lq * Lk * (dh + dh)


def test_no_uncounted_compute_operator_in_the_model():
    """Fails when the model gains an operator fvcore skips that is not elementwise."""
    net, seq = _mosei_model()
    sub = net.extract_subnet((1,) * 6)
    assert F.uncounted_compute_ops(sub, F.dummy_inputs(net.cfg, seq)) == {}


def test_uncounted_compute_detector_catches_a_skipped_matmul_like_op():
    class Sneaky(torch.nn.Module):
        def forward(self, x):
            return torch.cdist(x, x)  # O(L^2 D) compute fvcore does not count

    assert "aten::cdist" in F.uncounted_compute_ops(Sneaky(), (torch.randn(1, 6, 4),))


def test_flops_fall_with_the_mask_and_single_path_is_small():
    net, seq = _mosei_model()
    tab = F.flops_table(net, seq)["mflops"]
    assert tab["100000"] < tab["110000"] < tab["111000"] < tab["111111"]
    assert tab["100000"] / tab["111111"] < 0.25


def test_cli_paper_anchor_json(capsys):
    import json

    from mro_core.cli import main

    assert main(["flops", "--preset", "mosei", "--mask", "111111", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert abs(doc["mflops"] - 254.94) / 254.94 < 0.10
    assert main(["flops", "--preset", "mosei", "--mask", "011011", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert abs(doc["mflops"] - 173.48) / 173.48 < 0.10
