"""The topology sweep (issue 18, item 6): do the search's picks find planted routings they were not
tuned on?

For each k and each of T topologies (shapes drawn in turn from
:data:`~mro_core.experiments.planted_variants.KINDS`: hubs, sinks, idle modalities, any subset; each
with its own slots, dims, lengths, noise, label scale and path weights), one ``.npz`` is written by
the independent generator and one study (:mod:`mro_core.experiments.study`) runs the methods x
seeds on it at equal compute (the same epochs and masks per step). Every (topology, method, seed)
is a cell; studies resume, so a killed sweep loses at most one epoch per worker.

The report, per method and pick (``best``, ``parsimonious``, the prior's top mask):

* exact-hit rate of the planted mask with a Wilson 95% interval;
* Jaccard similarity with the planted set, |pick & planted| / |pick | planted|, mean with a
  bootstrap 95% interval over cells;
* the pick's test MAE (shared weights; fine-tuned alone where the sweep fine-tunes);
* paired differences Full MRO - method over common cells (Jaccard and test MAE of the
  parsimonious pick), mean with a bootstrap interval and a Wilcoxon p.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from mro_core.experiments import study as S
from mro_core.experiments.planted_variants import KINDS, Variant, draw_variant, write_variant

log = logging.getLogger(__name__)

PICKS = {"parsimonious": "pars_pick", "best": "pick", "prior": "prior_mode"}
"""Pick name: its column in a study's runs CSV."""
TESTS = {"parsimonious": "pars_test_mae", "best": "test_mae"}


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: ``topologies`` per k in ``ks``, each a study of ``methods`` x ``seeds``.

    ``model``, ``train`` and ``search`` hold the settings every cell shares (``model`` without the
    data-dependent fields, which each variant fills in); ``sweep_seed`` draws the variants.
    """

    name: str
    ks: tuple[int, ...]
    topologies: int
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    sweep_seed: int = 0
    n_train: int = 1500
    extra: dict = field(default_factory=dict)

    def variants(self) -> list[tuple[str, Variant]]:
        """(cell name, variant) for every topology, in order; deterministic in ``sweep_seed``."""
        out = []
        for k in self.ks:
            for i in range(self.topologies):
                seed = self.sweep_seed * 100_000 + k * 1_000 + i
                out.append((f"k{k}-t{i}", draw_variant(k, KINDS[i % len(KINDS)], seed, n_train=self.n_train)))
        return out


def jaccard(a: str, b: str) -> float:
    """|a & b| / |a | b| of two bit strings (1.0 when both are empty)."""
    x, y = np.array([c == "1" for c in a]), np.array([c == "1" for c in b])
    union = int((x | y).sum())
    return 1.0 if union == 0 else int((x & y).sum()) / union


def write_data(spec: SweepSpec, data_dir: Path) -> list[dict]:
    """Write every variant's ``.npz`` (kept when already there) and return the topology table."""
    data_dir.mkdir(parents=True, exist_ok=True)
    table = []
    for cell, v in spec.variants():
        f = data_dir / f"{cell}.npz"
        if not f.is_file():
            write_variant(v, f)
        table.append({"topology": cell, "file": str(f), **v.to_dict()})
    (data_dir / "topologies.json").write_text(json.dumps(table, indent=1) + "\n")
    return table


def cells(rows_by_topology: Mapping[str, Sequence[Mapping]], table: Sequence[Mapping]) -> list[dict]:
    """Every (topology, method, seed) row with the planted mask, k, kind and each pick's Jaccard."""
    from mro_core.paths import PathSpace

    out = []
    for t in table:
        space = PathSpace(tuple(t["modalities"]))
        planted = PathSpace.to_bits(space.parse(list(t["planted"])))
        for r in rows_by_topology.get(t["topology"], []):
            c = {"topology": t["topology"], "k": len(t["modalities"]), "kind": t["kind"], "planted": planted,
                 "planted_paths": len(t["planted"]), **dict(r)}
            for pick, col in PICKS.items():
                mask = str(r.get(col) or "")
                c[f"{pick}_exact"] = int(mask == planted) if mask else ""
                c[f"{pick}_jaccard"] = jaccard(mask, planted) if mask else ""
            out.append(c)
    return out


def summarize(cs: Sequence[Mapping], methods: Sequence[str]) -> dict[str, Any]:
    """Per method x pick: exact-hit rate (Wilson), Jaccard and test MAE (bootstrap); paired Full - X."""
    per = []
    for m in methods:
        rs = [c for c in cs if c["method"] == m]
        for pick in PICKS:
            hits = [int(c[f"{pick}_exact"]) for c in rs if c[f"{pick}_exact"] != ""]
            if not hits:
                continue
            jac = [float(c[f"{pick}_jaccard"]) for c in rs if c[f"{pick}_jaccard"] != ""]
            row = {"method": m, "label": S.METHODS[m][0], "pick": pick, "n": len(hits),
                   "exact": sum(hits) / len(hits), "exact_ci": S.wilson(sum(hits), len(hits)),
                   "jaccard": S.mean_ci(jac)}
            if pick in TESTS:
                row["test_mae"] = S.mean_ci([float(c[TESTS[pick]]) for c in rs if c.get(TESTS[pick]) not in ("", None)])
            if pick == "parsimonious":
                tuned = [float(c["finetuned_test_mae"]) for c in rs if c.get("finetuned_test_mae") not in ("", None)
                         and c.get("finetuned_pick") == c.get("pars_pick")]
                if tuned and len(tuned) == len(rs):
                    row["finetuned_test_mae"] = S.mean_ci(tuned)
                row["paths"] = float(np.mean([str(c["pars_pick"]).count("1") for c in rs]))
            per.append(row)
    paired = []
    full = {(c["topology"], int(c["seed"])): c for c in cs if c["method"] == "full"}
    for m in methods:
        if m == "full":
            continue
        other = {(c["topology"], int(c["seed"])): c for c in cs if c["method"] == m}
        common = sorted(set(full) & set(other))
        for what, key, better in (("Jaccard of the parsimonious pick", "parsimonious_jaccard", "higher"),
                                  ("test MAE of the parsimonious pick", "pars_test_mae", "lower")):
            d = [float(full[c][key]) - float(other[c][key]) for c in common
                 if full[c].get(key) not in ("", None) and other[c].get(key) not in ("", None)]
            if d:
                paired.append({"method": m, "what": what, "better": better, "n": len(d),
                               "diff": S.mean_ci(d), "wilcoxon_p": S.wilcoxon_p(d)})
    kinds = []
    for kind in KINDS:
        rs = [c for c in cs if c["method"] == "full" and c["kind"] == kind and c["parsimonious_exact"] != ""]
        if rs:
            h = sum(int(c["parsimonious_exact"]) for c in rs)
            kinds.append({"kind": kind, "n": len(rs), "exact": h / len(rs), "exact_ci": S.wilson(h, len(rs)),
                          "jaccard": S.mean_ci([float(c["parsimonious_jaccard"]) for c in rs])})
    return {"per_pick": per, "paired": paired, "kinds": kinds}


def _ci(t: Sequence[float], nd: int = 3) -> str:
    return f"{t[0]:.{nd}f} [{t[1]:.{nd}f}, {t[2]:.{nd}f}]"


def render_markdown(summary: Mapping[str, Any], table: Sequence[Mapping], command: str, settings: str) -> str:
    """The sweep's report: topologies, per-pick figures, paired differences, per-shape exact rates."""
    lines = [f"Made by: `{command}`", "", settings, "", "## Topologies", "",
             "| cell | shape | planted paths (weight) | K | dims | lengths | noise | scale |", "|---|---|---|---|---|---|---|---|"]
    for t in table:
        paths = ", ".join(f"{p} ({w:g})" for p, w in zip(t["planted"], t["weights"]))
        lines.append(f"| {t['topology']} | {t['kind']} | {paths} | {t['slots']} | {t['dims']} | {t['lengths']} "
                     f"| {t['noise']:g} | {t['scale']:g} |")
    lines += ["", "## Picks against the planted set", "",
              "| method | pick | cells | exact (Wilson 95%) | Jaccard (95% CI) | test MAE (95% CI) | fine-tuned test MAE |",
              "|---|---|---|---|---|---|---|"]
    for r in summary["per_pick"]:
        lo, hi = r["exact_ci"]
        mae = _ci(r["test_mae"]) if "test_mae" in r else "n/a"
        ft = _ci(r["finetuned_test_mae"]) if "finetuned_test_mae" in r else "-"
        lines.append(f"| {r['label']} | {r['pick']} | {r['n']} | {r['exact']:.2f} [{lo:.2f}, {hi:.2f}] "
                     f"| {_ci(r['jaccard'], 2)} | {mae} | {ft} |")
    lines += ["", "## Full MRO minus each method, paired over (topology, seed)", "",
              "| method | what | better | cells | difference (95% CI) | Wilcoxon p |", "|---|---|---|---|---|---|"]
    for p in summary["paired"]:
        pv = "n/a (all equal)" if p["wilcoxon_p"] is None else f"{p['wilcoxon_p']:.3f}"
        lines.append(f"| {S.METHODS[p['method']][0]} | {p['what']} | {p['better']} | {p['n']} | {_ci(p['diff'])} | {pv} |")
    lines += ["", "## Full MRO's parsimonious pick by topology shape", "",
              "| shape | cells | exact (Wilson 95%) | Jaccard (95% CI) |", "|---|---|---|---|"]
    for r in summary["kinds"]:
        lo, hi = r["exact_ci"]
        lines.append(f"| {r['kind']} | {r['n']} | {r['exact']:.2f} [{lo:.2f}, {hi:.2f}] | {_ci(r['jaccard'], 2)} |")
    return "\n".join(lines) + "\n"


def run_sweep(spec: SweepSpec, make_study: Callable[[str, str], "S.StudySpec"], out_dir: str | Path, *,
              workers: int = 1, submit_for: Callable[["S.StudySpec"], Any] | None = None) -> tuple[list[dict], list[dict]]:
    """Write the data, run every topology's study (resuming), and return (topology table, cells).

    Args:
        make_study: (cell name, data file) -> the cell's :class:`~mro_core.experiments.study.StudySpec`
            (the caller knows the presets and configs; this floor does not).
        out_dir: the sweep's folder: ``data/`` (the ``.npz`` files), ``study_<cell>_runs.csv``.
        submit_for: another executor per study (Ray), as :func:`~mro_core.experiments.study.run_study`.
    """
    out_dir = Path(out_dir)
    table = write_data(spec, out_dir / "data")
    rows = {}
    for t in table:
        st = make_study(t["topology"], t["file"])
        log.info("sweep %s: topology %s (%s, %d planted paths)", spec.name, t["topology"], t["kind"], len(t["planted"]))
        rows[t["topology"]] = S.run_study(st, out_dir, workers=workers,
                                          submit=submit_for(st) if submit_for else None)
    return table, cells(rows, table)


def write_report(spec: SweepSpec, table: Sequence[Mapping], cs: Sequence[Mapping], results_dir: str | Path,
                 command: str, settings: str) -> dict[str, str]:
    """``sweep_<name>.md`` (the report), ``sweep_<name>_cells.csv`` (every cell) in ``results_dir``."""
    import pandas as pd

    base = Path(results_dir) / f"sweep_{spec.name}"
    base.parent.mkdir(parents=True, exist_ok=True)
    summary = summarize(cs, spec.methods)
    from mro_core.provenance import code_version, stamp_line

    md = f"# Topology sweep `{spec.name}`\n\n" + render_markdown(summary, table, command, settings)
    base.with_suffix(".md").write_text(md + "\n" + stamp_line(command) + "\n")
    cells_csv = base.with_name(base.name + "_cells.csv")
    pd.DataFrame([{**c, "code_version": code_version()} for c in cs]).to_csv(cells_csv, index=False)
    return {"md": str(base.with_suffix(".md")), "cells": str(cells_csv)}
