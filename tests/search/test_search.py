"""The search loop: picks, run store records, ablations, checkpoint + resume (in process and after
SIGKILL of a real background job)."""

import json
import os
import signal
import subprocess
import sys
from dataclasses import replace

import pytest
import torch

from mro_core.config import SyntheticConfig, get_preset, model_config_for
from mro_core.data.synthetic import make_synthetic
from mro_core.search.prior import LogitPrior, MRGPrior
from mro_core.config import SearchConfig
from mro_core.search.run import build_prior, run_search
from mro_core.runs.store import RunStore

from conftest import wait_for

SMALL = SyntheticConfig(n_train=96, n_valid=48, n_test=48, seed=2)


def _setup(epochs=3, **scfg):
    ds = make_synthetic(SMALL)
    p = get_preset("demo")
    mcfg = model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task, d_model=16)
    tcfg = replace(p.train, epochs=epochs, batch_size=32, device="cpu", seed=5)
    return ds, mcfg, tcfg, SearchConfig(**{"warmup_epochs": 1, "warmup_until": 0.0, **scfg})


def test_search_reports_picks_front_and_writes_the_store(tmp_path):
    ds, mcfg, tcfg, scfg = _setup(budget_mflops=0.2)
    store = RunStore(tmp_path / "ws")
    rid = store.create_run("t", "search", {"x": 1}, total_epochs=3)
    res = run_search(ds, mcfg, tcfg, scfg, out=tmp_path / "s.pt", store=store, run_id=rid)
    assert list(res.picks)[0] == "parsimonious"
    assert set(res.picks) == {"parsimonious", "best", "budget", "knee", "prior"}
    par, best = res.picks["parsimonious"], res.picks["best"]
    assert par["mflops"] <= best["mflops"] and par["mae"] <= best["mae"] + par["se"] + 1e-12
    assert par["se"] > 0 and "test" in par
    cheaper_within = [r for r in res.rows if r["mae"] <= best["mae"] + par["se"] and r["mflops"] < par["mflops"]]
    assert not cheaper_within, "a cheaper mask within one SE of the best was passed over"
    for name in ("best", "knee", "prior"):
        assert len(res.picks[name]["mask"]) == 6 and res.picks[name]["mflops"] > 0
        assert "test" in res.picks[name]
    b = res.picks["budget"]
    assert ("mask" in b and b["mflops"] <= 0.2) or "error" in b
    best_mae = min(r["mae"] for r in res.rows)
    assert res.picks["best"]["mae"] == best_mae
    assert len(res.rows) == 63
    events = store.events(rid, kind="epoch")
    assert [e.epoch for e in events] == [1, 2, 3]
    assert {"p", "alpha", "beta", "gamma", "stats", "spearman", "hard_rank"} <= set(events[-1].payload)
    assert [e.payload["sampling"] for e in events] == ["uniform", "prior", "prior"]
    last = events[-1].payload  # the log's pick metrics are the picks' own, not the full mask's
    assert last["pick"] == best["mask"] and last["pick_valid"] == best["mae"]
    assert last["parsimonious"] == par["mask"] and last["parsimonious_valid"] == par["mae"]
    assert len(store.masks(rid, split="valid")) == 63
    raw = torch.load(tmp_path / "s.pt", weights_only=True)
    assert len(raw["prior"]["p"]) == 6 and len(raw["prior"]["history"]) == 3
    assert raw["mask_table"] and raw["flops"]["mflops"]


def test_front_is_non_dominated(tmp_path):
    ds, mcfg, tcfg, scfg = _setup(epochs=1)
    res = run_search(ds, mcfg, tcfg, scfg, out=tmp_path / "s.pt")
    for f in res.pareto:
        assert not any(r["mae"] <= f["mae"] and r["mflops"] <= f["mflops"]
                       and (r["mae"] < f["mae"] or r["mflops"] < f["mflops"]) for r in res.rows)


@pytest.mark.parametrize("ablation", ["no_prior_guidance", "no_mrg_prior", "no_rank_reg"])
def test_ablations(tmp_path, ablation):
    ds, mcfg, tcfg, scfg = _setup(epochs=2, ablation=ablation)
    res = run_search(ds, mcfg, tcfg, scfg, out=tmp_path / "s.pt")
    h = res.history
    if ablation == "no_prior_guidance":
        assert [e["sampling"] for e in h] == ["uniform", "uniform"]
    else:
        assert h[-1]["sampling"] == "prior"
    if ablation == "no_rank_reg":  # nothing trains the mix weights
        assert (h[-1]["alpha"], h[-1]["beta"], h[-1]["gamma"]) == (1.0, 1.0, 1.0)
    if ablation == "no_mrg_prior":
        assert h[-1]["alpha"] is None
    assert isinstance(build_prior(ds and __import__("mro_core.paths").paths.default_space(), scfg, 0),
                      LogitPrior if ablation == "no_mrg_prior" else MRGPrior)


def test_rank_regularization_trains_the_prior(tmp_path):
    ds, mcfg, tcfg, scfg = _setup(epochs=2)
    h = run_search(ds, mcfg, tcfg, scfg, out=tmp_path / "s.pt").history
    assert (h[-1]["alpha"], h[-1]["beta"], h[-1]["gamma"]) != (1.0, 1.0, 1.0)


def test_interrupted_search_resumes_to_the_same_result(tmp_path):
    ds, mcfg, tcfg, scfg = _setup(epochs=3)
    straight = run_search(ds, mcfg, tcfg, scfg, out=tmp_path / "a.pt")

    def stop_after_two(event):
        if event["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_search(ds, mcfg, tcfg, scfg, out=tmp_path / "b.pt", on_epoch=stop_after_two)
    assert torch.load(tmp_path / "b.pt", weights_only=True)["epoch"] == 2
    resumed = run_search(ds, mcfg, tcfg, scfg, out=tmp_path / "b.pt", resume=True)
    assert [e["epoch"] for e in resumed.history] == [1, 2, 3]
    for x, y in zip(straight.history, resumed.history):
        assert x["train_loss"] == pytest.approx(y["train_loss"], abs=1e-6)
        assert x["p"] == pytest.approx(y["p"], abs=1e-6)
    assert {k: v["mask"] for k, v in straight.picks.items() if "mask" in v} == \
           {k: v["mask"] for k, v in resumed.picks.items() if "mask" in v}


def test_resume_with_other_settings_is_refused(tmp_path):
    ds, mcfg, tcfg, scfg = _setup(epochs=1)
    run_search(ds, mcfg, tcfg, scfg, out=tmp_path / "a.pt")
    with pytest.raises(ValueError, match="other settings"):
        run_search(ds, mcfg, tcfg, replace(scfg, rank_loss="l2"), out=tmp_path / "a.pt", resume=True)


def _mro(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "mro_core", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONWARNINGS": "ignore"})


SEARCH_ARGS = ["search", "--n-train", "400", "--n-valid", "64", "--n-test", "64", "--epochs", "4", "--warmup", "1",
               "--d-model", "16", "--device", "cpu", "--seed", "3", "--no-progress"]


def _wait(pred, timeout, what):
    return wait_for(pred, timeout, what)


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_loses_and_duplicates_nothing(tmp_path):
    ws_a, ws_b = tmp_path / "a", tmp_path / "b"
    ref = _mro(*SEARCH_ARGS, "--workspace", str(ws_a), "--json")
    assert ref.returncode == 0, ref.stderr
    ref_doc = json.loads(ref.stdout)

    out = _mro(*SEARCH_ARGS, "--workspace", str(ws_b), "--detach")
    assert out.returncode == 0, out.stderr
    rid = out.stdout.strip()
    store = RunStore(ws_b)
    _wait(lambda: [e for e in store.events(rid, kind="epoch") if e.epoch >= 2], 120, "epoch 2")
    pid = store.get_run(rid).pid
    os.killpg(pid, signal.SIGKILL)
    _wait(lambda: store.get_run(rid).effective_status == "interrupted", 30, "interrupted status")
    res = _mro("runs", "resume", rid, "--workspace", str(ws_b))
    assert res.returncode == 0, res.stderr
    _wait(lambda: store.get_run(rid).effective_status == "done", 180, "resumed run to finish")
    epochs = [e.epoch for e in store.events(rid, kind="epoch")]
    assert sorted(epochs) == [1, 2, 3, 4]
    got = store.get_run(rid).result
    assert {k: v.get("mask") for k, v in got["picks"].items()} == {k: v.get("mask") for k, v in ref_doc["picks"].items()}
    ref_losses = [h["train_loss"] for h in ref_doc["history"]]
    got_losses = [e.payload["train_loss"] for e in sorted(store.events(rid, kind="epoch"), key=lambda e: e.epoch)]
    assert got_losses == pytest.approx(ref_losses, abs=1e-5)


def test_cancel_marks_cancelled_and_keeps_the_checkpoint(tmp_path):
    ws = tmp_path / "ws"
    out = _mro(*[a if a != "4" else "40" for a in SEARCH_ARGS], "--workspace", str(ws), "--detach")
    rid = out.stdout.strip()
    store = RunStore(ws)
    _wait(lambda: store.events(rid, kind="epoch"), 120, "first epoch")
    res = _mro("runs", "cancel", rid, "--workspace", str(ws))
    assert res.returncode == 0, res.stderr
    rec = store.get_run(rid)
    assert rec.effective_status == "cancelled"
    assert torch.load(rec.checkpoint, weights_only=True)["epoch"] >= 1
    shown = _mro("runs", "show", rid, "--workspace", str(ws), "--json")
    assert json.loads(shown.stdout)["effective_status"] == "cancelled"


def test_failing_search_marks_the_run_failed(tmp_path):
    ws = tmp_path / "ws"
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    out = _mro("search", "--dataset", "npz", "--data-path", str(bad), "--workspace", str(ws))
    assert out.returncode == 2 and "truncated" in out.stderr


@pytest.mark.slow
def test_three_searches_at_once_with_a_polling_reader(tmp_path):
    """Three background searches write one store while this process polls it like the dashboard:
    no 'database is locked', no lost or duplicated events."""
    ws = tmp_path / "ws"
    args = ["search", "--n-train", "160", "--n-valid", "32", "--n-test", "32", "--epochs", "3", "--warmup", "1",
            "--d-model", "8", "--device", "cpu", "--no-progress", "--workspace", str(ws), "--detach"]
    ids = []
    for seed in range(3):
        out = _mro(*args, "--seed", str(seed))
        assert out.returncode == 0, out.stderr
        ids.append(out.stdout.strip())
    store = RunStore(ws)
    polls = 0

    def all_done():
        nonlocal polls
        polls += 1
        recs = {r.id: r for r in store.list_runs()}
        for rid in ids:
            store.events(rid)
            store.masks(rid)
        return all(recs[i].effective_status in ("done", "failed", "interrupted") for i in ids)

    _wait(all_done, 240, "three searches")
    assert polls > 10
    for rid in ids:
        rec = store.get_run(rid)
        assert rec.status == "done", rec.error
        assert [e.epoch for e in store.events(rid, kind="epoch")] == [1, 2, 3]
        assert len(store.masks(rid)) == 63
        log = open(rec.artifacts["log"]).read()
        assert "database is locked" not in log and "Traceback" not in log
