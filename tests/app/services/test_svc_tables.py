"""app.services.tables: the paper's Table 5 / Table 4 rows and curves from run results."""

from __future__ import annotations

from types import SimpleNamespace

from app.services import tables


def _rec(rid, rank_loss, ablation, picks, baselines=None, task="regression"):
    return SimpleNamespace(id=rid, name=f"run-{rid}", config={"rank_loss": rank_loss, "ablation": ablation, "task": task},
                           result={"picks": picks, "baselines": baselines or []}, checkpoint=None)


def test_tables_from_results():
    pick = {"mask": "011011", "mflops": 1.75, "mae": 0.2, "corr": 0.9, "acc7": 0.7, "acc2": 0.9, "f1": 0.88}
    a = _rec("a", "l1", "none", {"best": pick}, [{"name": "Concat+MLP", "mflops": 0.5, "metrics": {"mae": 0.8}}])
    b = _rec("b", "linf", "no_mrg_prior", {"knee": pick})
    t5 = tables.table5_rows([a, b], "best")
    assert t5[0]["Model"] == "Concat+MLP" and t5[0]["MAE"] == 0.8 and t5[0]["Subnet Mask"] == "\u2014"
    assert t5[1]["Subnet Mask"] == "011011" and t5[1]["MFLOPs"] == 1.75 and t5[1]["Model"].startswith("MRO")
    assert t5[2]["Subnet Mask"] == "" and t5[2]["MAE"] is None  # run b has no "best" pick
    events = {"a": [{"epoch": 1, "payload": {"spearman": 0.1}}, {"epoch": 2, "payload": {"spearman": 0.4}}]}
    t4 = tables.table4_rows([a, b], events, "best")
    assert t4[0]["Loss Function"] == "L1" and t4[0]["Rank Corr (\u03c1)"] == 0.4 and t4[0]["Acc-7"] == 0.7
    assert t4[1]["Loss Function"] == "L\u221e" and t4[1]["Rank Corr (\u03c1)"] is None
    curves = tables.epoch_curves("a", [{"epoch": 1, "payload": {"train_loss": 1.0, "valid_loss": 0.9, "spearman": 0.1}}])
    assert {c["series"] for c in curves} == {"train_loss", "valid_loss", "spearman"}
    cls = _rec("c", "l2", "none", {"best": {"mask": "1", "acc": 0.6, "f1": 0.5}}, task="classification")
    row = tables.table5_rows([cls], "best")[0]
    assert row["Acc-7"] == 0.6 and row["MAE"] is None
    assert tables.percent_cells([{"F1": 0.5, "MAE": 0.2}], ["F1"]) == [{"F1": 50.0, "MAE": 0.2}]


def test_table4_shows_no_rank_loss_for_methods_without_rank_regularization():
    pick = {"mask": "011011", "acc7": 0.7, "acc2": 0.9, "f1": 0.88}
    runs = [_rec(a, "l2", a, {"best": pick}) for a in
            ("none", "no_prior_guidance", "no_mrg_prior", "no_rank_reg", "uniform", "random_search")]
    loss = {r["Run"].split(" ")[0]: r["Loss Function"] for r in tables.table4_rows(runs, {}, "best")}
    # the config of every run holds rank_loss "l2"; only the methods that train their prior with it say so
    assert loss == {"run-none": "L2", "run-no_prior_guidance": "L2", "run-no_mrg_prior": "L2",
                    "run-no_rank_reg": "\u2014", "run-uniform": "\u2014", "run-random_search": "\u2014"}
    assert tables.rank_loss_label({"rank_loss": "linf"}) == "L\u221e"  # no ablation recorded: full MRO
