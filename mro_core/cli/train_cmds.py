"""``mro data`` and ``mro train``: write a synthetic dataset; train a supernet with uniform masks."""

from __future__ import annotations

import argparse
import logging
import os

from mro_core.cli.common import UsageError, print_json, request_of

log = logging.getLogger("mro")


def cmd_data(a: argparse.Namespace) -> int:
    from mro_core.data.npz import save_npz

    if a.kind == "inspect":
        from mro_core.cli.data_cmds import cmd_data_inspect

        return cmd_data_inspect(a)
    if not a.out:
        raise UsageError("`mro data synthetic` needs --out FILE.npz")
    a.dataset = "synthetic"
    ds, _ = request_of(a).load_data()
    path = save_npz(ds, a.out)
    if a.json:
        print_json({"out": str(path), "modalities": ds.modalities, "planted_paths": ds.planted_paths,
                    "sizes": {k: len(v) for k, v in ds.splits.items()}})
    else:
        print(f"wrote {path}: {ds.summary()}; planted {', '.join(ds.planted_paths or ())}")
    return 0


def cmd_train(a: argparse.Namespace) -> int:
    from mro_core.training.train import train_supernet

    req = request_of(a)
    preset = req.get_preset()
    ds, desc = req.load_data()
    mcfg = req.model_config(preset, ds)
    tcfg = req.train_config(preset)
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
