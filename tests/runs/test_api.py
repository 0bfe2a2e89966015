"""The front door (mro_core.runs.api): requests are refused before anything starts, one job runs per
search, the run id comes from the store, and a job that fails after its start reads `failed`."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import wait_for
from mro_core.config import SyntheticConfig
from mro_core.data.npz import save_npz
from mro_core.data.synthetic import make_synthetic
from mro_core.runs import worker
from mro_core.runs.api import RunBusy, RunStateError, SearchRefused, create_search_run, resume_run, submit_search, worker_command
from mro_core.runs.launcher import spawn
from mro_core.runs.request import RequestError, SearchRequest, prepare
from mro_core.runs.store import RunStore

TINY = dict(n_train=64, n_valid=32, n_test=32)


def _npz(tmp_path: Path) -> Path:
    return save_npz(make_synthetic(SyntheticConfig(**TINY)), tmp_path / "toy.npz")


def test_request_round_trips_and_builds_configs():
    req = SearchRequest(epochs=3, warmup=1, rank_loss="l2", ablation="no_rank_reg", budget_mflops=1.5, **TINY)
    assert SearchRequest.from_dict(req.to_dict()) == req
    p = prepare(req)
    assert p.train.epochs == 3 and p.search.rank_loss == "l2" and p.search.ablation == "no_rank_reg"
    assert p.model.modalities == ("T", "A", "V") and len(p.data.splits["train"]) == 64
    with pytest.raises(RequestError, match="unknown search request field"):
        SearchRequest.from_dict({"epochs": 1, "bogus": 2})


@pytest.mark.parametrize("change, message", [
    ({"warmup": 5, "epochs": 2}, r"--warmup \(5\) is more than --epochs \(2\)"),
    ({"rank_loss": "l3"}, "unknown rank loss 'l3'"),
    ({"ablation": "x"}, "unknown ablation 'x'"),
    ({"planted": "T->X"}, "X"),
    ({"dataset": "npz"}, "needs --data-path"),
    ({"preset": "nope"}, "nope"),
])
def test_a_request_that_cannot_run_is_refused_before_anything_starts(store: RunStore, change, message):
    with pytest.raises(SearchRefused, match=message) as e:
        submit_search(store, SearchRequest(**{**TINY, **change}))
    assert "\n" not in str(e.value)
    assert store.list_runs() == []


def test_an_unreadable_file_is_refused(store: RunStore, tmp_path: Path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not really")
    with pytest.raises(SearchRefused):
        submit_search(store, SearchRequest(dataset="npz", data_path=str(bad)))
    assert store.list_runs() == []


def test_a_job_failing_after_its_start_reads_failed_with_its_error(store: RunStore, tmp_path: Path):
    path = _npz(tmp_path)
    req = SearchRequest(dataset="npz", data_path=str(path), epochs=1, warmup=0)
    rid = create_search_run(store, prepare(req))
    assert store.get_run(rid).config["request"]["data_path"] == str(path)
    path.unlink()  # the data changed between submission and the job
    proc = spawn(worker_command(store, rid), store, rid)
    assert proc.wait(timeout=120) != 0
    rec = store.get_run(rid)
    assert rec.effective_status == "failed" and "does not exist" in rec.error, (rec.status, rec.error)


def test_the_worker_in_process_records_failed(store: RunStore, tmp_path: Path):
    path = _npz(tmp_path)
    rid = create_search_run(store, prepare(SearchRequest(dataset="npz", data_path=str(path), epochs=1, warmup=0)))
    path.unlink()
    assert worker.main(["--workspace", str(store.workspace), "--run-id", rid]) == 1
    assert store.get_run(rid).status == "failed"


def test_resume_refuses_active_done_and_runs_without_a_request(store: RunStore):
    live = store.create_run("live", "search", {"request": {}})
    store.mark_running(live)  # this test process plays the job: its pid is alive
    with pytest.raises(RunBusy, match=r"already running \(pid \d+\): another process started it; cancel it first"):
        resume_run(store, live)
    rid = store.create_run("x", "search", {})
    store.finish(rid, "done")
    with pytest.raises(RunStateError, match="already done"):
        resume_run(store, rid)
    old = store.create_run("y", "search", {})
    store.finish(old, "failed", error="boom")
    with pytest.raises(RunStateError, match="no stored command line"):
        resume_run(store, old)


@pytest.mark.slow
def test_a_k4_search_submitted_like_the_search_page_runs_to_the_end(tmp_path: Path):
    """The Search page's request for four synthetic modalities runs a real k = 4 search."""
    import torch

    store = RunStore(tmp_path / "ws")
    req = SearchRequest(epochs=1, warmup=0, masks_per_step=4, name="k4", modalities="T,A,V,D",
                        planted="T->A,D->T", **TINY)
    rid = submit_search(store, req)
    assert store.get_run(rid).pid is not None
    wait_for(lambda: store.get_run(rid).effective_status not in ("queued", "running"), 240, "k = 4 search")
    rec = store.get_run(rid)
    assert rec.status == "done", rec.error
    raw = torch.load(rec.checkpoint, weights_only=True)
    assert raw["model_config"]["modalities"] == ["T", "A", "V", "D"] and len(raw["mask_table"]) == 4095
