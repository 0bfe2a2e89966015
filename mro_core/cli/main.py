"""The ``mro`` command: parses arguments, calls the library, prints. Nothing else lives here.

Errors in user input (bad masks, data files, checkpoints, options) print one line
``mro: error: ...`` on stderr and exit with code 2; ``--json`` prints exactly one JSON document
on stdout. Precedence of settings: command line > preset > defaults, field by field. The commands
live beside this module, one module per group (:mod:`~mro_core.cli.train_cmds`,
:mod:`~mro_core.cli.run_cmds`, :mod:`~mro_core.cli.checkpoint_cmds`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from typing import Sequence

from mro_core.cli import numbers as N
from mro_core import __version__
from mro_core.cli.checkpoint_cmds import cmd_bench, cmd_demo, cmd_eval, cmd_flops, cmd_quality
from mro_core.cli.common import (
    DEFAULT_CHECKPOINT,
    UsageError,
    add_data_args,
    add_search_args,
    add_synthetic_args,
    add_train_args,
)
from mro_core.cli.data_cmds import add_bench_memory_args, add_data_inspect_args
from mro_core.cli.provenance_cmds import cmd_provenance, cmd_results
from mro_core.cli.run_cmds import cmd_runs, cmd_search, cmd_table
from mro_core.cli.study_cmds import add_quality_args, add_study_parsers
from mro_core.cli.sweep_cmds import add_sweep_parser
from mro_core.cli.train_cmds import cmd_data, cmd_train
from mro_core.config import ABLATIONS
from mro_core.pareto import PICKS


class OneLineParser(argparse.ArgumentParser):
    """argparse with its usage errors on ONE line (``mro: error: ...``, exit 2, the same prefix as
    every other bad input), never a page of usage; ``--help`` still prints the full usage."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"mro: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from mro_core.data import DATASETS

    ap = OneLineParser(prog="mro", description="MRO: explore the routing paths of a multimodal CMT supernet.")
    ap.add_argument("--version", action="version", version=f"mro {__version__}")
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("data", help="write a synthetic dataset file, or inspect a data file")
    p.add_argument("kind", choices=("synthetic", "inspect"),
                   help="synthetic: write the benchmark to --out; inspect: report what MRO makes of PATH")
    p.add_argument("--out", help="synthetic: output .npz path")
    p.add_argument("--json", action="store_true")
    add_data_inspect_args(p)
    add_synthetic_args(p)
    p.set_defaults(func=cmd_data, unaligned=False, data_path=None)

    p = sub.add_parser("train", help="one-shot supernet training with uniform mask sampling")
    add_data_args(p)
    add_train_args(p)
    p.add_argument("--out", required=True, help="checkpoint path (written every epoch)")
    p.add_argument("--resume", action="store_true", help="continue from --out if it exists")
    p.add_argument("--distributed", action="store_true",
                   help="one rank of `torchrun --nproc-per-node N -m mro_core train ...` (DDP)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("search", help="prior-guided NAS over the path masks (the paper's Table 1)")
    add_data_args(p)
    add_train_args(p)
    g = add_search_args(p)
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
    add_data_args(p)
    add_train_args(p)
    g = add_search_args(p)
    g.add_argument("--pick", choices=PICKS, default="parsimonious",
                   help="which pick of each search is the table's row (default parsimonious: the "
                        "fewest-MFLOPs mask within one standard error of the best validation metric)")
    p.add_argument("--seeds", type=N.whole(1, 1000), default=1, help="repeat with this many seeds; mean ± std (default 1)")
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
    p.add_argument("--sample-masks", type=N.whole(1, 10**6), metavar="N",
                   help="N seeded random masks, stratified over the path count (when all masks are too many)")
    p.add_argument("--sample-seed", type=N.SEED, default=0, help="seed of --sample-masks (default 0)")
    p.add_argument("--split", choices=("valid", "test"), default="valid")
    p.add_argument("--batch-size", type=N.COUNT,
                   help="evaluation batch size (default: the checkpoint's); metrics do not depend on it")
    p.add_argument("--data-path", help="evaluate on this file instead of the checkpoint's data (checked against it)")
    p.add_argument("--dataset", choices=DATASETS, help="kind of --data-path (default: detected, else the checkpoint's)")
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
    p.add_argument("--n-masks", type=N.whole(2, 4096), default=12, help="size of the default mask set (default 12)")
    p.add_argument("--epochs", type=N.COUNT, help="stand-alone epochs (default: the checkpoint's)")
    p.add_argument("--workdir", default="runs/quality", help="where stand-alone checkpoints go")
    p.add_argument("--data-path", help="evaluate on this file instead of the checkpoint's data (checked against it)")
    p.add_argument("--dataset", choices=DATASETS, help="kind of --data-path (default: detected, else the checkpoint's)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--json", action="store_true")
    add_quality_args(p)
    p.set_defaults(func=cmd_quality)

    add_study_parsers(sub)
    add_sweep_parser(sub)

    p = sub.add_parser("bench", help="speed ratios measured within one run")
    p.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    p.add_argument("--json", action="store_true")
    add_bench_memory_args(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("demo", help="terminal tour of the shipped demo checkpoint")
    p.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    p.add_argument("--top", type=N.whole(1, 10**6), default=10)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("provenance", help="which search code made checkpoints and result files; stale ones named")
    p.add_argument("files", nargs="+", help="checkpoints (.pt) and result files (.md, .csv, .html, .json)")
    p.add_argument("--check", action="store_true", help="exit 1 when any file came from other search code")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_provenance)

    p = sub.add_parser("results", help="regenerate every shipped artefact that is stale (make results)")
    p.add_argument("--steps", help="comma-separated steps (default all; see --list)")
    p.add_argument("--list", action="store_true", help="show each step, whether it is stale, and its run time")
    p.add_argument("--force", action="store_true", help="rerun the steps even where current")
    p.set_defaults(func=cmd_results)
    return ap


def _user_errors() -> tuple[type[BaseException], ...]:
    from mro_core.training.checkpoint import CheckpointError
    from mro_core.data.base import DataError
    from mro_core.metrics import MetricError
    from mro_core.paths import MaskError
    from mro_core.runs.records import RunNotFound
    from mro_core.training.train import NonFiniteLossError

    return (UsageError, MaskError, DataError, CheckpointError, MetricError, NonFiniteLossError, RunNotFound,
            ValueError, OSError)


def _check_outputs(a: argparse.Namespace) -> None:
    """Refuse an unusable ``--out`` (a directory, an unwritable folder) before any work is done."""
    from pathlib import Path

    from mro_core.atomic import check_output_path

    out = getattr(a, "out", None)
    if out:
        check_output_path(Path(out).with_suffix(".md") if a.command == "table" else out)


TORCH_COMMANDS = frozenset({"data", "train", "search", "table", "eval", "flops", "quality", "bench", "demo", "study",
                            "baselines", "provenance", "results", "sweep"})
"""Commands that import torch; ``runs`` does not (listing a workspace stays fast)."""


def main(argv: Sequence[str] | None = None) -> int:
    """The ``mro`` command; returns the exit code (2 for any bad input, usage errors included, never
    ``SystemExit``); an interrupt at any moment (even while torch imports) is one line."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("mro: interrupted", file=sys.stderr)
        return 130


def _parse_shielded(argv: list[str]) -> tuple[argparse.Namespace | None, bool]:
    """Parse the command line and import torch (for commands that need it) with Ctrl-C deferred.

    A SIGINT that lands inside ``import torch`` can leave torch half-initialised (a later
    ``AttributeError`` traceback) or even crash the interpreter (measured: SIGSEGV); so during
    this phase an interrupt is only recorded, and honoured right after. Returns the namespace and
    whether an interrupt arrived.
    """
    import signal
    import threading

    hits: list[int] = []
    shield = threading.current_thread() is threading.main_thread()
    prev = signal.signal(signal.SIGINT, lambda signum, frame: hits.append(signum)) if shield else None
    try:
        a = build_parser().parse_args(argv)
        if a.command in TORCH_COMMANDS and not hits:
            import torch  # noqa: F401 - imported here, under the shield, for the command
    finally:
        if shield:
            signal.signal(signal.SIGINT, prev)
    return a, bool(hits)


def _main(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        a, interrupted = _parse_shielded(argv)
    except SystemExit as e:  # argparse: a usage error (its one line is printed), --help, --version
        return e.code if isinstance(e.code, int) else 0 if e.code is None else 2
    if interrupted:
        raise KeyboardInterrupt
    a.argv = argv
    logging.basicConfig(level=logging.DEBUG if a.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("fvcore", "iopath"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    with _interrupts_seen() as hits:
        try:
            _check_outputs(a)
            return int(a.func(a) or 0)
        except Exception as e:
            # After a Ctrl-C nothing more is imported: a Ctrl-C inside an import (scipy, sklearn,
            # decimal, ...) can surface as any error, and importing that module again printed
            # CPython's own "mpd_setminalloc" warning (measured, 2 s into `mro train`). So the
            # interrupt is checked first, and the user-error classes are imported only without one.
            if hits:
                raise KeyboardInterrupt from None
            if not isinstance(e, _user_errors()):
                raise
            if a.verbose:
                raise
            msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            print(f"mro: error: {msg}", file=sys.stderr)
            return 2


@contextlib.contextmanager
def _interrupts_seen():
    """SIGINT raises ``KeyboardInterrupt`` as usual, and is also recorded: an interrupt that lands in
    the middle of a library's import can leave that library half-initialised and surface later as an
    unrelated error (measured: ``AttributeError: Module 'scipy' has no attribute '_lib'`` after a
    Ctrl-C 2 s into `mro train`); with the record, that error is reported as the interrupt it was."""
    import signal
    import threading

    hits: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield hits
        return

    def on_sigint(signum, frame):
        hits.append(signum)
        raise KeyboardInterrupt

    prev = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield hits
    finally:
        signal.signal(signal.SIGINT, prev)


if __name__ == "__main__":
    raise SystemExit(main())
