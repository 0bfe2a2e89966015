"""Published reference points: a small data file in the package, each row with its exact source."""

import json
from importlib import resources

import pytest

from mro_core.data.references import METRIC_KEYS, SETTINGS_NOTE, reference_points, reference_sources


@pytest.mark.parametrize("dataset", ["mosei", "mosi"])
def test_rows_carry_source_setting_and_both_acc2_conventions(dataset):
    rows = reference_points(dataset)
    assert {"MulT", "Self-MM", "CENet"} <= {r["model"] for r in rows}
    for r in rows:
        assert r["dataset"] == dataset and r["features"] == "BERT" and isinstance(r["aligned"], bool)
        assert r["source_url"].startswith("https://github.com/thuiar/MMSA/blob/") and "result-stat.md" in r["source_url"]
        assert "Has0" in r["acc2_convention"] and "Non0" in r["acc2_convention"]
        assert set(r["metrics"]) == set(METRIC_KEYS) and r["note"] == SETTINGS_NOTE
        m = r["metrics"]
        assert all(0.0 < m[k] < 1.0 for k in ("acc2", "f1", "acc2_has0", "f1_has0", "acc7", "acc5", "corr"))
        assert 0.3 < m["mae"] < 1.5
        assert m["acc2"] == pytest.approx(float(r["printed"]["Non0_acc_2"]) / 100)
        assert m["acc2_has0"] == pytest.approx(float(r["printed"]["Has0_acc_2"]) / 100)
        assert m["mae"] == pytest.approx(float(r["printed"]["MAE"]) / 100)


def test_transcription_of_two_rows_matches_the_source_table():
    """Checked by hand against thuiar/MMSA results/result-stat.md at the cited commit."""
    mult = next(r for r in reference_points("mosei") if r["model"] == "MulT")
    assert mult["aligned"] is False
    assert mult["printed"] == {"Has0_acc_2": "81.15", "Has0_F1_score": "81.56", "Non0_acc_2": "84.63",
                               "Non0_F1_score": "84.52", "Mult_acc_5": "54.18", "Mult_acc_7": "52.84",
                               "MAE": "55.93", "Corr": "73.31"}
    tetfn = next(r for r in reference_points("mosi") if r["model"] == "TETFN")
    assert tetfn["aligned"] is True and tetfn["metrics"]["mae"] == pytest.approx(0.7084)


def test_filters_and_other_datasets():
    assert reference_points("meld") == [] and reference_points("synthetic") == []
    assert reference_points("MOSEI") == reference_points("mosei")
    al = reference_points("mosei", aligned=True)
    assert al and all(r["aligned"] for r in al)
    assert len(al) + len(reference_points("mosei", aligned=False)) == len(reference_points("mosei"))


def test_the_file_ships_in_the_package_and_names_its_sources():
    doc = json.loads(resources.files("mro_core.data").joinpath("references.json").read_text())
    assert doc["rows"] and set(doc["sources"]) == set(reference_sources())
    for src in reference_sources().values():
        assert len(src["commit"]) == 40 and src["commit"] in src["url"]


def test_table_columns_name_both_acc2_conventions_and_match_the_metrics():
    import numpy as np

    from mro_core.metrics import REGRESSION_TABLE_HEADERS, REGRESSION_TABLE_METRICS, regression_metrics

    got = regression_metrics(np.array([0.5, -0.2, 0.0, 1.0]), np.array([1.0, 0.0, -1.0, 2.0]))
    assert set(REGRESSION_TABLE_METRICS) <= set(got)
    heads = [REGRESSION_TABLE_HEADERS[k] for k in REGRESSION_TABLE_METRICS]
    assert "Acc-2 (has-0)" in heads and "Acc-2 (non-0)" in heads and "F1 (has-0)" in heads and "F1 (non-0)" in heads
    # non-0 drops t == 0 (sample 1: p = -0.2) and then p = 0 vs t = -1 agree (both not > 0): 3/3;
    # has-0 keeps sample 1 (p < 0 but t >= 0: wrong) and p = 0 >= 0 vs t = -1: wrong -> 2/4
    assert got["acc2"] == pytest.approx(1.0) and got["acc2_has0"] == pytest.approx(2 / 4)
    assert set(reference_points("mosei")[0]["metrics"]) >= set(REGRESSION_TABLE_METRICS)
