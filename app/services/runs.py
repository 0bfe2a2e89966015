"""The dashboard's read side of the run store.

The store (:mod:`mro_core.runs.store`) is the only link between search jobs and the UI (STYLE 17):
a search runs as its own process, writes to the store, and the pages only read from it. This module
adapts the store for the pages (rows for the runs table, Pareto rows, baselines, log tails).
Starting, cancelling and resuming jobs is the core's front door (:mod:`mro_core.runs.api`); the
cached store itself lives in :mod:`app.resources`; the paper's tables in :mod:`app.services.tables`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import math
from pathlib import Path
from typing import Any, Iterable, Mapping

from mro_core.runs.launcher import tail
from mro_core.runs.records import ACTIVE_STATUSES, RunRecord
from mro_core.runs.store import RunStore

from app.services import job_states as jobs
from app.services.text import column_width

log = logging.getLogger(__name__)

__all__ = ["ACTIVE_STATUSES"]


def list_runs(store: RunStore | None, kind: str | None = None) -> list[RunRecord]:
    """Runs of the store, newest first; [] without a store or when the store fails."""
    if store is None:
        return []
    try:
        runs = list(store.list_runs(kind=kind) if kind else store.list_runs())
    except Exception as e:  # noqa: BLE001 - a broken store becomes an empty list plus a log line
        log.warning("cannot list runs: %s", e)
        return []
    return sorted(runs, key=lambda r: parse_time(getattr(r, "created", None)) or 0.0, reverse=True)


def status_of(store: RunStore | None, rec: Any) -> str:
    """``store.effective_status(rec)`` (a dead pid reads as interrupted), else the raw status."""
    if store is not None:
        try:
            return str(store.effective_status(rec))
        except Exception as e:  # noqa: BLE001
            log.warning("effective_status(%s) failed: %s", getattr(rec, "id", "?"), e)
    return str(getattr(rec, "status", "unknown"))


def events_of(store: RunStore | None, run_id: str, kind: str | None = "epoch") -> list[dict]:
    if store is None:
        return []
    try:
        evs = store.events(run_id, kind=kind) if kind else store.events(run_id)
    except Exception as e:  # noqa: BLE001
        log.warning("events(%s) failed: %s", run_id, e)
        return []
    return [d for d in (_as_dict(e) for e in evs) if d is not None]


def _as_dict(obj: Any) -> dict | None:
    """An event as a dict (the store returns dataclasses; test fakes, dicts)."""
    if isinstance(obj, Mapping):
        return dict(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return None


# --------------------------------------------------------------------------------------- time
def parse_time(v: Any) -> float | None:
    """Seconds since the epoch from a number, an ISO-8601 string or a datetime; None otherwise."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(float(v)) else None
    if isinstance(v, _dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=_dt.timezone.utc)).timestamp()
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            pass
        try:
            d = _dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (d if d.tzinfo else d.replace(tzinfo=_dt.timezone.utc)).timestamp()
    return None


def format_duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return ""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {(s % 3600) // 60:02d}m"


def _events(store: RunStore | None, run_id: str, kind: str) -> list:
    """The run's events of one kind (the store's :class:`Event` objects); [] when unreadable."""
    if store is None:
        return []
    try:
        return list(store.events(run_id, kind=kind))
    except Exception as e:  # noqa: BLE001 - a broken or deleted run reads as "no events"
        log.warning("events(%s, %s) failed: %s", run_id, kind, e)
        return []


def cancelled_by_user(store: RunStore | None, run_id: str) -> bool:
    """Whether the run's latest cancel / resume request through the front door is a cancel."""
    evs = _events(store, run_id, jobs.CANCEL_KIND) + _events(store, run_id, jobs.RESUME_KIND)
    return jobs.user_cancelled(sorted(evs, key=lambda e: getattr(e, "id", 0)))


def run_table_rows(store: RunStore | None, runs: Iterable[Any], now: float | None = None) -> list[dict]:
    """One display row per run: id, name, status, progress %, epoch, ETA, created, detail.

    ETA: from measured epoch times only (:func:`app.services.job_states.eta_seconds`); detail: the
    error of a failed run, "cancelled by you" for a cancel asked for through the front door.
    """
    rows = []
    for r in runs:
        st = status_of(store, r)
        prog = getattr(r, "progress", None)
        created = parse_time(getattr(r, "created", None))
        ep, tot = getattr(r, "epoch", None), getattr(r, "total_epochs", None)
        rid = getattr(r, "id", "")
        eta = jobs.eta_seconds(st, ep, tot, _events(store, rid, "epoch"), now) if st == "running" else None
        by_user = st == "cancelled" and cancelled_by_user(store, rid)
        rows.append({
            "id": rid,
            "name": getattr(r, "name", "") or "",
            "status": st,
            "progress": round(100.0 * float(prog), 1) if isinstance(prog, (int, float)) else None,
            "epoch": f"{ep or 0}/{tot}" if tot else (str(ep) if ep is not None else ""),
            "ETA": jobs.eta_text(st, ep, tot, eta, format_duration(eta)),
            "created": _dt.datetime.fromtimestamp(created).strftime("%Y-%m-%d %H:%M:%S") if created else "",
            # the reason that goes with the effective status (e.g. a dead job's own last error line)
            "error": getattr(r, "effective_error", None) or getattr(r, "error", None) or "",
            "detail": jobs.detail(st, getattr(r, "effective_error", None) or getattr(r, "error", None), by_user),
        })
    return rows


def run_table_widths(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Pixel widths of the runs table's name and ETA columns that show them in full: the longest
    name, and the widest ETA text a live run can show (so the column keeps its width as runs
    start and end)."""
    rows = list(rows)
    return {
        "name": column_width(["name", *(r.get("name") or "" for r in rows)]),
        "ETA": column_width(["ETA", jobs.FIRST_EPOCH_ETA, "finishing", *(r.get("ETA") or "" for r in rows)]),
    }


def log_tail(rec: Any, n_lines: int = 40) -> str | None:
    """The last lines of a run's log (``record.artifacts["log"]``); None when there is no log."""
    arts = getattr(rec, "artifacts", None) or {}
    path = arts.get("log") if isinstance(arts, Mapping) else None
    if not path or not Path(path).is_file():
        return None
    return tail(path, n_lines)


# ---------------------------------------------------------------------------------- run results
def run_result(rec: Any) -> dict:
    res = getattr(rec, "result", None)
    return dict(res) if isinstance(res, Mapping) else {}


def run_config(rec: Any) -> dict:
    cfg = getattr(rec, "config", None)
    return dict(cfg) if isinstance(cfg, Mapping) else {}


def run_label(rec: Any) -> str:
    return f"{getattr(rec, 'name', '') or getattr(rec, 'id', '?')} ({getattr(rec, 'id', '?')})"


def flat_metrics(row: Mapping[str, Any]) -> dict:
    """A row with its metrics at the top level (``metrics``/``valid`` sub-dicts are lifted)."""
    out = dict(row)
    for sub in ("metrics", "valid"):
        if isinstance(row.get(sub), Mapping):
            for k, v in row[sub].items():
                out.setdefault(k, v)
    return out


def pareto_rows(store: RunStore | None, rec: Any) -> list[dict]:
    """A run's evaluated masks (validation split): the store's mask rows, else ``result["pareto"]``."""
    rows: list[dict] = []
    if store is not None:
        try:
            # shared-weight rows first (a run may also hold fine-tuned rows of its picks)
            rows = [flat_metrics(r) for r in store.masks(rec.id, split="valid", source="supernet")]
            if not rows:
                rows = [flat_metrics(r) for r in store.masks(rec.id, split="valid")]
        except Exception as e:  # noqa: BLE001 - a broken or missing run reads as "no rows"
            log.warning("masks(%s) failed: %s", getattr(rec, "id", "?"), e)
    if not rows:
        rows = [flat_metrics(r) for r in run_result(rec).get("pareto") or [] if isinstance(r, Mapping)]
    # one row per mask: the latest wins (a mask may be evaluated again after resuming)
    by_mask: dict[str, dict] = {}
    for r in rows:
        if isinstance(r.get("mask"), str):
            by_mask[r["mask"]] = r
    return list(by_mask.values())


def baseline_rows(rec: Any) -> list[dict]:
    """``result["baselines"]`` rows (name, mflops, metrics), metrics lifted to the top level."""
    out = []
    for r in run_result(rec).get("baselines") or []:
        if isinstance(r, Mapping) and r.get("name"):
            out.append(flat_metrics(r))
    return out
