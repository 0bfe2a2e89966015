"""The results card of a finished search run: its picks, each with a link that opens exactly that
run's checkpoint and mask in Explore, and a link that shows the run on the Pareto page.

Pure functions over a run record; the card itself is drawn by :mod:`app.components.run_results`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence
from urllib.parse import urlencode

from app.services import state as S
from app.services import tables
from app.services.metrics_view import format_value, primary
from app.services.runs import flat_metrics, run_result

PICK_LABELS = {"parsimonious": "fewest FLOPs within 1 SE of the best", "best": "best metric", "budget": "best under the FLOPs budget", "knee": "knee of the front",
               "prior": "highest prior"}
"""Display names of the picks a search writes (``result["picks"]``)."""
PARETO_URL = "./pareto"
EXPLORE_URL = "./"
"""Relative URLs of the Pareto and Explore pages (Explore is the default page)."""


def explore_link(mask: str, run_id: str | None) -> str:
    """URL of Explore on ``mask``, on the run's checkpoint when it has one on disk."""
    q = {S.MASK_PARAM: mask, **({S.CHECKPOINT_PARAM: run_id} if run_id else {})}
    return EXPLORE_URL + "?" + urlencode(q)


def pareto_link(run_id: str) -> str:
    """URL of the Pareto page with this run chosen (``?runs=<id>``)."""
    return PARETO_URL + "?" + urlencode({S.PARETO_RUNS_PARAM: run_id})


def has_checkpoint(rec: Any) -> bool:
    ck = getattr(rec, "checkpoint", None)
    return bool(ck) and Path(ck).is_file()


def pick_rows(rec: Any) -> list[dict]:
    """One row per pick of a finished run: pick, mask, MFLOPs, the task's primary metric on
    validation (what chose it) and on test (reported only), a link into Explore (the run's
    checkpoint when on disk, else the mask alone)."""
    picks = run_result(rec).get("picks") or {}
    if not isinstance(picks, Mapping):
        return []
    spec = primary(tables.run_task(rec))
    token = getattr(rec, "id", None) if has_checkpoint(rec) else None
    order = [p for p in tables.PICKS if p in picks] + [p for p in picks if p not in tables.PICKS]
    rows = []
    for name in order:
        p = picks[name]
        if not isinstance(p, Mapping) or not isinstance(p.get("mask"), str):
            continue
        m = flat_metrics(p)
        mf = m.get("mflops")
        test = p.get("test") if isinstance(p.get("test"), Mapping) else {}
        rows.append({"pick": PICK_LABELS.get(name, name), "mask": m["mask"],
                     "MFLOPs": float(mf) if isinstance(mf, (int, float)) else None,
                     f"valid {spec.label}": format_value(spec.key, m.get(spec.key)),
                     f"test {spec.label}": format_value(spec.key, test.get(spec.key)),
                     "open": explore_link(m["mask"], token)})
    return rows


def seeds_line(rec: Any, done: Sequence[Any]) -> str | None:
    """The card's line on the run's setting over seeds: the first pick's test metric as mean with a
    95% interval (:mod:`app.services.seed_groups`); None when fewer than two seeds have it."""
    from app.services.seed_groups import seed_siblings, seed_summary

    picks = run_result(rec).get("picks") or {}
    pick = next((p for p in tables.PICKS if p in picks), None) if isinstance(picks, Mapping) else None
    if pick is None:
        return None
    spec = primary(tables.run_task(rec))
    s = seed_summary(seed_siblings(rec, done), pick, spec.key)
    if s is None:
        return None
    f = lambda v: format_value(spec.key, v)  # noqa: E731
    return (f"Across {s['n']} seeds of this setting (seeds {', '.join(map(str, s['seeds']))}): the "
            f"{PICK_LABELS.get(pick, pick)} pick's test {spec.label} {f(s['mean'])} "
            f"[{f(s['lo'])}, {f(s['hi'])}] (mean, 95% bootstrap interval).")
