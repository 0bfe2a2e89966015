"""Commands on a checkpoint: ``mro eval``, ``flops``, ``quality``, ``demo``; and ``mro bench``."""

from __future__ import annotations

import argparse

from mro_core.cli.common import UsageError, print_json, print_table


def _open_checkpoint(a: argparse.Namespace):
    import torch

    from mro_core.training.checkpoint import build_model, dataset_for, load_checkpoint
    from mro_core.training.train import resolve_device

    ckpt = load_checkpoint(a.checkpoint)
    ds = dataset_for(ckpt, getattr(a, "data_path", None), getattr(a, "dataset", None))
    device = resolve_device(getattr(a, "device", None) or "auto")
    model = build_model(ckpt).to(device)
    torch.manual_seed(0)
    return ckpt, model, ds, device


def cmd_eval(a: argparse.Namespace) -> int:
    from mro_core.model.flops import flops_table
    from mro_core.paths import PathSpace
    from mro_core.training.train import evaluate_masks

    sample = getattr(a, "sample_masks", None)
    if bool(a.mask) + bool(a.all_masks) + (sample is not None) != 1:
        raise UsageError("give exactly one of --mask M, --all-masks or --sample-masks N")
    if sample is not None and sample < 1:
        raise UsageError(f"--sample-masks must be >= 1 (got {sample})")
    ckpt, model, ds, device = _open_checkpoint(a)
    space = model.space
    if sample is not None:
        from mro_core.search.selection import sample_masks_stratified

        masks = sample_masks_stratified(space, sample, seed=a.sample_seed)
    else:
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
        print_json({**doc, **rows[0]} if a.mask else doc)
        return 0
    cols = ["mask", "paths", "loss", *(["mae", "corr", "acc7", "acc2", "f1"] if ds.task == "regression" else ["acc", "f1"]), "mflops"]
    print_table(sorted(rows, key=lambda r: r["loss"]), cols)
    return 0


def cmd_flops(a: argparse.Namespace) -> int:
    from mro_core.config import get_preset, model_config_for
    from mro_core.model.flops import analytic_flops, flops_of, flops_table
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
        source = (f"preset {a.preset}, {a.dataset} {'aligned' if fs.aligned else 'unaligned'} "
                  f"({fs.file}, dims {list(fs.input_dims)})")
    elif a.checkpoint:
        from mro_core.training.checkpoint import build_model, load_checkpoint

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
    if a.seq_len is not None:
        from mro_core.cli.numbers import lengths

        seq = lengths("--seq-len", a.seq_len, space.k)
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


def cmd_bench(a: argparse.Namespace) -> int:
    from mro_core.measure.bench import run_bench

    if a.memory:
        from mro_core.cli.data_cmds import cmd_bench_memory

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


def cmd_quality(a: argparse.Namespace) -> int:
    if a.all_masks:
        from mro_core.cli.study_cmds import cmd_quality_all

        return cmd_quality_all(a)
    if a.out or a.rank:
        raise UsageError(f"{'--out' if a.out else '--rank'} is for `mro quality --all-masks`; plain `mro quality` "
                         "prints its table (add --json for a document)")
    from mro_core.training.checkpoint import load_checkpoint
    from mro_core.measure.quality import supernet_quality

    ckpt = load_checkpoint(a.checkpoint)
    from mro_core.paths import PathSpace

    space = PathSpace(ckpt.model_config.modalities)
    masks = [space.parse(m) for m in a.masks.split(";")] if a.masks else None
    doc = supernet_quality(ckpt, masks=masks, n_masks=a.n_masks, epochs=a.epochs, workdir=a.workdir,
                           data_path=a.data_path, dataset=a.dataset, progress=not a.no_progress)
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
    from mro_core.training.checkpoint import load_checkpoint
    from mro_core.paths import PathSpace

    ckpt = load_checkpoint(a.checkpoint)
    from mro_core.provenance import describe

    if note := describe(ckpt.code_version, str(a.checkpoint)):
        print(f"Note: {note}.\n")
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
