"""The ``mro`` command: parses arguments, calls the library, prints. Nothing else lives here.

Errors in user input (bad masks, data files, checkpoints, options) print one line
``mro: error: ...`` on stderr and exit with code 2; ``--json`` prints exactly one JSON document
on stdout. Precedence of settings: command line > preset > defaults, field by field.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

from mro_core import __version__

log = logging.getLogger("mro")

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "demo.pt"


class UsageError(ValueError):
    """A bad command line; printed as one line, exit code 2."""


# ------------------------------------------------------------------------------------ helpers
def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, (set, tuple)):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _clean(o: Any) -> Any:
    """NaN/inf are not JSON: write them as null."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    return o


def print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(_clean(doc), default=_json_default, indent=2) + "\n")


def print_table(rows: list[dict], columns: Sequence[str]) -> None:
    """Fixed-width text table of ``rows`` (metric formatting from ``metrics.format_metrics``)."""
    from mro_core.metrics import format_metrics

    cells = [[str(format_metrics({c: r.get(c)}).get(c, "")) if isinstance(r.get(c), float) else str(r.get(c, ""))
              for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))


def _synthetic_config(a: argparse.Namespace):
    from mro_core.config import SyntheticConfig

    base = SyntheticConfig()
    mods = tuple(a.modalities.split(",")) if a.modalities else base.modalities
    planted = tuple(p.strip() for p in a.planted.split(",")) if a.planted else None
    if planted is None:
        planted = base.planted if mods == base.modalities else (f"{mods[0]}->{mods[1]}", f"{mods[-1]}->{mods[0]}")
    return replace(
        base,
        modalities=mods,
        planted=planted,
        **{k: v for k, v in {
            "num_keys": a.num_keys, "seq_len": a.seq_len, "min_len": a.min_len, "extra_dims": a.extra_dims,
            "noise": a.noise, "n_train": a.n_train, "n_valid": a.n_valid, "n_test": a.n_test,
            "seed": a.data_seed,
        }.items() if v is not None},
    )


def _add_synthetic_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("synthetic benchmark (--dataset synthetic)")
    g.add_argument("--modalities", help="comma-separated modality names (default T,A,V)")
    g.add_argument("--planted", help="planted paths, e.g. 'T->V,A->T,V->T,V->A' (the default)")
    g.add_argument("--num-keys", type=int, help="key alphabet size K (default 8)")
    g.add_argument("--seq-len", type=int, help="max sequence length (default 12)")
    g.add_argument("--min-len", type=int, help="min sequence length, >= num-keys (default 8)")
    g.add_argument("--extra-dims", type=int, help="extra zero channels per modality (default 0)")
    g.add_argument("--noise", type=float, help="label noise std (default 0.05)")
    g.add_argument("--n-train", type=int, help="training samples (default 3000)")
    g.add_argument("--n-valid", type=int, help="validation samples (default 600)")
    g.add_argument("--n-test", type=int, help="test samples (default 600)")
    g.add_argument("--data-seed", type=int, help="generator seed (default 0)")


def _add_data_args(p: argparse.ArgumentParser) -> None:
    from mro_core.data import DATASETS

    p.add_argument("--dataset", default="synthetic", choices=DATASETS, help="data source (default synthetic)")
    p.add_argument("--data-path", help="file or folder of the data (npz, mosei, mosi, meld)")
    p.add_argument("--unaligned", action="store_true", help="MOSEI/MOSI: read the unaligned file")
    p.add_argument("--window", type=int, default=5, help="MELD: utterances of context per sample (default 5)")
    p.add_argument("--split-seed", type=int, default=None,
                   help="MELD: seed of the validation dialogues carved from train, independent of --seed (default 0)")
    _add_synthetic_args(p)


def _load_data(a: argparse.Namespace):
    from mro_core.config import to_dict
    from mro_core.data import describe_source, load_dataset

    syn = _synthetic_config(a) if a.dataset == "synthetic" else None
    if a.window < 1:
        raise UsageError(f"--window must be >= 1 (got {a.window})")
    from mro_core.data.meld import DEFAULT_SPLIT_SEED

    split_seed = DEFAULT_SPLIT_SEED if getattr(a, "split_seed", None) is None else a.split_seed
    ds = load_dataset(a.dataset, a.data_path, synthetic=syn, aligned=not a.unaligned, window=a.window,
                      split_seed=split_seed)
    desc = describe_source(
        a.dataset,
        str(Path(a.data_path).resolve()) if a.data_path else None,
        synthetic=to_dict(syn) if syn else None,
        aligned=None if a.dataset not in ("mosei", "mosi") else not a.unaligned,
        window=a.window if a.dataset == "meld" else None,
        split_seed=split_seed if a.dataset == "meld" else None,
    )
    return ds, desc


def _train_config(a: argparse.Namespace, preset):
    over = {k: v for k, v in {
        "epochs": a.epochs, "batch_size": a.batch_size, "lr": a.lr, "masks_per_step": a.masks_per_step,
        "seed": a.seed, "device": a.device, "amp": a.amp, "weight_decay": a.weight_decay,
    }.items() if v is not None}
    return replace(preset.train, **over)


def _add_train_args(p: argparse.ArgumentParser) -> None:
    from mro_core.config import PRESETS

    p.add_argument("--preset", default="demo", choices=sorted(PRESETS), help="hyper-parameter preset (default demo)")
    p.add_argument("--epochs", type=int, help="training epochs (preset default)")
    p.add_argument("--batch-size", type=int, help="batch size (preset default)")
    p.add_argument("--lr", type=float, help="AdamW learning rate (preset default)")
    p.add_argument("--weight-decay", type=float, help="AdamW weight decay (preset default)")
    p.add_argument("--masks-per-step", type=int, help="masks sampled per step, n (preset default 4)")
    p.add_argument("--seed", type=int, help="seed for init, data order and mask sampling (default 0)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="where to train (default auto)")
    p.add_argument("--amp", choices=("off", "bf16", "fp16"), help="autocast on CUDA (default off)")
    p.add_argument("--d-model", type=int, help="override the preset's model width")
    p.add_argument("--layers-per-path", type=int, help="override the preset's layers per path")
    p.add_argument("--dropout", type=float, help="override the preset's dropout")


def _add_search_args(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Options of the search itself, shared by `mro search` and `mro table`."""
    g = p.add_argument_group("search")
    g.add_argument("--warmup", type=int, help="epochs of uniform sampling before the prior guides (default 3)")
    g.add_argument("--rank-loss", choices=("l0", "l1", "l2", "linf"), help="Eq. (2) norm (preset default)")
    g.add_argument("--rank-target", choices=("prior", "supernet", "both"), help="what the rank terms train (default both)")
    g.add_argument("--rank-weight", type=float, help="weight of the rank terms (default 1.0)")
    g.add_argument("--rho", type=float, help="target path density of prior sampling (default 0.5)")
    g.add_argument("--budget-mflops", type=float, help="FLOPs budget of the 'budget' pick")
    g.add_argument("--finetune-epochs", type=int, help="train the chosen subnet alone afterwards (default 0)")
    return g


def _model_config(a: argparse.Namespace, preset, ds):
    from mro_core.config import model_config_for

    over = {k: v for k, v in {
        "d_model": a.d_model, "layers_per_path": a.layers_per_path, "dropout": a.dropout,
    }.items() if v is not None}
    return model_config_for(
        preset, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task,
        num_classes=ds.num_classes, aux_sentiment="sentiment" in ds.extra_targets, **over,
    )


# ----------------------------------------------------------------------------------- commands
def cmd_data(a: argparse.Namespace) -> int:
    from mro_core.data.npz import save_npz

    if a.kind == "inspect":
        return cmd_data_inspect(a)
    if not a.out:
        raise UsageError("`mro data synthetic` needs --out FILE.npz")
    a.dataset = "synthetic"
    ds, _ = _load_data(a)
    path = save_npz(ds, a.out)
    if a.json:
        print_json({"out": str(path), "modalities": ds.modalities, "planted_paths": ds.planted_paths,
                    "sizes": {k: len(v) for k, v in ds.splits.items()}})
    else:
        print(f"wrote {path}: {ds.summary()}; planted {', '.join(ds.planted_paths or ())}")
    return 0


# ---- mro data inspect (self-contained: parser in _add_data_inspect_args, logic in mro_core/data/inspect.py)
def _add_data_inspect_args(p: argparse.ArgumentParser) -> None:
    from mro_core.data import DATASETS

    g = p.add_argument_group("inspect (mro data inspect PATH)")
    g.add_argument("path", nargs="?", help="inspect: the data file or its folder")
    g.add_argument("--dataset", choices=DATASETS, help="inspect: the data source (default: detected from the file)")
    g.add_argument("--window", type=int, default=5, help="inspect MELD: utterances of context per sample (default 5)")
    g.add_argument("--split-seed", type=int, help="inspect MELD: seed of the validation dialogues (default 0)")


def cmd_data_inspect(a: argparse.Namespace) -> int:
    """`mro data inspect PATH`: layout, sizes, padding, NaN/inf, labels and warnings of a data file."""
    from mro_core.data.inspect import format_inspection, inspect_dataset, inspect_path

    if a.window < 1:
        raise UsageError(f"--window must be >= 1 (got {a.window})")
    if a.dataset == "synthetic":
        from mro_core.data.synthetic import make_synthetic

        ins = inspect_dataset(make_synthetic(_synthetic_config(a)))
    elif not a.path:
        raise UsageError("`mro data inspect` needs PATH (a data file or its folder)")
    else:
        ins = inspect_path(a.path, a.dataset, window=a.window, split_seed=a.split_seed)
    if a.json:
        print_json(ins.to_dict())
    else:
        print(format_inspection(ins))
    return 0


def cmd_train(a: argparse.Namespace) -> int:
    from mro_core.config import get_preset
    from mro_core.train import train_supernet

    preset = get_preset(a.preset)
    ds, desc = _load_data(a)
    mcfg = _model_config(a, preset, ds)
    tcfg = _train_config(a, preset)
    log.info("%s", ds.summary())
    ckpt = train_supernet(ds, mcfg, tcfg, out=a.out, data_desc=desc, resume=a.resume, progress=not a.no_progress,
                          distributed=a.distributed)
    if a.distributed and int(os.environ.get("RANK", "0")) != 0:
        return 0  # only rank 0 reports
    best = min(ckpt.mask_table, key=lambda r: r["loss"]) if ckpt.mask_table else None
    doc = {"checkpoint": str(a.out), "epochs": ckpt.epoch, "history": ckpt.history,
           "best_mask": best}
    if a.json:
        print_json(doc)
    else:
        last = ckpt.history[-1] if ckpt.history else {}
        print(f"saved {a.out} after {ckpt.epoch} epochs; full-mask valid loss {last.get('valid_loss', float('nan')):.4f}")
        if best:
            print(f"best mask by shared-weight valid loss: {best['mask']} (loss {best['loss']:.4f}, {best['mflops']:.3f} MFLOPs)")
    return 0


def _open_checkpoint(a: argparse.Namespace):
    import torch

    from mro_core.checkpoint import build_model, dataset_for, load_checkpoint
    from mro_core.train import resolve_device

    ckpt = load_checkpoint(a.checkpoint)
    ds = dataset_for(ckpt, getattr(a, "data_path", None))
    device = resolve_device(getattr(a, "device", None) or "auto")
    model = build_model(ckpt).to(device)
    torch.manual_seed(0)
    return ckpt, model, ds, device


def cmd_eval(a: argparse.Namespace) -> int:
    from mro_core.flops import flops_table
    from mro_core.paths import PathSpace
    from mro_core.train import evaluate_masks

    if bool(a.mask) == bool(a.all_masks):
        raise UsageError("give exactly one of --mask M or --all-masks")
    ckpt, model, ds, device = _open_checkpoint(a)
    space = model.space
    masks = space.all_masks() if a.all_masks else [space.parse(a.mask)]
    batch_size = ckpt.train_config.eval_batch_size if a.batch_size is None else a.batch_size
    if batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1 (got {batch_size})")
    rows = evaluate_masks(model, ds.splits[a.split], masks, batch_size=batch_size, device=device)
    cached = (ckpt.flops or {}).get("mflops", {})
    missing = [m for m in masks if PathSpace.to_bits(m) not in cached]
    if missing:
        cached = {**cached, **flops_table(model.cpu(), ds.seq_lens, missing)["mflops"]}
    for r in rows:
        r["mflops"] = cached[r["mask"]]
        r["paths"] = ", ".join(space.active_names(space.parse(r["mask"])))
    doc = {"checkpoint": str(a.checkpoint), "split": a.split, "task": ds.task, "rows": rows}
    if a.json:
        print_json(doc if a.all_masks else {**doc, **rows[0]})
        return 0
    cols = ["mask", "paths", "loss", *(["mae", "corr", "acc7", "acc2", "f1"] if ds.task == "regression" else ["acc", "f1"]), "mflops"]
    print_table(sorted(rows, key=lambda r: r["loss"]), cols)
    return 0


def cmd_flops(a: argparse.Namespace) -> int:
    from mro_core.config import get_preset, model_config_for
    from mro_core.flops import analytic_flops, flops_of, flops_table
    from mro_core.model.supernet import Supernet
    from mro_core.paths import PathSpace

    if a.dataset and a.checkpoint:
        raise UsageError("give --dataset or --checkpoint, not both (a checkpoint knows its data)")
    if a.unaligned and not a.dataset:
        raise UsageError("--unaligned needs --dataset mosei or mosi")
    if a.dataset:  # the real file's shapes (MMSA), counted with the preset's model
        from mro_core.data.settings import feature_setting

        p, fs = get_preset(a.preset), feature_setting(a.dataset, aligned=not a.unaligned)
        model = Supernet(model_config_for(p, modalities=fs.modalities, input_dims=fs.input_dims,
                                          task="regression", num_classes=None))
        seq = list(fs.seq_lens)
        source = f"preset {a.preset}, {a.dataset} {'aligned' if fs.aligned else 'unaligned'} ({fs.file}, dims {list(fs.input_dims)})"
    elif a.checkpoint:
        from mro_core.checkpoint import build_model, load_checkpoint

        ckpt = load_checkpoint(a.checkpoint)
        model = build_model(ckpt)
        seq = (ckpt.flops or {}).get("seq_lens")
        source = str(a.checkpoint)
    else:
        p = get_preset(a.preset)
        model = Supernet(model_config_for(p, modalities=p.flops_modalities, input_dims=p.flops_input_dims,
                                          task=p.flops_task, num_classes=p.flops_out_dim))
        seq = [p.flops_seq_len] * len(p.flops_modalities)
        source = f"preset {a.preset}"
    space = model.space
    if a.seq_len:
        seq = [int(x) for x in a.seq_len.split(",")]
        if len(seq) == 1:
            seq = seq * space.k
    if not seq or len(seq) != space.k:
        raise UsageError(f"--seq-len needs one length or {space.k} comma-separated lengths")
    if bool(a.mask) == bool(a.all_masks):
        raise UsageError("give exactly one of --mask M or --all-masks")
    masks = space.all_masks() if a.all_masks else [space.parse(a.mask)]
    table = flops_table(model, seq, masks)
    full = flops_of(table, space, space.full_mask())
    rows = [{"mask": PathSpace.to_bits(m), "paths": list(space.active_names(m)),
             "mflops": table["mflops"][PathSpace.to_bits(m)],
             "analytic_mflops": analytic_flops(model.cfg, m, seq) / 1e6,
             "percent_of_full": 100.0 * table["mflops"][PathSpace.to_bits(m)] / full} for m in masks]
    doc = {"source": source, "seq_lens": seq, "convention": table["convention"], "full_mflops": full}
    if a.json:
        print_json({**doc, **rows[0]} if not a.all_masks else {**doc, "rows": rows})
        return 0
    print(f"{source}, sequence lengths {seq}, {table['convention']}")
    for r in rows:
        print(f"{r['mask']}  {r['mflops']:10.3f} MFLOPs  ({r['percent_of_full']:5.1f}% of full)  {', '.join(r['paths'])}")
    return 0


# ---- mro bench --memory (self-contained: logic in mro_core/memory.py)
def _add_bench_memory_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("memory (mro bench --memory)")
    g.add_argument("--memory", action="store_true",
                   help="only measure peak memory of one training step at a real file's shapes (default: "
                        "unaligned MOSEI 50/500/375 steps, preset mosei, batch 64) and check it fits 24 GB")
    g.add_argument("--memory-data", default="mosei", choices=("mosei", "mosi", "mosei-aligned", "mosi-aligned"),
                   help="shapes to measure at (default mosei: MMSA's unaligned MOSEI)")
    g.add_argument("--memory-batch-size", type=int, default=64, help="batch size of the measured step (default 64)")
    g.add_argument("--memory-limit-gb", type=float, default=24.0, help="memory the step must fit in (default 24)")


def cmd_bench_memory(a: argparse.Namespace) -> int:
    from mro_core.memory import run_memory_bench

    if a.memory_batch_size < 1:
        raise UsageError(f"--memory-batch-size must be >= 1 (got {a.memory_batch_size})")
    dataset, _, aligned = a.memory_data.partition("-")
    device = a.device if a.device != "auto" else ("cuda" if _cuda() else "cpu")
    doc = run_memory_bench(dataset, aligned=bool(aligned), batch_size=a.memory_batch_size, device=device,
                           limit_gb=a.memory_limit_gb)
    if a.json:
        print_json(doc)
    else:
        cuda = f", CUDA peak {doc['cuda_peak_mb']:.0f} MiB" if doc["cuda_peak_mb"] is not None else ""
        print(f"{doc['setting']}, batch {doc['batch_size']}, lengths {doc['seq_lens']}, dims {doc['input_dims']}, "
              f"{doc['paths_run']} paths, {doc['params']:,} params on {doc['device']}")
        print(f"peak {doc['peak_mb']:.0f} MiB (before the step {doc['baseline_mb']:.0f} MiB, step +{doc['step_mb']:.0f} MiB)"
              f"{cuda}; {doc['seconds_per_step']:.1f} s per step; "
              f"{'fits' if doc['fits'] else 'does NOT fit'} in {doc['limit_gb']:g} GB")
    return 0 if doc["fits"] else 1


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def cmd_bench(a: argparse.Namespace) -> int:
    from mro_core.bench import run_bench

    if a.memory:
        return cmd_bench_memory(a)

    doc = run_bench(quick=a.quick, device=a.device)
    if a.json:
        print_json(doc)
    else:
        for k, v in doc["figures"].items():
            print(f"{k:48s} {v['value']:.3f}   target {v['target']}   {v['note']}")
        print("\nscaling with k (full mask, demo width; ratios to k = 2):")
        print_table([{kk: (round(vv, 3) if isinstance(vv, float) else vv) for kk, vv in r.items()}
                     for r in doc["k_scaling"]], ["k", "paths", "step_ratio", "memory_ratio", "param_mb", "activation_mb"])
    return 0


def _search_config(a: argparse.Namespace, preset):
    from mro_core.search import SearchConfig

    over = {k: v for k, v in {
        "warmup_epochs": a.warmup, "rank_loss": a.rank_loss or preset.rank_loss, "rank_target": a.rank_target,
        "rank_weight": a.rank_weight, "ablation": a.ablation, "budget_mflops": a.budget_mflops,
        "finetune_epochs": a.finetune_epochs, "rho": a.rho,
    }.items() if v is not None}
    return SearchConfig(**over)


def _store(a: argparse.Namespace):
    from mro_core.store import RunStore

    return RunStore(a.workspace)


def _strip(argv: Sequence[str], flags: dict[str, int]) -> list[str]:
    """``argv`` without the given flags (flag -> number of values it takes)."""
    out, skip = [], 0
    for x in argv:
        if skip:
            skip -= 1
            continue
        name = x.split("=", 1)[0]
        if name in flags:
            skip = flags[name] if "=" not in x else 0
            continue
        out.append(x)
    return out


def cmd_search(a: argparse.Namespace) -> int:
    from mro_core.config import get_preset, to_dict
    from mro_core.jobs import running_job, start_job
    from mro_core.search import run_search

    preset = get_preset(a.preset)
    scfg = _search_config(a, preset)  # validate before anything is created
    tcfg = _train_config(a, preset)
    if scfg.warmup_epochs > tcfg.epochs:
        raise UsageError(f"--warmup ({scfg.warmup_epochs}) is more than --epochs ({tcfg.epochs})")
    if a.distributed:
        if a.detach or not a.out:
            raise UsageError("--distributed runs under torchrun in the foreground and needs --out CHECKPOINT")
        if int(os.environ.get("RANK", "0")) != 0:  # only rank 0 touches the run store
            ds, desc = _load_data(a)
            run_search(ds, _model_config(a, preset, ds), tcfg, scfg, out=a.out, data_desc=desc,
                       resume=a.resume, distributed=True)
            return 0
    store = _store(a)
    argv = _strip(a.argv, {"--detach": 0, "--run-id": 1, "--json": 0, "--resume": 0})
    if a.run_id is None:
        config = {"argv": argv, "train": to_dict(tcfg), "search": to_dict(scfg), "preset": a.preset,
                  "dataset": a.dataset, "data_path": a.data_path, "rank_loss": scfg.rank_loss,
                  "ablation": scfg.ablation, "seed": tcfg.seed}
        run_id = store.create_run(a.name or f"{a.dataset}-{scfg.ablation}-{scfg.rank_loss}", "search", config,
                                  total_epochs=tcfg.epochs)
        ckpt_path = Path(a.out).resolve() if a.out else Path(a.workspace).resolve() / run_id / "search.pt"
        store.update_run(run_id, checkpoint=str(ckpt_path))
    else:
        run_id = a.run_id
        store.get_run(run_id)  # RunNotFound names `mro runs list`
    if a.detach:
        pid = start_job([*argv, "--run-id", run_id, *(["--resume"] if a.resume else [])], store, run_id,
                        cwd=Path.cwd())
        if a.json:
            print_json({"run_id": run_id, "pid": pid, "workspace": str(a.workspace)})
        else:
            print(run_id)
        return 0
    rec = store.get_run(run_id)
    ds, desc = _load_data(a)
    mcfg = _model_config(a, preset, ds)
    with running_job(store, run_id):
        res = run_search(ds, mcfg, tcfg, scfg, out=rec.checkpoint, data_desc=desc, store=store, run_id=run_id,
                         resume=a.resume or a.run_id is not None, progress=not a.no_progress,
                         distributed=a.distributed)
        store.finish(run_id, "done", result=res.to_dict())
    if store.get_run(run_id).status != "done":
        print(f"run {run_id} {store.get_run(run_id).status}; `mro runs resume {run_id}` continues it", file=sys.stderr)
        return 1
    doc = {"run_id": run_id, "checkpoint": rec.checkpoint, "picks": res.picks, "pareto": res.pareto,
           "finetune": res.finetune, "history": res.history}
    if a.json:
        print_json(doc)
        return 0
    space_cols = ["mask", "mae", "corr", "acc7", "acc2", "f1", "mflops"] if ds.task == "regression" else ["mask", "acc", "f1", "mflops"]
    print(f"run {run_id}: checkpoint {rec.checkpoint}")
    print_table([{"pick": k, **v} for k, v in res.picks.items()], ["pick", *space_cols, "error"])
    return 0


def cmd_runs(a: argparse.Namespace) -> int:
    from mro_core.jobs import cancel_job, start_job

    store = _store(a)
    if a.action == "list":
        recs = store.list_runs()
        rows = [{"id": r.id, "name": r.name, "kind": r.kind, "status": r.effective_status,
                 "epoch": f"{r.epoch or 0}/{r.total_epochs or '?'}", "progress": f"{100 * (r.progress or 0):.0f}%",
                 "error": (r.error or "")[:60]} for r in recs]
        if a.json:
            print_json([{**vars(r), "effective_status": r.effective_status} for r in recs])
        elif rows:
            print_table(rows, ["id", "name", "kind", "status", "epoch", "progress", "error"])
        else:
            print(f"no runs in {a.workspace}")
        return 0
    if not a.run:
        raise UsageError(f"`mro runs {a.action}` needs a run id; see `mro runs list`")
    rec = store.get_run(a.run)
    if a.action == "show":
        doc = {**vars(rec), "effective_status": rec.effective_status,
               "events": [e.payload | {"epoch": e.epoch, "kind": e.kind} for e in store.events(rec.id)]}
        if a.json:
            print_json(doc)
        else:
            print(f"{rec.id} {rec.name}: {rec.effective_status}, epoch {rec.epoch}/{rec.total_epochs}, checkpoint {rec.checkpoint}")
            if rec.error:
                print(f"error: {rec.error}")
            for name, pick in (rec.result or {}).get("picks", {}).items():
                print(f"  {name:7s} {pick.get('mask', pick.get('error'))}  {pick.get('mflops', '')}")
        return 0
    if a.action == "cancel":
        status = cancel_job(store, rec.id)
        print(f"{rec.id}: {status}")
        return 0
    # resume
    if rec.effective_status in ("running", "queued"):
        raise UsageError(f"run {rec.id} is still {rec.effective_status}; cancel it first")
    if rec.effective_status == "done":
        raise UsageError(f"run {rec.id} is already done")
    argv = list(rec.config.get("argv") or [])
    if not argv:
        raise UsageError(f"run {rec.id} has no stored command line to resume")
    pid = start_job([*argv, "--run-id", rec.id, "--resume"], store, rec.id, cwd=Path.cwd())
    print(f"{rec.id}: resumed as pid {pid}")
    return 0


def cmd_table(a: argparse.Namespace) -> int:
    from mro_core.config import get_preset
    from mro_core.tables import run_table

    preset = get_preset(a.preset)
    scfg = _search_config(a, preset)
    tcfg = _train_config(a, preset)
    if a.seeds < 1:
        raise UsageError(f"--seeds must be >= 1 (got {a.seeds})")
    ds, _ = _load_data(a)
    mcfg = _model_config(a, preset, ds)
    seeds = [tcfg.seed + i for i in range(a.seeds)]
    store = _store(a)
    doc = run_table(a.suite, ds, mcfg, tcfg, scfg, seeds=seeds, workdir=Path(a.workspace) / f"{a.suite}-tables",
                    pick=a.pick, store=store)
    out = Path(a.out) if a.out else None
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".md").write_text(doc["markdown"])
        out.with_suffix(".csv").write_text(doc["csv"])
    rid = store.create_run(f"{a.suite} ({a.dataset})", "table", {"argv": a.argv, "suite": a.suite, "seeds": seeds})
    store.finish(rid, "done", result={k: doc[k] for k in ("suite", "seeds", "pick", "rows", "markdown")})
    if a.json:
        print_json(doc)
    else:
        print(doc["markdown"], end="")
        if out:
            print(f"\nwrote {out.with_suffix('.md')} and {out.with_suffix('.csv')}")
    return 0


def cmd_quality(a: argparse.Namespace) -> int:
    from mro_core.checkpoint import load_checkpoint
    from mro_core.quality import supernet_quality

    ckpt = load_checkpoint(a.checkpoint)
    from mro_core.paths import PathSpace

    space = PathSpace(ckpt.model_config.modalities)
    masks = [space.parse(m) for m in a.masks.split(";")] if a.masks else None
    doc = supernet_quality(ckpt, masks=masks, n_masks=a.n_masks, epochs=a.epochs, workdir=a.workdir,
                           data_path=a.data_path, progress=not a.no_progress)
    if a.json:
        print_json(doc)
        return 0
    print_table(doc["masks"], ["mask", "paths", "mflops", "shared", "standalone"])
    print(f"\nKendall tau (shared vs stand-alone {doc['metric']}, {len(doc['masks'])} masks): {doc['kendall_tau']:.3f}"
          f"   Spearman rho: {doc['spearman_rho']:.3f}")
    print(f"trivial rankers: by MFLOPs tau {doc['tau_by_mflops']:.3f}, by path count tau {doc['tau_by_path_count']:.3f}")
    return 0


def cmd_demo(a: argparse.Namespace) -> int:
    """Terminal tour of a checkpoint: the per-mask table and what it says."""
    from mro_core.checkpoint import load_checkpoint
    from mro_core.paths import PathSpace

    ckpt = load_checkpoint(a.checkpoint)
    space = PathSpace(ckpt.model_config.modalities)
    rows = ckpt.mask_table or []
    if not rows:
        raise UsageError(f"{a.checkpoint} has no per-mask table; run `mro eval --checkpoint {a.checkpoint} --all-masks`")
    rows = sorted(rows, key=lambda r: r["loss"])
    full = next(r for r in rows if r["mask"] == PathSpace.to_bits(space.full_mask()))
    print(f"checkpoint {a.checkpoint}: {ckpt.data.get('name')} data, {ckpt.epoch} epochs, "
          f"paths [{', '.join(space.path_names)}]")
    if ckpt.data.get("synthetic"):
        print(f"planted paths: {', '.join(ckpt.data['synthetic']['planted'])}")
    print("\nTop masks by shared-weight validation loss:")
    cols = ["mask", "loss", "mae", "corr", "acc7", "acc2", "f1", "mflops"] if ckpt.model_config.task == "regression" else ["mask", "loss", "acc", "f1", "mflops"]
    print_table(rows[: a.top], cols)
    print("\nFull mask (Pairwise CMT):")
    print_table([full], cols)
    b = rows[0]
    print(f"\nBest mask {b['mask']} ({', '.join(space.active_names(space.parse(b['mask'])))}) uses "
          f"{100 * b['mflops'] / full['mflops']:.0f}% of the full mask's FLOPs.")
    return 0


# -------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="mro", description="MRO: explore the routing paths of a multimodal CMT supernet.")
    ap.add_argument("--version", action="version", version=f"mro {__version__}")
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("data", help="write a synthetic dataset file, or inspect a data file")
    p.add_argument("kind", choices=("synthetic", "inspect"),
                   help="synthetic: write the benchmark to --out; inspect: report what MRO makes of PATH")
    p.add_argument("--out", help="synthetic: output .npz path")
    p.add_argument("--json", action="store_true")
    _add_data_inspect_args(p)
    _add_synthetic_args(p)
    p.set_defaults(func=cmd_data, unaligned=False, data_path=None)

    p = sub.add_parser("train", help="one-shot supernet training with uniform mask sampling")
    _add_data_args(p)
    _add_train_args(p)
    p.add_argument("--out", required=True, help="checkpoint path (written every epoch)")
    p.add_argument("--resume", action="store_true", help="continue from --out if it exists")
    p.add_argument("--distributed", action="store_true",
                   help="one rank of `torchrun --nproc-per-node N -m mro_core train ...` (DDP)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("search", help="prior-guided NAS over the path masks (the paper's Table 1)")
    _add_data_args(p)
    _add_train_args(p)
    from mro_core.search import ABLATIONS

    g = _add_search_args(p)
    g.add_argument("--ablation", choices=ABLATIONS, help="Table 5 ablation (default none)")
    g.add_argument("--workspace", default="runs", help="run store folder (default runs/)")
    g.add_argument("--name", help="run name")
    g.add_argument("--out", help="checkpoint path (default <workspace>/<run id>/search.pt)")
    g.add_argument("--detach", action="store_true", help="run in the background; print the run id")
    g.add_argument("--distributed", action="store_true",
                   help="one rank of `torchrun --nproc-per-node N -m mro_core search ... --out CK` (DDP)")
    g.add_argument("--run-id", help=argparse.SUPPRESS)
    g.add_argument("--resume", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("table", help="reproduce the paper's Table 5 or Table 4 on the given data")
    p.add_argument("--suite", choices=("table5", "table4"), required=True)
    _add_data_args(p)
    _add_train_args(p)
    g = _add_search_args(p)
    g.add_argument("--pick", choices=("best", "budget", "knee", "prior"), default="best",
                   help="which pick of each search is the table's row (default best)")
    p.add_argument("--seeds", type=int, default=1, help="repeat with this many seeds; mean ± std (default 1)")
    p.add_argument("--workspace", default="runs", help="run store folder (default runs/)")
    p.add_argument("--out", help="write OUT.md and OUT.csv")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_table, ablation=None)

    p = sub.add_parser("runs", help="list, show, cancel or resume runs in a workspace")
    p.add_argument("action", choices=("list", "show", "cancel", "resume"))
    p.add_argument("run", nargs="?", help="run id")
    p.add_argument("--workspace", default="runs", help="run store folder (default runs/)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("eval", help="evaluate masks of a checkpoint with shared weights")
    p.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    p.add_argument("--mask", help="one mask: 011011, [0,1,1,0,1,1], 0,1,1,0,1,1 or T->V,A->T,...")
    p.add_argument("--all-masks", action="store_true", help="every non-empty mask")
    p.add_argument("--split", choices=("valid", "test"), default="valid")
    p.add_argument("--data-path", help="override the data path stored in the checkpoint")
    p.add_argument("--batch-size", type=int,
                   help="evaluation batch size (default: the checkpoint's); metrics do not depend on it")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("flops", help="fvcore MFLOPs per sample of masks")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", default="mosei", help="count at a preset's setting (default mosei)")
    src.add_argument("--checkpoint", help="count a checkpoint's model at its data's lengths")
    p.add_argument("--mask", help="one mask")
    p.add_argument("--all-masks", action="store_true")
    p.add_argument("--seq-len", help="sequence length(s): one, or one per modality")
    p.add_argument("--dataset", choices=("mosei", "mosi"),
                   help="count at this dataset's real file shapes (MMSA; aligned 50 steps, or with --unaligned 50/500/375)")
    p.add_argument("--unaligned", action="store_true", help="with --dataset: the unaligned file's lengths")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_flops)

    p = sub.add_parser("quality", help="Kendall tau of shared-weight vs stand-alone mask rankings")
    p.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    p.add_argument("--masks", help="';'-separated masks (default: a varied set of --n-masks)")
    p.add_argument("--n-masks", type=int, default=12, help="size of the default mask set (default 12)")
    p.add_argument("--epochs", type=int, help="stand-alone epochs (default: the checkpoint's)")
    p.add_argument("--workdir", default="runs/quality", help="where stand-alone checkpoints go")
    p.add_argument("--data-path", help="override the data path stored in the checkpoint")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_quality)

    p = sub.add_parser("bench", help="speed ratios measured within one run")
    p.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    p.add_argument("--json", action="store_true")
    _add_bench_memory_args(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("demo", help="terminal tour of the shipped demo checkpoint")
    p.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    p.add_argument("--top", type=int, default=10)
    p.set_defaults(func=cmd_demo)
    return ap


def _user_errors() -> tuple[type[BaseException], ...]:
    from mro_core.checkpoint import CheckpointError
    from mro_core.data.base import DataError
    from mro_core.metrics import MetricError
    from mro_core.paths import MaskError
    from mro_core.store import RunNotFound
    from mro_core.train import NonFiniteLossError

    return (UsageError, MaskError, DataError, CheckpointError, MetricError, NonFiniteLossError, RunNotFound,
            ValueError, OSError)


def main(argv: Sequence[str] | None = None) -> int:
    ap = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    a = ap.parse_args(argv)
    a.argv = argv
    logging.basicConfig(level=logging.DEBUG if a.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("fvcore", "iopath"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        return int(a.func(a) or 0)
    except KeyboardInterrupt:
        print("mro: interrupted", file=sys.stderr)
        return 130
    except _user_errors() as e:
        if a.verbose:
            raise
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"mro: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
