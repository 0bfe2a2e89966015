"""How well each k = 3 study supernet ranks the 63 masks, against the stand-alone ground truth.

Reads the ground truth (every mask trained alone, ``mro quality --all-masks``) and the search
checkpoints of the k = 3 study (``k3-<method>-s<seed>.pt``; no training), ranks the masks by what
each checkpoint offers (its shared-weight validation metric, its prior's sum of p, MFLOPs) with
:func:`mro_core.measure.ground_truth.ranking_report` (Kendall tau and NDCG@5 against the
stand-alone validation metric, averaged over the ground truth's seeds), and writes per method the
mean [min, max] over the study's seeds, plus the shipped demo checkpoint, as ``OUT.md`` and
``OUT.json``. A step of ``mro results`` (``ground-truth-rankings``). Usage::

    python scripts/ground_truth_rankings.py results/ground_truth_k3.csv runs/study results/ground_truth_k3_rankings
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

from mro_core.cli.study_cmds import checkpoint_rankers
from mro_core.measure.ground_truth import mean_by_mask, ranking_report
from mro_core.metrics import primary_metric
from mro_core.provenance import STAMP, UNKNOWN
from mro_core.rowlog import read_rows
from mro_core.training.checkpoint import load_checkpoint

LABELS = {"full": "Full MRO", "paper": "Full MRO, paper-literal", "no_prior_guidance": "w/o Prior Guidance",
          "no_mrg_prior": "w/o MRG Prior", "no_rank_reg": "w/o Rank Regularization",
          "uniform": "Uniform one-shot (prior unused)"}
"""Study methods in table order."""
DEMO = Path("checkpoints/demo.pt")
NAME = re.compile(r"k3-(?P<method>[a-z_]+)-s(?P<seed>\d+)\.pt$")
RANKERS = ("supernet (shared weights)", "prior (sum of p)", "MFLOPs (more = better)")


def _fmt(values: list[float]) -> str:
    return f"{np.mean(values):.3f} [{min(values):.3f}, {max(values):.3f}]" if len(values) > 1 else f"{values[0]:.3f}"


def main(truth_csv: str, study_dir: str, out: str) -> int:
    found = [(m, p) for p in sorted(Path(study_dir).glob("k3-*-s*.pt")) if (m := NAME.search(p.name))]
    if not Path(truth_csv).is_file() or not found:
        print(f"ground_truth_rankings: needs {truth_csv} and the k = 3 study's checkpoints (k3-<method>-s<seed>.pt) "
              f"in {study_dir}; run `mro results --force --steps study-k3,ground-truth-rankings` to make them",
              file=sys.stderr)
        return 2
    rows = read_rows(Path(truth_csv), lambda r: (str(r["mask"]), int(r["seed"])))
    ckpts = {str(p): load_checkpoint(p) for _, p in found}
    first = next(iter(ckpts.values()))
    metric, hib = primary_metric(first.model_config.task)
    truth = mean_by_mask(rows, f"valid_{metric}")
    masks = sorted(truth)
    reports, by_method, versions = {}, {}, set()
    for m, p in found:
        ck = ckpts[str(p)]
        versions.add(ck.code_version or UNKNOWN)
        rep = ranking_report(truth, checkpoint_rankers(ck, masks, metric, hib), higher_is_better=hib)
        reports[p.name] = rep
        by_method.setdefault(m["method"], []).append(rep)
    demo, demo_version = None, UNKNOWN
    if DEMO.is_file():
        dk = load_checkpoint(DEMO)
        demo_version = dk.code_version or UNKNOWN
        demo = ranking_report(truth, checkpoint_rankers(dk, masks, metric, hib), higher_is_better=hib)
        reports[str(DEMO)] = demo
    seeds = sorted({int(m["seed"]) for m, _ in found})
    version = versions.pop() if len(versions) == 1 else UNKNOWN
    made = f"`python scripts/ground_truth_rankings.py {truth_csv} {study_dir} {out}`"
    md = [f"# Rankings of the {len(masks)} masks against stand-alone training (k = 3, default benchmark)", "",
          f"Ground truth: `{truth_csv}` ({len(rows)} stand-alone rows, validation {metric.upper()} averaged over "
          "seeds). Kendall tau and NDCG@5 against it; mean [min, max] over the study's "
          f"{len(seeds)} seeds (`mro results --steps study-k3`).", "",
          "| Supernet from | Shared-weight tau | NDCG@5 | Prior tau (sum of p) | Prior NDCG@5 | MFLOPs tau |",
          "|---|---|---|---|---|---|"]

    def line(label: str, reps: list[dict]) -> str:
        cell = lambda r, k: _fmt([x[r][k] for x in reps]) if all(r in x for x in reps) else "-"  # noqa: E731
        nd = lambda r: f"{np.mean([x[r]['ndcg@5'] for x in reps]):.3f}" if all(r in x for x in reps) else "-"  # noqa: E731
        return (f"| {label} | {cell(RANKERS[0], 'kendall_tau')} | {nd(RANKERS[0])} | {cell(RANKERS[1], 'kendall_tau')} "
                f"| {nd(RANKERS[1])} | {cell(RANKERS[2], 'kendall_tau')} |")

    md += [line(LABELS.get(m, m), by_method[m]) for m in LABELS if m in by_method]
    md += [line(m, reps) for m, reps in by_method.items() if m not in LABELS]
    if demo is not None:
        md.append(line(f"shipped {DEMO} (version {demo_version})", [demo]))
    md += ["", f"Made with {STAMP} {version} (the study's checkpoints); made by {made}."]
    Path(out + ".md").write_text("\n".join(md) + "\n")
    Path(out + ".json").write_text(json.dumps({"csv": truth_csv, "rows": len(rows), "code_version": version,
                                               "rankings": reports}, indent=1, sort_keys=True) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print("usage: python scripts/ground_truth_rankings.py TRUTH.csv STUDY_DIR OUT_PREFIX", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(main(*sys.argv[1:4]))
