"""Summarise results/inclusion/*.json (made by run.sh): per topology and inclusion, the picks'
VALIDATION MAE and their recovery of the planted set; paired valid-MAE differences sigmoid - relative.
Usage: PYTHONPATH=. python results/inclusion/summarise.py results/inclusion > results/inclusion/summary.md"""
import json
import sys
from pathlib import Path

from mro_core.config import BENCHMARKS
from mro_core.experiments.pick_scores import SCORED_PICKS, fmt_ci, mean_ci, rate_ci, score_picks
from mro_core.paths import PathSpace

HUB = (("ecg", "img", "eeg", "aud", "txt"), ("ecg->img", "ecg->eeg", "ecg->aud", "img->txt"))
TOPO = {"hub": HUB, "ring5": (BENCHMARKS["ring5"].modalities, BENCHMARKS["ring5"].planted),
        "default": (BENCHMARKS["default"].modalities, BENCHMARKS["default"].planted)}
folder = Path(sys.argv[1] if len(sys.argv) > 1 else "results/inclusion")
cells = {}
for f in sorted(folder.glob("*.json")):
    topo, inc, seed = f.stem.split("-")
    mods, planted = TOPO[topo]
    names = PathSpace(tuple(mods)).path_names
    cells[(topo, inc, seed)] = score_picks(json.loads(f.read_text())["picks"], planted, names, "mae")
print("| topology | inclusion | pick | valid MAE | test MAE | exact | Jaccard | paths |")
print("|---|---|---|---|---|---|---|---|")
for topo in TOPO:
    for inc in ("relative", "sigmoid"):
        rows = [v for (t, i, _), v in cells.items() if t == topo and i == inc]
        for pick in SCORED_PICKS:
            r = [x[pick] for x in rows if pick in x]
            if not r:
                continue
            print(f"| {topo} | {inc} | {pick} | {fmt_ci(mean_ci([x['valid'] for x in r]))} | "
                  f"{fmt_ci(mean_ci([x['test'] for x in r]))} | {fmt_ci(rate_ci([x['exact'] for x in r]))} | "
                  f"{fmt_ci(mean_ci([x['jaccard'] for x in r]), 2)} | {', '.join(str(x['paths']) for x in r)} |")
print()
print("Paired valid-MAE difference sigmoid - relative (negative = sigmoid better), over (topology, seed):")
for pick in SCORED_PICKS:
    d = [cells[(t, "sigmoid", s)][pick]["valid"] - cells[(t, "relative", s)][pick]["valid"]
         for (t, i, s) in cells if i == "relative" and (t, "sigmoid", s) in cells and pick in cells[(t, i, s)]]
    print(f"- {pick}: {fmt_ci(mean_ci(d), 4)}")
    for topo in TOPO:
        dt = [cells[(t, "sigmoid", s)][pick]["valid"] - cells[(t, "relative", s)][pick]["valid"]
              for (t, i, s) in cells if t == topo and i == "relative" and (t, "sigmoid", s) in cells]
        print(f"  - {topo}: {', '.join(f'{x:+.4f}' for x in dt)}")
