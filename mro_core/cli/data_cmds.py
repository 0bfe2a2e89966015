"""`mro data inspect` and `mro bench --memory`: what MRO makes of a data file, and what a real-size
training step costs. Thin wrappers over :mod:`mro_core.data.inspect` and :mod:`mro_core.measure.memory`."""

from __future__ import annotations

import argparse

from mro_core.cli import numbers as N
from mro_core.cli.common import UsageError, print_json, request_of


def add_data_inspect_args(p: argparse.ArgumentParser) -> None:
    from mro_core.data import DATASETS

    g = p.add_argument_group("inspect (mro data inspect PATH)")
    g.add_argument("path", nargs="?", help="inspect: the data file or its folder")
    g.add_argument("--dataset", choices=DATASETS, help="inspect: the data source (default: detected from the file)")
    g.add_argument("--window", type=N.whole(1, 1000), default=5, help="inspect MELD: utterances of context per sample (default 5)")
    g.add_argument("--split-seed", type=N.SEED, help="inspect MELD: seed of the validation dialogues (default 0)")


def cmd_data_inspect(a: argparse.Namespace) -> int:
    """`mro data inspect PATH`: layout, sizes, padding, NaN/inf, labels and warnings of a data file."""
    from mro_core.data.inspect import format_inspection, inspect_dataset, inspect_path

    if a.window < 1:
        raise UsageError(f"--window must be >= 1 (got {a.window})")
    if a.dataset == "synthetic":
        from mro_core.data.synthetic import make_synthetic

        ins = inspect_dataset(make_synthetic(request_of(a).synthetic_config()))
    elif a.dataset == "mfeat":  # built in: no file to name
        from mro_core.data.mfeat import load_mfeat

        if a.path:
            raise UsageError(f"--dataset mfeat is built in and reads no file (got {a.path}); drop PATH")
        ins = inspect_dataset(load_mfeat())
    elif not a.path:
        raise UsageError("`mro data inspect` needs PATH (a data file or its folder)")
    else:
        ins = inspect_path(a.path, a.dataset, window=a.window, split_seed=a.split_seed)
    if a.json:
        print_json(ins.to_dict())
    else:
        print(format_inspection(ins))
    return 0


def add_bench_memory_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("memory (mro bench --memory)")
    g.add_argument("--memory", action="store_true",
                   help="only measure peak memory of one training step at a real file's shapes (default: "
                        "unaligned MOSEI 50/500/375 steps, preset mosei, batch 64) and check it fits 24 GB")
    g.add_argument("--memory-data", default="mosei", choices=("mosei", "mosi", "mosei-aligned", "mosi-aligned"),
                   help="shapes to measure at (default mosei: MMSA's unaligned MOSEI)")
    g.add_argument("--memory-batch-size", type=N.COUNT, default=64, help="batch size of the measured step (default 64)")
    g.add_argument("--memory-limit-gb", type=N.real(0, lo_open=True), default=24.0, help="memory the step must fit in (default 24)")


def cmd_bench_memory(a: argparse.Namespace) -> int:
    import torch

    from mro_core.measure.memory import run_memory_bench

    if a.memory_batch_size < 1:
        raise UsageError(f"--memory-batch-size must be >= 1 (got {a.memory_batch_size})")
    dataset, _, aligned = a.memory_data.partition("-")
    device = a.device if a.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
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
