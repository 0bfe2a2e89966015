"""The mfeat study's picks fine-tuned alone, read back from the study's checkpoints (no training).

`mro study` rows written before the ``finetuned_*`` columns existed report the pick's
shared-weight test figure only; each search checkpoint keeps its fine-tuning result in
``extra["result"]["finetune"]``. This reads them and writes per-method means with 95% bootstrap
intervals (test accuracy and macro-F1 of the fine-tuned pick), paired differences vs Full MRO, and
the paths kept per view. Usage::

    PYTHONPATH=. python scripts/mfeat_finetuned.py runs/study_mfeat results/study_mfeat_finetuned.md
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from mro_core.data.mfeat import VIEWS
from mro_core.experiments.study import mean_ci
from mro_core.paths import PathSpace
from mro_core.provenance import STAMP, UNKNOWN
from mro_core.training.checkpoint import load_checkpoint

METHODS = ("full", "paper", "uniform", "random_search", "no_mrg_prior")


def main(workdir: str, out: str) -> int:
    if not sorted(Path(workdir).glob("mfeat-*-s*.pt")):
        print(f"mfeat_finetuned: no study checkpoints (mfeat-<method>-s<seed>.pt) in {workdir}; run "
              "`mro results --force --steps study-mfeat,mfeat-finetuned` to make them", file=sys.stderr)
        return 2
    rows, versions = [], set()
    for m in METHODS:
        for seed in range(100):
            p = Path(workdir) / f"mfeat-{m}-s{seed}.pt"
            if not p.exists():
                break
            ck = load_checkpoint(p)
            versions.add(ck.code_version or UNKNOWN)
            res = ck.extra["result"]
            ft = res["finetune"]
            chosen = res["picks"][ft.get("pick", "best")]  # the fine-tuned pick (parsimonious today)
            p_last = (ck.history[-1].get("p") if ck.history else None) or []
            rows.append({"method": m, "seed": seed, "mask": ft["mask"], "paths": ft["mask"].count("1"),
                         "pick": ft.get("pick", "best"), "p": p_last,
                         "mflops": float(chosen["mflops"]) if ft["mask"] == chosen["mask"] else float("nan"),
                         "shared_acc": float(ft["shared_test"]["acc"]), "acc": float(ft["finetuned_test"]["acc"]),
                         "f1": float(ft["finetuned_test"]["f1"]), "valid_acc": float(ft["finetuned_valid"]["acc"])})
    f = lambda t: f"{t[0]:.4f} [{t[1]:.4f}, {t[2]:.4f}]"  # noqa: E731
    picks = sorted({r["pick"] for r in rows})
    md = [f"# mfeat study: the fine-tuned pick ({', '.join(picks)}) trained alone, on test", "",
          "Read from the checkpoints of `mro results --steps study-mfeat` by "
          f"`python scripts/mfeat_finetuned.py {workdir} {out}`.", "",
          "| Method | Seeds | Acc fine-tuned | Macro-F1 fine-tuned | Acc shared weights | Paths | MFLOPs |",
          "|---|---|---|---|---|---|---|"]
    full = {r["seed"]: r["acc"] for r in rows if r["method"] == "full"}
    for m in METHODS:
        rs = [r for r in rows if r["method"] == m]
        if rs:
            md.append(f"| {m} | {len(rs)} | {f(mean_ci([r['acc'] for r in rs]))} | {f(mean_ci([r['f1'] for r in rs]))} | "
                      f"{f(mean_ci([r['shared_acc'] for r in rs]))} | {np.mean([r['paths'] for r in rs]):.1f} | "
                      f"{f(mean_ci([r['mflops'] for r in rs]))} |")
    md += ["", "Paired over seeds, fine-tuned test accuracy, Full MRO minus method:", "",
           "| Method | Pairs | Mean difference [95% CI] |", "|---|---|---|"]
    for m in METHODS[1:]:
        d = [full[r["seed"]] - r["acc"] for r in rows if r["method"] == m and r["seed"] in full]
        if d:
            md.append(f"| {m} | {len(d)} | {f(mean_ci(d))} |")
    space = PathSpace(VIEWS)
    md += ["", "Paths kept by the fine-tuned pick, counted over all methods and seeds, per target view (into) and "
           "source view (out of), beside each view's strength alone (logistic regression on that view, "
           "test accuracy, `results/mfeat_baselines/baselines.csv`) and the prior's final p summed over "
           "the paths into the view (mean over the guided runs):", "",
           "| View | into | out of | LogReg alone | prior p into |", "|---|---|---|---|---|"]
    into, outof = Counter(), Counter()
    for r in rows:
        for bit, name in zip(r["mask"], space.path_names):
            if bit == "1":
                s, t = name.split("->")
                into[t] += 1
                outof[s] += 1
    alone = _single_view_accuracy(Path(out).parent / "mfeat_baselines" / "baselines.csv")
    guided = [r["p"] for r in rows if r["p"] and r["method"] in ("full", "paper", "no_mrg_prior")]
    p_into = {v: float(np.mean([sum(p for p, n in zip(ps, space.path_names) if n.endswith("->" + v))
                                for ps in guided])) if guided else float("nan") for v in VIEWS}
    md += [f"| {v} | {into[v]} | {outof[v]} | {alone.get(v, float('nan')):.4f} | {p_into[v]:.2f} |" for v in VIEWS]
    if alone:
        from scipy.stats import spearmanr

        strength = [alone[v] for v in VIEWS]
        md += ["", "Spearman rank correlation with a view's strength alone (6 views): paths kept out of the view "
               f"{spearmanr([outof[v] for v in VIEWS], strength)[0]:+.2f}, into it "
               f"{spearmanr([into[v] for v in VIEWS], strength)[0]:+.2f}; prior p into it "
               f"{spearmanr([p_into[v] for v in VIEWS], strength)[0]:+.2f}."]
    md += ["", "Per run:", "", "| Method | Seed | Mask | Paths | Acc fine-tuned | Acc shared |", "|---|---|---|---|---|---|"]
    md += [f"| {r['method']} | {r['seed']} | `{r['mask']}` | {r['paths']} | {r['acc']:.4f} | {r['shared_acc']:.4f} |"
           for r in rows]
    # the figures are the checkpoints' own: stamp their search code version, not this script's
    made = f"`python scripts/mfeat_finetuned.py {workdir} {out}`"
    md += ["", f"Made with {STAMP} {versions.pop() if len(versions) == 1 else UNKNOWN} (the study's checkpoints); "
               f"made by {made}."]
    Path(out).write_text("\n".join(md) + "\n")
    print("\n".join(md[:20]))
    return 0


def _single_view_accuracy(path: Path) -> dict[str, float]:
    """``{view: test accuracy}`` of the per-view logistic regressions (empty when the file is absent)."""
    import csv

    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {r["model"].split()[-1]: float(r["acc"]) for r in csv.DictReader(f)
                if r["model"].startswith("LogReg ") and r["model"].split()[-1] in VIEWS}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: python scripts/mfeat_finetuned.py WORKDIR OUT.md", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(main(*sys.argv[1:3]))
