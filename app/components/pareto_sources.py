"""What the Pareto page draws: the selected checkpoint's table and each chosen run's evaluated
masks, as :class:`~app.components.pareto_chart.Source` objects with their fronts.

A finished run's rows and a checkpoint's table do not change between reruns, yet at k = 6 with
10,000 masks reading, tagging and splitting them took about 0.3 s of every redraw (a metric,
budget or filter change). They are kept per session (``st.session_state[S.PARETO_MEMO]``), keyed by what would change
them: a run's id, status, heartbeat and finish time (an active run is read afresh on every rerun,
so its new points appear), the checkpoint's file and table size; a front also by its metric.
Entries of sources no longer drawn are dropped, so the memo holds at most what is on the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import streamlit as st

from mro_core.paths import PathSpace

from app.components.pareto_chart import Source
from app.resources import open_store
from app.services import runs as run_svc
from app.services import state as S
from app.services.checkpoints import CheckpointView
from app.services.masks import path_names_text
from app.services.metrics_view import MetricSpec
from app.services.pareto_view import ParetoFront, pareto_front

CHECKPOINT_SOURCE = "checkpoint"


def annotate(rows: list[dict], source: tuple[str, str], space: PathSpace) -> list[dict]:
    """Copies of ``rows`` tagged with their source (id, name) and active path names."""
    sid, name = source
    names = space.path_names  # a property: computed once, not per row
    return [{**r, "_source_id": sid, "_source": name, "_paths": path_names_text(names, str(r.get("mask", "")))}
            for r in rows]


def live_note(rec, status: str, n_points: int) -> str:
    """``running, epoch 3/10`` for an active run ('' otherwise); says so when nothing is drawn yet."""
    if status not in run_svc.ACTIVE_STATUSES:
        return ""
    ep, tot = getattr(rec, "epoch", None) or 0, getattr(rec, "total_epochs", None)
    note = f"{status}, epoch {ep}/{tot}" if tot else f"{status}, epoch {ep}"
    return note + ("" if n_points else ", no subnets evaluated yet")


class _Memo:
    """This rerun's view of the session memo: what it uses is kept, the rest is dropped at the end."""

    def __init__(self) -> None:
        self.old: dict = st.session_state.get(S.PARETO_MEMO) or {}
        self.new: dict = {}

    def get(self, key: tuple | None, compute: Callable[[], Any]) -> Any:
        """``compute()``, kept under ``key`` (``None``: an active run's, never kept)."""
        if key is None:
            return compute()
        if key not in self.new:
            self.new[key] = self.old[key] if key in self.old else compute()
        return self.new[key]

    def close(self) -> None:
        st.session_state[S.PARETO_MEMO] = self.new


def _front(memo: _Memo, key: tuple | None, rows: list[dict], spec: MetricSpec) -> ParetoFront:
    k = None if key is None else (*key, "front", spec.key, spec.higher_is_better)
    return memo.get(k, lambda: pareto_front(rows, spec.key, spec.higher_is_better))


def gather_sources(view: CheckpointView, run_ids: list[str], include_checkpoint: bool,
                   spec: MetricSpec) -> tuple[list[Source], list[dict], bool, list]:
    """(sources, baselines, any run active, run records) for the chosen runs and, when asked, the
    selected checkpoint's table (left out when it is a chosen run's own checkpoint: drawn once)."""
    store = open_store()
    memo = _Memo()
    sources, baselines, active, recs = [], [], False, []
    if include_checkpoint and view.table:
        name = f"{CHECKPOINT_SOURCE} {view.path.name}"
        key = ("ckpt", str(view.path), id(view), len(view.table), name)
        rows = memo.get((*key, "rows"), lambda: annotate(list(view.table.values()), (CHECKPOINT_SOURCE, name),
                                                          view.space))
        sources.append(Source(CHECKPOINT_SOURCE, name, rows, _front(memo, key, rows, spec),
                              str(view.path), st.session_state.get(S.CHECKPOINT_URL_SEEN)))
    chosen_checkpoints = set()
    for run_id in run_ids:
        try:
            rec = store.get_run(run_id) if store is not None else None
        except KeyError:  # RunNotFound: deleted meanwhile
            rec = None
        if rec is None:
            continue
        recs.append(rec)
        status = run_svc.status_of(store, rec)
        live = status in run_svc.ACTIVE_STATUSES
        active |= live
        name = run_svc.run_label(rec)
        key = None if live else ("run", rec.id, status, getattr(rec, "heartbeat", None),
                                 getattr(rec, "finished", None), name, view.space.modalities)
        rows = memo.get(None if key is None else (*key, "rows"),
                        lambda: annotate(run_svc.pareto_rows(store, rec), (rec.id, name), view.space))
        ck = getattr(rec, "checkpoint", None)
        on_disk = bool(ck) and Path(ck).is_file()
        sources.append(Source(rec.id, name, rows, _front(memo, key, rows, spec),
                              str(Path(ck).resolve()) if on_disk else None, rec.id if on_disk else None,
                              live_note(rec, status, len(rows))))
        if on_disk and rows:
            chosen_checkpoints.add(str(Path(ck).resolve()))
        baselines += run_svc.baseline_rows(rec)
    memo.close()
    if sources and sources[0].id == CHECKPOINT_SOURCE and sources[0].checkpoint in chosen_checkpoints:
        sources.pop(0)  # the sidebar checkpoint is a chosen run's own: its masks are drawn once, as the run's
    return sources, baselines, active, recs
