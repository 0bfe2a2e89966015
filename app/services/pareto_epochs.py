"""A run's Pareto front epoch by epoch, with its hypervolume per epoch (the Pareto page's "Front per
epoch" section), computed apart from any figure (STYLE 16).

The rows come from the run store's per-epoch snapshots (:meth:`~mro_core.runs.store.RunStore.mask_epochs_of`,
the validation split under shared weights, as the page's main chart); each epoch's front is
:func:`app.services.pareto_view.pareto_front` of that epoch's rows, its hypervolume
:func:`app.services.hypervolume.hypervolume` against one reference point for the whole run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from app.services.hypervolume import hypervolume, reference_point
from app.services.pareto_view import ParetoFront, pareto_front
from app.services.runs import flat_metrics

log = logging.getLogger(__name__)

SPLIT, SOURCE = "valid", "supernet"
"""The snapshots drawn: what the search evaluates every epoch."""


@dataclass
class EpochFronts:
    """One run's fronts per epoch.

    Attributes:
        epochs: the epochs with a snapshot, ascending (a resumed run may miss one).
        fronts: the Pareto split of each epoch's rows.
        hypervolume: each epoch's hypervolume against ``reference`` (0 for an epoch without a
            feasible row).
        final: the split of the run's final rows (the store's latest masks), for reference.
        reference: ``(mflops, metric)`` over every epoch and the final rows; None without any
            feasible row (then every hypervolume is 0).
        metric: the metric's key.
        higher_is_better: its direction.
    """

    epochs: list[int]
    fronts: dict[int, ParetoFront]
    hypervolume: dict[int, float]
    final: ParetoFront
    reference: tuple[float, float] | None
    metric: str
    higher_is_better: bool


def epoch_fronts(history: Mapping[int, Sequence[Mapping[str, Any]]], metric: str, higher_is_better: bool,
                 final_rows: Sequence[Mapping[str, Any]] = ()) -> EpochFronts:
    """The front and hypervolume of every epoch of ``history`` (``{epoch: rows}``).

    Args:
        history: each epoch's rows (dicts with ``mask``, ``mflops`` and ``metric``).
        metric: the metric's key.
        higher_is_better: its direction (MFLOPs is always minimised).
        final_rows: the run's final rows (drawn faintly; they also bound the reference point).
    """
    epochs = sorted(int(e) for e in history)
    fronts = {e: pareto_front(history[e], metric, higher_is_better) for e in epochs}
    final = pareto_front(final_rows, metric, higher_is_better)
    ref = reference_point([*(fronts[e].front + fronts[e].dominated for e in epochs), final.front + final.dominated],
                          metric, higher_is_better=higher_is_better)
    hv = {e: 0.0 if ref is None else hypervolume(((float(r["mflops"]), float(r[metric])) for r in fronts[e].front),
                                                   ref, higher_is_better=higher_is_better)
          for e in epochs}
    return EpochFronts(epochs, fronts, hv, final, ref, metric, higher_is_better)


def epoch_rows(store: Any, run_id: str) -> dict[int, list[dict]]:
    """``{epoch: rows}`` of a run's snapshots (metrics at the top level); {} when it has none, its
    store predates them, or it cannot be read (logged)."""
    if store is None:
        return {}
    try:
        history = store.mask_epochs_of(run_id, SPLIT, SOURCE)
    except Exception as e:  # noqa: BLE001 - a run deleted meanwhile or a broken store reads as "no history"
        log.warning("mask_epochs_of(%s) failed: %s", run_id, e)
        return {}
    return {e: [flat_metrics(r) for r in rows] for e, rows in history.items()}
