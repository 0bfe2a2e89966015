"""Unaligned MOSEI / MOSI at their real lengths (MMSA: text 50, audio 500, vision 375 steps)."""

import json

import numpy as np
import pytest
import torch

import data_layouts as L
from mro_core.cli import main
from mro_core.config import get_preset, model_config_for
from mro_core.data.base import make_batch
from mro_core.data.inspect import inspect_path
from mro_core.data.settings import feature_setting
from mro_core.model.flops import analytic_flops
from mro_core.measure.memory import run_memory_bench
from mro_core.model.supernet import Supernet

TINY = {"train": 3, "valid": 2, "test": 2}


@pytest.mark.parametrize("name", ["mosei", "mosi"])
@pytest.mark.parametrize("builder", ["mmsa", "mult"])
def test_loaders_read_the_real_unaligned_shapes(tmp_path, name, builder):
    fs = feature_setting(name, aligned=False)
    assert fs.seq_lens == (50, 500, 375)
    assert fs.input_dims == ((768, 74, 35) if name == "mosei" else (768, 5, 20))
    make = L.mmsa if builder == "mmsa" else L.mult
    lay = make(tmp_path, aligned=False, seq=fs.seq_lens, dims=fs.input_dims, sizes=TINY, name=name)
    ds = lay.load()
    assert ds.name == name and ds.seq_lens == fs.seq_lens and ds.input_dims == fs.input_dims
    assert {s: len(sp) for s, sp in ds.splits.items()} == TINY
    ins = inspect_path(lay.path)
    assert ins.aligned is False and [m.length for m in ins.split("train").modalities] == [50, 500, 375]


def test_mosei_preset_runs_batch_invariant_at_real_lengths(tmp_path):
    fs = feature_setting("mosei", aligned=False)
    ds = L.mult(tmp_path, aligned=False, seq=fs.seq_lens, dims=fs.input_dims, sizes=TINY).load()
    torch.manual_seed(0)
    model = Supernet(model_config_for(get_preset("mosei"), modalities=ds.modalities, input_dims=ds.input_dims,
                                      task="regression")).eval()
    sp, full = ds.splits["train"], model.space.full_mask()
    with torch.no_grad():
        both = model(make_batch(sp, [0, 1]), full)
        alone = torch.cat([model(make_batch(sp, [i]), full) for i in (0, 1)])
    torch.testing.assert_close(both, alone, atol=1e-5, rtol=0)


def test_flops_count_at_the_unaligned_lengths(capsys):
    assert main(["flops", "--dataset", "mosei", "--unaligned", "--mask", "111111", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["seq_lens"] == [50, 500, 375]
    p = get_preset("mosei")
    cfg = model_config_for(p, modalities=("T", "A", "V"), input_dims=(768, 74, 35), task="regression")
    assert doc["mflops"] == pytest.approx(analytic_flops(cfg, (1,) * 6, [50, 500, 375]) / 1e6, rel=1e-9)
    assert main(["flops", "--dataset", "mosi", "--mask", "111111", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["seq_lens"] == [50, 50, 50]
    assert main(["flops", "--unaligned", "--mask", "111111"]) == 2
    assert "--unaligned needs --dataset" in capsys.readouterr().err


def test_memory_measurement_small(tmp_path):
    doc = run_memory_bench("mosei", batch_size=2, seq_lens=[5, 9, 7], d_model=16, fresh_process=False)
    assert doc["seq_lens"] == [5, 9, 7] and doc["input_dims"] == [768, 74, 35] and doc["paths_run"] == 6
    assert doc["peak_mb"] >= doc["baseline_mb"] > 0 and doc["fits"] is True
    tight = run_memory_bench("mosei", batch_size=2, seq_lens=[5, 9, 7], d_model=16, fresh_process=False,
                             limit_gb=1e-6)
    assert tight["fits"] is False


def test_bench_memory_cli_wiring(monkeypatch, capsys):
    import mro_core.measure.memory as M

    seen, real = {}, M.run_memory_bench

    def fake(dataset, **kw):
        seen.update(dataset=dataset, **kw)
        return real(dataset, **{**kw, "batch_size": 2}, seq_lens=[5, 9, 7], d_model=16, fresh_process=False)

    monkeypatch.setattr(M, "run_memory_bench", fake)
    assert main(["bench", "--memory", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert seen["dataset"] == "mosei" and seen["aligned"] is False and seen["batch_size"] == 64
    assert doc["fits"] is True
    assert main(["bench", "--memory", "--memory-data", "mosi-aligned", "--memory-batch-size", "8"]) == 0
    assert seen["dataset"] == "mosi" and seen["aligned"] is True and seen["batch_size"] == 8
    assert "fits in 24 GB" in capsys.readouterr().out
    assert main(["bench", "--memory", "--memory-batch-size", "0"]) == 2


@pytest.mark.slow
def test_memory_measurement_in_a_fresh_process():
    doc = run_memory_bench("mosi", batch_size=2, seq_lens=[5, 9, 7], d_model=16, timeout_s=300)
    assert doc["input_dims"] == [768, 5, 20] and doc["peak_mb"] >= doc["baseline_mb"] > 0 and doc["fits"]
