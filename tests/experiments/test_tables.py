import json

import pytest

from mro_core.cli import main
from mro_core.experiments.tables import aggregate, render

TINY = ["--n-train", "64", "--n-valid", "32", "--n-test", "32", "--epochs", "1", "--warmup", "0",
        "--d-model", "16", "--device", "cpu"]


def test_aggregate_mean_std_and_mask_votes():
    a = [{"model": "X", "mask": "011011", "mae": 0.2, "mflops": 1.0}]
    b = [{"model": "X", "mask": "011011", "mae": 0.4, "mflops": 1.0}]
    c = [{"model": "X", "mask": "111111", "mae": 0.3, "mflops": 2.0}]
    (row,) = aggregate([a, b, c], "model")
    assert row["mae"] == pytest.approx(0.3) and row["mae_std"] == pytest.approx(0.1)
    assert row["mask"] == "011011 x2 / 111111 x1" and row["seeds"] == 3
    md, csv_text = render([row], "model", "Model", "regression", with_rho=False)
    assert "| X | 011011 x2 / 111111 x1 |  | 0.300 ± 0.100 |" in md
    assert csv_text.splitlines()[0].startswith("model,mask,split,mae")


@pytest.mark.slow
def test_table4_cli_rows_in_the_papers_order(tmp_path, capsys):
    assert main(["table", "--suite", "table4", *TINY, "--workspace", str(tmp_path), "--out",
                 str(tmp_path / "t4"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["loss_function"] for r in doc["rows"]] == ["L0", "L1", "L_inf", "L2"]
    assert all(len(r["mask"]) == 6 and -1 <= r["rho"] <= 1 for r in doc["rows"])
    assert (tmp_path / "t4.md").read_text().startswith("| Loss Function | Attention Mask |")


@pytest.mark.slow
def test_table5_cli_has_every_model(tmp_path, capsys):
    assert main(["table", "--suite", "table5", *TINY, "--workspace", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in doc["rows"]] == [
        "Concat+MLP", "EmbraceNet", "Pairwise CMT", "MRO w/o Prior Guidance", "MRO w/o MRG Prior",
        "MRO w/o Rank Regularization", "Full MRO"]
    cmt = doc["rows"][2]
    assert cmt["mask"] == "111111" and all(r["mflops"] < cmt["mflops"] for r in doc["rows"][:2])


def test_regression_tables_show_acc2_and_f1_in_both_conventions():
    from mro_core.experiments.tables import render

    row = {"model": "x", "mask": "011011", "mae": 0.5, "corr": 0.6, "acc7": 0.3, "acc2_has0": 0.71,
           "f1_has0": 0.70, "acc2": 0.74, "f1": 0.73, "mflops": 1.75}
    md, csv_text = render([row], "model", "Model", "regression", with_rho=False)
    head = md.splitlines()[0]
    assert "Acc-2 (has-0)" in head and "Acc-2 (non-0)" in head and "F1 (has-0)" in head and "F1 (non-0)" in head
    assert "71.00" in md and "74.00" in md
    assert csv_text.splitlines()[0].split(",")[3:10] == ["mae", "corr", "acc7", "acc2_has0", "f1_has0", "acc2", "f1"]


def test_every_row_says_what_it_reports_and_the_table_its_search_code():
    """The split label rides through aggregation; the CSV names the code version per row."""
    from mro_core.experiments.tables import SHARED, TRAINED_ALONE, finetuned_label
    from mro_core.provenance import code_version

    rows = aggregate([[{"model": "CMT", "mask": "111111", "split": TRAINED_ALONE, "mae": 0.1, "mflops": 2.0},
                       {"model": "MRO", "mask": "011011", "split": finetuned_label(10), "mae": 0.1, "mflops": 1.0}],
                      [{"model": "CMT", "mask": "111111", "split": TRAINED_ALONE, "mae": 0.2, "mflops": 2.0},
                       {"model": "MRO", "mask": "011011", "split": SHARED, "mae": 0.3, "mflops": 1.0}]], "model")
    md, csv_text = render(rows, "model", "Model", "regression", with_rho=False)
    assert "| Reported on |" in md.splitlines()[0]
    assert "| CMT | 111111 | test, trained alone |" in md
    assert "test, fine-tuned alone 10 ep. / test, shared weights" in md  # seeds that disagree are both named
    assert all(line.endswith(code_version()) for line in csv_text.splitlines()[1:])
