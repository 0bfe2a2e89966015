"""Tokenisation of mfeat, measured on VALIDATION: one token per view vs chunks of 16 features.

The full pairwise CMT (all 30 paths) trained alone, preset ``mfeat``, few epochs, a few seeds;
prints validation accuracy / macro-F1 and seconds per run. Usage (from the repository root)::

    PYTHONPATH=. python scripts/mfeat_tokens.py --seeds 3 --epochs 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from mro_core.config import get_preset, model_config_for
from mro_core.data.mfeat import CHUNK_WIDTH, TOKENS, load_mfeat
from mro_core.paths import PathSpace
from mro_core.training.checkpoint import build_model
from mro_core.training.train import evaluate_masks, train_supernet


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=5)
    a = ap.parse_args()
    preset = get_preset("mfeat")
    with tempfile.TemporaryDirectory() as tmp:
        for tokens in TOKENS:
            ds = load_mfeat(tokens=tokens)
            mcfg = model_config_for(preset, modalities=ds.modalities, input_dims=ds.input_dims,
                                    task=ds.task, num_classes=ds.num_classes)
            full = PathSpace(ds.modalities).full_mask()
            accs, f1s, secs = [], [], []
            for seed in range(a.seeds):
                tcfg = replace(preset.train, epochs=a.epochs, seed=seed, device="cpu")
                t0 = time.perf_counter()
                ck = train_supernet(ds, mcfg, tcfg, out=Path(tmp) / f"{tokens}-{seed}.pt", fixed_mask=full,
                                    table=False, progress=False)
                r = evaluate_masks(build_model(ck), ds.splits["valid"], [full])[0]
                secs.append(time.perf_counter() - t0)
                accs.append(r["acc"]), f1s.append(r["f1"])
                print(f"{tokens} (width {CHUNK_WIDTH if tokens == 'chunk' else 'view'}) seed {seed}: "
                      f"valid acc {r['acc']:.4f} f1 {r['f1']:.4f} ({secs[-1]:.0f} s)", flush=True)
            print(f"{tokens}: valid acc mean {statistics.mean(accs):.4f} (min {min(accs):.4f}, max {max(accs):.4f}), "
                  f"f1 mean {statistics.mean(f1s):.4f}, {statistics.mean(secs):.0f} s/run", flush=True)


if __name__ == "__main__":
    main()
