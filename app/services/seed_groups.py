"""Runs of one setting over several seeds, summarised with a 95% interval for the results cards.

Two finished search runs share a *setting* when their stored configs are equal once what only
names, places or seeds a run is left out (``seed`` everywhere, the run's name, checkpoint path,
device, detach flag and command line). Over the runs of a setting with distinct seeds, a pick's
test metric is reported as mean with a percentile-bootstrap 95% interval
(:func:`mro_core.experiments.study.mean_ci`, the interval the study tables use), and with the
seeds it came from; one seed gives no interval, and the card says nothing rather than pretend.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from app.services.runs import run_config, run_result

NOT_SETTING = {"seed", "argv", "name", "out", "device", "detach", "workspace"}
"""Config keys (at any depth) that do not change what a run measures: left out of the setting."""


def _strip(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _strip(v) for k, v in x.items() if k not in NOT_SETTING}
    if isinstance(x, (list, tuple)):
        return [_strip(v) for v in x]
    return x


def setting_key(rec: Any) -> str:
    """The run's config without :data:`NOT_SETTING` keys, as canonical JSON."""
    return json.dumps(_strip(run_config(rec)), sort_keys=True, default=str)


def run_seed(rec: Any) -> int | None:
    cfg = run_config(rec)
    for v in (cfg.get("seed"), (cfg.get("train") or {}).get("seed") if isinstance(cfg.get("train"), Mapping) else None,
              (cfg.get("request") or {}).get("seed") if isinstance(cfg.get("request"), Mapping) else None):
        if isinstance(v, int) and not isinstance(v, bool):
            return v
    return None


def seed_siblings(rec: Any, done: Sequence[Any]) -> list[Any]:
    """The finished runs of ``rec``'s setting, one per seed (the newest run of a seed; ``done`` is
    newest first), ``rec`` itself included; in seed order."""
    key = setting_key(rec)
    by_seed: dict[int, Any] = {}
    for r in [rec, *done]:
        s = run_seed(r)
        if s is not None and s not in by_seed and setting_key(r) == key:
            by_seed[s] = r
    return [by_seed[s] for s in sorted(by_seed)]


def pick_test_value(rec: Any, pick: str, key: str) -> float | None:
    """The test-split ``key`` of the run's ``pick`` (picks store it under ``test``), or None."""
    p = (run_result(rec).get("picks") or {}).get(pick)
    test = p.get("test") if isinstance(p, Mapping) else None
    v = test.get(key) if isinstance(test, Mapping) else None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def seed_summary(runs: Sequence[Any], pick: str, key: str) -> dict | None:
    """Mean and 95% interval of the pick's test ``key`` over ``runs`` (one per seed), or None when
    fewer than two runs have it."""
    from mro_core.experiments.study import mean_ci

    vals = [(run_seed(r), v) for r in runs if (v := pick_test_value(r, pick, key)) is not None]
    if len(vals) < 2:
        return None
    mean, lo, hi = mean_ci([v for _, v in vals])
    return {"n": len(vals), "seeds": [s for s, _ in vals], "mean": mean, "lo": lo, "hi": hi, "pick": pick}
