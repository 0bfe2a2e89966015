"""`mro study` and `mro quality --all-masks`: the commands behind the README's study tables.

Thin wrappers: argument parsing and printing here, the work in :mod:`mro_core.experiments.study` and
:mod:`mro_core.measure.ground_truth`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import replace

from mro_core.cli import numbers as N
from mro_core.cli.common import UsageError, add_data_args, add_search_args, add_train_args, print_json, request_of


def add_study_parsers(sub: argparse._SubParsersAction) -> None:
    from mro_core.experiments.study import METHODS

    p = sub.add_parser("study", help="search methods x seeds on one dataset, with intervals (README's study tables)")
    add_data_args(p)
    add_train_args(p)
    add_search_args(p)
    g = p.add_argument_group("study")
    g.add_argument("--name", required=True, help="study name: results go to OUT_DIR/study_NAME.{csv,md,html}")
    g.add_argument("--methods", default="full,no_prior_guidance,no_mrg_prior,no_rank_reg,uniform,random_search",
                   help=f"comma-separated, from {', '.join(METHODS)} (default: all but paper)")
    g.add_argument("--seeds", type=N.whole(1, 1000), default=5, help="seeds 0..N-1 (default 5)")
    add_executor_args(g)
    g.add_argument("--out-dir", default="results", help="where the study's files go (default results/)")
    g.add_argument("--workdir", default="runs/study", help="searches' checkpoints (default runs/study)")
    g.add_argument("--ground-truth", help="stand-alone CSV (mro quality --all-masks) for the regret column")
    g.add_argument("--hit-rate", choices=("auto", "on", "off"), default="auto",
                   help="report hits of the planted mask (auto: when the data has planted paths)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_study)

    p = sub.add_parser("baselines", help="logistic regression per view and on all views, Concat+MLP, EmbraceNet, "
                                         "the pairwise CMT, each trained alone, over seeds (classification)")
    add_data_args(p)
    add_train_args(p)
    add_search_args(p)
    g = p.add_argument_group("baselines")
    g.add_argument("--seeds", type=N.whole(1, 1000), default=5, help="seeds 0..N-1 (default 5)")
    g.add_argument("--out", default="results/baselines", help="writes OUT.md, OUT.csv, OUT_seeds.csv (default results/baselines)")
    g.add_argument("--workdir", default="runs/baselines", help="the CMT's checkpoints (default runs/baselines)")
    p.set_defaults(func=cmd_baselines)


def add_executor_args(g: argparse._ArgumentGroup) -> None:
    """Where a study's (or a sweep's) searches run: local processes or Ray tasks."""
    g.add_argument("--workers", type=N.whole(1, 256), default=1, help="parallel local processes (default 1)")
    g.add_argument("--executor", choices=("local", "ray"), default="local", help="local process pool or Ray tasks")
    g.add_argument("--address", help="Ray cluster address (with --executor ray; default: a local Ray)")


def add_quality_args(p: argparse.ArgumentParser) -> None:
    """`mro quality --all-masks`: the stand-alone ground truth of a checkpoint's setting."""
    p.add_argument("--all-masks", action="store_true",
                   help="train EVERY mask alone (k <= 4) with the checkpoint's data and settings; resumable CSV")
    p.add_argument("--seeds", type=N.whole(1, 1000), default=1, help="--all-masks: seeds 0..N-1 (default 1)")
    p.add_argument("--workers", type=N.whole(1, 256), default=1, help="--all-masks: parallel processes")
    p.add_argument("--out", help="--all-masks: the CSV (default results/ground_truth.csv)")
    p.add_argument("--rank", nargs="+", metavar="CKPT",
                   help="--all-masks: also rank these checkpoints (same setting) against the stand-alone table")


def cmd_study(a: argparse.Namespace) -> int:
    from mro_core.config import to_dict
    from mro_core.rowlog import read_rows
    from mro_core.metrics import primary_metric
    from mro_core.paths import PathSpace
    from mro_core.experiments.study import StudySpec, run_study, summarize, write_report

    methods = tuple(m.strip() for m in a.methods.split(",") if m.strip())
    gt = None
    if a.ground_truth:  # read now, not after hours of searches
        from pathlib import Path

        if not Path(a.ground_truth).is_file():
            raise UsageError(f"--ground-truth {a.ground_truth} does not exist; make it with "
                             "`mro quality --all-masks --out FILE.csv`")
        gt = read_rows(a.ground_truth, lambda r: (str(r["mask"]), int(r["seed"])))
        if not gt:
            raise UsageError(f"--ground-truth {a.ground_truth} has no rows")
    req = request_of(a)
    preset = req.get_preset()
    ds, desc = req.load_data()
    if a.hit_rate == "on" and not ds.planted_paths:
        raise UsageError(f"--hit-rate on needs data with planted paths; {ds.name!r} has none (use --hit-rate off)")
    data = {"name": a.dataset, "data_path": a.data_path}
    if a.dataset == "synthetic":
        data["synthetic"] = desc.get("synthetic")
    if a.dataset in ("mosei", "mosi"):
        data["aligned"] = not a.unaligned
    if a.dataset == "meld":
        data["window"] = a.window
    model_cfg = req.model_config(preset, ds)
    train_cfg = replace(req.train_config(preset), seed=0)
    search_cfg = req.search_config(preset)
    spec = StudySpec(a.name, data, to_dict(model_cfg), to_dict(train_cfg), to_dict(search_cfg), methods,
                     tuple(range(a.seeds)), a.workdir, a.ground_truth)
    submit = None
    if a.executor == "ray":
        from mro_core.experiments.study_ray import ray_submitter

        submit = ray_submitter(spec, address=a.address)
    rows = run_study(spec, a.out_dir, workers=a.workers, submit=submit)
    metric, _ = primary_metric(ds.task)
    planted = None
    if ds.planted_paths and a.hit_rate != "off":
        planted = PathSpace.to_bits(PathSpace(ds.modalities).parse(list(ds.planted_paths)))
    summary = summarize(rows, name=a.name, metric=metric, planted=planted, ground_truth=gt)
    files = write_report(summary, a.out_dir, command="mro " + shlex.join(a.argv))
    if a.json:
        print_json({"methods": summary.methods, "paired": summary.paired, "files": files})
        return 0
    from mro_core.experiments.study import render_markdown

    print(render_markdown(summary))
    print("wrote " + ", ".join(files.values()), file=sys.stderr)
    return 0


def cmd_quality_all(a: argparse.Namespace) -> int:
    """Every mask of the checkpoint's space trained alone; then exact rankings against it."""
    from mro_core.training.checkpoint import load_checkpoint
    from mro_core.config import to_dict
    from mro_core.measure.ground_truth import GroundTruthJob, mean_by_mask, ranking_report, run_ground_truth
    from mro_core.metrics import primary_metric
    from mro_core.paths import PathSpace

    ckpt = load_checkpoint(a.checkpoint)
    others = {str(x): load_checkpoint(x) for x in a.rank or []}  # read now, not after the training
    space = PathSpace(ckpt.model_config.modalities)
    if space.num_masks > 4096:
        raise UsageError(f"--all-masks trains every mask alone; k = {space.k} has {space.num_masks} masks "
                             "(use a k <= 4 checkpoint, or plain `mro quality` on a mask set)")
    d = dict(ckpt.data or {})
    if not d.get("name"):
        raise UsageError("the checkpoint does not record its dataset; it must come from `mro train` or `mro search`")
    data = {"name": d["name"], "data_path": a.data_path or d.get("data_path")}
    if d.get("synthetic"):
        data["synthetic"] = d["synthetic"]
    tcfg = ckpt.train_config if a.epochs is None else replace(ckpt.train_config, epochs=a.epochs)
    job = GroundTruthJob(data, to_dict(ckpt.model_config), to_dict(tcfg), a.workdir)
    masks = [PathSpace.to_bits(m) for m in space.all_masks()]
    out = a.out or "results/ground_truth.csv"
    rows = run_ground_truth(job, masks, list(range(a.seeds)), out, workers=a.workers)
    metric, hib = primary_metric(ckpt.model_config.task)
    truth = mean_by_mask(rows, f"valid_{metric}")
    reports = {str(a.checkpoint): ranking_report(truth, checkpoint_rankers(ckpt, masks, metric, hib), higher_is_better=hib)}
    for extra, other in others.items():  # more supernets of the same setting, ranked against the same table
        if tuple(other.model_config.modalities) != tuple(ckpt.model_config.modalities):
            raise UsageError(f"--rank {extra}: modalities {list(other.model_config.modalities)} differ from the "
                             f"ground truth's {list(ckpt.model_config.modalities)}")
        reports[str(extra)] = ranking_report(truth, checkpoint_rankers(other, masks, metric, hib), higher_is_better=hib)
    if a.json:
        print_json({"csv": out, "rows": len(rows), "rankings": reports})
        return 0
    print(f"{len(rows)} stand-alone rows in {out}")
    for path, report in reports.items():
        print(path)
        for name, r in report.items():
            print(f"  {name:28s} Kendall tau {r['kendall_tau']:+.3f}   NDCG@5 {r['ndcg@5']:.3f}   ({r['masks']} masks)")
    return 0


def checkpoint_rankers(ckpt, masks: list[str], metric: str, hib: bool) -> dict[str, dict[str, float]]:
    """What a checkpoint can rank masks by, each oriented so higher = predicted better: its
    shared-weight validation metric, MFLOPs, and its prior's score (sum of p)."""
    sign = 1.0 if hib else -1.0
    rankers: dict[str, dict[str, float]] = {}
    if ckpt.mask_table:
        rankers["supernet (shared weights)"] = {r["mask"]: sign * float(r[metric]) for r in ckpt.mask_table}
        rankers["MFLOPs (more = better)"] = {r["mask"]: float(r["mflops"]) for r in ckpt.mask_table}
    p = (ckpt.prior or {}).get("p")
    if p:
        rankers["prior (sum of p)"] = {b: sum(pi for pi, bit in zip(p, b) if bit == "1") for b in masks}
    return rankers


def cmd_baselines(a: argparse.Namespace) -> int:
    """`mro baselines`: the baselines over seeds, written as Markdown and CSV with this command."""
    from mro_core.experiments.baselines import run_baselines

    req = request_of(a)
    preset = req.get_preset()
    ds, _ = req.load_data()
    if ds.task != "classification":
        raise UsageError(f"`mro baselines` needs a classification dataset; {ds.name!r} is {ds.task}")
    files = run_baselines(ds, req.model_config(preset, ds), req.train_config(preset), req.search_config(preset),
                          seeds=a.seeds, out=a.out, workdir=a.workdir, command="mro " + shlex.join(a.argv))
    for f in files.values():
        print(f)
    return 0
