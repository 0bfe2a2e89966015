"""What every ``mro`` command shares: the usage error, JSON and table printing, the option groups
and the :class:`~mro_core.runs.request.SearchRequest` a command line describes."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Sequence

from mro_core.cli import numbers as N
from mro_core.runs.request import SearchRequest

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent.parent / "checkpoints" / "demo.pt"


class UsageError(ValueError):
    """A bad command line; printed as one line, exit code 2."""


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


def add_synthetic_args(p: argparse.ArgumentParser) -> None:
    from mro_core.config import BENCHMARKS

    g = p.add_argument_group("synthetic benchmark (--dataset synthetic)")
    g.add_argument("--benchmark", choices=sorted(BENCHMARKS),
                   help="named benchmark: default (k = 3, planted 011011), ring5 (k = 5 planted ring), "
                        "ring5w (weighted ring); the flags below override it")
    g.add_argument("--modalities", help="comma-separated modality names (default T,A,V)")
    g.add_argument("--planted", help="planted paths, e.g. 'T->V,A->T,V->T,V->A' (the default)")
    g.add_argument("--num-keys", type=N.whole(2, 1024), help="key alphabet size K (default 8)")
    g.add_argument("--seq-len", type=N.SEQ, help="max sequence length (default 12)")
    g.add_argument("--min-len", type=N.SEQ, help="min sequence length, >= num-keys (default 8)")
    g.add_argument("--extra-dims", type=N.whole(0, N.MAX_WIDTH), help="extra zero channels per modality (default 0)")
    g.add_argument("--noise", type=N.real(0), help="label noise std (default 0.05)")
    g.add_argument("--n-train", type=N.SAMPLES, help="training samples (default 3000)")
    g.add_argument("--n-valid", type=N.SAMPLES, help="validation samples (default 600)")
    g.add_argument("--n-test", type=N.SAMPLES, help="test samples (default 600)")
    g.add_argument("--data-seed", type=N.SEED, help="generator seed (default 0)")


def add_data_args(p: argparse.ArgumentParser) -> None:
    from mro_core.data import DATASETS

    p.add_argument("--dataset", default="synthetic", choices=DATASETS, help="data source (default synthetic)")
    p.add_argument("--data-path", help="file or folder of the data (npz, mosei, mosi, meld)")
    p.add_argument("--unaligned", action="store_true", help="MOSEI/MOSI: read the unaligned file")
    p.add_argument("--window", type=N.whole(1, 1000), default=5, help="MELD: utterances of context per sample (default 5)")
    p.add_argument("--split-seed", type=N.SEED, default=None,
                   help="MELD: seed of the validation dialogues carved from train, independent of --seed (default 0)")
    add_synthetic_args(p)


def add_train_args(p: argparse.ArgumentParser) -> None:
    from mro_core.config import PRESETS

    p.add_argument("--preset", default="demo", choices=sorted(PRESETS), help="hyper-parameter preset (default demo)")
    p.add_argument("--epochs", type=N.COUNT, help="training epochs (preset default)")
    p.add_argument("--batch-size", type=N.COUNT, help="batch size (preset default)")
    p.add_argument("--lr", type=N.real(0, lo_open=True), help="AdamW learning rate (preset default)")
    p.add_argument("--weight-decay", type=N.real(0), help="AdamW weight decay (preset default)")
    p.add_argument("--masks-per-step", type=N.whole(1, 4096), help="masks sampled per step, n (preset default 4)")
    p.add_argument("--seed", type=N.SEED, help="seed for init, data order and mask sampling (default 0)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="where to train (default auto)")
    p.add_argument("--amp", choices=("off", "bf16", "fp16"), help="autocast on CUDA (default off)")
    p.add_argument("--d-model", type=N.WIDTH, help="override the preset's model width")
    p.add_argument("--layers-per-path", type=N.whole(1, 64), help="override the preset's layers per path")
    p.add_argument("--dropout", type=N.real(0, 1, hi_open=True), help="override the preset's dropout")


def add_search_args(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """Options of the search itself, shared by `mro search` and `mro table`."""
    from mro_core.config import GRAD_STATS, INCLUSIONS, RANK_LOSSES, RANK_TARGETS

    g = p.add_argument_group("search")
    g.add_argument("--warmup", type=N.COUNT0, help="minimum epochs of uniform sampling before the prior guides (default 3)")
    g.add_argument("--warmup-until", type=N.real(0),
                   help="uniform sampling until the full mask's valid loss <= this x the mean predictor's "
                        "(default 0.6; 0 = a fixed --warmup)")
    g.add_argument("--warmup-max", type=N.COUNT0, help="cap of the adaptive warm-up in epochs (default half the epochs)")
    g.add_argument("--uniform-mix", type=N.real(0, 1, hi_open=True), help="share of guided draws taken uniformly (default 0.25)")
    g.add_argument("--inclusion", choices=INCLUSIONS, help="p -> inclusion probabilities (default relative)")
    g.add_argument("--grad-stat", choices=GRAD_STATS, help="var_g per mask use, or raw (default per_use)")
    g.add_argument("--rank-momentum", type=N.real(0, 1, hi_open=True),
                   help="EMA momentum of the rank targets (default 0.9; 0 = all-time mean)")
    g.add_argument("--paper-literal", action="store_true",
                   help="start from the paper's Table 1 read literally (fixed 3-epoch warm-up, no uniform mix, "
                        "paper inclusion, raw var_g, all-time rank targets, rank target both); flags still win")
    g.add_argument("--rank-loss", choices=RANK_LOSSES, help="Eq. (2) norm (preset default)")
    g.add_argument("--rank-target", choices=RANK_TARGETS, help="what the rank terms train (default prior)")
    g.add_argument("--rank-weight", type=N.real(0), help="weight of the rank terms (default 1.0)")
    g.add_argument("--rho", type=N.real(0, 1, lo_open=True), help="target path density of paper inclusion (default 0.5)")
    g.add_argument("--budget-mflops", type=N.real(0, lo_open=True), help="FLOPs budget of the 'budget' pick")
    g.add_argument("--finetune-epochs", type=N.COUNT0, help="train the chosen subnet alone afterwards (default 0)")
    return g


def request_of(a: argparse.Namespace) -> SearchRequest:
    """The request a parsed command line describes (search, train and table options alike)."""
    return SearchRequest.from_namespace(a)


def store_of(a: argparse.Namespace):
    from mro_core.runs.store import RunStore

    return RunStore(a.workspace)
