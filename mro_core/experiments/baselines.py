"""Baselines a reviewer expects beside a search on a classification dataset (issue 18, item 2).

Per seed, every model is trained alone on train, chosen on nothing (fixed settings) and scored on
TEST: logistic regression (scikit-learn, L-BFGS, ``C = 1``, up to 2000 iterations) on each view
alone and on all views concatenated, taking each modality's token sequence flattened to one
vector; Concat+MLP and EmbraceNet (``mro_core.model.baselines``) and the full pairwise CMT (every
path on, trained alone), each with the given preset's settings. Accuracy and macro-F1 on test;
MFLOPs per sample in fvcore's convention (one multiply-add = one FLOP): ``D * C`` for a logistic
regression on ``D`` features and ``C`` classes (its matrix product; the bias and softmax are not
counted, as fvcore counts no additions), the neural models as in Table 5. Across seeds each
figure is a mean with a percentile-bootstrap 95% interval (:func:`mro_core.experiments.study.mean_ci`).
L-BFGS logistic regression is deterministic, so its interval is a point: the seed only moves the
neural models.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mro_core.config import ModelConfig, SearchConfig, TrainConfig
from mro_core.data.base import MultimodalDataset
from mro_core.experiments.study import mean_ci
from mro_core.experiments.tables import table5_rows
from mro_core.provenance import stamp_line

log = logging.getLogger(__name__)

NEURAL = ("Concat+MLP", "EmbraceNet", "Pairwise CMT")
COLUMNS = ("acc", "f1", "mflops")


def _flat(ds: MultimodalDataset, split: str, mods: Sequence[str]) -> np.ndarray:
    sp = ds.splits[split]
    return np.concatenate([sp.features[m].reshape(len(sp), -1) for m in mods], axis=1)  # (N, sum L*D)


def logistic_rows(ds: MultimodalDataset) -> list[dict[str, Any]]:
    """Test accuracy / macro-F1 / MFLOPs of logistic regression on each view and on all views."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    if ds.task != "classification":
        raise ValueError(f"logistic-regression baselines need a classification dataset (got {ds.task!r})")
    rows = []
    for name, mods in [(f"LogReg {m}", (m,)) for m in ds.modalities] + [("LogReg all views", tuple(ds.modalities))]:
        xtr, xte = _flat(ds, "train", mods), _flat(ds, "test", mods)
        clf = LogisticRegression(C=1.0, max_iter=2000).fit(xtr, ds.splits["train"].labels)
        pred = clf.predict(xte)
        y = ds.splits["test"].labels
        rows.append({"model": name, "acc": float(accuracy_score(y, pred)),
                     "f1": float(f1_score(y, pred, average="macro")),
                     "mflops": xtr.shape[1] * int(ds.num_classes or 0) / 1e6})
    return rows


def baseline_rows(ds: MultimodalDataset, model_cfg: ModelConfig, train_cfg: TrainConfig, search_cfg: SearchConfig,
                  *, seed: int, workdir: Path) -> list[dict[str, Any]]:
    """One seed: the logistic regressions and the three neural models trained alone (test)."""
    rows = logistic_rows(ds)
    for r in table5_rows(ds, model_cfg, train_cfg, search_cfg, seed=seed, workdir=workdir, only=NEURAL):
        rows.append({"model": r["model"], "acc": float(r["acc"]), "f1": float(r["f1"]), "mflops": float(r["mflops"])})
    for r in rows:
        r["seed"] = seed
    return rows


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per model: seeds, and mean with 95% interval of each column."""
    out = []
    for name in dict.fromkeys(r["model"] for r in rows):
        rs = [r for r in rows if r["model"] == name]
        d: dict[str, Any] = {"model": name, "seeds": len(rs)}
        for c in COLUMNS:
            d[c], d[f"{c}_lo"], d[f"{c}_hi"] = mean_ci([r[c] for r in rs])
        out.append(d)
    return out


def render(summary: Sequence[dict[str, Any]], *, title: str, command: str) -> tuple[str, str]:
    """Markdown (with the command and code version) and CSV of :func:`summarize`'s rows."""
    md = [f"# {title}", "", f"Command: `{command}`", "", stamp_line(command or None), "",
          "Test split; mean [95% bootstrap interval] over seeds; MFLOPs per sample (1 multiply-add = 1 FLOP).", "",
          "| Model | Seeds | Acc | Macro-F1 | MFLOPs |", "|---|---|---|---|---|"]
    for d in summary:
        cell = lambda c, nd: f"{d[c]:.{nd}f} [{d[c + '_lo']:.{nd}f}, {d[c + '_hi']:.{nd}f}]"  # noqa: E731
        md.append(f"| {d['model']} | {d['seeds']} | {cell('acc', 4)} | {cell('f1', 4)} | {d['mflops']:.4f} |")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(summary[0]) if summary else ["model"])
    w.writeheader()
    w.writerows(summary)
    return "\n".join(md) + "\n", buf.getvalue()


def run_baselines(ds: MultimodalDataset, model_cfg: ModelConfig, train_cfg: TrainConfig, search_cfg: SearchConfig,
                  *, seeds: int, out: str | Path, workdir: str | Path = "runs/baselines",
                  command: str = "") -> dict[str, str]:
    """All baselines over seeds ``0..seeds-1``; writes ``OUT.md``, ``OUT.csv`` and the per-seed
    rows ``OUT_seeds.csv`` (the CMT's checkpoints go to ``workdir``); returns the paths."""
    from mro_core.atomic import atomic_write_text

    out = Path(out)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for seed in range(seeds):
        log.info("baselines on %s, seed %d", ds.name, seed)
        rows += baseline_rows(ds, model_cfg, train_cfg, search_cfg, seed=seed, workdir=workdir)
    md, table = render(summarize(rows), title=f"Baselines on {ds.name}", command=command)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["seed", "model", *COLUMNS])
    w.writeheader()
    w.writerows([{k: r[k] for k in ("seed", "model", *COLUMNS)} for r in rows])
    paths = {"md": out.with_suffix(".md"), "csv": out.with_suffix(".csv"), "seeds": out.with_name(out.name + "_seeds.csv")}
    for key, text in (("md", md), ("csv", table), ("seeds", buf.getvalue())):
        atomic_write_text(paths[key], text)
    return {k: str(p) for k, p in paths.items()}
