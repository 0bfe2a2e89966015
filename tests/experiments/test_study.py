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
    with pytest.raises(SystemExit) as e:
        main(["study", "--name", "x", "--out-dir", str(tmp_path), *args])
        raise SystemExit(2)  # main returned instead of argparse exiting
    assert e.value.code == 2
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
