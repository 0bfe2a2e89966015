"""`mro sweep`: the topology sweep of issue 18, item 6 (:mod:`mro_core.experiments.sweep`).

A thin wrapper: it turns the command line into one study per drawn topology (the same train and
search options for every cell, the data of each cell from the independent generator) and prints
the report.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from dataclasses import replace

from mro_core.cli import numbers as N
from mro_core.cli.common import UsageError, add_search_args, add_train_args, print_json, request_of
from mro_core.cli.study_cmds import add_executor_args

DEFAULT_METHODS = "full,no_mrg_prior,uniform,random_search"


def _ks(text: str) -> tuple[int, ...]:
    """``--k``: comma-separated modality counts, each 3..8."""
    try:
        ks = tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 4,5 (got {text!r})") from None
    if not ks or any(not 3 <= k <= 8 for k in ks):
        raise argparse.ArgumentTypeError(f"every k must be 3..8 (got {text!r})")
    return ks


def add_sweep_parser(sub: argparse._SubParsersAction) -> None:
    from mro_core.experiments.study import METHODS

    p = sub.add_parser("sweep", help="random planted topologies (hubs, sinks, idle modalities) x methods x seeds: "
                                     "do the picks find routings nobody tuned on?")
    add_train_args(p)
    add_search_args(p)
    g = p.add_argument_group("sweep")
    g.add_argument("--name", required=True, help="sweep name: results go to OUT_DIR/sweep_NAME.md and _cells.csv")
    g.add_argument("--k", type=_ks, default=(4,), help="modality counts, comma-separated (default 4)")
    g.add_argument("--topologies", type=N.whole(1, 1000), default=4,
                   help="topologies per k, shapes hub, sink, idle, random in turn (default 4)")
    g.add_argument("--seeds", type=N.whole(1, 1000), default=3, help="seeds 0..N-1 per topology (default 3)")
    g.add_argument("--methods", default=DEFAULT_METHODS, help=f"comma-separated, from {', '.join(METHODS)} "
                                                              f"(default {DEFAULT_METHODS})")
    g.add_argument("--sweep-seed", type=N.SEED, default=0, help="seed that draws the topologies (default 0)")
    g.add_argument("--n-train", type=N.SAMPLES, default=1500, help="training samples per topology (default 1500)")
    add_executor_args(g)
    g.add_argument("--out-dir", default="results", help="where sweep_NAME.md goes (default results/)")
    g.add_argument("--workdir", default="runs/sweep", help="data, runs CSVs and checkpoints (default runs/sweep)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(a: argparse.Namespace) -> int:
    from pathlib import Path

    from mro_core.atomic import check_output_path
    from mro_core.config import to_dict
    from mro_core.experiments.study import METHODS, StudySpec
    from mro_core.experiments.sweep import SweepSpec, run_sweep, write_report

    methods = tuple(m.strip() for m in a.methods.split(",") if m.strip())
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise UsageError(f"--methods: unknown {bad or 'empty list'}; choose from {', '.join(METHODS)}")
    spec = SweepSpec(a.name, a.k, a.topologies, methods, tuple(range(a.seeds)), a.sweep_seed, a.n_train)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}", a.name):
        raise UsageError(f"sweep name {a.name!r} must be 1-80 letters, digits, '.', '_' or '-' (it names files), "
                         "starting with a letter or digit")
    work = Path(a.workdir) / f"sweep_{a.name}"
    for out in (Path(a.out_dir) / f"sweep_{a.name}.md", work / "data" / "topologies.json"):
        check_output_path(out)  # before hours of searches, and creating nothing
    base = replace(request_of(a), dataset="npz")
    preset = base.get_preset()

    def make_study(cell: str, file: str) -> StudySpec:
        req = replace(base, data_path=file)
        ds, _ = req.load_data()
        return StudySpec(f"{a.name}-{cell}", {"name": "npz", "data_path": file},
                         to_dict(req.model_config(preset, ds)), to_dict(replace(req.train_config(preset), seed=0)),
                         to_dict(req.search_config(preset)), methods, spec.seeds, str(work / "checkpoints"))

    submit_for = None
    if a.executor == "ray":
        from mro_core.experiments.study_ray import ray_submitter

        submit_for = lambda st: ray_submitter(st, address=a.address)  # noqa: E731
    table, cs = run_sweep(spec, make_study, work, workers=a.workers, submit_for=submit_for)
    cfg = base.train_config(preset)
    settings = (f"Settings: preset {a.preset}, {cfg.epochs} epochs, {a.n_train} training samples per topology, "
                f"seeds 0..{a.seeds - 1}, methods {', '.join(methods)}; choices on validation, test only reported.")
    files = write_report(spec, table, cs, a.out_dir, "mro " + shlex.join(a.argv), settings)
    if a.json:
        print_json({"files": files, "cells": len(cs)})
        return 0
    print(Path(files["md"]).read_text())
    print("wrote " + ", ".join(files.values()), file=sys.stderr)
    return 0
