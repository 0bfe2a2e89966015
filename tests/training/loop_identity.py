"""Fingerprints of tiny seeded runs of the three trainings (supernet, search, baselines), recorded
before the training skeleton was factored out (issue 10, item 3); ``test_loop_identity`` asserts the
code still gives them. Run ``python tests/training/loop_identity.py`` to re-record (only when a
change of results is intended and explained).

A fingerprint is the JSON of the histories, picks, mask tables and metrics (wall-clock times
dropped) and SHA-256 digests of every tensor in the checkpoints (weights, optimizer, RNG streams,
prior state). :func:`differences` compares what must be exact exactly (tensor digests, so weights
bit for bit; picks, masks, integer counts, strings) and floating metrics to ``REL_TOL`` relative:
float64 statistics computed by numpy/scipy (a Pearson correlation, a mean over a mask table) may
differ in the last bit between CPUs (SIMD widths change summation order), while anything that fed
back into training would show up in the weights' digests."""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "loop_identity.json"
DROP = {"seconds", "checkpoint", "created", "created_at", "timestamp", "code_version", "checksums"}
"""Keys left out: wall-clock times, paths, the search code version (changes with the code), and the
checkpoint's CRC-32 ``checksums`` (issue 20): a function of the weights, which are compared bit for bit
already, and absent from checkpoints recorded before it."""


def _digest(x):
    """A JSON-able fingerprint: tensors and arrays become digests, ``DROP`` keys go."""
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu().contiguous()
        return f"tensor{tuple(t.shape)}:{t.dtype}:" + hashlib.sha256(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"").hexdigest()[:16]
    if isinstance(x, np.ndarray):
        return f"array{x.shape}:{x.dtype}:" + hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()[:16]
    if isinstance(x, dict):
        return {str(k): _digest(v) for k, v in sorted(x.items(), key=lambda kv: str(kv[0])) if k not in DROP}
    if isinstance(x, (list, tuple)):
        return [_digest(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (str, int, bool)) or x is None:
        return x
    return repr(x)


REL_TOL = 1e-9
"""Relative tolerance of floating metrics (exact values: tensors, ints, strings, bools)."""
ABS_TOL = 1e-12
"""Absolute floor, for metrics that are zero up to rounding."""


def differences(got, want, where: str = "") -> list[str]:
    """Every place where ``got`` and ``want`` (two fingerprints) disagree: floats beyond
    ``REL_TOL`` relative (``ABS_TOL`` absolute), anything else not equal."""
    if isinstance(want, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        ok = math.isclose(got, want, rel_tol=REL_TOL, abs_tol=ABS_TOL) or (math.isnan(got) and math.isnan(want))
        return [] if ok else [f"{where}: {got!r} != {want!r} (beyond {REL_TOL:g} relative)"]
    if isinstance(want, dict) and isinstance(got, dict):
        if set(got) != set(want):
            return [f"{where}: keys {sorted(set(got) ^ set(want))} differ"]
        return [d for k in sorted(want) for d in differences(got[k], want[k], f"{where}/{k}")]
    if isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            return [f"{where}: {len(got)} items != {len(want)}"]
        return [d for i, (g, w) in enumerate(zip(got, want)) for d in differences(g, w, f"{where}[{i}]")]
    return [] if got == want and type(got) is type(want) else [f"{where}: {got!r} != {want!r}"]


def same_rounding(got: dict, want: dict) -> bool:
    """Whether this machine rounds float32 as the recording one did. The canary is the Concat+MLP
    baseline's history (the simplest model through the shared loop): on another CPU (AVX2 against
    AVX-512 kernels, say) its losses differ in the 7th digit, and then no weight can match bit for bit."""
    return not differences(got["baseline_concat_mlp"], want["baseline_concat_mlp"])


SAMPLED = ("search_k5_none",)
"""Runs whose candidate masks are drawn from the learned prior: a last-bit difference in p changes a
draw, and from there the mask table, so on another machine only their structure is compared."""


def structure(x):
    """What a fingerprint must keep on any machine: keys, list lengths, types, tensor shapes and dtypes
    (not their digests), strings, ints and bools; floats become their type."""
    if isinstance(x, dict):
        return {k: structure(v) for k, v in x.items()}
    if isinstance(x, list):
        return [structure(v) for v in x]
    if isinstance(x, str) and x.startswith(("tensor(", "array(")):
        return x.rsplit(":", 1)[0]
    if isinstance(x, float):
        return "float"
    return x


def portable_differences(got: dict, want: dict) -> list[str]:
    """The comparison made on a machine that rounds differently (see :func:`same_rounding`): every
    run's structure, and every value that does not depend on float rounding (picks, integer counts,
    the masks of the enumerated k = 3 search), except in the ``SAMPLED`` runs, structure only there."""
    out: list[str] = []
    for name in sorted(want):
        g, w = structure(got.get(name)), structure(want[name])
        if name in SAMPLED:
            g, w = _shape_only(g), _shape_only(w)
        out += differences(g, w, f"/{name}")
    return out


def _shape_only(x):
    """``structure`` with strings, ints and bools also reduced to their type (for ``SAMPLED`` runs)."""
    if isinstance(x, dict):
        return {k: _shape_only(v) for k, v in x.items() if not _is_mask_key(k)}
    if isinstance(x, list):
        return [_shape_only(v) for v in x]
    if isinstance(x, str) and x.startswith(("tensor(", "array(")):
        return x
    return type(x).__name__


def _is_mask_key(k: str) -> bool:
    """Keys that are masks themselves (FLOPs tables keyed by mask), which a different draw renames."""
    return len(k) > 1 and set(k) <= {"0", "1"}


def _file(path: Path) -> dict:
    """Per top-level key of the checkpoint, its contents (tensors as digests: bit for bit)."""
    raw = torch.load(path, weights_only=True)
    return {k: _digest(v) for k, v in sorted(raw.items()) if k not in DROP}


def fingerprints(tmp: Path) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the test suite runs (tests/conftest.py); reductions depend on it
    try:
        return _fingerprints(tmp)
    finally:
        torch.set_num_threads(threads)


def _fingerprints(tmp: Path) -> dict:
    from mro_core.config import SearchConfig, SyntheticConfig, get_benchmark, get_preset, model_config_for
    from mro_core.data.synthetic import make_synthetic
    from mro_core.search.run import run_search
    from mro_core.training.train import train_supernet
    from mro_core.training.baselines import train_baseline  # before the refactor: mro_core.model.baselines

    ds = make_synthetic(SyntheticConfig(n_train=64, n_valid=32, n_test=32, seed=2))
    p = get_preset("demo")
    mcfg = model_config_for(p, modalities=ds.modalities, input_dims=ds.input_dims, task=ds.task, d_model=16)
    tcfg = replace(p.train, epochs=2, batch_size=32, device="cpu", seed=5)
    out: dict = {}

    ck = train_supernet(ds, mcfg, tcfg, out=tmp / "sn.pt", progress=False)
    out["train_supernet"] = {"history": _digest(ck.history), "file": _file(tmp / "sn.pt")}
    full = tuple([1] * 6)
    train_supernet(ds, mcfg, replace(tcfg, epochs=1), out=tmp / "fx.pt", progress=False, fixed_mask=full, table=False)
    out["train_fixed"] = _file(tmp / "fx.pt")

    scfg = SearchConfig(warmup_epochs=1, warmup_until=0.0, budget_mflops=0.2)
    res = run_search(ds, mcfg, tcfg, scfg, out=tmp / "s.pt")
    out["search_k3"] = {"result": _digest(res.to_dict()), "rows": _digest(res.rows), "file": _file(tmp / "s.pt")}

    d5 = make_synthetic(replace(get_benchmark("ring5"), n_train=32, n_valid=16, n_test=16, num_keys=4, seq_len=4,
                                min_len=4))
    m5 = model_config_for(p, modalities=d5.modalities, input_dims=d5.input_dims, task=d5.task, d_model=8, num_heads=2)
    t5 = replace(p.train, epochs=2, batch_size=16, device="cpu", seed=3)
    for abl in ("none", "random_search"):
        r5 = run_search(d5, m5, t5, SearchConfig(warmup_epochs=1, warmup_until=0.0, top_n=8, eval_masks=8,
                                                 ablation=abl), out=tmp / f"s5{abl}.pt")
        out[f"search_k5_{abl}"] = {"result": _digest(r5.to_dict()), "rows": _digest(r5.rows),
                                   "file": _file(tmp / f"s5{abl}.pt")}

    for kind in ("concat_mlp", "embracenet"):
        out[f"baseline_{kind}"] = _digest(train_baseline(ds, kind, mcfg, tcfg))
    return out


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    with tempfile.TemporaryDirectory() as d:
        fp = fingerprints(Path(d))
    FIXTURE.write_text(json.dumps(fp, indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size} bytes)")
