"""A checkpoint as the dashboard sees it: its per-mask table, FLOPs, prior, and lazy extras.

Explore reads a mask's metrics from the checkpoint's cached per-mask table (``mask_table``), never
by re-running the model per click. Two things do touch the model, once per mask and cached:

- a mask missing from the table (k >= 5 tables hold only the single-path masks and the full
  mask; a checkpoint saved mid-training has no table) is evaluated with shared weights by
  :func:`mro_core.training.train.evaluate_masks`;
- the latency figure: timed single-thread CPU forwards of one batch through the subnet,
  interleaved with the full mask, so that a difference can be told from noise
  (:mod:`app.services.latency`).

A :class:`CheckpointView` is shared by every browser session (the page caches it with
``st.cache_resource`` keyed on path and mtime), so its caches are guarded by a lock.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from mro_core.paths import MAX_EXHAUSTIVE_MASKS, Mask, MaskError, PathSpace

from app.services.latency import LATENCY_PAIRS, LatencyComparison
from app.services.latency import compare as compare_latency
from app.services.metrics_view import MetricSpec, metric_specs, metric_value, primary

log = logging.getLogger(__name__)

PAPER_MASK = "011011"
"""The paper's Full-MRO subnet for k = 3 (T->V, A->T, V->T, V->A)."""
BEST_IS_PAPER = "Best found = paper"
"""Label of the one quick button when the table's best mask is the paper's 011011."""

LATENCY_THREADS = 1
"""Torch threads while timing. One thread gives stable numbers on a shared CPU: with two threads
competing with other processes, the same forward took 17 ms to 1 s in a measurement here."""

EVAL_THREADS = 1
"""Torch threads for the shared-weight evaluation of a mask missing from the table. Measured on 2
busy cores (load 4), one k = 6 mask on 128 samples: 1.3 s with two threads, stalled on each other
at every op while other processes held the cores, against ~0.1 s with one."""

_TIMING_LOCK = threading.Lock()
"""Process-wide: one timing or evaluation at a time, so that the thread setting below is restored
correctly and two sessions' measurements do not disturb each other."""



@contextmanager
def torch_threads(n: int):
    """Run the block with ``n`` torch intra-op threads, restoring the previous count after.
    Callers hold ``_TIMING_LOCK`` (the setting is process-wide)."""
    import torch

    prev = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(prev)


@dataclass(frozen=True)
class CheckpointOption:
    """One entry of the sidebar picker."""

    path: str
    label: str
    run_id: str | None = None


def checkpoint_options(demo: str | Path, runs: Iterable[Any] = ()) -> list[CheckpointOption]:
    """The demo checkpoint, then the checkpoint of every run that has one on disk.

    Args:
        demo: path of the shipped demo checkpoint (listed even when missing, so the error shows).
        runs: run records with ``id``, ``name`` and ``checkpoint`` attributes.
    """
    demo_path = str(Path(demo).resolve())
    out = [CheckpointOption(demo_path, f"demo ({Path(demo).name})")]
    seen = {demo_path}
    for r in runs:
        ck = getattr(r, "checkpoint", None)
        if not ck:
            continue
        p = Path(ck)
        if not p.is_file():
            continue
        key = str(p.resolve())
        if key in seen:
            continue
        seen.add(key)
        name = getattr(r, "name", None) or getattr(r, "id", "run")
        out.append(CheckpointOption(key, f"run {name} ({getattr(r, 'id', '?')})", getattr(r, "id", None)))
    return out


DEMO_TOKEN = "demo"
"""The URL name of the shipped demo checkpoint (runs' checkpoints go by their run id)."""


def option_token(option: CheckpointOption) -> str:
    """Short, stable name of a picker entry for the URL: ``demo`` or the run id."""
    return option.run_id or DEMO_TOKEN


def option_for_token(options: Iterable[CheckpointOption], token: str | None) -> CheckpointOption | None:
    """The picker entry a URL token names (``demo`` or a run id); None when none matches."""
    for o in options:
        if token and option_token(o) == token:
            return o
    return None


@dataclass
class MaskMetrics:
    """What Explore shows for one mask.

    Attributes:
        mask: bit string.
        row: the metric row (table row or fresh evaluation), None when unavailable.
        mflops: MFLOPs per sample, None when unknown.
        percent_of_full: mflops as a percentage of the full mask's.
        source: ``"table"``, ``"evaluated"`` or ``"unavailable"``.
        note: why the metrics are unavailable (empty otherwise).
    """

    mask: str
    row: dict | None
    mflops: float | None
    percent_of_full: float | None
    source: str
    note: str = ""


_UNSET = object()
"""Not computed yet (None is a valid answer)."""


@dataclass
class _Lazy:
    model: Any = None
    dataset: Any = None
    dataset_error: str | None = None
    warmed: bool = False
    latency_source: str = ""
    latency: dict[str, LatencyComparison] = field(default_factory=dict)
    evaluated: dict[str, dict] = field(default_factory=dict)


class CheckpointView:
    """Read-only view of one checkpoint file for the dashboard.

    Args:
        path: the checkpoint file.

    Raises:
        mro_core.training.checkpoint.CheckpointError: a missing or unusable file.
    """

    def __init__(self, path: str | Path) -> None:
        from mro_core.training.checkpoint import load_checkpoint

        self.path = Path(path)
        self.ckpt = load_checkpoint(self.path)
        cfg = self.ckpt.model_config
        self.space = PathSpace(cfg.modalities)
        self.task = cfg.task
        self.specs: tuple[MetricSpec, ...] = metric_specs(self.task)
        self.table: dict[str, dict] = {}
        for r in self.ckpt.mask_table or []:
            if isinstance(r, Mapping) and isinstance(r.get("mask"), str):
                self.table[r["mask"]] = dict(r)
        self.full_mask: Mask = self.space.full_mask()
        self.full_bits = PathSpace.to_bits(self.full_mask)
        self._lock = threading.RLock()
        self._lazy = _Lazy()
        self._best: str | None | object = _UNSET

    # ------------------------------------------------------------------------------ summary
    @property
    def data_name(self) -> str:
        return str((self.ckpt.data or {}).get("name") or "unknown")

    @property
    def planted(self) -> tuple[str, ...]:
        syn = (self.ckpt.data or {}).get("synthetic") or {}
        return tuple(syn.get("planted") or ())

    @property
    def seq_lens(self) -> list[int] | None:
        seq = (self.ckpt.flops or {}).get("seq_lens")
        return [int(x) for x in seq] if seq else None

    def describe(self) -> str:
        c = self.ckpt
        return (f"{self.data_name} data, {c.model_config.task}, k={self.space.k} "
                f"({', '.join(self.space.modalities)}), {c.epoch} epochs, "
                f"{len(self.table)} masks in the table")

    # ---------------------------------------------------------------------------- masks
    def parse(self, text: str) -> Mask:
        """The mask of any accepted spelling (raises MaskError): the one parse, at the page's edge;
        everything below takes the :data:`~mro_core.paths.Mask`."""
        return self.space.parse(text)

    def best_mask(self) -> str | None:
        """The best mask of the table by the task's primary metric (None without a table).

        Computed once: the table does not change after loading, and Explore asks on every toggle
        (a 10,000-mask table took 30-70 ms each time on 2 busy cores)."""
        with self._lock:
            if self._best is _UNSET:
                spec = primary(self.task)
                scored = [(metric_value(r, spec.key), b) for b, r in self.table.items()]
                scored = [(v, b) for v, b in scored if v is not None]
                self._best = (max if spec.higher_is_better else min)(scored, key=lambda t: t[0])[1] \
                    if scored else None
            return self._best

    def quick_masks(self) -> dict[str, str]:
        """Label -> bit string: the full mask, the best in the table, the paper's 011011 (k = 3);
        one :data:`BEST_IS_PAPER` button when the best mask is the paper's."""
        out = {"Full": self.full_bits}
        best = self.best_mask()
        paper = self.space.k == 3
        if best and paper and best == PAPER_MASK:  # one button, not two that set the same mask
            out[BEST_IS_PAPER] = best
            return out
        if best:
            out["Best found"] = best
        if paper:
            out["Paper 011011"] = PAPER_MASK
        return out

    def default_mask(self) -> str:
        return self.full_bits

    # -------------------------------------------------------------------------- metrics
    def mflops(self, mask: Mask) -> float | None:
        """MFLOPs per sample: the table row, else the checkpoint's FLOPs parts, else analytic."""
        row = self.table.get(PathSpace.to_bits(mask))
        if row is not None and metric_value(row, "mflops") is not None:
            return float(row["mflops"])
        fl = self.ckpt.flops or {}
        if isinstance(fl.get("parts"), Mapping):
            from mro_core.model.flops import flops_of

            try:
                return float(flops_of({"mflops": fl.get("mflops") or {}, "parts": fl["parts"]}, self.space, mask))
            except (KeyError, IndexError, TypeError):
                pass
        seq = self.seq_lens
        if seq is None:
            ds = self._dataset()
            seq = list(ds.seq_lens) if ds is not None else None
        if seq is None:
            return None
        from mro_core.model.flops import analytic_flops

        return analytic_flops(self.ckpt.model_config, mask, seq) / 1e6

    def metrics(self, mask: Mask) -> MaskMetrics:
        """Metrics of ``mask``: from the table, else evaluated once with shared weights and cached."""
        bits = PathSpace.to_bits(mask)
        row = self.table.get(bits)
        source, note = "table", ""
        if row is None:
            row, note = self._evaluated_row(mask)
            source = "evaluated" if row is not None else "unavailable"
        mf = self.mflops(mask)
        full = self.mflops(self.full_mask)
        pct = 100.0 * mf / full if mf is not None and full else None
        return MaskMetrics(bits, row, mf, pct, source, note)

    def _evaluated_row(self, mask: Mask) -> tuple[dict | None, str]:
        bits = PathSpace.to_bits(mask)
        with self._lock:
            if bits in self._lazy.evaluated:
                return self._lazy.evaluated[bits], ""
            model, ds = self._model(), self._dataset()
            if model is None or ds is None:
                return None, (f"mask {bits} is not in the checkpoint's table and its data cannot be opened "
                              f"({self._lazy.dataset_error}); only FLOPs are shown")
            from mro_core.training.train import evaluate_masks

            # Without a table at all (a mid-training checkpoint), one pass evaluates every mask for
            # about the cost of one (path vectors are shared), so do them all at once when feasible.
            if not self.table and self.space.num_masks <= MAX_EXHAUSTIVE_MASKS:
                masks = self.space.all_masks()
            else:
                masks = [tuple(mask)]
            t0 = time.perf_counter()
            with _TIMING_LOCK, torch_threads(EVAL_THREADS):
                rows = evaluate_masks(model, ds.splits["valid"], masks,
                                      batch_size=self.ckpt.train_config.eval_batch_size, device="cpu")
            log.info("evaluated %d mask(s) of %s in %.2fs", len(rows), self.path, time.perf_counter() - t0)
            for r in rows:
                r["paths"] = r["mask"].count("1")
                self._lazy.evaluated[r["mask"]] = r
            return self._lazy.evaluated.get(bits), ""

    # ---------------------------------------------------------------------- model, data
    def _model(self):
        with self._lock:
            if self._lazy.model is None:
                from mro_core.training.checkpoint import build_model

                self._lazy.model = build_model(self.ckpt).eval()
            return self._lazy.model

    def _dataset(self):
        """The checkpoint's dataset (regenerated for synthetic data); None with a reason on failure."""
        with self._lock:
            if self._lazy.dataset is None and self._lazy.dataset_error is None:
                from mro_core.training.checkpoint import dataset_for

                try:
                    self._lazy.dataset = dataset_for(self.ckpt)
                except Exception as e:  # noqa: BLE001 - any loader failure becomes a message in the UI
                    self._lazy.dataset_error = str(e).splitlines()[0] if str(e) else type(e).__name__
                    log.warning("cannot open the data of %s: %s", self.path, self._lazy.dataset_error)
            return self._lazy.dataset

    def _latency_batch(self):
        """One validation batch (train batch size) when the data is cheap to open, else random
        inputs of the same shapes (the time of a forward depends on shapes, not values)."""
        from mro_core.data.base import iter_batches

        n = self.ckpt.train_config.batch_size
        if self.data_name == "synthetic" or self._lazy.dataset is not None:
            ds = self._dataset()
            if ds is not None:
                return next(iter(iter_batches(ds.splits["valid"], n))), "a validation batch"
        import torch

        from mro_core.data.base import Batch

        cfg = self.ckpt.model_config
        seq = self.seq_lens or [16] * self.space.k
        g = torch.Generator().manual_seed(0)
        x = {m: torch.randn(n, L, D, generator=g) for m, L, D in zip(cfg.modalities, seq, cfg.input_dims)}
        v = {m: torch.ones(n, L, dtype=torch.bool) for m, L in zip(cfg.modalities, seq)}
        return Batch(x, v, torch.zeros(n)), "random inputs of the data's shapes"

    def latency(self, mask: Mask) -> LatencyComparison | None:
        """Latency of the subnet ``mask`` against the full mask on CPU (one thread): one batch,
        :data:`~app.services.latency.LATENCY_PAIRS` interleaved (mask, full) timed forwards after an
        untimed one of each; measured once per mask, then cached. None when the forward fails."""
        import torch

        bits = PathSpace.to_bits(mask)
        with self._lock:
            if bits in self._lazy.latency:
                return self._lazy.latency[bits]
            try:
                model = self._model()
                batch, self._lazy.latency_source = self._latency_batch()
                mask = tuple(mask)
                full = self.full_mask

                def timed(m: Mask) -> float:
                    t0 = time.perf_counter()
                    model(batch, m)
                    return 1000.0 * (time.perf_counter() - t0)

                with _TIMING_LOCK, torch_threads(LATENCY_THREADS), torch.inference_mode():
                    if not self._lazy.warmed:
                        model(batch, full)
                        self._lazy.warmed = True
                    model(batch, mask)  # untimed: first use of this mask's shapes
                    mask_times, full_times = [], []
                    for i in range(LATENCY_PAIRS):  # alternate which goes first: no order bias
                        if i % 2:
                            full_times.append(timed(full))
                            mask_times.append(timed(mask))
                        else:
                            mask_times.append(timed(mask))
                            full_times.append(timed(full))
            except (MaskError, RuntimeError, ValueError) as e:
                log.warning("latency of %s on %s failed: %s", bits, self.path, e)
                return None
            self._lazy.latency[bits] = compare_latency(mask_times, full_times)
            return self._lazy.latency[bits]

    @property
    def latency_batch_size(self) -> int:
        return int(self.ckpt.train_config.batch_size)

    @property
    def latency_source(self) -> str:
        """What the latency forwards ran on (after the first :meth:`latency`)."""
        return self._lazy.latency_source


def percent(v: float | None) -> str:
    return "" if v is None or not math.isfinite(v) else f"{v:.1f}%"
