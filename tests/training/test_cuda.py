"""CUDA paths (skipped without a GPU; CI never depends on one). Run on a GPU machine with
`pytest -m cuda`."""

from dataclasses import replace

import pytest
import torch

from mro_core.config import SyntheticConfig, get_preset, model_config_for
from mro_core.data.base import make_batch
from mro_core.data.synthetic import make_synthetic
from mro_core.model.supernet import Supernet
from mro_core.training.train import predict_masks, resolve_device, train_supernet

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def _setup():
    ds = make_synthetic(SyntheticConfig(n_train=128, n_valid=64, n_test=64))
    p = get_preset("demo")
    return ds, model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task), p


def test_auto_picks_cuda():
    assert resolve_device("auto").type == "cuda"


def test_cuda_forward_matches_cpu():
    ds, cfg, _ = _setup()
    net = Supernet(cfg).eval()
    b = make_batch(ds.splits["valid"], range(16))
    cpu = net.forward_many(b, [(1,) * 6, (0, 1, 1, 0, 1, 1)])
    gpu = net.cuda().forward_many(b.to("cuda"), [(1,) * 6, (0, 1, 1, 0, 1, 1)]).cpu()
    torch.testing.assert_close(gpu, cpu, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("amp", ["off", "bf16"])
def test_train_and_evaluate_on_cuda(tmp_path, amp):
    ds, cfg, p = _setup()
    ck = train_supernet(ds, cfg, replace(p.train, epochs=1, device="cuda", amp=amp), out=tmp_path / "c.pt")
    assert len(ck.mask_table) == 63 and all(torch.isfinite(torch.tensor(r["loss"])) for r in ck.mask_table)
    net = Supernet(cfg)
    net.load_state_dict(ck.state_dict)
    out = predict_masks(net.cuda(), ds.splits["valid"], [(1,) * 6], device="cuda", amp=amp)
    assert out.shape == (1, 64, 1)
