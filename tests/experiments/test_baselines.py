"""`mro baselines`: logistic regression per view and on all views, the neural baselines, intervals."""

import csv
from dataclasses import replace

import numpy as np
import pytest

from mro_core.cli import main
from mro_core.config import SearchConfig, get_preset, model_config_for
from mro_core.data.base import MultimodalDataset
from mro_core.data.mfeat import load_mfeat
from mro_core.data.synthetic import make_synthetic
from mro_core.config import SyntheticConfig
from mro_core.experiments.baselines import logistic_rows, render, run_baselines, summarize


def small_mfeat(n: int = 20) -> MultimodalDataset:
    """The first n digits per class of each split (same shapes, seconds to train)."""
    ds = load_mfeat()
    splits = {}
    for s, sp in ds.splits.items():
        idx = np.concatenate([np.flatnonzero(sp.labels == c)[:n] for c in range(10)])
        splits[s] = sp.subset(idx)
    return MultimodalDataset("mfeat", ds.modalities, "classification", splits, num_classes=10)


def test_logistic_rows_per_view_and_all_views():
    ds = small_mfeat()
    rows = logistic_rows(ds)
    assert [r["model"] for r in rows] == [f"LogReg {m}" for m in ds.modalities] + ["LogReg all views"]
    dims = dict(zip(ds.modalities, ds.input_dims))
    for r in rows[:-1]:
        assert r["mflops"] == pytest.approx(dims[r["model"].split()[1]] * 10 / 1e6)
    assert rows[-1]["mflops"] == pytest.approx(sum(ds.input_dims) * 10 / 1e6)
    assert all(0.0 <= r["f1"] <= 1.0 for r in rows)
    assert rows[-1]["acc"] > 0.5  # ten classes: chance is 0.1


def test_logistic_rows_refuse_regression():
    with pytest.raises(ValueError, match="classification"):
        logistic_rows(make_synthetic(SyntheticConfig(n_train=16, n_valid=8, n_test=8)))


def test_summary_means_and_intervals():
    rows = [{"model": "a", "acc": a, "f1": a, "mflops": 1.0} for a in (0.9, 0.92, 0.94)]
    rows += [{"model": "b", "acc": 0.5, "f1": 0.5, "mflops": 2.0}] * 2
    s = summarize(rows)
    assert [d["model"] for d in s] == ["a", "b"] and s[0]["seeds"] == 3
    assert s[0]["acc"] == pytest.approx(0.92) and s[0]["acc_lo"] < 0.92 < s[0]["acc_hi"]
    assert s[1]["acc_lo"] == s[1]["acc_hi"] == 0.5
    md, table = render(s, title="t", command="mro baselines x")
    assert "`mro baselines x`" in md and "| a | 3 | 0.9200 [" in md
    assert next(csv.DictReader(table.splitlines()))["model"] == "a"


def test_run_baselines_writes_md_csv_and_seed_rows(tmp_path):
    ds = small_mfeat(8)
    preset = get_preset("mfeat")
    mcfg = model_config_for(preset, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task, num_classes=10)
    tcfg = replace(preset.train, epochs=1, device="cpu")
    files = run_baselines(ds, mcfg, tcfg, SearchConfig(), seeds=2, out=tmp_path / "bl", workdir=tmp_path / "w",
                          command="mro baselines test")
    seeds = list(csv.DictReader(open(files["seeds"])))
    assert len(seeds) == 2 * 10 and {r["seed"] for r in seeds} == {"0", "1"}
    models = [r["model"] for r in csv.DictReader(open(files["csv"]))]
    assert models[-3:] == ["Concat+MLP", "EmbraceNet", "Pairwise CMT"]
    assert "mro baselines test" in open(files["md"]).read()


def test_cli_refuses_regression_data(capsys, tmp_path):
    assert main(["baselines", "--dataset", "synthetic", "--out", str(tmp_path / "x")]) == 2
    assert "classification" in capsys.readouterr().err
