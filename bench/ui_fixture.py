"""The k = 6 workspace the UI benchmark runs on: built at start-up in a temporary folder, not shipped.

:func:`build_k6_workspace` trains a tiny k = 6 supernet (30 paths) for one epoch on the built-in
synthetic generator, evaluates ``n_masks`` (default 10,000) masks drawn by
:func:`mro_core.search.selection.sample_masks_stratified` with shared weights
(:func:`mro_core.training.train.evaluate_masks`, as ``mro eval --sample-masks N`` does), puts them in
the checkpoint's per-mask table, and records a finished search run holding the same masks in the
workspace's run store (the Pareto page draws runs from the store). Every metric is a real
shared-weight evaluation; MFLOPs come from the checkpoint's fvcore per-part counts
(:func:`mro_core.model.flops.flops_of`). One epoch on a few hundred samples gives a supernet that
has learned little: the numbers are real but not meaningful, which is all a latency bench needs.
As after a real search, the run's checkpoint table and the run's store rows hold the same masks, so
the Pareto page (checkpoint table included by default) draws 2 x ``n_masks`` points.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

MODALITIES = "T,A,V,P,E,G"
"""Six modality names: 6 x 5 = 30 paths."""
PLANTED = "T->V,A->T,V->P,E->G"
FIXTURE_DATA = {"n_train": 256, "n_valid": 128, "n_test": 64, "data_seed": 0}
"""Small splits: training and the 10,000-mask evaluation take about a minute on 2 busy cores."""
FIXTURE_MODEL = {"d_model": 16, "epochs": 1, "seed": 0}
RUN_NAME = "bench-k6"


@dataclass
class Fixture:
    """What :func:`build_k6_workspace` made.

    Attributes:
        workspace: the run store folder.
        checkpoint: the k = 6 checkpoint (its table holds the evaluated masks).
        run_id: the finished search run whose store rows are the same masks.
        n_masks: masks evaluated with shared weights (the sample holds the 30 single-path masks
            and the full mask, so the table has exactly this many).
        seconds: wall seconds of each build step (``train``, ``evaluate``, ``store``).
    """

    workspace: Path
    checkpoint: Path
    run_id: str
    n_masks: int
    seconds: dict[str, float] = field(default_factory=dict)


def _request():
    from mro_core.runs.request import SearchRequest

    return SearchRequest(modalities=MODALITIES, planted=PLANTED, name=RUN_NAME, **FIXTURE_DATA, **FIXTURE_MODEL)


def build_k6_workspace(workspace: Path, *, n_masks: int = 10_000, seed: int = 0) -> Fixture:
    """Train, evaluate and record the k = 6 fixture under ``workspace`` (created if missing).

    Args:
        workspace: the run store folder the dashboard is served with.
        n_masks: distinct masks to evaluate with shared weights (stratified over the path count).
        seed: seed of the mask sample.
    """
    from mro_core.config import to_dict
    from mro_core.model.flops import flops_of
    from mro_core.runs.store import RunStore
    from mro_core.search.selection import sample_masks_stratified
    from mro_core.training.checkpoint import build_model, save_checkpoint
    from mro_core.training.train import evaluate_masks, train_supernet

    workspace.mkdir(parents=True, exist_ok=True)
    req = _request()
    preset = req.get_preset()
    ds, desc = req.load_data()
    mcfg, tcfg = req.model_config(preset, ds), req.train_config(preset)
    out = workspace / "bench-k6" / "search.pt"
    seconds: dict[str, float] = {}

    t0 = time.perf_counter()
    ckpt = train_supernet(ds, mcfg, tcfg, out=out, data_desc=desc, progress=False)
    seconds["train"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    model = build_model(ckpt).eval()
    space = model.space
    masks = sample_masks_stratified(space, n_masks, seed=seed)
    rows = evaluate_masks(model, ds.splits["valid"], masks, batch_size=tcfg.eval_batch_size)
    for r in rows:
        r["mflops"] = flops_of(ckpt.flops, space, space.parse(r["mask"]))
        r["paths"] = r["mask"].count("1")
    table = {r["mask"]: r for r in ckpt.mask_table or []}
    table.update((r["mask"], r) for r in rows)
    ckpt.mask_table = list(table.values())
    save_checkpoint(ckpt, out)
    seconds["evaluate"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    store = RunStore(workspace)
    run_id = store.create_run(RUN_NAME, "search", {"request": req.to_dict(), "train": to_dict(tcfg),
                                                   "dataset": req.dataset, "bench_fixture": True},
                              total_epochs=tcfg.epochs)
    store.update_run(run_id, checkpoint=str(out.resolve()), epoch=tcfg.epochs)
    store.put_masks(run_id, rows, "valid", "supernet")
    store.finish(run_id, "done", result={"bench_fixture": f"{len(rows)} masks evaluated with shared weights"})
    seconds["store"] = time.perf_counter() - t0
    return Fixture(workspace, out, run_id, len(rows), seconds)
