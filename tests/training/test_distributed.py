"""torchrun + DDP (gloo on CPU): 2 processes equal 1 process at the same global batch."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ARGS = ["--n-train", "256", "--n-valid", "64", "--n-test", "64", "--epochs", "2", "--batch-size", "32",
        "--d-model", "16", "--device", "cpu", "--no-progress", "--seed", "1"]


def _torchrun(n: int, out: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(n),
           "-m", "mro_core", "train", *ARGS, "--distributed", "--out", str(out)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=out.parent)


@pytest.mark.slow
def test_two_gloo_ranks_match_one_process(tmp_path):
    one, two = _torchrun(1, tmp_path / "one.pt"), _torchrun(2, tmp_path / "two.pt")
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.returncode == 0, two.stderr[-2000:]
    assert "rank 1 of 2 (gloo)" in two.stderr
    a = torch.load(tmp_path / "one.pt", weights_only=True)
    b = torch.load(tmp_path / "two.pt", weights_only=True)
    for k, v in a["state_dict"].items():
        torch.testing.assert_close(b["state_dict"][k], v, atol=2e-3, rtol=1e-3)
    assert [h["valid_loss"] for h in a["history"]] == pytest.approx([h["valid_loss"] for h in b["history"]], abs=1e-3)
    assert len(b["mask_table"]) == 63  # only rank 0 wrote, and completely


def test_distributed_outside_torchrun_is_a_clear_error(tmp_path, capsys, monkeypatch):
    from mro_core.cli import main

    monkeypatch.delenv("RANK", raising=False)
    rc = main(["train", *ARGS, "--distributed", "--out", str(tmp_path / "x.pt")])
    assert rc == 2 and "needs torchrun" in capsys.readouterr().err


@pytest.mark.slow
def test_two_rank_search_writes_one_run(tmp_path):
    from mro_core.runs.store import RunStore

    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "mro_core",
           "search", *ARGS, "--warmup", "1", "--distributed", "--out", str(tmp_path / "s.pt"),
           "--workspace", str(tmp_path / "ws")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                         env={**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    runs = RunStore(tmp_path / "ws").list_runs()
    assert len(runs) == 1 and runs[0].status == "done" and runs[0].epoch == 2
    raw = torch.load(tmp_path / "s.pt", weights_only=True)
    assert raw["epoch"] == 2 and len(raw["mask_table"]) == 63
    # the rank regularizer sees rank-local losses, so only the supernet part is rank-invariant;
    # the prior's gradients are averaged, so every rank held the same p (one history, one pick)
    assert len(raw["prior"]["history"]) == 2
