"""The difference of two runs' resolved configs, flattened to dotted keys (``train.lr``).

A run's config in the store holds the request it was submitted with and the configs resolved from
it (:func:`mro_core.runs.api.create_search_run`). Comparing two runs is comparing those, key by
key, which nested dicts make hard to read; flattened and reduced to the keys that differ, two
runs' settings can be read side by side. Pure, no Streamlit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Mapping

ABSENT = "(absent)"
"""Shown for a key one config has and the other lacks (never equal to a real value)."""


class _Absent:
    def __repr__(self) -> str:
        return ABSENT


_MISSING = _Absent()


def flatten(cfg: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"lr": 0.1}}`` -> ``{"train.lr": 0.1}``: nested mappings become dotted keys;
    lists and other values are leaves; an empty mapping stays a leaf ``{}`` (so "none" and "empty"
    differ)."""
    out: dict[str, Any] = {}
    for k, v in cfg.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, bool) != isinstance(b, bool):  # True == 1 in Python, not in a config
        return False
    return a == b


def show(v: Any) -> str:
    """A value as one line of text: strings as they are, others as JSON (``null``, ``[1, 2]``)."""
    if v is _MISSING:
        return ABSENT
    if isinstance(v, str):
        return v
    try:
        return json.dumps(v, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(v)


@dataclass(frozen=True)
class Difference:
    """One key whose values differ; ``a`` / ``b`` as text (:data:`ABSENT` where a side lacks it)."""

    key: str
    a: str
    b: str


def config_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[Difference]:
    """The dotted keys whose values differ between ``a`` and ``b``, sorted by key.

    A key present on one side only is a difference (its other side reads :data:`ABSENT`); equal
    values (NaN equals NaN; ``True`` differs from ``1``) are left out.
    """
    fa, fb = flatten(a), flatten(b)
    out = []
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key, _MISSING), fb.get(key, _MISSING)
        if va is _MISSING or vb is _MISSING or not _same(va, vb):
            out.append(Difference(key, show(va), show(vb)))
    return out
