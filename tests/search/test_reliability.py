"""Numbers that can be trusted and failures that say so: NaN losses stop a run, unwritable
outputs are one-line errors, fine-tuning reports both numbers, the search finds the planted routing."""

from dataclasses import replace

import pytest
import torch

from mro_core.cli import main
from mro_core.config import SyntheticConfig, get_preset, model_config_for
from mro_core.data.synthetic import make_synthetic
from mro_core.model.supernet import Supernet
from mro_core.config import SearchConfig
from mro_core.search.run import run_search

TINY = ["--n-train", "32", "--n-valid", "16", "--n-test", "16", "--epochs", "1", "--d-model", "8",
        "--device", "cpu", "--no-progress"]


def test_nan_loss_stops_the_run_with_a_clear_error(tmp_path, capsys, monkeypatch):
    real = Supernet.head_for_masks
    monkeypatch.setattr(Supernet, "head_for_masks", lambda self, f, m: real(self, f, m) * float("nan"))
    rc = main(["train", *TINY, "--out", str(tmp_path / "n.pt")])
    err = capsys.readouterr().err
    assert rc == 2 and "non-finite loss" in err and "lower --lr" in err
    assert not (tmp_path / "n.pt").exists()  # nothing NaN was written


def test_nan_loss_marks_a_search_run_failed(tmp_path, monkeypatch):
    from mro_core.runs.store import RunStore

    real = Supernet.head_for_masks
    monkeypatch.setattr(Supernet, "head_for_masks", lambda self, f, m: real(self, f, m) * float("nan"))
    rc = main(["search", *TINY, "--warmup", "0", "--workspace", str(tmp_path / "ws")])
    assert rc == 2
    (run,) = RunStore(tmp_path / "ws").list_runs()
    assert run.status == "failed" and "non-finite loss" in run.error


def test_unwritable_output_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc = main(["train", *TINY, "--out", str(blocker / "sub" / "ck.pt")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "cannot write" in err and len(err.splitlines()) == 1
    rc = main(["search", *TINY, "--warmup", "0", "--workspace", str(blocker / "ws")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and str(blocker) in err


def _small(epochs, n_train=96):
    ds = make_synthetic(SyntheticConfig(n_train=n_train, n_valid=48, n_test=48, seed=2))
    p = get_preset("demo")
    mcfg = model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task, d_model=16)
    return ds, mcfg, replace(p.train, epochs=epochs, batch_size=32, device="cpu")


def test_finetune_reports_shared_and_finetuned_numbers(tmp_path):
    ds, mcfg, tcfg = _small(1)
    res = run_search(ds, mcfg, tcfg, SearchConfig(warmup_epochs=0, finetune_epochs=1, budget_mflops=0.2),
                     out=tmp_path / "s.pt")
    ft = res.finetune
    assert ft["pick"] in ("budget", "best") and ft["epochs"] == 1
    assert ft["mask"] == res.picks[ft["pick"]]["mask"]
    assert {"mae", "corr"} <= set(ft["shared_valid"]) and {"mae", "corr"} <= set(ft["finetuned_test"])
    assert torch.load(ft["checkpoint"], weights_only=True)["extra"]["fixed_mask"] == ft["mask"]


@pytest.mark.slow
def test_full_mro_pick_covers_the_planted_paths(tmp_path):
    ds = make_synthetic(SyntheticConfig(n_train=3000, n_valid=500, n_test=200, seed=0))
    p = get_preset("demo")
    mcfg = model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task)
    res = run_search(ds, mcfg, replace(p.train, epochs=14, device="cpu"), SearchConfig(warmup_epochs=3),
                     out=tmp_path / "s.pt")
    best = res.picks["best"]["mask"]
    planted = "011011"
    assert all(b == "1" for b, q in zip(best, planted) if q == "1"), best
    assert res.history[-1]["spearman"] > 0.3
