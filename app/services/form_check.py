"""Field-by-field checks of the Search form: typed text in, a value or a one-line reason out.

The form takes numbers as text so that a wrong entry is refused with its reason rather than
coerced (a number box turned "abc" into 0.00 and clamped 99999 silently, and Start did nothing).
Every check returns ``(value, error)``: exactly one of them is None.
"""

from __future__ import annotations

import math
from typing import Sequence

from mro_core.paths import PathSpace

Checked = tuple  # (value | None, error | None)


def parse_int(text: str, label: str, lo: int, hi: int) -> Checked:
    """A whole number in ``[lo, hi]``."""
    t = str(text).strip()
    try:
        v = int(t)
    except ValueError:
        return None, f"{label}: {t!r} is not a whole number; type one between {lo} and {hi}."
    if not lo <= v <= hi:
        return None, f"{label}: {v} is out of range; use {lo} to {hi}."
    return v, None


def parse_float(text: str, label: str, lo: float, hi: float) -> Checked:
    """A finite number in ``[lo, hi]``."""
    t = str(text).strip()
    try:
        v = float(t)
    except ValueError:
        return None, f"{label}: {t!r} is not a number; type one between {lo:g} and {hi:g}."
    if not math.isfinite(v) or not lo <= v <= hi:
        return None, f"{label}: {t} is out of range; use {lo:g} to {hi:g}."
    return v, None


def parse_budget(text: str, label: str = "FLOPs budget") -> Checked:
    """Empty means no budget (value 0.0); otherwise a number > 0 (MFLOPs)."""
    t = str(text).strip()
    if not t:
        return 0.0, None
    v, err = parse_float(t, label, -math.inf, math.inf)
    if err:
        return None, f"{label}: {t!r} is not a number; type MFLOPs (e.g. 1.5) or leave it empty for no budget."
    if v <= 0:
        return None, f"{label}: {t} is not a budget; type a positive number of MFLOPs or leave it empty for none."
    return v, None


def check_modalities(text: str) -> Checked:
    """Comma-separated modality names, k >= 2: the tuple, or why not."""
    names = tuple(m.strip() for m in str(text).split(",") if m.strip())
    if not names:
        return None, "Modalities: empty; type at least two names, e.g. T,A,V."
    try:
        PathSpace(names)
    except ValueError as e:
        return None, f"Modalities: {str(e).rstrip('.')}."
    return names, None


def check_planted(text: str, modalities: Sequence[str] | None) -> Checked:
    """Comma-separated planted paths ``src->tgt`` between the given modalities."""
    paths = tuple(p.strip() for p in str(text).split(",") if p.strip())
    if not paths:
        return None, "Planted paths: empty; the label must depend on at least one path, e.g. T->V."
    if modalities is None:
        return paths, None  # the modalities field explains itself
    names = set(PathSpace(tuple(modalities)).path_names)
    bad = [p for p in paths if p not in names]
    if bad:
        return None, (f"Planted paths: {', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not a path between "
                      f"{', '.join(modalities)}; use names like {sorted(names)[0]}.")
    return paths, None


def check_warmup(warmup: int | None, epochs: int | None) -> str | None:
    """Warm-up epochs must not exceed the epochs."""
    if warmup is not None and epochs is not None and warmup > epochs:
        return f"Warm-up epochs: {warmup} is more than the {epochs} epochs; use 0 to {epochs}."
    return None
