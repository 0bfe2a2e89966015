"""`mro study` and the stand-alone ground truth: resumable, statistics from scipy, one-line errors."""

import csv
from dataclasses import replace

import pytest

from mro_core.cli import main
from mro_core.config import SyntheticConfig, get_preset, model_config_for, to_dict
from mro_core.data.synthetic import make_synthetic
from mro_core.measure.ground_truth import GroundTruthJob, ranking_report, regret, run_ground_truth
from mro_core.rowlog import read_rows
from mro_core.experiments.study import StudyError, StudySpec, mean_ci, run_study, summarize, wilson

TINY = SyntheticConfig(n_train=48, n_valid=24, n_test=24, seed=3)


def _cfgs():
    ds = make_synthetic(TINY)
    p = get_preset("demo")
    m = model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task, d_model=8, num_heads=2)
    t = replace(p.train, epochs=1, batch_size=24, device="cpu")
    return to_dict(m), to_dict(t)


def test_study_is_resumable_and_skips_finished_runs(tmp_path):
    m, t = _cfgs()
    base = dict(name="t", data={"name": "synthetic", "synthetic": to_dict(TINY)}, model=m, train=t,
                search={"warmup_epochs": 0, "warmup_until": 0.0}, workdir=str(tmp_path / "w"))
    rows = run_study(StudySpec(methods=("full",), seeds=(0,), **base), tmp_path)
    assert [(r["method"], r["seed"]) for r in rows] == [("full", 0)]
    first = rows[0]["seconds"]
    rows = run_study(StudySpec(methods=("full", "uniform"), seeds=(0,), **base), tmp_path)
    assert sorted((r["method"], r["seed"]) for r in rows) == [("full", 0), ("uniform", 0)]
    assert [r["seconds"] for r in rows if r["method"] == "full"] == [first]  # not redone
    with open(tmp_path / "study_t_runs.csv") as f:
        assert len(list(csv.DictReader(f))) == 2
    assert all(isinstance(r["pick"], str) and len(r["pick"]) == 6 for r in rows)  # bit strings keep their zeros
    s = summarize(rows, name="t", planted="011011")
    assert {r["method"] for r in s.methods} == {"full", "uniform"}
    assert s.paired and s.paired[0]["method"] == "uniform"
    assert all(len(r["pars_pick"]) == 6 and r["pars_test_mae"] != "" for r in rows)  # the parsimonious pick too
    assert all("pars_test_mae" in m for m in s.methods)


def _row(method, seed, pars, tuned, test, hit):
    return {"method": method, "seed": seed, "pick": "111111", "pick_mflops": 2.6, "test_mae": 0.3, "hit": 0,
            "pars_pick": pars, "pars_mflops": {"011011": 1.75, "001011": 1.3}[pars], "pars_test_mae": test,
            "pars_hit": hit, "finetuned_pick": tuned, "finetuned_test_mae": test - 0.1}


def test_the_parsimonious_pick_is_summarised_and_older_runs_csvs_still_read():
    rows = [_row("full", 0, "011011", "011011", 0.20, 1), _row("full", 1, "001011", "001011", 0.40, 0)]
    s = summarize(rows, name="p", planted="011011")
    m = s.methods[0]
    assert m["pars_test_mae"] == pytest.approx(0.30) and m["finetuned_test_mae"] == pytest.approx(0.20)
    assert m["pars_mflops"] == pytest.approx((1.75 + 1.3) / 2) and m["pars_paths"] == 3.5
    assert m["pars_hit_rate"] == 0.5 and m["pars_hit_lo"] < 0.5 < m["pars_hit_hi"]
    from mro_core.experiments.study import render_markdown

    md = render_markdown(s)
    assert "The parsimonious pick" in md and "| Full MRO | 0.300 [" in md and "| 50% [" in md
    rows[1]["finetuned_pick"] = "011011"  # the study fine-tuned another pick in one seed: no fine-tuned mean
    assert "finetuned_test_mae" not in summarize(rows, name="p", planted="011011").methods[0]
    old = [{k: v for k, v in r.items() if not k.startswith(("pars_", "finetuned_"))} for r in rows]
    s_old = summarize(old, name="p", planted="011011")
    assert "pars_test_mae" not in s_old.methods[0] and "parsimonious" not in render_markdown(s_old)


def test_bad_studies_are_refused():
    m, t = _cfgs()
    with pytest.raises(StudyError, match="unknown method"):
        StudySpec("x", {}, m, t, {}, ("full", "nope"), (0,), "w")
    with pytest.raises(StudyError, match="at least one seed"):
        StudySpec("x", {}, m, t, {}, ("full",), (), "w")


@pytest.mark.parametrize("args, msg", [
    (["--methods", "full,bogus"], "unknown method"),
    (["--seeds", "0"], "argument --seeds: must be a whole number from 1 to 1000 (got 0)"),
    (["--seeds", "x"], "argument --seeds: must be a whole number"),
])
def test_study_cli_bad_input_is_one_line_exit_2(args, msg, capsys, tmp_path):
    assert main(["study", "--name", "x", "--out-dir", str(tmp_path), *args]) == 2
    assert msg in capsys.readouterr().err


def test_statistics_are_scipys():
    lo, hi = wilson(9, 10)
    assert lo == pytest.approx(0.5958, abs=1e-3) and hi == pytest.approx(0.9821, abs=1e-3)
    m, lo, hi = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert m == 3.0 and lo < 3.0 < hi
    assert mean_ci([2.0, 2.0]) == (2.0, 2.0, 2.0)


def test_ground_truth_resumes_and_ranks(tmp_path):
    m, t = _cfgs()
    job = GroundTruthJob({"name": "synthetic", "synthetic": to_dict(TINY)}, m, t, str(tmp_path / "w"))
    out = tmp_path / "gt.csv"
    rows = run_ground_truth(job, ["011011", "100000"], [0], out)
    assert {r["mask"] for r in rows} == {"011011", "100000"} and all(r["valid_mae"] > 0 for r in rows)
    rows = run_ground_truth(job, ["011011", "100000", "111111"], [0], out)  # only the new one trains
    assert len(read_rows(out)) == 3
    rep = ranking_report({"a": 0.1, "b": 0.2, "c": 0.3}, {"perfect": {"a": 3, "b": 2, "c": 1},
                                                          "reversed": {"a": 1, "b": 2, "c": 3}},
                         higher_is_better=False)
    assert rep["perfect"]["kendall_tau"] == pytest.approx(1.0) and rep["reversed"]["kendall_tau"] == pytest.approx(-1.0)
    assert rep["perfect"]["ndcg@5"] == pytest.approx(1.0)
    gt = [{"mask": "a", "valid_mae": 0.1, "test_mae": 0.2}, {"mask": "b", "valid_mae": 0.3, "test_mae": 0.5}]
    assert regret(gt, "a") == 0.0 and regret(gt, "b") == pytest.approx(0.3)


def test_a_second_study_of_the_same_name_refuses_while_the_first_runs(tmp_path, capsys):
    """The lock of `study_<name>.lock` is held by a live process: one line, exit 2, nothing run."""
    import os
    import signal
    import subprocess
    import sys
    import textwrap
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    ready = tmp_path / "ready"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from mro_core.procs import exclusive
        with exclusive(sys.argv[1], "study 'same'"):
            open(sys.argv[2], "w").close()
            time.sleep(600)
        """), str(tmp_path / "out" / "study_same.lock"), str(ready)],
        env={**os.environ, "PYTHONPATH": str(root)})
    try:
        end = time.monotonic() + 30
        while not ready.exists():
            assert time.monotonic() < end, "holder did not start"
            time.sleep(0.05)
        rc = main(["study", "--name", "same", "--methods", "full", "--seeds", "1", "--n-train", "16",
                   "--n-valid", "8", "--n-test", "8", "--epochs", "1", "--d-model", "8", "--device", "cpu",
                   "--out-dir", str(tmp_path / "out"), "--workdir", str(tmp_path / "w")])
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith(f"mro: error: study 'same' is already running (pid {holder.pid}")
    assert not (tmp_path / "out" / "study_same_runs.csv").exists()


def test_a_doubled_runs_csv_is_counted_once_and_the_study_resumes(tmp_path):
    """What two studies at once once left (a second header, every row twice) is read back as one
    row per (method, seed): the report does not count duplicates as seeds, and nothing reruns."""
    m, t = _cfgs()
    base = dict(name="d", data={"name": "synthetic", "synthetic": to_dict(TINY)}, model=m, train=t,
                search={"warmup_epochs": 0, "warmup_until": 0.0}, workdir=str(tmp_path / "w"))
    run_study(StudySpec(methods=("full",), seeds=(0,), **base), tmp_path)
    p = tmp_path / "study_d_runs.csv"
    text = p.read_text()
    p.write_text(text + text)  # header and row again
    rows = run_study(StudySpec(methods=("full",), seeds=(0,), **base), tmp_path)
    assert len(rows) == 1 and summarize(rows, name="d").methods[0]["seeds"] == 1
    assert p.read_text() == text  # repaired on disk
